#!/usr/bin/env bash
# The project's main job: the paper's experiment on this machine. Fetches what it needs (the
# HED VGG16 perceptual network, the default training photos), then runs
#   srkd reproduce --preset quick --out runs/quick
# Extra arguments go to `srkd reproduce` (e.g. --preset paper --backend cuda --out runs/paper,
# --eval-set Set5=DIR, --train-teacher). Re-running resumes: finished stages are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch-assets.sh > /dev/null
scripts/fetch-train-data.sh >&2
exec cargo run --locked -p srkd -- reproduce --preset quick --out runs/quick "$@"
