#!/usr/bin/env bash
# P4 of docs/performance.md: srkd on a machine's GPUs, in one prepared run. GPU machines here
# have no network, so build where there is one and carry the binary (with weights/, data/eval
# and this script):
#   cargo build --release --locked -p srkd [--features cuda]   # CUDA fetches LLVM while building
#   scripts/gpu-check.sh --srkd target/release/srkd --out DIR
# Lists the adapters; times teacher and student inference (256² → 1024², 960×540 → 3840×2160)
# on each GPU backend; times a training step of every student schedule at batch 16 on 96² crops
# on one GPU and, data-parallel, on all of them. DIR/gpu-check.json is what
# `scripts/bench.sh` turns into P4 rows (copy it to docs/gpu-check.json).
# --dry-run: the same run at toy sizes on whatever adapters exist (here: CPU-emulated
# SwiftShader, with `cpu,vulkan` standing in for several GPUs), to check the script in minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
srkd=target/release/srkd out=gpu-check dry=no
while [ $# -gt 0 ]; do
  case "$1" in
    --srkd) srkd=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --dry-run) dry=yes; shift ;;
    *) echo "usage: scripts/gpu-check.sh [--srkd BINARY] [--out DIR] [--dry-run]" >&2; exit 2 ;;
  esac
done
[ -x "$srkd" ] || { echo "$srkd: no srkd binary; build it with cargo build --release -p srkd" >&2; exit 1; }
mkdir -p "$out"
swiftshader=/usr/lib/chromium/vk_swiftshader_icd.json
if [ "$dry" = yes ] && [ -z "${VK_ICD_FILENAMES:-}" ] && [ -f "$swiftshader" ]; then
  export VK_ICD_FILENAMES=$swiftshader   # lavapipe crashes in burn's SPIR-V discriminator path
fi
started=$(date +%s)
"$srkd" bench adapters --json "$out/adapters.json"
gpus=$(grep -o '"wgpu:[0-9]*"' "$out/adapters.json" | tr -d '"' | paste -sd, - || true)
backends=(wgpu vulkan)
if "$srkd" bench infer --backend cuda --runs 1 --size 16 --models weights/student-srresnet-kd.bpk > /dev/null 2>&1; then
  backends+=(cuda)
  cuda_count=$(nvidia-smi -L 2> /dev/null | grep -c '^GPU' || true)
  [ "${cuda_count:-0}" -ge 2 ] && cuda_all=$(seq -s, -f 'cuda:%g' 0 $((cuda_count - 1)))
fi
schedules=student,gan2gan,gan2g,gan2g+al,g2g+al
if [ "$dry" = yes ]; then
  # SwiftShader needs ~20 s for one discriminator step here: the dry run times GAN2G only.
  sizes=("32 32"); batch=2 crop=32 steps=1 runs=1 backends=(vulkan) all=cpu,vulkan schedules=gan2g
else
  sizes=("256 256" "960 540"); batch=16 crop=96 steps=3 runs=3 all=$gpus
  [ "$(tr -cd , <<< "$gpus" | wc -c)" -ge 1 ] || all=""   # one GPU: no data-parallel row
fi
infer=()
for backend in "${backends[@]}"; do
  for size in "${sizes[@]}"; do
    read -r w h <<< "$size"
    f="$out/infer-$backend-${w}x$h.json"
    "$srkd" bench infer --backend "$backend" --size "$w" --height "$h" --runs "$runs" \
      --models weights/teacher-srresnet.bpk,weights/student-g2g-al.bpk --json "$f" && infer+=("$f")
  done
done
devices=(); [ -n "$all" ] && devices=(--devices "$all")
"$srkd" bench train --schedules "$schedules" --backends "$(IFS=,; echo "${backends[*]}")" \
  "${devices[@]}" --batch-size "$batch" --hr-crop "$crop" --steps "$steps" --data data/eval --json "$out/train.json"
[ -n "${cuda_all:-}" ] && "$srkd" bench train --schedules g2g+al --backends cuda --devices "$cuda_all" \
  --batch-size "$batch" --hr-crop "$crop" --steps "$steps" --data data/eval --json "$out/train-cuda.json"
{
  printf '{"dry_run": %s, "commit": "%s", "srkd_sha256": "%s", "seconds": %s,\n "weights_sha256": {' \
    "$([ "$dry" = yes ] && echo true || echo false)" "$(git rev-parse --short HEAD 2> /dev/null || echo "${SRKD_COMMIT:-unknown}")" \
    "$(sha256sum "$srkd" | cut -d' ' -f1)" "$(($(date +%s) - started))"
  sha256sum weights/teacher-srresnet.bpk weights/student-g2g-al.bpk | awk '{printf "%s\"%s\": \"%s\"", (NR > 1 ? ", " : ""), $2, $1}'
  printf '},\n "adapters": '
  cat "$out/adapters.json"
  printf ',\n "infer": ['
  sep=""; for f in "${infer[@]}"; do printf '%s' "$sep"; cat "$f"; sep=","; done
  printf '],\n "train": ['
  cat "$out/train.json"
  [ -f "$out/train-cuda.json" ] && { printf ','; cat "$out/train-cuda.json"; }
  printf ']}\n'
} > "$out/gpu-check.json.tmp"
mv "$out/gpu-check.json.tmp" "$out/gpu-check.json"
echo "wrote $out/gpu-check.json in $(($(date +%s) - started)) s" >&2
