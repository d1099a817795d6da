#!/bin/sh
# trunk post_build hook: list what the service worker caches on install (precache.json) and
# stamp sw.js with a version derived from those files' contents, so each build that changes any
# of them replaces the old cache. Cached at install: the page, its wasm/js/css, the sample and
# the student models (≈ 1 MB each); the teachers (6 MB each) and the rating study are cached
# when first used.
set -eu
cd "$TRUNK_STAGING_DIR"
list=$(find . -type f | sed 's|^\./||' | grep -v -e '^sw\.js$' -e '^precache\.json$' -e '^index\.html$' \
  -e '^study/' -e '^weights/teacher-' -e '^weights/.*\.json$' | LC_ALL=C sort)
{
  printf '["./"'
  for f in $list; do printf ',\n"%s"' "$f"; done
  printf ']\n'
} > precache.json
# shellcheck disable=SC2086 # the list is file names without spaces, split on purpose
version=$(cat index.html $list | sha256sum | cut -c1-16)
sed -i "s/__PRECACHE_VERSION__/$version/" sw.js
