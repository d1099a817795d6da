#!/usr/bin/env bash
# Build the rating study the web page ships (web/study/) from a finished `srkd reproduce` run
# whose students are the committed ones (scripts/publish-results.sh): 4 images of the embedded
# eval set, a centred 192×192 crop each (small enough to commit), the five students and the
# SRGAN teacher plus the hidden reference = 28 trials, and a bicubic practice picture.
# Usage: scripts/make-default-study.sh [RUN]   (default runs/quick)
set -euo pipefail
cd "$(dirname "$0")/.."
run=${1:-runs/quick}
methods=student-gan2gan,student-gan2g,student-gan2g-al,student-g2g-al,student-nokd,teacher-srgan
staging=web/.study-new
rm -rf "$staging"
cargo run --locked -q -p srkd -- study export --run "$run" --images 4 --crop 192 --methods "$methods" \
  --title "srkd default study: distilled students vs the SRGAN teacher" --out "$staging"
# The pictures must come from the weights the page ships, not from some other run.
python3 - "$staging/study.json" <<'PY'
import hashlib, json, sys
study = json.load(open(sys.argv[1]))
for method, info in study["provenance"]["methods"].items():
    shipped = hashlib.sha256(open(f"weights/{method}.bpk", "rb").read()).hexdigest()
    if info["sha256"] != shipped:
        sys.exit(f"{method}: the run's weights ({info['sha256'][:12]}…) are not the shipped weights/{method}.bpk ({shipped[:12]}…); publish the run first")
PY
rm -rf web/study
mv "$staging" web/study
echo "web/study: $(python3 -c 'import json;s=json.load(open("web/study/study.json"));print(s["id"], len(s["items"]), "trials")')"
