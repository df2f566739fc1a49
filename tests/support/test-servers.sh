#!/usr/bin/env bash
# Starts and stops the real servers the integration tests run against, on
# 127.0.0.1 ports of their own, in a state directory of their own:
#   - PostgreSQL 15 (Debian), as the postgres user (initdb refuses root);
#   - dynalite (npm: DynamoDB on LevelDB).
#
#   tests/support/test-servers.sh start STATE_DIR   prints export lines for the tests
#   tests/support/test-servers.sh stop STATE_DIR    stops whatever start started
#   tests/support/test-servers.sh restart-postgres|restart-dynalite STATE_DIR
#
# Ports: EVENTLOGGER_TEST_PG_PORT (default 55432), EVENTLOGGER_TEST_DYNAMO_PORT
# (default 58000).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
command="${1:?usage: test-servers.sh start|stop|restart-postgres|restart-dynalite STATE_DIR}"
state="${2:?state directory required}"
pg_port="${EVENTLOGGER_TEST_PG_PORT:-55432}"
dynamo_port="${EVENTLOGGER_TEST_DYNAMO_PORT:-58000}"
pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

wait_for_port() {  # host port seconds
  local deadline=$((SECONDS + $3))
  until (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then echo "timed out waiting for $1:$2" >&2; return 1; fi
    sleep 0.1
  done
}

start_postgres() {
  local data="$state/pg"
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$data"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$state" "$data"
    as_postgres "$pg_bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$state/initdb.log" 2>&1
  fi
  as_postgres "$pg_bin/pg_ctl" -D "$data" -l "$state/postgres.log" -w -t 60 \
    -o "-p $pg_port -k $state -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" start >/dev/null
  as_postgres "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'eventlogger'" | grep -q 1 ||
    as_postgres "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres eventlogger
}

stop_postgres() {
  [ -f "$state/pg/postmaster.pid" ] || return 0
  as_postgres "$pg_bin/pg_ctl" -D "$state/pg" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

start_dynalite() {
  if [ ! -x "$here/dynalite/node_modules/.bin/dynalite" ]; then
    (cd "$here/dynalite" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
  mkdir -p "$state/dynalite"
  nohup node "$here/dynalite/node_modules/dynalite/cli.js" --host 127.0.0.1 --port "$dynamo_port" \
    --path "$state/dynalite" --createTableMs 0 --deleteTableMs 0 --updateTableMs 0 \
    >"$state/dynalite.log" 2>&1 &
  echo $! >"$state/dynalite.pid"
  wait_for_port 127.0.0.1 "$dynamo_port" 30
}

stop_dynalite() {
  [ -f "$state/dynalite.pid" ] || return 0
  local pid; pid="$(cat "$state/dynalite.pid")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$state/dynalite.pid"
}

case "$command" in
  start)
    mkdir -p "$state"
    start_postgres
    start_dynalite
    echo "export EVENTLOGGER_TEST_SERVERS_DIR='$state'"
    echo "export EVENTLOGGER_TEST_POSTGRES_URL='postgresql://postgres@127.0.0.1:$pg_port/eventlogger'"
    echo "export EVENTLOGGER_TEST_DYNAMODB_ENDPOINT='http://127.0.0.1:$dynamo_port'"
    ;;
  stop) stop_dynalite; stop_postgres ;;
  restart-postgres) stop_postgres; start_postgres ;;
  restart-dynalite) stop_dynalite; start_dynalite ;;
  stop-postgres) stop_postgres ;;
  start-postgres) start_postgres ;;
  stop-dynalite) stop_dynalite ;;
  start-dynalite) start_dynalite ;;
  *) echo "unknown command: $command" >&2; exit 2 ;;
esac
