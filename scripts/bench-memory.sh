#!/usr/bin/env bash
# P7 of docs/performance.md: maximum resident memory of `srkd upscale` on a 4000×3000 photo
# (16000×12000 out) with the page's default student and the teacher, by GNU time. The input is
# data/train/Wood.jpg (2560×1920, mate-backgrounds; scripts/fetch-train-data.sh) brought to
# 4000×3000 by `srkd upscale --scale 1.5625`. scripts/bench.sh runs it as part of the whole
# report; run alone, it replaces just the P7 section. ≈ 10 min on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/srkd-target}"
out=${1:-$CARGO_TARGET_DIR/bench/memory-$(date -u +%Y%m%dT%H%M%S)}
models=${MEMORY_MODELS:-student-srresnet-kd,teacher-srresnet}
mkdir -p "$out"
[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time > /dev/null; }
scripts/fetch-train-data.sh > /dev/null
cargo build --locked -q -p srkd
srkd="$CARGO_TARGET_DIR/debug/srkd"
source=data/train/Wood.jpg
input="$out/input-4000x3000.png"
"$srkd" upscale "$source" "$input" --model "weights/${models%%,*}.bpk" --scale 1.5625 2> /dev/null
commit=$(git describe --always --dirty)
load=$(cut -d' ' -f1 /proc/loadavg)   # how busy the machine was: above ~0.5 the wall times are upper bounds
for m in ${models//,/ }; do
  result="$out/out-$m.png"
  /usr/bin/time -v -o "$out/time-$m.txt" "$srkd" upscale "$input" "$result" --model "weights/$m.bpk" 2> /dev/null
  python3 - "$out" "$m" "$commit" "$source" "$load" <<'PY'
import hashlib, json, re, sys
from pathlib import Path
out, model, commit, source, load = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
t = (out / f"time-{model}.txt").read_text()
field = lambda name: re.search(rf"{re.escape(name)}: (.+)", t).group(1).strip()
wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":")
seconds = sum(float(v) * 60 ** i for i, v in enumerate(reversed(wall)))
png = (out / f"out-{model}.png").read_bytes()
w, h = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
json.dump({
    "model": model, "input": "4000×3000", "output": f"{w}×{h}", "seconds": seconds,
    "max_rss_kib": int(field("Maximum resident set size (kbytes)")), "png_bytes": len(png),
    "output_sha256": hashlib.sha256(png).hexdigest(),
    "weights_sha256": hashlib.sha256(Path(f"weights/{model}.bpk").read_bytes()).hexdigest(),
    "commit": commit, "tile": 128, "loadavg": load, "source": f"{source} at ×1.5625 (srkd upscale --scale 1.5625)",
}, open(out / f"memory-{model}.json", "w"), indent=2)
PY
  rm -f "$result"
done
if [ -z "${1:-}" ]; then
  python3 scripts/bench/p7.py --dir "$out" --out docs/performance.md
fi
