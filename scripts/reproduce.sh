#!/usr/bin/env bash
# The project's main job: the paper's experiment on this machine. Fetches what it needs (the
# HED VGG16 perceptual network, the default training photos, the independent photo set), then
#   srkd reproduce --preset quick --out runs/quick \
#     --eval-set embedded=data/eval --eval-set lomiri=data/photos-lomiri
# Extra arguments go to `srkd reproduce` (e.g. --preset paper --backend cuda --out runs/paper,
# --train-teacher); any --eval-set of yours replaces the two default sets.
# Re-running resumes: finished stages are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch-assets.sh > /dev/null
scripts/fetch-train-data.sh >&2
eval_sets=(--eval-set embedded=data/eval --eval-set lomiri=data/photos-lomiri)
for arg in "$@"; do
  case "$arg" in --eval-set | --eval-set=*) eval_sets=() ;; esac
done
[ ${#eval_sets[@]} -eq 0 ] || scripts/fetch-eval-photos.sh >&2
exec cargo run --locked -p srkd -- reproduce --preset quick --out runs/quick "${eval_sets[@]}" "$@"
