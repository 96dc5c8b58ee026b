#!/usr/bin/env bash
# Runs a command with a fresh oss-emulator on a free loopback port; OSS_EMULATOR_URL names it and OSS_EMULATOR_TOKEN
# holds its control token (send it in X-Emulator-Token).
# Usage: scripts/with-emulator.sh [emulator flags --] command...
set -euo pipefail
cd "$(dirname "$0")/.."
emulator=${OSS_EMULATOR:-target/release/oss-emulator}
[ -x "$emulator" ] || { echo "with-emulator: $emulator is missing (make emulator)" >&2; exit 1; }
flags=()
if printf '%s\n' "$@" | grep -qx -- '--'; then
  while [ "$1" != "--" ]; do flags+=("$1"); shift; done
  shift
fi
log=$(mktemp)
"$emulator" --port 0 "${flags[@]}" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
# The first line is `listening on URL`, the second `control token: TOKEN`.
for _ in $(seq 1 100); do
  url=$(head -n 1 "$log" | sed -n 's/^listening on //p')
  token=$(sed -n '2s/^control token: //p' "$log")
  [ -n "$url" ] && [ -n "$token" ] && break
  kill -0 $pid 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
[ -n "${url:-}" ] && [ -n "${token:-}" ] || {
  echo "with-emulator: no listening and token lines after 10 s" >&2; cat "$log" >&2; exit 1; }
export OSS_EMULATOR_URL=$url OSS_EMULATOR_TOKEN=$token
"$@"
