#!/usr/bin/env bash
# wasm-bindgen tests in Node and in headless Chrome against a fresh emulator (scripts/with-emulator.sh).
# The Chrome test page is served from 127.0.0.1:<a free port> that the emulator is told about with --control-origin,
# the only origin whose pages may call its control plane (to arm faults). Fails when either runtime ran zero tests,
# so a silently skipped suite cannot pass.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$HOME/.cache/oss-append-tools/node_modules/.bin:$PATH"

if [ -z "${OSS_WASM_PAGE_ADDRESS:-}" ]; then
  # A free port below the ephemeral range: the test runner picks ChromeDriver's port by binding port 0 after this port
  # is released, and from inside that range it could be handed this very port (the page then loads from ChromeDriver).
  port=$(node -e '
    const net = require("net");
    let low = 32768;
    try { low = Number(require("fs").readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").split(/\s+/)[0]); } catch {}
    const pick = (tries) => {
      const port = 10000 + Math.floor(Math.random() * Math.max(1, low - 10000));
      const s = net.createServer().once("error", () => { if (tries > 1) pick(tries - 1); else process.exit(1); });
      s.listen(port, "127.0.0.1", () => { console.log(port); s.close(); });
    };
    pick(50);')
  export OSS_WASM_PAGE_ADDRESS=127.0.0.1:$port
  exec scripts/with-emulator.sh --control-origin "http://$OSS_WASM_PAGE_ADDRESS" -- "$0" "$@"
fi
: "${OSS_EMULATOR_URL:?run through scripts/with-emulator.sh}"
: "${OSS_EMULATOR_TOKEN:?run through scripts/with-emulator.sh}"

check() {
  local name=$1 log=$2
  if ! grep -Eq 'test result: ok\. [1-9][0-9]* passed' "$log"; then
    echo "wasm tests in $name ran no test or failed; what the runner said:" >&2
    grep -E 'error|Error|failed|FAILED|panicked|timed out|refused|session' "$log" | grep -v '^test .* ok$' | tail -n 25 >&2 || true
    exit 1
  fi
  grep -E 'test result:' "$log" | sed "s/^/$name: /"
}

node_log=$(mktemp); chrome_log=$(mktemp); profile=$(mktemp -d); capabilities=$(mktemp --suffix=.json)
trap 'rm -rf "$node_log" "$chrome_log" "$profile" "$capabilities"' EXIT
wasm-pack test --mode no-install --node -- --test wasm 2>&1 | tee "$node_log"
check node "$node_log"

# Chromium as the e2e suites run it (their flags: no background networking on a closed network), with a fresh profile
# and budgets for a cold first start on a new machine: the runner's defaults give ChromeDriver 5 s and the suite 20 s.
PROFILE=$profile node --input-type=module -e '
  import { CHROMIUM, CHROMIUM_ARGS } from "./tests/e2e/helpers/browser.mjs";
  const args = [...CHROMIUM_ARGS.map((flag) => flag.replace(/^--/, "")), `user-data-dir=${process.env.PROFILE}`];
  console.log(JSON.stringify({ "goog:chromeOptions": { binary: CHROMIUM, args } }));' >"$capabilities"
export WASM_BINDGEN_TEST_WEBDRIVER_JSON=$capabilities WASM_BINDGEN_TEST_DRIVER_TIMEOUT=60 WASM_BINDGEN_TEST_TIMEOUT=180
# The runner's page server (tiny_http 0.12, under rouille) can leave a connection unread: when its pool threads all
# wait on Chrome's idle keep-alive connections, a connection queued behind them is served only once another one
# arrives. When that is Chrome's request for run.js, the page never loads and ChromeDriver gives up after 300 s
# ("Loading scripts...", wasm-pack#783). A request of our own each second brings the pool a thread that serves the
# queued connection after it.
nudge_page_server() {
  local host=${OSS_WASM_PAGE_ADDRESS%:*} port=${OSS_WASM_PAGE_ADDRESS##*:}
  while sleep 1; do
    timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "GET / HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n\r\n" "$1" "$2" >&3 && cat <&3 >/dev/null' \
      nudge "$host" "$port" 2>/dev/null || true
  done
}
chrome() {
  nudge_page_server &
  local nudger=$! status=0
  WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_ADDRESS=$OSS_WASM_PAGE_ADDRESS \
    wasm-pack test --mode no-install --headless --chrome -- --test wasm 2>&1 | tee "$chrome_log" || status=$?
  kill "$nudger" 2>/dev/null || true
  wait "$nudger" 2>/dev/null || true
  return "$status"
}
# A browser that never reached the tests (the driver or the session failed to start) gets one more start; a suite
# that ran is judged as it ran.
if ! chrome && ! grep -Eq '^running [0-9]+ tests' "$chrome_log"; then
  echo "test-wasm: Chrome did not reach the tests; starting it once more" >&2
  chrome || true
fi
check chrome "$chrome_log"
