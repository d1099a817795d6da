#!/usr/bin/env bash
# Fetch the default training set into data/train/ (not committed): the nature photos of
# Debian's `mate-backgrounds` and the photo wallpapers of `plasma-workspace-wallpapers`.
# Licences are copied next to the images (data/train/LICENSES/).
#
#   scripts/fetch-train-data.sh          data/train (what the paper's students train on)
#   scripts/fetch-train-data.sh --wide   data/train-wide: data/train plus 14 photos of Debian's
#                                        `opencv-doc` (street, buildings, plants, text, a dog…),
#                                        for the page's student (configs/student-srresnet-kd-wide.toml)
#
# Never taken: the pictures of the evaluation sets — data/eval (python3-skimage, opencv-doc's
# butterfly and baboon) and data/photos-lomiri (`lomiri-wallpapers`).
set -euo pipefail
cd "$(dirname "$0")/.."
wide=false
case "${1:-}" in
  "") ;;
  --wide) wide=true ;;
  *) echo "usage: scripts/fetch-train-data.sh [--wide]" >&2; exit 2 ;;
esac
out=data/train
mkdir -p "$out/LICENSES"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
if [ -n "$(find "$out" -maxdepth 1 -name '*.jpg' -o -maxdepth 1 -name '*.png' | head -1)" ]; then
  echo "$out already has images"
else
  (cd "$tmp" && apt-get download mate-backgrounds plasma-workspace-wallpapers >&2)
  for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$tmp/root"; done
  cp "$tmp"/root/usr/share/backgrounds/mate/nature/*.jpg "$out"/ 2>/dev/null || true
  # Plasma wallpapers: the largest JPEG of each (the PNGs are rendered artwork, not photos).
  for d in "$tmp"/root/usr/share/wallpapers/*/; do
    name=$(basename "$d")
    best=$(ls -S "$d"contents/images/*.jpg 2>/dev/null | head -1 || true)
    [ -n "$best" ] && cp "$best" "$out/plasma-$name.${best##*.}"
  done
  cp "$tmp/root/usr/share/doc/mate-backgrounds/copyright" "$out/LICENSES/mate-backgrounds.copyright"
  cp "$tmp/root/usr/share/doc/plasma-workspace-wallpapers/copyright" "$out/LICENSES/plasma-workspace-wallpapers.copyright"
  echo "$(find "$out" -maxdepth 1 -type f | wc -l) training images in $out"
fi
$wide || exit 0

wide_out=data/train-wide
if [ -n "$(find "$wide_out" -maxdepth 1 -name '*.jpg' -o -maxdepth 1 -name '*.png' 2>/dev/null | head -1)" ]; then
  echo "$wide_out already has images"; exit 0
fi
mkdir -p "$wide_out.part/LICENSES"
cp "$out"/*.jpg "$out"/*.png "$wide_out.part"/ 2>/dev/null || true
cp "$out"/LICENSES/* "$wide_out.part/LICENSES/"
(cd "$tmp" && apt-get download opencv-doc >&2)
dpkg-deb -x "$tmp"/opencv-doc_*.deb "$tmp/opencv"
examples="$tmp/opencv/usr/share/doc/opencv-doc/examples"
# Colour photographs only (no renderings, screenshots or grey frames), none of data/eval's.
for photo in alphamat/input_images/plant.jpg data/aloeL.jpg data/building.jpg data/fruits.jpg \
  data/leuvenA.jpg data/messi5.jpg data/rubberwhale1.png data/graf1.png reg/home.png \
  data/chicky_512.png data/squirrel_cls.jpg data/board.jpg data/ela_original.jpg text/scenetext01.jpg; do
  cp "$examples/$photo" "$wide_out.part/opencv-$(basename "$photo")"
done
cp "$tmp/opencv/usr/share/doc/opencv-doc/copyright" "$wide_out.part/LICENSES/opencv-doc.copyright"
rm -rf "$wide_out" && mv "$wide_out.part" "$wide_out"
echo "$(find "$wide_out" -maxdepth 1 -type f | wc -l) training images in $wide_out"
