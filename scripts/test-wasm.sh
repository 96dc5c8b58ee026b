#!/usr/bin/env bash
# wasm-bindgen tests in Node and in headless Chrome against a running emulator ($OSS_EMULATOR_URL).
# Fails when either runtime ran zero tests, so a silently skipped suite cannot pass.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${OSS_EMULATOR_URL:?run through scripts/with-emulator.sh}"
export PATH="$HOME/.cargo/bin:$HOME/.cache/oss-append-tools/node_modules/.bin:$PATH"

check() {
  local name=$1 log=$2
  if ! grep -Eq 'test result: ok\. [1-9][0-9]* passed' "$log"; then
    echo "wasm tests in $name ran no test or failed" >&2
    exit 1
  fi
  grep -E 'test result:' "$log" | sed "s/^/$name: /"
}

node_log=$(mktemp); chrome_log=$(mktemp)
trap 'rm -f "$node_log" "$chrome_log"' EXIT
wasm-pack test --mode no-install --node -- --test wasm 2>&1 | tee "$node_log"
check node "$node_log"
WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER=/usr/bin/chromedriver \
  wasm-pack test --mode no-install --headless --chrome -- --test wasm 2>&1 | tee "$chrome_log"
check chrome "$chrome_log"
