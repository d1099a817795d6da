#!/usr/bin/env bash
# Publish a finished `srkd reproduce` run as the project's shipped results:
#   weights/student-{nokd,gan2gan,gan2g,gan2g-al,g2g-al}.bpk (+ .manifest.json, the run's
#   training manifest) with entries in weights/manifest.json, and the report as
#   docs/results.md with its figures and report.json under docs/results/.
# Usage: scripts/publish-results.sh [RUN]   (default runs/quick)
set -euo pipefail
cd "$(dirname "$0")/.."
run=${1:-runs/quick}
[ -f "$run/report.md" ] || { echo "$run: no report.md (run srkd reproduce first)" >&2; exit 1; }
mkdir -p docs/results
for id in nokd gan2gan gan2g gan2g-al g2g-al; do
  src="$run/train/student-$id"
  [ -f "$src/generator.bpk" ] || { echo "$src: not trained" >&2; exit 1; }
  cp "$src/generator.bpk" "weights/student-$id.bpk.part" && mv "weights/student-$id.bpk.part" "weights/student-$id.bpk"
  cp "$src/manifest.json" "weights/student-$id.manifest.json"
done
for f in fig2.png curves-psnr.png curves-loss.png report.json; do
  [ -f "$run/$f" ] && cp "$run/$f" "docs/results/$f"
done
sed -e 's|(fig2.png)|(results/fig2.png)|; s|(curves-psnr.png)|(results/curves-psnr.png)|; s|(curves-loss.png)|(results/curves-loss.png)|' \
  "$run/report.md" > docs/results.md.part
# The hand-written discussion of the shipped run, if any, follows the generated report.
[ -f docs/results-discussion.md ] && cat docs/results-discussion.md >> docs/results.md.part
mv docs/results.md.part docs/results.md
python3 - "$run" <<'PY'
import hashlib, json, sys
run = sys.argv[1]
report = json.load(open(f"{run}/report.json"))
prov = report["provenance"]
labels = {m["id"]: m["label"] for m in report["methods"]}
with open("weights/manifest.json") as f:
    manifest = json.load(f)
for id in ["nokd", "gan2gan", "gan2g", "gan2g-al", "g2g-al"]:
    name = f"student-{id}.bpk"
    train = json.load(open(f"weights/student-{id}.manifest.json"))
    psnr = report["table2"]["embedded"][f"student-{id}"]["psnr"] if "embedded" in report["table2"] else None
    manifest[name] = {
        "what": f"x4 student (32 filters, 8 residual blocks), {labels[f'student-{id}']}: schedule {train['schedule']['name']}",
        "architecture": "GeneratorConfig in the file's metadata; 248,195 trainable parameters (the paper's student)",
        "source": f"trained by `srkd reproduce --preset {report['plan']['preset']}` ({prov['commit']}, backend {prov['backend']}, {prov['generated']})",
        "steps": train["steps"],
        "teacher": train["teacher"],
        "perceptual": train["perceptual"],
        "data": train["data"],
        "embedded_set_psnr_y": psnr,
        "sha256": hashlib.sha256(open(f"weights/{name}", "rb").read()).hexdigest(),
        "licence": "MIT OR Apache-2.0 (this project); trained on the photos listed in data/train/LICENSES",
        "training_manifest": f"weights/student-{id}.manifest.json",
        "report": "docs/results.md",
        "regenerate": "scripts/reproduce.sh && scripts/publish-results.sh",
    }
with open("weights/manifest.json.part", "w") as f:
    json.dump(manifest, f, indent=2, ensure_ascii=False)
    f.write("\n")
import os
os.replace("weights/manifest.json.part", "weights/manifest.json")
PY
echo "published $run → weights/student-*.bpk, docs/results.md"
