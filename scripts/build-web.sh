#!/usr/bin/env bash
# Build the web app into web/dist (a static site) with pinned tools, installing any that are
# missing: the wasm32 target, trunk 0.21.14, wasm-bindgen-cli at Cargo.lock's version, and
# wasm-opt from npm binaryen 132 (Debian's binaryen is too old and corrupts the module).
# trunk runs --offline so it can never download tools itself.
#   scripts/build-web.sh          release build (what CI tests and what you deploy)
#   scripts/build-web.sh --serve  trunk serve for development (http://127.0.0.1:8080)
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v rustup > /dev/null; then rustup target add wasm32-unknown-unknown > /dev/null 2>&1; fi
wbg=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)
if ! trunk --version 2> /dev/null | grep -q ' 0.21.14'; then
  cargo install trunk --version 0.21.14 --locked
fi
if ! wasm-bindgen --version 2> /dev/null | grep -q " $wbg"; then
  cargo install wasm-bindgen-cli --version "$wbg"
fi
(cd web/tests && npm ci --no-audit --no-fund --loglevel=error)
export PATH="$PWD/web/tests/node_modules/.bin:$PATH"
export TRUNK_TOOLS_WASM_BINDGEN="$wbg" TRUNK_TOOLS_WASM_OPT=version_132
cd web
if [ "${1:-}" = "--serve" ]; then
  exec trunk serve --offline
fi
trunk build --release --offline
echo "built web/dist ($(du -sh dist | cut -f1))" >&2
