#!/usr/bin/env bash
# Builds the npm package `oss-append` into pkg/ (git-ignored):
#   1. cargo build --release --target wasm32-unknown-unknown -p oss-append
#   2. wasm-bindgen --target web, its output used as it comes (the crate's JS, src/wasm/*.js, in its snippets/)
#   3. wasm-opt -Oz (npm binaryen; never Debian's, which miscompiles externref tables) → pkg/oss_append_bg.wasm, the
#      one .wasm both entries load
#   4. scripts/bundle.mjs (esbuild): pkg-template/web.js and node.cjs, each with the bindings, into one minified file
#   5. the rest of pkg-template/ copied in, the version stamped from Cargo.toml; index.d.cts (the types `require`
#      resolves to) made from index.d.ts by replacing its first line, so the two cannot drift
# The package is assembled in a pkg-staging.* directory and swapped in whole, so pkg/ is never half-built. When the
# compiled module and the tools are unchanged, the optimized .wasm is reused from the previous build (wasm-opt is
# the slow part).
# Usage: scripts/build-pkg.sh        Environment: OSS_APPEND_NO_WASM_OPT=1 skips wasm-opt (larger output).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'build-pkg: %s\n' "$*" >&2; exit 1; }

TOOLS="$HOME/.cache/oss-append-tools"
export PATH="$HOME/.cargo/bin:$TOOLS/node_modules/.bin:$PATH"

OUT="$ROOT/pkg"
TEMPLATE="$ROOT/pkg-template"
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
RAW_WASM="$TARGET_DIR/wasm32-unknown-unknown/release/oss_append.wasm"
# The features rustc 1.95 emits for wasm32-unknown-unknown by default, as the module's target_features section lists
# them (`wasm-opt --print-features`); wasm-opt must accept each of them.
WASM_OPT_FEATURES=(--enable-bulk-memory --enable-bulk-memory-opt --enable-nontrapping-float-to-int --enable-sign-ext
  --enable-reference-types --enable-multivalue --enable-mutable-globals --enable-call-indirect-overlong)

for f in package.json node.cjs node.mjs web.js index.d.ts README.md; do
  [ -f "$TEMPLATE/$f" ] || die "pkg-template/$f is missing"
done
command -v node >/dev/null || die "node is required (for stamping package.json)"

# One build at a time (pkg/ is replaced whole at the end).
mkdir -p "$TARGET_DIR"
exec 9>"$TARGET_DIR/.build-pkg.lock"
flock -w 600 9 || die "another scripts/build-pkg.sh has held the lock for 10 minutes"

# Tools: the wasm32 target, wasm-bindgen-cli equal to the crate's wasm-bindgen, npm binaryen and esbuild.
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown \
  || ! command -v wasm-bindgen >/dev/null \
  || [ ! -x "$TOOLS/node_modules/.bin/esbuild" ] \
  || { [ -z "${OSS_APPEND_NO_WASM_OPT:-}" ] && [ ! -x "$TOOLS/node_modules/.bin/wasm-opt" ]; }; then
  scripts/install-tools.sh wasm
fi
WB_CRATE=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' Cargo.lock)
[ -n "$WB_CRATE" ] || die "wasm-bindgen is not in Cargo.lock"
WB_CLI=$(wasm-bindgen --version | awk '{print $2}')
[ "$WB_CLI" = "$WB_CRATE" ] || die "wasm-bindgen CLI $WB_CLI differs from the crate's $WB_CRATE (run scripts/install-tools.sh wasm)"
if [ -z "${OSS_APPEND_NO_WASM_OPT:-}" ]; then
  WASM_OPT="$TOOLS/node_modules/.bin/wasm-opt"
  [ -x "$WASM_OPT" ] || die "npm binaryen's wasm-opt is missing at $WASM_OPT"
  WASM_OPT_VERSION=$("$WASM_OPT" --version)
else
  WASM_OPT_VERSION=none
fi

