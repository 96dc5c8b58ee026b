#!/usr/bin/env bash
# `make bench`: oss-append's benchmark suite. Installs bench/node_modules (pinned in package-lock.json) when missing or
# stale and builds the emulator's native throughput client, then runs bench/run.mjs, which prints the table and
# writes bench/RESULTS.md. Expects the package (pkg/, scripts/build-pkg.sh) and the emulator
# (target/release/oss-emulator) built, and Chromium at /usr/bin/chromium: `make bench` builds them first.
# Environment: BENCH_RUNS (default 7), and see bench/run.mjs.
set -euo pipefail
cd "$(dirname "$0")"
BENCH=$PWD
ROOT=$(cd .. && pwd)
export PATH="$HOME/.cargo/bin:$PATH"

die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

export OSS_APPEND_PKG=${OSS_APPEND_PKG:-$ROOT/pkg}
[ -f "$OSS_APPEND_PKG/node.mjs" ] && [ -f "$OSS_APPEND_PKG/web.js" ] \
  || die "$OSS_APPEND_PKG is not built: run scripts/build-pkg.sh (make pkg) first"
export OSS_EMULATOR=${OSS_EMULATOR:-$ROOT/target/release/oss-emulator}
[ -x "$OSS_EMULATOR" ] || die "no emulator at $OSS_EMULATOR: cargo build --release -p oss-append-emulator (make emulator)"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || die "no Chromium at ${CHROMIUM:-/usr/bin/chromium}: scripts/install-tools.sh browser"
command -v node >/dev/null || die "node is required"

# npm dependencies (ali-oss, crc64-ecma182.js, playwright-core), reinstalled only when the lockfile changed.
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.bench-lock-sum 2>/dev/null)" != "$lock_sum" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > node_modules/.bench-lock-sum
fi

# The emulator's native client for the "emulator ceiling" row (a no-op when up to date). Not fatal: the row is
# reported as missing instead.
(cd "$ROOT" && cargo build --quiet --release -p oss-append-emulator --example throughput) \
  || echo "bench: could not build the emulator's throughput example; its row will be missing" >&2

exec node "$BENCH/run.mjs"
