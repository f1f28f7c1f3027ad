#!/usr/bin/env bash
# Start a throw-away PostgreSQL server for the tests (CI and developers) and print its URL.
# usage: scripts/pg-test-server.sh [DIR] [PORT]   (stop: pg_ctl -D DIR stop)
# PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user.
set -euo pipefail
dir=${1:-/tmp/animezipf-pg}
port=${2:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || bin=$(dirname "$(command -v initdb)")
as=()
if [ "$(id -u)" -eq 0 ]; then as=(su postgres -s /bin/sh -c); fi
run() { if [ ${#as[@]} -gt 0 ]; then "${as[@]}" "$*"; else sh -c "$*"; fi; }

if [ ! -f "$dir/PG_VERSION" ]; then
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
  run "$bin/initdb -D $dir -A trust -U animezipf >/dev/null"
fi
if ! run "$bin/pg_ctl -D $dir status >/dev/null 2>&1"; then
  run "$bin/pg_ctl -D $dir -w -o '-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off' -l $dir/log start >/dev/null"
fi
if ! psql -h 127.0.0.1 -p "$port" -U animezipf -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'animezipf_test'" | grep -q 1; then
  psql -h 127.0.0.1 -p "$port" -U animezipf -d postgres -qc "CREATE DATABASE animezipf_test"
fi
echo "postgres://animezipf@127.0.0.1:$port/animezipf_test"
