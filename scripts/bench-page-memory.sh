#!/usr/bin/env bash
# P8 of docs/performance.md: the web page (headless Chromium, the default student on the CPU
# path) on a 4000×3000 picture → 16000×12000 PNG streamed band by band: time, WebAssembly
# memory and the browser's largest process (web/tests/large.mjs with SRKD_LARGE_SHIPPED=1).
# The input is bench-memory.sh's photo when OUT_DIR holds it, else large.mjs's drawn picture.
# scripts/bench.sh runs it as part of the whole report; run alone, it replaces just P8.
# ≈ 25 min on 2 cores (one thread of WebAssembly SIMD).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/srkd-target}"
out=${1:-$CARGO_TARGET_DIR/bench/page-memory-$(date -u +%Y%m%dT%H%M%S)}
model=${PAGE_MODEL:-student-srresnet-kd}
mkdir -p "$out"
scripts/build-web.sh > /dev/null
[ -d web/tests/node_modules/playwright-core ] || (cd web/tests && npm ci --no-audit --no-fund --loglevel=error)
cargo build --locked -q -p srkd
input=()
[ -f "$out/input-4000x3000.png" ] && input=(env "SRKD_LARGE_INPUT=$out/input-4000x3000.png")
"${input[@]}" env SRKD_LARGE_SHIPPED=1 node web/tests/large.mjs web/dist "$model" "$CARGO_TARGET_DIR/debug/srkd" "$out" >&2
if [ -z "${1:-}" ]; then
  python3 scripts/bench/p8.py --dir "$out" --out docs/performance.md
fi
