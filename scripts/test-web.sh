#!/usr/bin/env bash
# Browser tests of the web app: builds it (scripts/build-web.sh), gets the CLI's figures for the
# sample image and model, and drives headless Debian Chromium (WebGPU via SwiftShader) with
# playwright-core. Screenshots land in ${SRKD_ARTIFACTS:-target/test-artifacts}.
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
artifacts=${SRKD_ARTIFACTS:-${CARGO_TARGET_DIR:-target}/test-artifacts}
mkdir -p "$artifacts"
cargo run --locked -q -p srkd -- eval data/eval/butterfly.png --model "weights/$model.bpk" --json "$artifacts/cli-eval.json" > /dev/null
node web/tests/browser.mjs web/dist "$model" "$artifacts/cli-eval.json" "$artifacts"
