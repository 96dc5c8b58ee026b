# oss-append: every entry point installs what it needs, idempotently, so each works on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := $(HOME)/.cargo/bin:$(HOME)/.cache/oss-append-tools/node_modules/.bin:$(PATH)

EMULATOR := target/release/oss-emulator

.PHONY: demo test test-long check test-native test-interop test-wasm test-e2e test-www serve bench emulator pkg tools-rust tools-wasm tools-browser wasm-check

## make demo: the main job, against the local emulator
demo: pkg emulator
	scripts/demo.sh

## make test: every test layer (what CI runs)
test: check test-native wasm-check test-interop test-wasm test-e2e test-www
	@echo "make test: all layers passed"

tools-rust:
	@scripts/install-tools.sh rust
tools-wasm:
	@scripts/install-tools.sh wasm
tools-browser:
	@scripts/install-tools.sh browser

## formatting and lints (native and wasm32)
check: tools-rust tools-wasm
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	OSS_EMULATOR_URL=http://127.0.0.1:9 cargo clippy -p oss-append --target wasm32-unknown-unknown --all-targets -- -D warnings

## native unit and integration tests: the pure core (signing vectors, CRC, state machine) and the emulator
test-native: tools-rust
	cargo test --workspace

## the core and the bindings build for wasm32
wasm-check: tools-wasm
	cargo build --target wasm32-unknown-unknown
	@if grep -rlE 'wasm_bindgen|js_sys|web_sys' src --include='*.rs' | grep -v '^src/wasm/'; then \
	  echo "JS bindings found outside src/wasm/"; exit 1; fi

emulator: tools-rust
	cargo build --release -p oss-append-emulator

## the real SDKs (ali-oss, oss2, alibabacloud-oss-v2) against the emulator
test-interop: emulator
	OSS_EMULATOR=$(abspath $(EMULATOR)) bash tests/interop/run.sh

## the npm package in pkg/ (wasm built, bound for web and Node, optimized)
pkg: tools-wasm
	scripts/build-pkg.sh

## wasm-bindgen tests in Node and headless Chrome against the emulator
test-wasm: emulator tools-wasm tools-browser
	scripts/with-emulator.sh scripts/test-wasm.sh

## JS end-to-end: the built package in Node and headless Chromium
test-e2e: pkg emulator tools-browser
	OSS_EMULATOR=$(abspath $(EMULATOR)) bash tests/e2e/run.sh

## the long outage proofs, not in `make test` (about 10 minutes): 10 randomized recordings with 1-30 s outages mixed
## with faults (Node), and the 20 s emulator outage in headless Chromium besides the offline one
test-long: pkg emulator tools-browser
	OSS_EMULATOR=$(abspath $(EMULATOR)) OSS_E2E_LONG=1 bash tests/e2e/run.sh outage-random.test.mjs browser-outage.test.mjs

## the live-recording demo in headless Chromium with fake media devices
test-www: pkg emulator tools-browser
	OSS_EMULATOR=$(abspath $(EMULATOR)) bash tests/www/run.sh

## serve the web demo and an emulator on 127.0.0.1 (Ctrl-C stops both)
serve: pkg emulator
	node www/serve.mjs --emulator $(EMULATOR)

## benchmarks against peers measured in the same run; writes bench/RESULTS.md
bench: pkg emulator tools-browser
	bash bench/run.sh
