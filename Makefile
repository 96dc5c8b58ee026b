# oss-append: every entry point installs what it needs, idempotently, so each works on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := $(HOME)/.cargo/bin:$(HOME)/.cache/oss-append-tools/node_modules/.bin:$(PATH)

EMULATOR := target/release/oss-emulator

.PHONY: test check test-native test-interop emulator tools-rust tools-wasm tools-browser wasm-check

## make test: every test layer (what CI runs)
test: check test-native wasm-check test-interop
	@echo "make test: all layers passed"

tools-rust:
	@scripts/install-tools.sh rust
tools-wasm:
	@scripts/install-tools.sh wasm
tools-browser:
	@scripts/install-tools.sh browser

## formatting and lints
check: tools-rust
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

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
