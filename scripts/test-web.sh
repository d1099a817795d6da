#!/usr/bin/env bash
# Browser tests of the web app: builds it (scripts/build-web.sh), gets the CLI's figures for the
# sample image and model, and drives headless Debian Chromium (WebGPU via SwiftShader) with
# playwright-core: the upscaler (browser.mjs); batches, JPEG, offline and phones (everyday.mjs);
# a 4000×3000 picture streamed into a 16000×12000 PNG in bounded memory (large.mjs);
# the rating study + DMOS results against `srkd dmos` (study.mjs); the study against
# `srkd serve` (serve.mjs). Screenshots land in ${SRKD_ARTIFACTS:-target/test-artifacts}.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian chromium (needs root)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null
fi
scripts/build-web.sh
# The model the test drives: the default page model when students are shipped.
model=teacher-srresnet
[ -f weights/student-gan2gan.bpk ] && model=student-gan2gan
[ -f weights/student-srresnet-kd.bpk ] && model=student-srresnet-kd
artifacts=${SRKD_ARTIFACTS:-${CARGO_TARGET_DIR:-target}/test-artifacts}
mkdir -p "$artifacts"
cargo run --locked -q -p srkd -- eval data/eval/butterfly.png --model "weights/$model.bpk" --json "$artifacts/cli-eval.json" > /dev/null
# The second model of the page's two-model comparison.
cargo run --locked -q -p srkd -- eval data/eval/butterfly.png --model weights/teacher-srresnet.bpk --json "$artifacts/cli-eval-teacher.json" > /dev/null
# The sized results the page must reproduce (butterfly.png is 256×256).
cargo run --locked -q -p srkd -- upscale data/eval/butterfly.png "$artifacts/cli-x2.png" --model "weights/$model.bpk" --scale 2 2> /dev/null
cargo run --locked -q -p srkd -- upscale data/eval/butterfly.png "$artifacts/cli-w300.png" --model "weights/$model.bpk" --width 300 2> /dev/null
# What the page's batch ZIP must hold: `srkd upscale` of each good file of the batch (and of an
# RGBA picture, whose alpha the page must keep as the CLI does).
for source in data/eval/butterfly.png data/eval/chelsea.png tests/fixtures/cmyk.jpg tests/fixtures/alpha.png; do
  name=$(basename "${source%.*}")
  cargo run --locked -q -p srkd -- upscale "$source" "$artifacts/batch-$name.png" --model "weights/$model.bpk" 2> /dev/null
done
cargo run --locked -q -p srkd -- upscale tests/fixtures/deep16.png "$artifacts/cli-deep16.png" --model "weights/$model.bpk" --depth 16 2> /dev/null
# Every suite runs even if one fails, so one red run shows every failure.
status=0
node web/tests/browser.mjs web/dist "$model" "$artifacts/cli-eval.json" "$artifacts" || status=1
node web/tests/everyday.mjs web/dist "$model" "$artifacts/cli-eval.json" "$artifacts" || status=1
node web/tests/study.mjs web/dist "cargo run --locked -q -p srkd --" "$artifacts" || status=1
cargo build --locked -q -p srkd
node web/tests/large.mjs web/dist "$model" "${CARGO_TARGET_DIR:-target}/debug/srkd" "$artifacts" || status=1
node web/tests/serve.mjs web/dist "${CARGO_TARGET_DIR:-target}/debug/srkd" "$artifacts" || status=1
exit $status
