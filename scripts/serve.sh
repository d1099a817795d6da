#!/usr/bin/env bash
# Serve the page, its weights and the default rating study locally: builds the page if it is
# not built yet (scripts/build-web.sh), then `srkd serve` on http://127.0.0.1:8080/ with the
# answers in srkd-ratings.db and the admin token for /results in srkd-admin-token.
# Extra arguments go to `srkd serve` (e.g. --study runs/my-study --bind 127.0.0.1:9000).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/srkd-target}"
[ -f web/dist/index.html ] || scripts/build-web.sh
cargo build --locked -q -p srkd
exec "$CARGO_TARGET_DIR/debug/srkd" serve --admin-token-file srkd-admin-token "$@"
