#!/usr/bin/env bash
# Starts and stops the real servers the integration tests run against, on
# 127.0.0.1 ports of their own, in a state directory of their own:
#   - PostgreSQL 15 (Debian), as the postgres user (initdb refuses root);
#   - dynalite (npm: DynamoDB on LevelDB);
#   - sqslite (npm: SQS's query protocol, in memory).
#
#   tests/support/test-servers.sh start STATE_DIR   prints export lines for the tests
#   tests/support/test-servers.sh stop STATE_DIR    stops whatever start started
#   tests/support/test-servers.sh restart-postgres|restart-dynalite STATE_DIR
#   tests/support/test-servers.sh stop-X|start-X STATE_DIR  (X: postgres, dynalite, sqslite)
#
# Ports: `start` takes the first free port from EVENTLOGGER_TEST_PG_PORT (default
# 25432), EVENTLOGGER_TEST_DYNAMO_PORT (default 25800) and EVENTLOGGER_TEST_SQS_PORT
# (default 25900) up, and records them in
# STATE_DIR; every later command on that STATE_DIR reuses them. The defaults sit
# below Linux's ephemeral range (32768-60999), where a client connection's local
# port can never take them between two test runs.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
command="${1:?usage: test-servers.sh start|stop|restart-postgres|restart-dynalite STATE_DIR}"
state="${2:?state directory required}"
ports_file="$state/ports"
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

port_is_free() {  # port: nothing listens on it (IPv4 loopback)
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

first_free_port() {  # port: prints it or the next free one within 100
  local port="$1"
  for _ in $(seq 100); do
    if port_is_free "$port"; then echo "$port"; return 0; fi
    port=$((port + 1))
  done
  echo "no free port in $1-$port" >&2
  return 1
}

choose_ports() {
  pg_port="$(first_free_port "${EVENTLOGGER_TEST_PG_PORT:-25432}")"
  dynamo_port="$(first_free_port "${EVENTLOGGER_TEST_DYNAMO_PORT:-25800}")"
  if [ "$dynamo_port" = "$pg_port" ]; then dynamo_port="$(first_free_port $((pg_port + 1)))"; fi
  sqs_port="$(first_free_port "${EVENTLOGGER_TEST_SQS_PORT:-25900}")"
  printf 'pg_port=%s\ndynamo_port=%s\nsqs_port=%s\n' "$pg_port" "$dynamo_port" "$sqs_port" >"$ports_file"
}

load_ports() {  # the ports `start` chose; an explicit environment variable wins
  if [ -f "$ports_file" ]; then
    # shellcheck source=/dev/null
    . "$ports_file"
  fi
  pg_port="${EVENTLOGGER_TEST_PG_PORT:-${pg_port:-25432}}"
  dynamo_port="${EVENTLOGGER_TEST_DYNAMO_PORT:-${dynamo_port:-25800}}"
  sqs_port="${EVENTLOGGER_TEST_SQS_PORT:-${sqs_port:-25900}}"
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

# sqslite names queues http://localhost:PORT/queues/NAME and only knows
# queues by URLs of that form; it listens on 127.0.0.1 alone.
start_sqslite() {
  if [ ! -f "$here/sqslite/node_modules/sqslite/bin/cli.js" ]; then
    (cd "$here/sqslite" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
  nohup node "$here/sqslite/node_modules/sqslite/bin/cli.js" --host 127.0.0.1 --port "$sqs_port" \
    >"$state/sqslite.log" 2>&1 &
  echo $! >"$state/sqslite.pid"
  wait_for_port 127.0.0.1 "$sqs_port" 30
}

stop_sqslite() {
  [ -f "$state/sqslite.pid" ] || return 0
  local pid; pid="$(cat "$state/sqslite.pid")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$state/sqslite.pid"
}

case "$command" in
  start)
    mkdir -p "$state"
    if [ -f "$ports_file" ]; then load_ports; else choose_ports; fi
    start_postgres
    start_dynalite
    start_sqslite
    echo "export EVENTLOGGER_TEST_SERVERS_DIR='$state'"
    echo "export EVENTLOGGER_TEST_POSTGRES_URL='postgresql://postgres@127.0.0.1:$pg_port/eventlogger'"
    echo "export EVENTLOGGER_TEST_DYNAMODB_ENDPOINT='http://127.0.0.1:$dynamo_port'"
    echo "export EVENTLOGGER_TEST_SQS_ENDPOINT='http://localhost:$sqs_port'"
    ;;
  stop) load_ports; stop_sqslite; stop_dynalite; stop_postgres ;;
  restart-postgres) load_ports; stop_postgres; start_postgres ;;
  restart-dynalite) load_ports; stop_dynalite; start_dynalite ;;
  stop-postgres) load_ports; stop_postgres ;;
  start-postgres) load_ports; start_postgres ;;
  stop-dynalite) load_ports; stop_dynalite ;;
  start-dynalite) load_ports; start_dynalite ;;
  stop-sqslite) load_ports; stop_sqslite ;;
  start-sqslite) load_ports; start_sqslite ;;
  *) echo "unknown command: $command" >&2; exit 2 ;;
esac
