#!/usr/bin/env bash
# P3 of docs/performance.md: the web page's default student vs UpscalerJS esrgan-slim ×4 on
# TF.js WebGPU, WebGL and WebAssembly (one thread, and threaded in a cross-origin-isolated page), in the same headless Chromium (WebGPU on SwiftShader):
# time to first result in fresh browsers, steady state on data/eval, PSNR-Y/SSIM-Y of each
# (scripts/bench/browser/p3.mjs; the peer's pictures scored by `srkd eval --results`).
# scripts/bench.sh runs it as part of the whole report; run alone, it replaces just P3 and P5
# (the payload of the page it measured; brotli from PyPI in ~/.cache/srkd-payload-venv).
# ≈ 15 min on 2 cores with the default 3 rounds (P3_ROUNDS).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/srkd-target}"
out=${1:-$CARGO_TARGET_DIR/bench/page-speed-$(date -u +%Y%m%dT%H%M%S)}
mkdir -p "$out"
scripts/build-web.sh > /dev/null   # incremental; keeps web/dist in step with weights/ and the code
if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null
fi
[ -d web/tests/node_modules/playwright-core ] || (cd web/tests && npm ci --no-audit --no-fund --loglevel=error)
(cd scripts/bench/browser && npm ci --no-audit --no-fund --loglevel=error)
cargo build --locked -q -p srkd
srkd="$CARGO_TARGET_DIR/debug/srkd"
[ -f "$out/commit" ] || git describe --always --dirty > "$out/commit"
# The same MATLAB-bicubic inputs for every contender (any generator will do: only they are kept).
"$srkd" eval data/eval --model weights/student-srresnet-kd.bpk --save-lr "$out/lr" > /dev/null
# SwiftShader runs WebGPU on this CPU: 3 rounds keep P3 near 15 minutes on 2 cores.
node scripts/bench/browser/p3.mjs --dist web/dist --hr data/eval --lr "$out/lr" --rounds "${P3_ROUNDS:-3}" --out "$out"
for b in webgpu webgl wasm wasm-threads; do
  "$srkd" eval data/eval --results "$out/upscalerjs-$b" --json "$out/p3-upscalerjs-$b.json" > /dev/null
done
if [ -z "${1:-}" ]; then
  venv=${SRKD_PAYLOAD_VENV:-$HOME/.cache/srkd-payload-venv}
  if ! "$venv/bin/python" -c 'import brotli' 2> /dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "$(grep '^brotli==' scripts/bench/requirements.txt)"   # bench.sh's pin
  fi
  "$venv/bin/python" scripts/bench/peers.py p3 --dir "$out" --out docs/performance.md --dist web/dist
fi
