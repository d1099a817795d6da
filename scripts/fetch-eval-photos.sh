#!/usr/bin/env bash
# Fetch an independent evaluation set of photos into data/photos-lomiri/ (not committed): the
# camera photos among Debian's `lomiri-wallpapers-16.04` and `-20.04` (never used for training;
# the rendered artwork in those packages is left out), each cut to its centre 768×768 by
# jpegtran's lossless crop — no resampling or re-encoding, so the pixels are the photographer's
# JPEG — at offsets on the 16-px block grid. Licences (CC0, CC-BY, CC-BY-SA) are copied beside.
#   srkd eval data/photos-lomiri --model weights/student-g2g-al.bpk --niqe
#   srkd reproduce … --eval-set embedded=data/eval --eval-set lomiri=data/photos-lomiri
set -euo pipefail
cd "$(dirname "$0")/.."
out=data/photos-lomiri
side=768
photos=(
  Bridge_by_Sander_Klootwijk Dragonfly_by_Bolly Kleiber_by_Lukas_Baubkus Picture_0B_by_freespace
  Picture_1A_by_freespace Wine_by_Jakkub_Mede aitzgorri_by_Aitzol_Berasategi analogpattern_by_Peter_Nerlich
  free_by_Peter_Nerlich friends_by_Aitzol_Berasategi greentock_by_Peter_Nerlich life_by_Aitzol_Berasategi
  picosdeeuropa_by_Aitzol_Berasategi seeding_by_Clements_Engelhardt sunset_by_Aitzol_Berasategi
)
if [ "$(find "$out" -maxdepth 1 -name '*.jpg' 2> /dev/null | wc -l)" -eq ${#photos[@]} ]; then
  echo "$out already has its ${#photos[@]} photos"; exit 0
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
debs=(lomiri-wallpapers-16.04 lomiri-wallpapers-20.04)
command -v jpegtran > /dev/null || debs+=(libjpeg-turbo-progs)
(cd "$tmp" && apt-get download "${debs[@]}" >&2)
for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$tmp/root"; done
jpegtran=$(command -v jpegtran || echo "$tmp/root/usr/bin/jpegtran")
staging="$out.part"
rm -rf "$staging"; mkdir -p "$staging/LICENSES"
for name in "${photos[@]}"; do
  src="$tmp/root/usr/share/backgrounds/$name.jpg"
  [ -f "$src" ] || { echo "$src: not in the packages (were they updated?)" >&2; exit 1; }
  # Width and height from the JPEG's frame header (SOF0/SOF2), via Python's struct.
  read -r w h < <(python3 - "$src" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
i = 2
while i < len(data):
    marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
    if marker in (0xC0, 0xC1, 0xC2):
        h, w = struct.unpack(">HH", data[i + 5:i + 9])
        print(w, h)
        break
    i += 2 + length
PY
)
  x=$(((w - side) / 2 / 16 * 16)); y=$(((h - side) / 2 / 16 * 16))
  "$jpegtran" -copy none -crop "${side}x${side}+${x}+${y}" -outfile "$staging/$name.jpg" "$src"
done
for pkg in lomiri-wallpapers-16.04 lomiri-wallpapers-20.04; do
  cp "$tmp/root/usr/share/doc/$pkg/copyright" "$staging/LICENSES/$pkg.copyright"
done
rm -rf "$out"; mv "$staging" "$out"
echo "${#photos[@]} photos (centre ${side}×${side}) in $out"
