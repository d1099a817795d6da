#!/usr/bin/env bash
# A PostgreSQL for the server tests (`srkd serve --db postgres://…`): Debian's postgresql,
# its default cluster started, a role `srkd_test` that may create databases (each test makes
# its own). Prints the URL of its maintenance database; needs root (CI is).
set -euo pipefail
# Only the URL goes to standard output (callers capture it): what the package tools print goes
# to standard error. (Not through a spare descriptor: the server would inherit it and keep the
# caller's $(…) open forever.)
start_cluster() {
  if ! command -v pg_ctlcluster > /dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql > /dev/null
  fi
  cluster=$(pg_lsclusters --no-header | head -1)
  if [ -z "$cluster" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -1)
    pg_createcluster "$version" main > /dev/null
    cluster=$(pg_lsclusters --no-header | head -1)
  fi
  read -r version name port status _ <<< "$cluster"
  [ "$status" = online ] || pg_ctlcluster "$version" "$name" start
  as_postgres() { su postgres -s /bin/sh -c "cd / && $*"; }
  ready=no
  for _ in $(seq 30); do
    as_postgres "psql -p $port -qtAc 'SELECT 1'" > /dev/null 2>&1 && { ready=yes; break; }
    sleep 1
  done
  [ "$ready" = yes ] || { echo "postgres-for-tests: cluster $version/$name on port $port does not answer" >&2; exit 1; }
  if [ "$(as_postgres "psql -p $port -qtAc \"SELECT 1 FROM pg_roles WHERE rolname = 'srkd_test'\"")" != 1 ]; then
    as_postgres "psql -p $port -qc \"CREATE ROLE srkd_test LOGIN CREATEDB PASSWORD 'srkd_test'\"" > /dev/null
  fi
}
start_cluster >&2
echo "postgres://srkd_test:srkd_test@127.0.0.1:$port/postgres"