VERSION=$(awk '
  /^\[/ { in_pkg = ($0 == "[package]") }
  in_pkg && /^version *= *"/ { gsub(/^version *= *"|".*$/, ""); print; exit }' Cargo.toml)
[ -n "$VERSION" ] || die "no [package] version in Cargo.toml"

# Panic locations name source files: they ship as crates.io/<crate>/… and oss-append/… instead of this machine's
# paths. (RUSTFLAGS, when set, takes precedence over these, as cargo orders them.)
CARGO_HOME_DIR=${CARGO_HOME:-$HOME/.cargo}
RUSTC_FLAGS=("--remap-path-prefix=$ROOT=oss-append" "--remap-path-prefix=$CARGO_HOME_DIR=cargo")
for index in "$CARGO_HOME_DIR"/registry/src/*/; do
  [ -d "$index" ] && RUSTC_FLAGS+=("--remap-path-prefix=${index%/}=crates.io")
done
# SHA-256 as a loop rather than unrolled: it only hashes signing strings of a few hundred bytes (bodies go as
# UNSIGNED-PAYLOAD), and the unrolled rounds cost 7.3 kB raw, 1.3 kB gzipped, of the shipped .wasm.
RUSTC_FLAGS+=('--cfg' 'sha2_backend_soft="compact"')
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="${RUSTC_FLAGS[*]}"

log "cargo build --release --target wasm32-unknown-unknown -p oss-append"
cargo build --release --target wasm32-unknown-unknown -p oss-append
[ -f "$RAW_WASM" ] || die "cargo produced no $RAW_WASM"

# What the optimized .wasm depends on.
KEY=$( { sha256sum "$RAW_WASM" | cut -d' ' -f1; echo "wasm-bindgen $WB_CLI"; echo "wasm-opt $WASM_OPT_VERSION";
  sha256sum "$0" | cut -d' ' -f1; } | sha256sum | cut -d' ' -f1)

STAGE=$(mktemp -d "$ROOT/pkg-staging.XXXXXX")
BUILD=$(mktemp -d "$TARGET_DIR/pkg-build.XXXXXX")
chmod 755 "$STAGE"
trap 'rm -rf "$STAGE" "$BUILD"' EXIT

log "wasm-bindgen --target web"
wasm-bindgen --target web --no-typescript --out-name oss_append --out-dir "$BUILD/bindings" "$RAW_WASM"
wasm="$BUILD/bindings/oss_append_bg.wasm"
[ -s "$wasm" ] || die "wasm-bindgen wrote no $wasm"
if [ -f "$OUT/.build-key" ] && [ "$(cat "$OUT/.build-key")" = "$KEY" ] && [ -f "$OUT/oss_append_bg.wasm" ]; then
  log "module unchanged; reusing pkg/oss_append_bg.wasm"
  cp "$OUT/oss_append_bg.wasm" "$STAGE/"
elif [ "$WASM_OPT_VERSION" != none ]; then
  log "wasm-opt -Oz → pkg/oss_append_bg.wasm"
  # --converge repeats -Oz while it still shrinks; the two custom sections are for tools, not engines.
  "$WASM_OPT" -Oz --converge --strip-producers --strip-target-features "${WASM_OPT_FEATURES[@]}" "$wasm" \
    -o "$STAGE/oss_append_bg.wasm"
  [ -s "$STAGE/oss_append_bg.wasm" ] || die "wasm-opt wrote nothing"
else
  cp "$wasm" "$STAGE/"
fi
echo "$KEY" > "$STAGE/.build-key"

log "esbuild (scripts/bundle.mjs) → pkg/web.js, pkg/node.cjs"
cp "$TEMPLATE/web.js" "$TEMPLATE/node.cjs" "$BUILD/"
node scripts/bundle.mjs "$TOOLS/node_modules/esbuild" "$BUILD" "$STAGE" || die "bundling failed"

log "copying pkg-template/ (version $VERSION)"
for f in "$TEMPLATE"/*; do
  case ${f##*/} in web.js | node.cjs) ;; *) cp -R "$f" "$STAGE"/ ;; esac
done
# The same declarations for CommonJS consumers: under "type": "module" a .d.ts is an ES module's, which a
# require() under moduleResolution node16/nodenext refuses; a .d.cts is a CommonJS module's.
head -n 1 "$STAGE/index.d.ts" | grep -q '^// Type definitions for oss-append' \
  || die "pkg-template/index.d.ts must start with its '// Type definitions for oss-append' line"
{ echo "// Type definitions for oss-append as require('oss-append') sees them: index.d.ts with this first line."
  tail -n +2 "$STAGE/index.d.ts"; } > "$STAGE/index.d.cts"
node -e '
  const fs = require("fs");
  const [file, version] = process.argv.slice(1);
  const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
  pkg.version = version;
  fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n");
' "$STAGE/package.json" "$VERSION"

# Every file the package.json names must exist, and the Node entry must load.
node -e '
  const fs = require("fs"), path = require("path");
  const dir = process.argv[1];
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  const targets = [];
  const walk = (v) => typeof v === "string" ? targets.push(v) : Object.values(v).forEach(walk);
  walk(pkg.exports); [pkg.main, pkg.module, pkg.types].forEach((v) => v && targets.push(v));
  for (const t of targets) if (!fs.existsSync(path.join(dir, t))) { console.error("missing " + t); process.exit(1); }
' "$STAGE" || die "package.json names files that were not built"
node -e '
  const m = require(process.argv[1]);
  if (typeof m !== "function" || m.OSS !== m || typeof m.crc64 !== "function") throw new Error("bad exports");
  if (m.crc64(new TextEncoder().encode("123456789")) !== "11051210869376104954") throw new Error("crc64 check value");
' "$STAGE/node.cjs" || die "the built Node entry does not load"

rm -rf "$OUT" "$BUILD"
mv "$STAGE" "$OUT"
trap - EXIT
log "pkg/ ready: oss-append@$VERSION ($(du -sh "$OUT" | cut -f1); wasm $(stat -c %s "$OUT/oss_append_bg.wasm") bytes)"
