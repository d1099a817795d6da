#!/usr/bin/env bash
# P6 of docs/performance.md: `srkd bench serve` (50 concurrent raters × the study's items) on
# SQLite and on PostgreSQL (Debian's, started by scripts/postgres-for-tests.sh, a fresh
# database). scripts/bench.sh runs it as part of the whole report; run alone, it replaces just
# the P6 section. Loopback only; stops by itself (≈ 1 min).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/srkd-target}"
out=${1:-$CARGO_TARGET_DIR/bench/serve-$(date -u +%Y%m%dT%H%M%S)}
mkdir -p "$out"
cargo build --locked -q -p srkd
srkd="$CARGO_TARGET_DIR/debug/srkd"
# What the figures were measured on, and how busy the machine was (1-minute load average).
git describe --always --dirty > "$out/serve-commit"
cut -d' ' -f1 /proc/loadavg > "$out/serve-loadavg"
"$srkd" bench serve --raters "${RATERS:-50}" --json "$out/serve-sqlite.json" > /dev/null
admin_url=$(scripts/postgres-for-tests.sh)
db="srkd_bench_$(date -u +%Y%m%d%H%M%S)"
psql "$admin_url" -qc "CREATE DATABASE $db"
"$srkd" bench serve --raters "${RATERS:-50}" --db "${admin_url%/*}/$db" --json "$out/serve-postgres.json" > /dev/null
psql "$admin_url" -qc "DROP DATABASE $db"
if [ -z "${1:-}" ]; then
  python3 scripts/bench/peers.py p6 --dir "$out" --out docs/performance.md
fi
