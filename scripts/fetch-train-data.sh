#!/usr/bin/env bash
# Fetch the default training set into data/train/ (not committed): the nature photos of
# Debian's `mate-backgrounds` and the photo wallpapers of `plasma-workspace-wallpapers`.
# Licences are copied next to the images (data/train/LICENSES/).
set -euo pipefail
cd "$(dirname "$0")/.."
out=data/train
mkdir -p "$out/LICENSES"
if [ -n "$(find "$out" -maxdepth 1 -name '*.jpg' -o -maxdepth 1 -name '*.png' | head -1)" ]; then
  echo "$out already has images"; exit 0
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
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
