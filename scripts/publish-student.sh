#!/usr/bin/env bash
# Publish one finished `srkd train` run (a student, or a trained teacher such as teacher-g) as shipped weights: weights/ID.bpk, its training
# manifest as weights/ID.manifest.json, an entry in weights/manifest.json (source, config,
# steps, teacher, data, commit, sha256, PSNR-Y/SSIM-Y on the embedded eval set measured here
# by `srkd eval`), the eval JSON as docs/results/ID-eval.json and the training log (losses and
# validations) as docs/results/ID-log.jsonl.
# Usage: scripts/publish-student.sh RUN ID CONFIG   e.g.
#   scripts/publish-student.sh runs/student-srresnet-kd student-srresnet-kd configs/student-srresnet-kd.toml
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 3 ] || { echo "usage: scripts/publish-student.sh RUN ID CONFIG" >&2; exit 2; }
run=$1 id=$2 config=$3
[ -f "$run/generator.bpk" ] && [ -f "$run/manifest.json" ] || { echo "$run: not a finished srkd train run" >&2; exit 1; }
[ -f "$config" ] || { echo "$config: no such config" >&2; exit 1; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/srkd-target}"
mkdir -p docs/results
cargo run --locked -q -p srkd -- eval data/eval --model "$run/generator.bpk" --json "docs/results/$id-eval.json.part" > /dev/null
mv "docs/results/$id-eval.json.part" "docs/results/$id-eval.json"
cp "$run/generator.bpk" "weights/$id.bpk.part" && mv "weights/$id.bpk.part" "weights/$id.bpk"
cp "$run/manifest.json" "weights/$id.manifest.json"
cp "$run/log.jsonl" "docs/results/$id-log.jsonl"
python3 - "$id" "$config" <<'PY'
import hashlib, json, os, sys
id, config = sys.argv[1], sys.argv[2]
train = json.load(open(f"weights/{id}.manifest.json"))
evaluation = json.load(open(f"docs/results/{id}-eval.json"))
manifest = json.load(open("weights/manifest.json"))
g = train["generator"]
manifest[f"{id}.bpk"] = {
    "what": f"x{g['scale']} {train['schedule'].get('network', 'student')} ({g['filters']} filters, {g['blocks']} residual blocks), schedule {train['schedule']['name']}",
    "architecture": "GeneratorConfig in the file's metadata",
    "source": f"trained by `srkd train --config {config}` (commit {train['commit']}, backend {train['backend']})",
    "steps": train["steps"],
    "teacher": train["teacher"],
    "perceptual": train["perceptual"],
    "data": train["data"],
    "embedded_set_psnr_y": evaluation["mean"]["model"]["psnr"],
    "embedded_set_ssim_y": evaluation["mean"]["model"]["ssim"],
    "embedded_set_bicubic_psnr_y": evaluation["mean"]["bicubic"]["psnr"],
    "sha256": hashlib.sha256(open(f"weights/{id}.bpk", "rb").read()).hexdigest(),
    "licence": "MIT OR Apache-2.0 (this project); trained on the photos listed in data/train/LICENSES",
    "training_manifest": f"weights/{id}.manifest.json",
    "evaluation": f"docs/results/{id}-eval.json (srkd eval data/eval)",
    "log": f"docs/results/{id}-log.jsonl",
    "regenerate": f"scripts/fetch-train-data.sh && srkd train --config {config} --out runs/{id} && scripts/publish-student.sh runs/{id} {id} {config}",
}
with open("weights/manifest.json.part", "w") as f:
    json.dump(manifest, f, indent=2, ensure_ascii=False)
    f.write("\n")
os.replace("weights/manifest.json.part", "weights/manifest.json")
print(f"published {id}: PSNR-Y {evaluation['mean']['model']['psnr']:.2f} dB (bicubic {evaluation['mean']['bicubic']['psnr']:.2f})")
PY
