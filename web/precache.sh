#!/bin/sh
# trunk post_build hook, in the staging dir:
#  0. write the page's default model (web/build.rs's order) into index.html's preload
#     (__DEFAULT_MODEL__), and store the models as byte planes (below);
#  1. name the page's build (srkd-web; trunk leaves it unhashed since it is built as a "worker")
#     by its content, as trunk does for its own files, and write that name into index.html's
#     preloads and loader (__BUILD__), so a host's HTTP cache never serves a stale build;
#  2. list what the service worker caches on install (precache.json): the shell (the page, its
#     css, the sample, the student models, ≈ 1 MB each) plus the build's js and wasm (listed
#     under its name: sw.js?build=NAME). The teachers (6 MB each) and the rating study are cached
#     when first used;
#  3. stamp sw.js with a version derived from all those files' contents, so each build that
#     changes any of them replaces the old cache.
set -eu
# The default model: web/build.rs orders the shipped ones by its KNOWN list, then by name.
known=$(sed -n 's/^    ("\([a-z0-9-]*\)", ".*/\1/p' build.rs)
cd "$TRUNK_STAGING_DIR"
default_model=
for m in $known $(ls weights | sed -n 's/\.bpk$//p' | LC_ALL=C sort); do
  if [ -f "weights/$m.bpk" ]; then default_model=$m; break; fi
done
# 0. The generators travel as byte planes (srkd_core::weights::to_byte_planes; the page reads
#    NAME.bpk.planes in place of NAME.bpk): ≈ 8 % less to download, gzip or brotli.
python3 - weights/*.bpk <<'PY'
import os, struct, sys
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    whole = len(data) // 4 * 4
    planes = b"".join(data[k:whole:4] for k in range(4)) + data[whole:]
    open(path + ".planes", "wb").write(b"srkdBP4\0" + struct.pack("<Q", len(data)) + planes)
    os.remove(path)
PY
name=srkd-web
hash=$(cat "$name.js" "${name}_bg.wasm" | sha256sum | cut -c1-16)
build=$name-$hash
mv "$name.js" "$build.js"
mv "${name}_bg.wasm" "${build}_bg.wasm"
sed -i "s/__BUILD__/$build/g; s/__DEFAULT_MODEL__/$default_model/g" index.html
shell=$(find . -type f | sed 's|^\./||' | grep -v -e '^sw\.js$' -e '^precache\.json$' -e '^index\.html$' \
  -e '^study/' -e '^weights/teacher-' -e '^weights/.*\.json$' -e '^srkd-web-' | LC_ALL=C sort)
{
  printf '{"shell": ["./"'
  for f in $shell; do printf ',\n"%s"' "$f"; done
  printf '],\n"builds": {\n"%s": ["%s.js", "%s_bg.wasm"]}}\n' "$build" "$build" "$build"
} > precache.json
# shellcheck disable=SC2086 # the list is file names without spaces, split on purpose
version=$(cat index.html $shell srkd-web-* | sha256sum | cut -c1-16)
sed -i "s/__PRECACHE_VERSION__/$version/" sw.js
