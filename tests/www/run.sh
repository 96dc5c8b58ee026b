#!/usr/bin/env bash
# The demo web app (www/) in headless Chromium with fake media devices, against the local emulator.
# Expects pkg/ built (scripts/build-pkg.sh), the emulator binary ($OSS_EMULATOR or target/release/oss-emulator) and
# Chromium ($CHROMIUM or /usr/bin/chromium). Screenshots: tests/www/.out/.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)

die() { printf 'tests/www: %s\n' "$*" >&2; exit 1; }

[ -f "$ROOT/pkg/web.js" ] || die "pkg/ is not built: run scripts/build-pkg.sh (make pkg) first"
export OSS_EMULATOR=${OSS_EMULATOR:-$ROOT/target/release/oss-emulator}
[ -x "$OSS_EMULATOR" ] || die "no emulator at $OSS_EMULATOR: cargo build --release -p oss-append-emulator"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || die "no Chromium at ${CHROMIUM:-/usr/bin/chromium}: scripts/install-tools.sh browser"

# playwright-core, reinstalled only when the lockfile changed.
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.www-lock-sum 2>/dev/null)" != "$lock_sum" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > node_modules/.www-lock-sum
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
node --test --test-reporter=spec --test-concurrency=1 --test-timeout=120000 www.test.mjs 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
passed=$(sed -nE 's/^(# |ℹ )pass ([0-9]+)$/\2/p' "$log" | tail -1)
failed=$(sed -nE 's/^(# |ℹ )fail ([0-9]+)$/\2/p' "$log" | tail -1)
echo "tests/www: ${passed:-0} passed, ${failed:-0} failed"
[ "$status" -eq 0 ] || exit "$status"
[ "${passed:-0}" -gt 0 ] || die "no test ran"
