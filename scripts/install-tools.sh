#!/usr/bin/env bash
# Installs, idempotently, every tool the build and the tests need on a fresh machine.
# Usage: scripts/install-tools.sh [rust|wasm|browser|all]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."

want=${1:-all}
need() { [ "$want" = all ] || [ "$want" = "$1" ]; }
log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

export PATH="$HOME/.cargo/bin:$PATH"

if need rust || need wasm; then
  rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
fi

if need wasm; then
  rustup target list --installed | grep -qx wasm32-unknown-unknown || { log "adding the wasm32 target"; rustup target add wasm32-unknown-unknown; }
  if ! wasm-pack --version 2>/dev/null | grep -qF ' 0.15.1'; then
    log "installing wasm-pack 0.15.1"
    cargo install wasm-pack --version =0.15.1
  fi
  # The CLI must equal the wasm-bindgen crate version in Cargo.lock exactly.
  wb=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' Cargo.lock)
  if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $wb"; then
    log "installing wasm-bindgen-cli $wb"
    # Not --locked: its lockfile pins a crate version the registry mirror lacks.
    cargo install wasm-bindgen-cli --version "=$wb"
  fi
  # wasm-opt from npm binaryen; Debian's binaryen 108 miscompiles externref tables.
  tools="$HOME/.cache/oss-append-tools"
  # esbuild minifies the generated JS glue.
  if [ ! -x "$tools/node_modules/.bin/wasm-opt" ] || [ ! -x "$tools/node_modules/.bin/esbuild" ]; then
    log "installing binaryen (wasm-opt) and esbuild from npm"
    mkdir -p "$tools"
    (cd "$tools" && { [ -f package.json ] || npm init -y >/dev/null; } \
      && npm install --no-audit --no-fund --silent binaryen@132.0.0 esbuild@0.28.2)
  fi
fi

if need browser; then
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    log "installing Debian chromium and chromium-driver"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
  fi
fi
