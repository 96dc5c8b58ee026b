#!/usr/bin/env bash
# JS end-to-end tests of the built npm package (pkg/), packed and installed as users get it: Node (ESM and CommonJS,
# every input form, errors, faults, STS, clock skew, companions, openAppender, ali-oss parity), the TypeScript types,
# headless Chromium (window, module Worker, a Vite build) against the local emulator.
# Expects pkg/ built (scripts/build-pkg.sh; $OSS_APPEND_PKG names another build) and the emulator binary
# ($OSS_EMULATOR or target/release/oss-emulator).
# Usage: tests/e2e/run.sh [suite.test.mjs ...]     (default: every *.test.mjs here)
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)

die() { printf 'tests/e2e: %s\n' "$*" >&2; exit 1; }

export OSS_APPEND_PKG=${OSS_APPEND_PKG:-$ROOT/pkg} # the package under test (pkg/ unless told otherwise)
[ -f "$OSS_APPEND_PKG/package.json" ] || die "$OSS_APPEND_PKG is not built: run scripts/build-pkg.sh (make pkg) first"
export OSS_EMULATOR=${OSS_EMULATOR:-$ROOT/target/release/oss-emulator}
[ -x "$OSS_EMULATOR" ] || die "no emulator at $OSS_EMULATOR: cargo build --release -p oss-append-emulator"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || die "no Chromium at ${CHROMIUM:-/usr/bin/chromium}: scripts/install-tools.sh browser"

# npm dependencies (ali-oss, playwright-core, typescript, vite), reinstalled only when the lockfile changed.
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.e2e-lock-sum 2>/dev/null)" != "$lock_sum" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > node_modules/.e2e-lock-sum
fi

# The package exactly as users get it: npm pack pkg/, installed into a throwaway consumer project.
node helpers/install-pkg.mjs

if [ $# -gt 0 ]; then suites=("$@"); else suites=(*.test.mjs); fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
node --test --test-reporter=spec --test-concurrency=1 --test-timeout=600000 "${suites[@]}" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
passed=$(sed -nE 's/^(# |ℹ )pass ([0-9]+)$/\2/p' "$log" | tail -1)
failed=$(sed -nE 's/^(# |ℹ )fail ([0-9]+)$/\2/p' "$log" | tail -1)
cancelled=$(sed -nE 's/^(# |ℹ )cancelled ([0-9]+)$/\2/p' "$log" | tail -1)
failed=$(( ${failed:-0} + ${cancelled:-0} )) # a test that timed out counts as cancelled
echo "tests/e2e: ${passed:-0} passed, ${failed:-0} failed"
[ "$status" -eq 0 ] || exit "$status"
[ "${passed:-0}" -gt 0 ] || die "no test ran"
