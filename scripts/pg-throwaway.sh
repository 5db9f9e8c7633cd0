# Sourced by scripts/test and scripts/bench: a private, throwaway PostgreSQL.
# pg_throwaway_start exports VERZET_TEST_DATABASE_URL (and PGBIN, PGSOCK);
# pg_throwaway_stop stops the cluster and removes its folder.

pg_bindir() {
  local d
  if command -v pg_config >/dev/null 2>&1; then
    d=$(pg_config --bindir 2>/dev/null || true)
    if [ -x "$d/initdb" ]; then echo "$d"; return; fi
  fi
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
  command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)"
}

pg_throwaway_start() {
  PGBIN=$(pg_bindir || true)
  if [ -z "$PGBIN" ]; then
    echo "scripts/test: no PostgreSQL server binaries (initdb, pg_ctl) found." >&2
    echo "  Install them (Debian/Ubuntu: apt-get update && apt-get install -y postgresql)," >&2
    echo "  or point VERZET_TEST_DATABASE_URL at a PostgreSQL you can create databases in." >&2
    exit 1
  fi
  PGTMP=$(mktemp -d /tmp/verzet-pg.XXXXXX)
  PGSOCK=$PGTMP
  local as=()
  if [ "$(id -u)" = 0 ]; then
    # initdb refuses to run as root: the cluster belongs to the postgres user.
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$PGTMP"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$PGBIN/initdb" -D "$PGTMP/data" -A trust -U postgres -E UTF8 --no-sync >"$PGTMP/initdb.log" 2>&1 ||
    { cat "$PGTMP/initdb.log" >&2; exit 1; }
  # fsync stays on: the benchmarks measure durable commits.
  "${as[@]}" "$PGBIN/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/server.log" -w -t 60 \
    -o "-k $PGTMP -c listen_addresses='' -c max_connections=200 -c shared_buffers=256MB" start >/dev/null ||
    { cat "$PGTMP/server.log" >&2; exit 1; }
  export PGBIN PGSOCK PGTMP
  export VERZET_TEST_DATABASE_URL="host=$PGTMP port=5432 user=postgres dbname=postgres sslmode=disable"
  echo "scripts: throwaway PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') at $PGTMP" >&2
}

pg_throwaway_stop() {
  if [ -n "${PGTMP:-}" ] && [ -d "$PGTMP/data" ]; then
    local as=()
    [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
    "${as[@]}" "$PGBIN/pg_ctl" -D "$PGTMP/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$PGTMP"
  fi
}
