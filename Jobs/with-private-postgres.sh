#!/usr/bin/env bash
# Runs a command against a private, throwaway PostgreSQL cluster: initdb in a
# fresh directory under /tmp, a free port on 127.0.0.1, fsync off. Exports
# BALLAST_DATABASE_URL for the command, then stops the server and deletes the
# directory when the command ends, fails or is interrupted.
#
#   Jobs/with-private-postgres.sh swift test --skip-build
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 64; }

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$pgbin/initdb" ] || { echo "ballast: PostgreSQL server binaries not found (install postgresql)" >&2; exit 69; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

dir=$(mktemp -d /tmp/ballast-pg.XXXXXX)
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
chmod 700 "$dir"

stop() {
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$pgbin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

as_owner "$pgbin/initdb" -D "$dir/data" -U ballast -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }

for attempt in 1 2 3; do
  port=$(free_port)
  if as_owner "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -o \
      "-k $dir -c listen_addresses=127.0.0.1 -p $port -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=256MB" \
      start >/dev/null; then
    started=1
    break
  fi
done
[ "${started:-0}" = 1 ] || { cat "$dir/server.log" >&2; exit 1; }

"$pgbin/psql" -q -h 127.0.0.1 -p "$port" -U ballast -d postgres -c "CREATE DATABASE ballast" >/dev/null
export BALLAST_DATABASE_URL="postgresql://ballast@127.0.0.1:$port/ballast"
export BALLAST_PRIVATE_PG_LOG="$dir/server.log"
echo "ballast: private PostgreSQL on 127.0.0.1:$port (data in $dir, removed on exit)" >&2

set +e
"$@"
status=$?
set -e
exit $status
