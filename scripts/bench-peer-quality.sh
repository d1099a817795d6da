#!/usr/bin/env bash
# P9 of docs/performance.md: quality of the page's default student against UpscalerJS's models
# on pictures the student never trained on — PSNR-Y / SSIM-Y / NIQE of the ×4 results of the same
# MATLAB-bicubic ×¼ inputs (srkd eval): the student by `srkd eval --model` (the page's output
# equals it within 1e-3), esrgan-slim and esrgan-thick in headless Chromium on TF.js's
# WebAssembly backend (scripts/bench/browser/peer-quality.mjs; ≈ 30× faster than its WebGL
# backend on SwiftShader, the same results to float rounding), scored by `srkd eval --results`.
# Sets: the embedded set, and the independent photos (scripts/fetch-eval-photos.sh) unless
# P9_SETS=embedded. scripts/bench.sh runs it as part of the whole report; run alone
# (scripts/bench-peer-quality.sh), it replaces just P9. ≈ 10 min on 2 cores (esrgan-thick
# dominates).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/srkd-target}"
out=${1:-$CARGO_TARGET_DIR/bench/peer-quality-$(date -u +%Y%m%dT%H%M%S)}
model=${PAGE_MODEL:-student-srresnet-kd}
sets=${P9_SETS:-embedded,lomiri}
mkdir -p "$out/p9"
[ -d web/tests/node_modules/playwright-core ] || (cd web/tests && npm ci --no-audit --no-fund --loglevel=error)
(cd scripts/bench/browser && npm ci --no-audit --no-fund --loglevel=error)
cargo build --locked -q -p srkd
srkd="$CARGO_TARGET_DIR/debug/srkd"
git describe --always --dirty > "$out/p9/commit"
for set in ${sets//,/ }; do
  case "$set" in
    embedded) hr=data/eval ;;
    lomiri) scripts/fetch-eval-photos.sh > /dev/null; hr=data/photos-lomiri ;;
    *) echo "P9_SETS: unknown set $set (embedded, lomiri)" >&2; exit 2 ;;
  esac
  d="$out/p9/$set"
  mkdir -p "$d"
  "$srkd" eval "$hr" --model "weights/$model.bpk" --niqe --save-lr "$d/lr" --json "$d/$model.json" > /dev/null
  for peer in esrgan-slim esrgan-thick; do
    node scripts/bench/browser/peer-quality.mjs --model "$peer" --backend wasm --lr "$d/lr" --out "$d/$peer" >&2
    "$srkd" eval "$hr" --results "$d/$peer" --niqe --json "$d/$peer.json" > /dev/null
  done
done
sha256sum "weights/$model.bpk" | cut -d' ' -f1 > "$out/p9/weights-sha256"
echo "$model" > "$out/p9/model"
if [ -z "${1:-}" ]; then
  python3 scripts/bench/p9.py --dir "$out" --out docs/performance.md
fi
