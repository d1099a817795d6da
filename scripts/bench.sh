#!/usr/bin/env bash
# srkd against what users would pick instead (issue #7), written to docs/performance.md:
#   P1  native ×4 inference, student and teacher, 256×256 → 1024×1024: srkd `cpu` vs PyTorch CPU
#       and ONNX Runtime CPU on the same weights (srkd export → safetensors → PyTorch → ONNX),
#       outputs checked equal; ROUNDS rounds (default 5) alternating srkd and the peers; medians.
#   P2  one student G2G+AL training step (batch 16, 96² crops, teacher + VGG forward, KD +
#       content + adversarial, D step): srkd `cpu` vs the same step in PyTorch CPU.
#   P3  the web page's default student vs UpscalerJS (esrgan-slim ×4, TF.js WebGPU, WebGL, wasm) in
#       the same headless Chromium (WebGPU on SwiftShader): time to first result in fresh
#       browsers, steady-state time per picture, PSNR-Y/SSIM-Y on data/eval (scripts/bench/browser).
#   P5  bytes the browser downloads before the first upscale (gzip -9 and brotli).
#   P6  `srkd serve` under load: 50 concurrent raters answering a study, SQLite and PostgreSQL
#       (scripts/bench-serve.sh).
#   P7  `srkd upscale` maximum memory on a 4000×3000 photo, student and teacher (scripts/bench-memory.sh).
#   P8  the page on the same photo: time and memory of the streamed result (scripts/bench-page-memory.sh).
#   P9  quality of the page's default student vs UpscalerJS esrgan-slim and esrgan-thick on unseen
#       pictures: the embedded set and the independent photos (scripts/bench-peer-quality.sh).
# Installs the pinned peers (scripts/bench/requirements.txt) from PyPI into ~/.cache/srkd-bench-venv
# and UpscalerJS from npm; builds the page (scripts/build-web.sh) unless web/dist is there.
# Usage: scripts/bench.sh            (≈ 25 min on 2 cores after the first build and install)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/srkd-target}"
rounds=${ROUNDS:-5}
threads=${THREADS:-$(nproc)}
models=${MODELS:-student-srresnet-kd,teacher-srresnet}   # the page's default student first
venv=${SRKD_BENCH_VENV:-$HOME/.cache/srkd-bench-venv}
if [ ! -x "$venv/bin/python" ] || ! cmp -s scripts/bench/requirements.txt "$venv/requirements.txt"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r scripts/bench/requirements.txt
  cp scripts/bench/requirements.txt "$venv/requirements.txt"
fi
[ -f weights/teacher-srresnet.bpk ] || scripts/import-teachers.sh > /dev/null   # the imported Keras teachers
scripts/fetch-assets.sh > /dev/null   # the HED VGG16 the training step's content loss runs
cargo build --locked -q -p srkd
srkd="$CARGO_TARGET_DIR/debug/srkd"
out="$CARGO_TARGET_DIR/bench/$(date -u +%Y%m%dT%H%M%S)"
mkdir -p "$out/weights"
git describe --always --dirty > "$out/commit"   # what the timings were measured on
for m in ${models//,/ }; do "$srkd" export "weights/$m.bpk" --out "$out/weights/$m.safetensors" 2> /dev/null; done
export RAYON_NUM_THREADS=$threads OMP_NUM_THREADS=$threads
model_files=$(printf 'weights/%s.bpk,' ${models//,/ }); model_files=${model_files%,}
for r in $(seq 1 "$rounds"); do
  echo "round $r/$rounds" >&2
  save=(); check=()
  if [ "$r" = 1 ]; then save=(--save "$out/check"); check=(--check "$out/check"); fi
  "$srkd" bench infer --models "$model_files" --runs 1 --json "$out/srkd-$r.json" "${save[@]}" >&2
  "$venv/bin/python" scripts/bench/peers.py infer --weights "$out/weights" --models "$models" --runs 1 \
    --threads "$threads" --json "$out/peers-$r.json" "${check[@]}"
  # Both: one warm-up step, then three timed ones.
  "$srkd" bench train --backends cpu --steps 3 --json "$out/train-srkd-$r.json" >&2
  "$venv/bin/python" scripts/bench/peers.py train --weights "$out/weights" --runs 3 --threads "$threads" \
    --json "$out/train-peers-$r.json"
done
# Where srkd's time goes (stages synchronised one by one; not part of the ratios).
"$srkd" bench infer --models "$model_files" --runs 3 --stages --json "$out/stages.json" >&2
scripts/bench-page-speed.sh "$out"   # P3 (p3.json, p3-upscalerjs-*.json)
scripts/bench-serve.sh "$out"   # P6 (writes serve-*.json into $out; the report below adds them)
scripts/bench-memory.sh "$out"  # P7 (memory-*.json)
scripts/bench-page-memory.sh "$out"  # P8 (large-memory.json)
scripts/bench-peer-quality.sh "$out"  # P9 (p9/)
dist=(--dist web/dist)
"$venv/bin/python" scripts/bench/peers.py report --dir "$out" --out docs/performance.md "${dist[@]}"
echo "raw timings: $out" >&2
