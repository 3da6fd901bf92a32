#!/bin/sh
# First start: initdb into $PGDATA (superuser $POSTGRES_USER, password auth from anywhere when
# $POSTGRES_PASSWORD is set, trust otherwise), create $POSTGRES_DB. Then postgres is PID 1.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA" && chmod 700 "$PGDATA"
  if [ -n "${POSTGRES_PASSWORD:-}" ]; then
    pw=$(mktemp) && printf '%s\n' "$POSTGRES_PASSWORD" > "$pw"
    initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pw" -A scram-sha-256 --auth-local=trust -E UTF8 --locale=C.UTF-8 --no-instructions >/dev/null
    rm -f "$pw"; method=scram-sha-256
  else
    initdb -D "$PGDATA" -U "$POSTGRES_USER" -A trust -E UTF8 --locale=C.UTF-8 --no-instructions >/dev/null
    method=trust
  fi
  echo "host all all all $method" >> "$PGDATA/pg_hba.conf"
  if [ "$POSTGRES_DB" != postgres ]; then
    echo "CREATE DATABASE \"$POSTGRES_DB\"" | postgres --single -D "$PGDATA" -j postgres >/dev/null
  fi
  echo "postgres-entrypoint: initialized $PGDATA (database $POSTGRES_DB, auth $method)"
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql "$@"
