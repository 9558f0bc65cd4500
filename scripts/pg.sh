#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and benchmarks, from Debian's `postgresql` package.
#
#   scripts/pg.sh start DIR   initdb in DIR (if new) and start the server on a free loopback
#                             port; prints the admin URL (postgres://verstak@127.0.0.1:PORT/postgres)
#   scripts/pg.sh stop DIR    stops it (DIR stays; remove it yourself)
#
# As root (CI), the server runs as the `postgres` user (`runuser`), since PostgreSQL refuses
# to run as root. Trust authentication on loopback only: never use this for real data.
set -euo pipefail

cmd=${1:?usage: scripts/pg.sh start|stop DIR}
dir=${2:?usage: scripts/pg.sh start|stop DIR}

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [[ -z "$bindir" ]]; then
  echo "==> installing PostgreSQL (Debian package postgresql)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi

as_pg() {
  if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    if [[ $(id -u) == 0 ]]; then chown postgres: "$dir"; fi
    if [[ ! -f "$dir/PG_VERSION" ]]; then
      as_pg "$bindir/initdb" -D "$dir" -U verstak --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    # Sockets in DIR (not /var/run/postgresql, which may not exist); fsync on as in production.
    as_pg "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300 -c fsync=on" start >/dev/null
    echo "postgres://verstak@127.0.0.1:$port/postgres"
    ;;
  stop)
    [[ -f "$dir/postmaster.pid" ]] && as_pg "$bindir/pg_ctl" -D "$dir" -m fast -w stop >/dev/null || true
    ;;
  *)
    echo "usage: scripts/pg.sh start|stop DIR" >&2
    exit 2
    ;;
esac
