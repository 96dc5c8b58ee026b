#!/usr/bin/env bash
# Interop tests: the real Alibaba Cloud OSS SDKs (ali-oss from npm; oss2 and alibabacloud-oss-v2 from PyPI) as
# clients of the local oss-emulator. Installs what it needs into tests/interop (idempotently), builds the emulator
# unless $OSS_EMULATOR names a binary, runs the three suites and fails if any test fails or a suite ran no test.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$HERE"
mkdir -p .stamps .logs

SUITE_TIMEOUT="${INTEROP_SUITE_TIMEOUT:-300}"

log() { printf '==> %s\n' "$*"; }
die() { printf 'interop: %s\n' "$*" >&2; exit 1; }
stamp_ok() { [ -f ".stamps/$1" ] && [ "$(cat ".stamps/$1")" = "$2" ]; }

# ---- npm: ali-oss, exactly as package-lock.json pins it ----------------------------------------------------------
command -v node >/dev/null || die "node is required"
command -v npm >/dev/null || die "npm is required"
npm_key="$(node --version) $(sha256sum package.json package-lock.json | sha256sum | cut -c1-64)"
if [ -d node_modules/ali-oss ] && stamp_ok npm "$npm_key"; then
  log "npm packages up to date"
else
  log "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error || die "npm ci failed"
  printf '%s' "$npm_key" > .stamps/npm
fi

# ---- PyPI: oss2 and alibabacloud-oss-v2 in a project-local venv --------------------------------------------------
PYTHON="${PYTHON:-python3}"
command -v "$PYTHON" >/dev/null || die "$PYTHON is required"
if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  "$PYTHON" -m venv .venv || die "python venv creation failed"
fi
pip_key="$(.venv/bin/python --version 2>&1) $(sha256sum requirements.txt | cut -c1-64)"
if stamp_ok pip "$pip_key"; then
  log "PyPI packages up to date"
else
  log "installing PyPI packages"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt || die "pip install failed"
  printf '%s' "$pip_key" > .stamps/pip
fi

# ---- the emulator -----------------------------------------------------------------------------------------------
if [ -n "${OSS_EMULATOR:-}" ]; then
  [ -x "$OSS_EMULATOR" ] || die "\$OSS_EMULATOR=$OSS_EMULATOR is not an executable"
else
  log "building oss-emulator (cargo build -p oss-append-emulator --release)"
  (cd "$ROOT" && cargo build --quiet -p oss-append-emulator --release) || die "building the emulator failed"
  OSS_EMULATOR="$ROOT/target/release/oss-emulator"
fi
OSS_EMULATOR="$(cd "$(dirname "$OSS_EMULATOR")" && pwd)/$(basename "$OSS_EMULATOR")"
export OSS_EMULATOR
log "emulator: $OSS_EMULATOR"

# ---- the suites -------------------------------------------------------------------------------------------------
total_pass=0
total_fail=0
failed_suites=()

# count <log> <regex with one number group> → the last such number in the log, or 0
count() { grep -aoE "$2" "$1" | tail -n1 | grep -oE '[0-9]+' | head -n1 || true; }

record() { # suite passed failed rc
  local suite="$1" pass="${2:-0}" fail="${3:-0}" rc="$4"
  pass="${pass:-0}"; fail="${fail:-0}"
  total_pass=$((total_pass + pass)); total_fail=$((total_fail + fail))
  if [ "$rc" -ne 0 ] || [ "$fail" -ne 0 ] || [ "$pass" -eq 0 ]; then
    failed_suites+=("$suite (exit $rc, $pass passed, $fail failed)")
  fi
  printf '%s: %s passed, %s failed\n' "$suite" "$pass" "$fail"
}

log "ali-oss (node --test)"
timeout "$SUITE_TIMEOUT" node --test --test-reporter=spec --test-timeout=60000 ali-oss.test.mjs 2>&1 | tee .logs/ali-oss.log
rc=${PIPESTATUS[0]}
record ali-oss "$(count .logs/ali-oss.log 'ℹ pass [0-9]+')" "$(count .logs/ali-oss.log 'ℹ fail [0-9]+')" "$rc"

for suite in test_oss2.py test_oss_v2.py; do
  log "$suite (pytest)"
  timeout "$SUITE_TIMEOUT" .venv/bin/python -m pytest -q -rfE "$suite" 2>&1 | tee ".logs/$suite.log"
  rc=${PIPESTATUS[0]}
  summary="$(grep -aE '^(=+ )?[0-9]+ (passed|failed|error)' ".logs/$suite.log" | tail -n1)"
  pass="$(printf '%s' "$summary" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')"
  fail="$(printf '%s' "$summary" | grep -oE '[0-9]+ (failed|errors?)' | awk '{ s += $1 } END { print s + 0 }')"
  record "${suite%.py}" "${pass:-0}" "${fail:-0}" "$rc"
done

echo
if [ "${#failed_suites[@]}" -ne 0 ]; then
  printf 'interop: failing suite: %s\n' "${failed_suites[@]}"
  printf 'interop: %s passed, %s failed\n' "$total_pass" "$total_fail"
  exit 1
fi
printf 'interop: %s passed, %s failed\n' "$total_pass" "$total_fail"
