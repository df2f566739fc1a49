#!/usr/bin/env bash
# Reproducible load benchmark for eventlogger, with an nginx ceiling in the same run.
#
#   bench/run.sh [options]
#
# Builds the release binary (EVENTLOGGER_BUILD_TESTS=OFF scripts/build.sh release), installs
# wrk and nginx (scripts/install-deps.sh --bench), then for each backend starts
# `eventlogger serve` on 127.0.0.1 with a fresh temporary data dir and --access-log false,
# drives it with wrk (Lua scripts in bench/wrk/), and measures nginx answering the same
# request paths with bodies of the same sizes: the "ceiling". Prints one table and writes
# it as JSON to bench/results/latest.json. Everything it starts is stopped at the end,
# also on failure or Ctrl-C.
#
# Scenarios (all at --connections 64, --threads 2 by default):
#   post-150b    POST /events, ~150-byte jsonDetails, random users among 10,000
#   post-1k      POST /events, 1 KiB jsonDetails
#   post-16k     POST /events, 16 KiB jsonDetails
#   get-hot      GET /events/{userId} of one user pre-loaded with 100 events
#   get-cold     GET /events/{userId} of random users among 10,000 (pre-loaded first:
#                one 150-byte event per user, by a POST run not reported in the table)
#   mixed-90-10  90% get-cold reads, 10% post-150b writes
#   batch-100x150b  POST /events/batch, 100 post-150b events per request; reported also as
#                events/s against post-150b's (no nginx ceiling: its answers hold one result
#                per event, more than an nginx config can return)
# Backends:
#   embedded     SQLite + RocksDB (the default stores)
#   pg-dynalite  PostgreSQL + dynalite (DynamoDB) from tests/support/test-servers.sh, on
#                ports 27900/28900; reported as "unavailable" when migrate or serve fails
#   nginx        the ceiling (worker_processes 2, access_log off)
#
# Options:
#   --duration S          seconds per scenario run (default 10)
#   --quick               smoke run: 3 s per scenario, shorter pre-load, 3 cold starts
#   --scenarios LIST      comma-separated subset of the scenarios above (default: all)
#   --connections N       wrk connections (default 64)
#   --threads N           wrk threads (default 2)
#   --postgres-dynalite   also run against PostgreSQL + dynalite (the default is to try,
#                         and to report "unavailable" if the test servers do not start)
#   --embedded-only       do not try PostgreSQL + dynalite
#   --no-ceiling          skip the nginx runs (ratios are then empty)
#   --runs N              runs per scenario on the embedded stores, alternating with as many
#                         nginx runs; each row is its best run (default 2; --ceiling-runs is
#                         the older name)
#   --cold-starts N       cold-start measurements per data dir (default 5; 0 skips them)
#   --soak S              also run post-150b on the embedded stores for S seconds (e.g. 300),
#                         sampling the service's RSS every 5 s: the memory-growth check
#   --no-build            use the existing binary instead of building it
#   --binary PATH         benchmark this eventlogger binary (implies --no-build)
#   --serve-args "ARGS"   extra flags for `eventlogger serve` (e.g. "--io-threads 1")
#   --api-key             create an API key in the embedded data dir before serving, so every
#                         request is authenticated, and send it with each request (also to
#                         nginx, so the ceiling sees the same bytes): the cost of authentication
#   --tls                 serve HTTPS (--tls-cert/--tls-key with a P-256 certificate made for the
#                         run), and nginx too with the same certificate: the cost of TLS on
#                         keep-alive connections. Skips the cold starts (they speak plain HTTP)
#   --server-cpus LIST    run the servers (eventlogger, nginx, PostgreSQL and dynalite) on these
#                         CPUs only (taskset -c syntax, e.g. 0-3); with --client-cpus, the way to
#                         measure with the load generator on cores of its own (needs a machine
#                         with enough CPUs for both)
#   --client-cpus LIST    run wrk on these CPUs only
#   --no-perf             do not count fsync calls with `perf stat` (done when perf works)
#   --wait-idle S         before each run, wait up to S seconds for the machine to be
#                         mostly idle (other processes using < 30% of the CPUs)
#   --out FILE            JSON results (default bench/results/latest.json)
#   --keep                keep the temporary directory (logs, data, wrk outputs)
#   -h, --help            this text
#
# Exit status: 0 when every run completed (whatever the numbers: this is a report, not a
# pass/fail timing test); 1 when something broke (the embedded service failed to start or
# died, a run got mostly non-2xx answers or socket errors, the build failed); 2 on a usage
# error or a missing tool.
set -Eeuo pipefail
export LC_ALL=C  # '.' decimals from awk, one sort order for sort and join

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cd "$root"

ALL_SCENARIOS=(post-150b post-1k post-16k get-hot get-cold mixed-90-10 batch-100x150b)
DURATION=10
DURATION_SET=0
QUICK=0
CONNECTIONS=64
THREADS=2
SCENARIOS=("${ALL_SCENARIOS[@]}")
PG_DYNALITE=auto
CEILING=1
RUNS=2
COLD_STARTS=5
COLD_STARTS_SET=0
BUILD=1
BIN="$root/build/release/eventlogger"
SERVE_ARGS=()
API_KEY=0
AUTH_CURL=()
TLS=0
SCHEME=http
CURL_TLS=()
NGX_TLS=""

PERF=auto
WAIT_IDLE=0
OUT="$root/bench/results/latest.json"
KEEP=0
USERS=10000
HOT_EVENTS=100
SOAK=0
PG_PORT=27900
DYNAMO_PORT=28900

usage() { sed -n '2,/^set -Eeuo/p' "$here/run.sh" | sed -e '$d' -e 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION="${2:?--duration needs seconds}"; DURATION_SET=1; shift ;;
    --quick) QUICK=1 ;;
    --scenarios) IFS=',' read -r -a SCENARIOS <<<"${2:?--scenarios needs a list}"; shift ;;
    --connections) CONNECTIONS="${2:?}"; shift ;;
    --threads) THREADS="${2:?}"; shift ;;
    --postgres-dynalite) PG_DYNALITE=on ;;
    --embedded-only|--no-postgres-dynalite) PG_DYNALITE=off ;;
    --no-ceiling) CEILING=0 ;;
    --runs|--ceiling-runs) RUNS="${2:?$1 needs a count}"; shift ;;
    --soak) SOAK="${2:?--soak needs seconds}"; shift ;;
    --cold-starts) COLD_STARTS="${2:?}"; COLD_STARTS_SET=1; shift ;;
    --no-build) BUILD=0 ;;
    --binary) BIN="$(cd "$(dirname "${2:?}")" && pwd)/$(basename "$2")"; BUILD=0; shift ;;
    --serve-args) read -r -a SERVE_ARGS <<<"${2:-}"; shift ;;
    --api-key) API_KEY=1 ;;
    --tls) TLS=1 ;;
    --server-cpus) SERVER_CPUS="${2:?--server-cpus needs a CPU list}"; shift ;;
    --client-cpus) CLIENT_CPUS="${2:?--client-cpus needs a CPU list}"; shift ;;
    --no-perf) PERF=off ;;
    --wait-idle) WAIT_IDLE="${2:?}"; shift ;;
    --out) OUT="${2:?}"; shift ;;
    --keep) KEEP=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench/run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$QUICK" = 1 ]; then
  [ "$DURATION_SET" = 1 ] || DURATION=3
  [ "$COLD_STARTS_SET" = 1 ] || COLD_STARTS=3
fi
for n in "$DURATION" "$CONNECTIONS" "$THREADS" "$COLD_STARTS" "$WAIT_IDLE" "$SOAK" "$RUNS"; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "bench/run.sh: '$n' is not a whole number" >&2; exit 2; }
done
[ "$DURATION" -ge 1 ] || { echo "bench/run.sh: --duration must be at least 1" >&2; exit 2; }
[ "$RUNS" -ge 1 ] || { echo "bench/run.sh: --runs must be at least 1" >&2; exit 2; }
for s in "${SCENARIOS[@]}"; do
  [[ " ${ALL_SCENARIOS[*]} " == *" $s "* ]] || {
    echo "bench/run.sh: unknown scenario '$s' (known: ${ALL_SCENARIOS[*]})" >&2; exit 2; }
done
# CPU pinning: a command prefix, empty when not asked for.
check_cpus() {  # option cpu-list
  command -v taskset >/dev/null 2>&1 || { echo "bench/run.sh: $1 needs taskset (util-linux)" >&2; exit 2; }
  taskset -c "$2" true 2>/dev/null || { echo "bench/run.sh: $1 '$2' is not a usable CPU list here" >&2; exit 2; }
}
SERVER_PIN=()
CLIENT_PIN=()
[ -z "${SERVER_CPUS:-}" ] || { check_cpus --server-cpus "$SERVER_CPUS"; SERVER_PIN=(taskset -c "$SERVER_CPUS"); }
[ -z "${CLIENT_CPUS:-}" ] || { check_cpus --client-cpus "$CLIENT_CPUS"; CLIENT_PIN=(taskset -c "$CLIENT_CPUS"); }
# The cold pre-load is bounded by time as well as by count.
PRELOAD_SECONDS=$(( QUICK == 1 ? 5 : 20 ))

say() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
has_scenario() { [[ " ${SCENARIOS[*]} " == *" $1 "* ]]; }

# --- tools and binary -------------------------------------------------------------------------

FAILED=0          # something broke: exit 1
FAILURES=()       # what broke, for the summary
fail() { FAILED=1; FAILURES+=("$*"); say "FAILED: $*"; }

if ! "$root/scripts/install-deps.sh" --bench; then
  say "scripts/install-deps.sh --bench failed; continuing with what is installed"
fi
for tool in wrk nginx curl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench/run.sh: '$tool' is missing (scripts/install-deps.sh --bench installs it)" >&2; exit 2; }
done
NGINX="$(command -v nginx)"
if [ "$PERF" = auto ]; then
  if command -v perf >/dev/null 2>&1 &&
     perf stat -e syscalls:sys_enter_fdatasync -x, -o /dev/null true >/dev/null 2>&1; then
    PERF=on
  else
    PERF=off
  fi
fi

if [ "$BUILD" = 1 ]; then
  say "building the release binary (EVENTLOGGER_BUILD_TESTS=OFF scripts/build.sh release)"
  build_log="$(mktemp "${TMPDIR:-/tmp}/eventlogger-bench-build.XXXXXX")"
  if ! EVENTLOGGER_BUILD_TESTS=OFF "$root/scripts/build.sh" release >"$build_log" 2>&1; then
    tail -n 40 "$build_log" >&2
    echo "bench/run.sh: the build failed (log: $build_log); --no-build benchmarks the existing binary" >&2
    exit 1
  fi
  rm -f "$build_log"
fi
[ -x "$BIN" ] || { echo "bench/run.sh: no binary at $BIN" >&2; exit 2; }

# --- temporary directory and cleanup -----------------------------------------------------------

TMP="$(mktemp -d "${TMPDIR:-/tmp}/eventlogger-bench.XXXXXX")"
chmod 755 "$TMP"  # PostgreSQL runs as the postgres user and must reach its state dir
declare -A LIVE=()          # pid -> what, for everything started and not yet stopped

# Every request the script makes goes through curl (wrk aside): over TLS it
# trusts the run's certificate and nothing else.
curl() { command curl "${CURL_TLS[@]+"${CURL_TLS[@]}"}" "$@"; }
if [ "$TLS" -eq 1 ]; then
  mkdir -p "$TMP/tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=eventlogger-bench \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$TMP/tls/key.pem" -out "$TMP/tls/cert.pem" 2>/dev/null ||
    { echo "bench/run.sh: openssl could not make a certificate" >&2; exit 2; }
  chmod a+r "$TMP/tls"/*.pem  # nginx's workers read them as another user
  SCHEME=https
  CURL_TLS=(--cacert "$TMP/tls/cert.pem")
  SERVE_ARGS+=(--tls-cert "$TMP/tls/cert.pem" --tls-key "$TMP/tls/key.pem")
  NGX_TLS="ssl; ssl_certificate $TMP/tls/cert.pem; ssl_certificate_key $TMP/tls/key.pem; ssl_protocols TLSv1.2 TLSv1.3"
  COLD_STARTS=0
fi
TEST_SERVERS_STATE=""

stop_pid() {  # pid [seconds]: SIGTERM, then SIGKILL after the grace; returns the exit status
  local pid="$1" grace="${2:-20}" i status=0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      say "pid $pid (${LIVE[$pid]:-?}) did not stop in ${grace}s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || status=$?
  unset "LIVE[$pid]"
  return "$status"
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  local pid
  for pid in "${!LIVE[@]}"; do stop_pid "$pid" 10 || true; done
  if [ -n "$TEST_SERVERS_STATE" ]; then
    "$root/tests/support/test-servers.sh" stop "$TEST_SERVERS_STATE" >/dev/null 2>&1 || true
  fi
  if [ "$KEEP" = 1 ]; then
    say "kept $TMP"
  else
    rm -rf "$TMP"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

# --- measurements ------------------------------------------------------------------------------

CLK_TCK="$(getconf CLK_TCK)"
NCPU="$(nproc)"

ticks() {  # pids...: utime+stime of the processes (all their threads), in clock ticks
  local total=0 pid rest
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] || continue
    rest="$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null)" || continue
    set -- $rest
    total=$(( total + ${12} + ${13} ))
  done
  echo "$total"
}

child_ticks() {  # cutime+cstime of this shell: every child waited for so far (wrk's CPU)
  local rest
  rest="$(sed 's/^.*) //' "/proc/$$/stat")"
  set -- $rest
  echo $(( ${14} + ${15} ))
}

machine_busy_ticks() {  # all CPUs, all processes: non-idle ticks since boot
  local _ user nice system _idle _iowait irq softirq steal
  read -r _ user nice system _idle _iowait irq softirq steal _ </proc/stat
  echo $(( user + nice + system + irq + softirq + steal ))
}

hwm_kib() {  # pids...: sum of VmHWM (peak resident set) in KiB
  local total=0 pid value
  for pid in "$@"; do
    value="$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null)" || true
    total=$(( total + ${value:-0} ))
  done
  echo "$total"
}

reset_hwm() {  # pids...: restart the VmHWM count (Linux 4.0+), so each run reports its own peak
  local pid
  for pid in "$@"; do echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || true; done
}

# pid: "name cpu-ticks wait-µs" per thread name (threads of one name summed); wait-µs is the
# time the threads were ready to run but waited for a CPU (schedstat).
thread_counters() {
  local task wait
  for task in /proc/"$1"/task/*; do
    [ -r "$task/stat" ] || continue
    wait="$(awk '{printf "%d", $2 / 1000}' "$task/schedstat" 2>/dev/null)" || true
    printf '%s %s %s\n' "$(tr ' ' '_' <"$task/comm" 2>/dev/null)" \
      "$(sed 's/^.*) //' "$task/stat" 2>/dev/null | awk '{print $12 + $13}')" "${wait:-0}"
  done | awk '{t[$1] += $2; w[$1] += $3} END {for (n in t) print n, t[n], w[n]}' | sort
}

# before-file after-file column divisor minimum: JSON members "name":growth/divisor for one
# column of two thread_counters snapshots, for the threads that grew by at least `minimum`.
thread_growth() {
  join -a2 -e0 -o "0,1.$3,2.$3" "$1" "$2" |
    awk -v d="$4" -v m="$5" '$3 - $2 >= m {printf "%s\"%s\":%.2f", sep, $1, ($3 - $2) / d; sep = ","}'
}

descendants() {  # pid: the pid and every descendant
  local pid="$1" child
  echo "$pid"
  for child in $(pgrep -P "$pid" 2>/dev/null); do descendants "$child"; done
}

busy_percent() {  # machine-wide non-idle share over 1 s, in percent
  local a b
  a="$(machine_busy_ticks)"; sleep 1; b="$(machine_busy_ticks)"
  echo $(( (b - a) * 100 / (CLK_TCK * NCPU) ))
}

wait_for_idle() {
  [ "$WAIT_IDLE" -gt 0 ] || return 0
  local deadline=$((SECONDS + WAIT_IDLE)) busy
  while :; do
    busy="$(busy_percent)"
    [ "$busy" -lt 30 ] && return 0
    if [ $SECONDS -ge "$deadline" ]; then
      say "machine still ${busy}% busy after ${WAIT_IDLE}s; measuring anyway"
      return 0
    fi
    say "machine ${busy}% busy (other work); waiting"
    sleep 4
  done
}

# A port is taken if anything listens there or any socket is bound to it: a
# client connection's local port blocks a listener too.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
  [ -n "$(ss -Htan "sport = :$1" 2>/dev/null)" ]
}
# Below the kernel's ephemeral range (32768-60999 by default), where wrk's and
# nginx's client connections take their local ports.
NEXT_PORT=28080
free_port() {  # prints a free port (from 28080 up)
  while port_in_use "$NEXT_PORT"; do NEXT_PORT=$((NEXT_PORT + 1)); done
  echo "$NEXT_PORT"
  NEXT_PORT=$((NEXT_PORT + 1))
}

# --- eventlogger -------------------------------------------------------------------------------

# The service reads EVENTLOGGER_* variables as flags: start it without any from this shell.
CLEAN_ENV=()
for v in $(compgen -e); do
  case "$v" in EVENTLOGGER_*|AWS_*) CLEAN_ENV+=(-u "$v") ;; esac
done
AWS_ENV=(AWS_ACCESS_KEY_ID=bench-dummy AWS_SECRET_ACCESS_KEY=bench-dummy AWS_REGION=us-east-1
         AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_CONFIG_FILE=/dev/null)

SVC_PID=""
SVC_PORT=""
start_service() {  # label data-dir [flags...]: starts serve, waits for /healthz; 1 if it failed
  local label="$1" dir="$2" deadline code
  shift 2
  SVC_PORT="$(free_port)"
  mkdir -p "$dir"
  env "${CLEAN_ENV[@]}" "${AWS_ENV[@]}" "${SERVER_PIN[@]+"${SERVER_PIN[@]}"}" "$BIN" serve --listen "127.0.0.1:$SVC_PORT" --data-dir "$dir" \
    --access-log false "${SERVE_ARGS[@]}" "$@" >"$TMP/serve-$label.log" 2>&1 &
  SVC_PID=$!
  LIVE[$SVC_PID]="eventlogger serve ($label)"
  deadline=$((SECONDS + 60))
  while :; do
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$SCHEME://127.0.0.1:$SVC_PORT/healthz" || true)"
    [ "$code" = 200 ] && return 0
    if ! kill -0 "$SVC_PID" 2>/dev/null; then
      wait "$SVC_PID" 2>/dev/null && code=0 || code=$?
      unset "LIVE[$SVC_PID]"
      say "eventlogger serve ($label) exited with status $code:"
      tail -n 5 "$TMP/serve-$label.log" | sed 's/^/    /' >&2
      return 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      say "eventlogger serve ($label) did not answer /healthz within 60 s"
      stop_pid "$SVC_PID" 5 || true
      return 1
    fi
    sleep 0.1
  done
}

# --- nginx (the ceiling) -----------------------------------------------------------------------

NGX_PID=""
NGX_PORT=""
start_nginx() {  # post-body-file get-body-file: serves them on every /events path
  local post_body="$1" get_body="$2" dir="$TMP/nginx" code i
  NGX_PORT="$(free_port)"
  rm -rf "$dir"
  mkdir -p "$dir/www" "$dir/tmp"
  cp "$get_body" "$dir/www/get-body.json"
  chmod -R a+rX "$dir"
  # return's text is limited by nginx's 4 KiB config buffer; POST answers are far smaller.
  cat >"$dir/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  server_tokens off;
  keepalive_requests 1000000000;
  keepalive_timeout 300s;
  sendfile on;
  tcp_nodelay on;
  open_file_cache max=16 inactive=600s;
  open_file_cache_valid 600s;
  client_max_body_size 1m;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  server {
    listen 127.0.0.1:$NGX_PORT $NGX_TLS;
    root $dir/www;
    add_header X-Request-Id 5f0c2a9e1b7d43aa0001 always;
    location = /events {
      default_type application/json;
      add_header Location /events/user-00000/01938c4e-7f10-7a3b-9c1d-2b6f0e8a4d21 always;
      return 201 '$(cat "$post_body")';
    }
    location /events/ {
      default_type application/json;
      try_files /get-body.json =404;
    }
    location = /healthz { default_type application/json; return 200 '{"status":"ok"}'; }
  }
}
EOF
  "${SERVER_PIN[@]+"${SERVER_PIN[@]}"}" "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/stdout.log" 2>&1 &
  NGX_PID=$!
  LIVE[$NGX_PID]="nginx"
  for ((i = 0; i < 100; i++)); do
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$SCHEME://127.0.0.1:$NGX_PORT/healthz" || true)"
    [ "$code" = 200 ] && return 0
    kill -0 "$NGX_PID" 2>/dev/null || break
    sleep 0.1
  done
  say "nginx did not start:"; cat "$dir/error.log" "$dir/stdout.log" >&2 || true
  stop_pid "$NGX_PID" 5 || true
  return 1
}

nginx_pids() { descendants "$NGX_PID"; }

# --- one wrk run -------------------------------------------------------------------------------

declare -A R=()   # results: R[row,field]
ROWS=()           # row keys ("scenario|backend"), in order

row_set() {  # row field value
  R["$1,$2"]="$3"
}
row_add() {  # scenario backend status note
  local key="$1|$2"
  [[ " ${ROWS[*]-} " == *" $key "* ]] || ROWS+=("$key")
  row_set "$key" scenario "$1"
  row_set "$key" backend "$2"
  row_set "$key" status "$3"
  row_set "$key" note "${4:-}"
}

# The service's group-commit counters from /metrics: "appends events seconds", or nothing
# (nginx, or a service that does not answer).
group_commit_counters() {  # base-url
  curl -s --max-time 5 "$1/metrics" 2>/dev/null | awk '
    $1 == "eventlogger_intent_log_appends_total" {a = $2}
    $1 == "eventlogger_intent_log_appended_events_total" {e = $2}
    $1 == "eventlogger_intent_log_append_seconds_total" {s = $2}
    END {if (a != "" && e != "" && s != "") print a, e, s}'
}

# wrk_run row script url "server pids" thread-pid "store pids" [VAR=value...]
# Runs wrk for DURATION seconds and records the row's numbers. Returns 1 if the server died.
wrk_run() {
  local key="$1" script="$2" url="$3" pids="$4" tpid="$5" spids="$6"
  shift 6
  local safe="${key//[^A-Za-z0-9]/_}"
  local out="$TMP/wrk-$safe.out" log="$TMP/wrk-$safe.log" perf_out="$TMP/perf-$safe.csv"
  local cpu0 cpu1 st0 st1 m0 m1 w0 w1 load1 appends events append_ms rc=0 perf_pid="" sampler_pid="" seconds_to_run="${RUN_SECONDS:-$DURATION}"
  wait_for_idle
  # shellcheck disable=SC2086
  reset_hwm $pids
  # shellcheck disable=SC2086
  cpu0="$(ticks $pids)"; st0="$(ticks $spids)"
  m0="$(machine_busy_ticks)"; w0="$(child_ticks)"
  load1="$(cut -d' ' -f1 /proc/loadavg)"
  [ -n "$tpid" ] && thread_counters "$tpid" >"$TMP/threads-$safe.0"
  local commits0="" commits1=""
  [ -n "$tpid" ] && commits0="$(group_commit_counters "$url")"
  # fsync counting (writes only): a syscall tracepoint slows every syscall of the process a little.
  if [ "$PERF" = on ] && [ -n "$tpid" ] && [[ "$key" == post-* || "$key" == mixed-* ]]; then
    perf stat -e syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync --per-thread \
      -p "$tpid" -x, -o "$perf_out" >/dev/null 2>&1 &
    perf_pid=$!
    LIVE[$perf_pid]="perf stat"
  fi
  if [ -n "${RSS_SAMPLES:-}" ] && [ -n "$tpid" ]; then
    # seconds-since-start and VmRSS (KiB) every 5 s, for the memory-growth check
    (t=0; while kill -0 "$tpid" 2>/dev/null; do
       printf '%s %s\n' "$t" "$(awk '/^VmRSS:/ {print $2}' "/proc/$tpid/status" 2>/dev/null)"
       sleep 5; t=$((t + 5)); done) >"$RSS_SAMPLES" 2>/dev/null &
    sampler_pid=$!
    LIVE[$sampler_pid]="RSS sampler"
  fi
  env "$@" BENCH_OUT="$out" BENCH_THREADS="$THREADS" BENCH_USERS="$USERS" \
    timeout -k 5 $((seconds_to_run + 60)) "${CLIENT_PIN[@]+"${CLIENT_PIN[@]}"}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${seconds_to_run}s" --timeout 10s \
    -s "$script" "$url" >"$log" 2>&1 || rc=$?
  if [ -n "$sampler_pid" ]; then
    kill "$sampler_pid" 2>/dev/null || true
    wait "$sampler_pid" 2>/dev/null || true
    unset "LIVE[$sampler_pid]"
  fi
  m1="$(machine_busy_ticks)"; w1="$(child_ticks)"
  # shellcheck disable=SC2086
  cpu1="$(ticks $pids)"; st1="$(ticks $spids)"
  if [ -n "$perf_pid" ]; then
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
    unset "LIVE[$perf_pid]"
  fi
  local alive=1 pid
  for pid in $pids; do kill -0 "$pid" 2>/dev/null || alive=0; done
  [ -n "$tpid" ] && [ "$alive" = 1 ] && thread_counters "$tpid" >"$TMP/threads-$safe.1"
  [ -n "$commits0" ] && [ "$alive" = 1 ] && commits1="$(group_commit_counters "$url")"
  if [ "$rc" -ne 0 ] || [ ! -s "$out" ]; then
    say "wrk failed (status $rc):"; tail -n 5 "$log" | sed 's/^/    /' >&2
    row_set "$key" status failed
    row_set "$key" note "wrk failed (status $rc)"
    [ "$alive" = 1 ] || return 1
    return 0
  fi
  # shellcheck disable=SC2086
  row_set "$key" rss_mib "$(awk -v k="$(hwm_kib $pids)" 'BEGIN {printf "%.1f", k / 1024}')"
  local -A w=()
  local name value
  while read -r name value; do w[$name]="$value"; done <"$out"
  local requests="${w[requests]}" seconds non2xx sockerr
  seconds="$(awk -v u="${w[duration_us]}" 'BEGIN {printf "%.3f", u / 1e6}')"
  if [ "${w[counted]}" = 1 ]; then non2xx=$(( w[status_503] + w[status_other] )); else non2xx="${w[err_status]}"; fi
  sockerr=$(( w[err_connect] + w[err_read] + w[err_write] + w[err_timeout] ))
  row_set "$key" requests "$requests"
  row_set "$key" seconds "$seconds"
  row_set "$key" rps "$(awk -v r="$requests" -v s="$seconds" 'BEGIN {printf "%.1f", (s > 0 ? r / s : 0)}')"
  local p
  for p in p50 p90 p99 p999 mean max; do
    row_set "$key" "$p" "$(awk -v u="${w[lat_${p}_us]}" 'BEGIN {printf "%.2f", u / 1000}')"
  done
  row_set "$key" non2xx "$non2xx"
  row_set "$key" s201 "${w[status_201]}"
  row_set "$key" s202 "${w[status_202]}"
  row_set "$key" s503 "${w[status_503]}"
  row_set "$key" sother "${w[status_other]}"
  row_set "$key" sockerr "$sockerr"
  row_set "$key" get_mean_bytes "$(awk -v b="${w[get_body_bytes]}" -v n="${w[get_bodies]}" 'BEGIN {printf "%.0f", (n > 0 ? b / n : 0)}')"
  row_set "$key" cpu_s "$(awk -v t=$((cpu1 - cpu0)) -v h="$CLK_TCK" 'BEGIN {printf "%.2f", t / h}')"
  row_set "$key" cpu_per_1k "$(awk -v t=$((cpu1 - cpu0)) -v h="$CLK_TCK" -v r="$requests" 'BEGIN {printf "%.3f", (r > 0 ? t / h / r * 1000 : 0)}')"
  row_set "$key" wrk_cpu_s "$(awk -v t=$((w1 - w0)) -v h="$CLK_TCK" 'BEGIN {printf "%.2f", t / h}')"
  [ -n "$spids" ] && row_set "$key" store_cpu_s "$(awk -v t=$((st1 - st0)) -v h="$CLK_TCK" 'BEGIN {printf "%.2f", t / h}')"
  # CPU used by anything but the server, its stores and wrk: other engineers' builds, etc.
  row_set "$key" other_cpu_pct "$(awk -v m=$((m1 - m0)) -v c=$((cpu1 - cpu0)) -v s=$((st1 - st0)) -v w=$((w1 - w0)) \
    -v h="$CLK_TCK" -v n="$NCPU" -v d="$seconds" \
    'BEGIN {o = (m - c - s - w) / h; if (o < 0) o = 0; printf "%.0f", (d > 0 ? 100 * o / (d * n) : 0)}')"
  row_set "$key" load1 "$load1"
  # Share of the CPUs nobody used: under a closed-loop load (wrk's fixed
  # connections) it shows how much the server's waits leave the CPUs idle.
  row_set "$key" idle_pct "$(awk -v m=$((m1 - m0)) -v h="$CLK_TCK" -v n="$NCPU" -v d="$seconds" \
    'BEGIN {i = (d > 0 ? 100 - 100 * m / h / (d * n) : 0); if (i < 0) i = 0; printf "%.0f", i}')"
  if [ -s "$TMP/threads-$safe.1" ]; then
    row_set "$key" threads "$(thread_growth "$TMP/threads-$safe.0" "$TMP/threads-$safe.1" 2 "$CLK_TCK" 1)"
    row_set "$key" waits "$(thread_growth "$TMP/threads-$safe.0" "$TMP/threads-$safe.1" 3 1e6 10000)"
  fi
  if [ -n "$commits1" ]; then
    # Group commit during the run, from the service's own counters: intent-log appends (one
    # write and one fdatasync each), events per append, and an append's mean time.
    read -r appends events append_ms <<<"$(awk -v a="$commits0" -v b="$commits1" 'BEGIN {
      split(a, x, " "); split(b, y, " "); n = y[1] - x[1]; e = y[2] - x[2]; t = y[3] - x[3]
      printf "%d %.1f %.3f", n, (n > 0 ? e / n : 0), (n > 0 ? 1000 * t / n : 0)}')"
    row_set "$key" intent_appends "$appends"
    row_set "$key" events_per_append "$events"
    row_set "$key" append_ms "$append_ms"
  fi
  if [ -s "$perf_out" ]; then
    # Per thread name: fsync + fdatasync calls during the run.
    row_set "$key" fsyncs "$(grep -v '^#' "$perf_out" | awk -F, 'NF > 3 && $2 ~ /^[0-9]+$/ {
        name = $1; sub(/-[0-9]+$/, "", name); n[name] += $2 }
      END {for (k in n) if (n[k] > 0) printf "%s\"%s\":%d", (sep++ ? "," : ""), k, n[k]}')"
  fi
  if [ "$requests" -eq 0 ] || [ $(( (non2xx + sockerr) * 2 )) -gt $(( requests + sockerr )) ]; then
    row_set "$key" status broken
    row_set "$key" note "non-2xx answers or socket errors dominate ($non2xx non-2xx, $sockerr socket errors)"
  fi
  [ "$alive" = 1 ] || { row_set "$key" status died; row_set "$key" note "the server died during the run"; return 1; }
  return 0
}

# --- pre-loading -------------------------------------------------------------------------------

POST_BODY_FILE="$TMP/post-response.json"
HOT_BODY_FILE="$TMP/hot-response.json"
HOT_USER="hot-00000"
declare -A SIZES=()

details_150() {  # a 150-byte jsonDetails object for event $1
  local head
  head="$(printf '{"ip":"10.0.%d.%d","device":"Chrome","amount":%d.50,"currency":"EUR","n":%d,"pad":"' \
    $(( $1 / 250 )) $(( $1 % 250 + 1 )) $(( $1 % 500 + 1 )) "$1")"
  printf '%s%s"}' "$head" "$(head -c $(( 150 - ${#head} - 2 )) /dev/zero | tr '\0' 'p')"
}

# Pre-loads HOT_USER with HOT_EVENTS events and measures the answers' sizes.
preload_hot() {  # port label
  local port="$1" label="$2" i codes bad
  for ((i = 0; i < HOT_EVENTS; i++)); do
    printf '{"userId":"%s","eventType":"bet","jsonDetails":%s}\n' "$HOT_USER" "$(details_150 "$i")"
  done >"$TMP/hot-bodies-$label"
  codes="$(while IFS= read -r body; do
      curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 -H 'Content-Type: application/json' \
        "${AUTH_CURL[@]+"${AUTH_CURL[@]}"}" --data-binary "$body" "$SCHEME://127.0.0.1:$port/events" &
      # a few at a time: enough to be quick, few enough not to depend on batching
      while [ "$(jobs -rp | wc -l)" -ge 8 ]; do sleep 0.01; done
    done <"$TMP/hot-bodies-$label"; wait)"
  bad="$(grep -cv '^20[12]$' <<<"$codes" || true)"
  [ "$bad" -eq 0 ] || say "pre-loading $HOT_USER ($label): $bad of $HOT_EVENTS POSTs not 201/202"
  curl -s --max-time 30 -o "$HOT_BODY_FILE.$label" "${AUTH_CURL[@]+"${AUTH_CURL[@]}"}" \
    "$SCHEME://127.0.0.1:$port/events/$HOT_USER" || true
  SIZES[hot_events_$label]="$(grep -o '"eventId":' "$HOT_BODY_FILE.$label" | wc -l)"
  SIZES[hot_bytes_$label]="$(wc -c <"$HOT_BODY_FILE.$label")"
  say "pre-loaded $HOT_USER ($label): ${SIZES[hot_events_$label]} events, GET answer ${SIZES[hot_bytes_$label]} bytes"
}

# One POST to learn the answer's size (same for every 201).
probe_post() {  # port label
  curl -s --max-time 30 -o "$POST_BODY_FILE.$label" -H 'Content-Type: application/json' \
    "${AUTH_CURL[@]+"${AUTH_CURL[@]}"}" --data-binary "{\"userId\":\"probe-00000\",\"eventType\":\"bet\",\"jsonDetails\":$(details_150 0)}" \
    "$SCHEME://127.0.0.1:$1/events" || true
  SIZES[post_bytes_$label]="$(wc -c <"$POST_BODY_FILE.$label")"
}

# Every cold user gets one 150-byte event (sequential userIds), within PRELOAD_SECONDS.
preload_cold() {  # port label
  local port="$1" label="$2" out="$TMP/preload-$2.out" marker="$TMP/preload-$2.done" rc=0 name value pid
  env BENCH_OUT="$out" BENCH_THREADS="$THREADS" BENCH_USERS="$USERS" BENCH_USER_PREFIX=cold- \
    BENCH_DETAILS_BYTES=150 BENCH_SEQUENTIAL=1 BENCH_QUOTA=$(( (USERS + THREADS - 1) / THREADS )) \
    BENCH_DONE_MARKER="$marker" \
    timeout -k 5 $((PRELOAD_SECONDS + 60)) "${CLIENT_PIN[@]+"${CLIENT_PIN[@]}"}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${PRELOAD_SECONDS}s" \
    --timeout 10s -s "$here/wrk/post.lua" "$SCHEME://127.0.0.1:$port" >"$TMP/preload-$label.log" 2>&1 &
  pid=$!
  LIVE[$pid]="wrk (pre-load)"
  # wrk waits out its -d even when its threads are done; interrupt it once they all are.
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$(find "$TMP" -maxdepth 1 -name "preload-$label.done.*" | wc -l)" -ge "$THREADS" ]; then
      kill -INT "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
  done
  wait "$pid" 2>/dev/null || rc=$?
  unset "LIVE[$pid]"
  local -A w=()
  [ -s "$out" ] && while read -r name value; do w[$name]="$value"; done <"$out"
  SIZES[cold_events_$label]=$(( ${w[status_201]:-0} + ${w[status_202]:-0} ))
  say "pre-loaded ${SIZES[cold_events_$label]} events across $USERS cold users ($label)"
}

# --- scenarios ---------------------------------------------------------------------------------

# scenario_env scenario: the wrk script and environment of a scenario, as "script VAR=value..."
scenario_args() {
  case "$1" in
    post-150b) echo "post.lua BENCH_USER_PREFIX=post- BENCH_DETAILS_BYTES=150" ;;
    post-1k) echo "post.lua BENCH_USER_PREFIX=post- BENCH_DETAILS_BYTES=1024" ;;
    post-16k) echo "post.lua BENCH_USER_PREFIX=post- BENCH_DETAILS_BYTES=16384" ;;
    get-hot) echo "get_hot.lua BENCH_HOT_USER=$HOT_USER" ;;
    get-cold) echo "get_cold.lua BENCH_USER_PREFIX=cold-" ;;
    mixed-90-10) echo "mixed.lua BENCH_USER_PREFIX=cold- BENCH_DETAILS_BYTES=150 BENCH_WRITE_PERCENT=10" ;;
    batch-100x150b) echo "batch.lua BENCH_USER_PREFIX=post- BENCH_DETAILS_BYTES=150 BENCH_BATCH_EVENTS=100" ;;
  esac
}

# Events one request of a scenario carries.
scenario_events() {
  case "$1" in
    batch-100x150b) echo 100 ;;
    *) echo 1 ;;
  esac
}

# Copies the best of a row's scratch runs ("KEY#1".."KEY#N": the one with the most req/s among
# those that completed) into the row, and records every run's rate as the row's "runs".
adopt_best_run() {  # key runs
  local key="$1" n="$2" i run best="" best_rps=-1 rates="" field
  for ((i = 1; i <= n; i++)); do
    run="$key#$i"
    [ -n "${R[$run,status]:-}" ] || continue  # not run: the service died before it
    rates="${rates:+$rates, }${R[$run,rps]:-null}"
    if [ "${R[$run,status]}" = ok ] && awk -v a="${R[$run,rps]:-0}" -v b="$best_rps" 'BEGIN {exit !(a > b)}'; then
      best="$run"; best_rps="${R[$run,rps]}"
    fi
  done
  [ -n "$best" ] || best="$key#1"
  for field in "${!R[@]}"; do
    [[ "$field" == "$best,"* ]] || continue
    field="${field#"$best,"}"
    [[ "$field" == scenario || "$field" == backend ]] || R[$key,$field]="${R[$best,$field]}"
  done
  row_set "$key" runs "$rates"
}

# The ceiling of a scenario: nginx serving the answer sizes the service's first run gave.
start_ceiling() {  # scenario label-of-the-service-row
  local scenario="$1" label="$2" get_body="$TMP/ceiling-get.json" bytes
  case "$scenario" in
    get-hot) cp "$HOT_BODY_FILE.$label" "$get_body" ;;
    *)
      bytes="${R[$scenario|$label#1,get_mean_bytes]:-${R[$scenario|$label,get_mean_bytes]:-2}}"
      [ "$bytes" -ge 2 ] || bytes=2
      # A JSON array of the right length (the bytes matter, not the content).
      { printf '['; head -c $((bytes - 2)) /dev/zero | tr '\0' ' '; printf ']'; } >"$get_body" ;;
  esac
  row_add "$scenario" nginx ok
  if ! start_nginx "$POST_BODY_FILE.$label" "$get_body"; then
    row_set "$scenario|nginx" status failed; row_set "$scenario|nginx" note "nginx did not start"
    fail "nginx did not start"
    return 1
  fi
}

ceiling_run() {  # scenario run-number
  local scenario="$1" run="$1|nginx#$2" args
  read -r -a args <<<"$(scenario_args "$scenario")"
  row_set "$run" status ok
  wrk_run "$run" "$here/wrk/${args[0]}" "$SCHEME://127.0.0.1:$NGX_PORT" "$(nginx_pids | paste -sd' ')" "" "" \
    "${args[@]:1}" || true
}

finish_ceiling() {  # scenario runs
  local key="$1|nginx"
  adopt_best_run "$key" "$2"
  stop_pid "$NGX_PID" 10 || true
  [ "${R[$key,status]}" = ok ] || fail "$1 on nginx: ${R[$key,note]}"
}

# Runs every selected scenario against a started service. On the embedded stores each scenario
# runs RUNS times alternately with its nginx ceiling (service, nginx, service, nginx, ...), so
# both sides see the same stretches of this VM's swings (nginx's own rate moves by a quarter
# between runs here); each row is its side's best run, and both sides get the same number of
# draws, so the ratio is not biased either way.
run_backend() {  # label "store pids" strict(1: problems count as failures)
  local label="$1" spids="$2" strict="$3" scenario key args died=0 runs i run ceiling pair_ratios
  probe_post "$SVC_PORT" "$label"
  has_scenario get-hot && preload_hot "$SVC_PORT" "$label"
  for scenario in "${SCENARIOS[@]}"; do
    key="$scenario|$label"
    if [ "$died" = 1 ]; then
      row_add "$scenario" "$label" unavailable "the service had died"
      continue
    fi
    if [[ "$scenario" == get-cold || "$scenario" == mixed-90-10 ]] && [ -z "${SIZES[cold_events_$label]:-}" ]; then
      preload_cold "$SVC_PORT" "$label"
    fi
    read -r -a args <<<"$(scenario_args "$scenario")"
    ceiling=0
    [ "$label" = embedded ] && [ "$CEILING" = 1 ] && [ "$(scenario_events "$scenario")" = 1 ] && ceiling=1
    runs=1
    [ "$ceiling" = 1 ] && runs="$RUNS"
    row_add "$scenario" "$label" ok
    for ((i = 1; i <= runs; i++)); do
      run="$key#$i"  # a scratch row, not listed in ROWS; wrk_run marks it if something fails
      say "$scenario on $label: ${DURATION}s (run $i of $runs)"
      row_set "$run" status ok
      if ! wrk_run "$run" "$here/wrk/${args[0]}" "$SCHEME://127.0.0.1:$SVC_PORT" "$SVC_PID" "$SVC_PID" "$spids" "${args[@]:1}"; then
        died=1
        unset "LIVE[$SVC_PID]"
        wait "$SVC_PID" 2>/dev/null || true
        tail -n 5 "$TMP/serve-$label.log" | sed 's/^/    /' >&2
        if [ "$strict" = 1 ]; then fail "$scenario on $label: the service died"; else
          row_set "$run" status unavailable; fi
      fi
      say "  ${R[$run,rps]:-0} req/s, p99 ${R[$run,p99]:-?} ms, non-2xx ${R[$run,non2xx]:-?} (${R[$run,status]})"
      [ "$died" = 0 ] || break
      if [ "$ceiling" = 1 ]; then
        if [ "$i" = 1 ] && ! start_ceiling "$scenario" "$label"; then ceiling=0; continue; fi
        say "$scenario on nginx (ceiling): ${DURATION}s (run $i of $runs)"
        ceiling_run "$scenario" "$i"
        say "  ${R[$scenario|nginx#$i,rps]:-0} req/s, p99 ${R[$scenario|nginx#$i,p99]:-?} ms"
      fi
    done
    adopt_best_run "$key" "$runs"
    row_set "$key" events_per_s "$(awk -v r="${R[$key,rps]:-0}" -v n="$(scenario_events "$scenario")" 'BEGIN {printf "%.0f", r * n}')"
    if [ "${R[$key,status]}" != ok ] && [ "$died" = 0 ] && [ "$strict" = 1 ]; then
      fail "$scenario on $label: ${R[$key,note]}"
    fi
    if [ "$ceiling" = 1 ]; then
      finish_ceiling "$scenario" "$runs"
      # Each run's ratio to the nginx run right after it: the spread of these is the
      # measurement's noise.
      pair_ratios=""
      for ((i = 1; i <= runs; i++)); do
        pair_ratios="${pair_ratios:+$pair_ratios, }$(awk -v a="${R[$key#$i,rps]:-0}" -v b="${R[$scenario|nginx#$i,rps]:-0}" \
          'BEGIN {if (a > 0 && b > 0) printf "%.3f", a / b; else printf "null"}')"
      done
      row_set "$key" pair_ratios "$pair_ratios"
      say "$scenario: best $label ${R[$key,rps]:-0} vs best nginx ${R[$scenario|nginx,rps]:-0} req/s (runs: ${R[$key,runs]} vs ${R[$scenario|nginx,runs]}; each run against the nginx run after it: $pair_ratios)"
    fi
  done
}

# --- cold start --------------------------------------------------------------------------------

declare -A COLD=()
measure_cold_starts() {  # label data-dir-or-empty
  local label="$1" dir="$2" i port pid t0 t1 line fd runs=() sleep_fd
  exec {sleep_fd}<> <(:)
  for ((i = 0; i < COLD_STARTS; i++)); do
    local d="$dir"
    [ -n "$d" ] || d="$TMP/cold-start-$i"
    port="$(free_port)"
    t0="${EPOCHREALTIME/./}"
    env "${CLEAN_ENV[@]}" "${SERVER_PIN[@]+"${SERVER_PIN[@]}"}" "$BIN" serve --listen "127.0.0.1:$port" --data-dir "$d" --access-log false \
      "${SERVE_ARGS[@]}" >>"$TMP/cold-start-$label.log" 2>&1 &
    pid=$!
    LIVE[$pid]="eventlogger serve (cold start)"
    t1=""
    while kill -0 "$pid" 2>/dev/null; do
      if { exec {fd}<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then
        printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' 1>&"$fd" 2>/dev/null || true
        line=""
        IFS= read -r -t 10 line <&"$fd" || true
        exec {fd}>&-
        if [[ "$line" == "HTTP/1.1 200"* ]]; then t1="${EPOCHREALTIME/./}"; break; fi
      fi
      read -r -t 0.002 -u "$sleep_fd" || true
      [ $(( ${EPOCHREALTIME/./} - t0 )) -lt 60000000 ] || break
    done
    stop_pid "$pid" 20 || true
    if [ -z "$t1" ]; then
      fail "cold start ($label): no answer from /healthz"
      break
    fi
    runs+=("$(( (t1 - t0) / 1000 ))")
  done
  exec {sleep_fd}>&-
  [ ${#runs[@]} -gt 0 ] || return 0
  COLD[$label,runs]="$(IFS=,; echo "${runs[*]}")"
  COLD[$label,median]="$(printf '%s\n' "${runs[@]}" | sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')"
  say "cold start to first answer ($label): median ${COLD[$label,median]} ms (runs: ${COLD[$label,runs]} ms)"
}

# --- the run -----------------------------------------------------------------------------------

START_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
START_LOAD="$(cut -d' ' -f1-3 /proc/loadavg)"
say "eventlogger benchmark: ${SCENARIOS[*]}; ${DURATION}s each, $CONNECTIONS connections, $THREADS wrk threads"
say "machine: $NCPU CPUs, load average $START_LOAD (wrk, the server and nginx share these CPUs)"
if pgrep -x cc1plus >/dev/null 2>&1; then
  say "note: a C++ compile is running; numbers will be noisy (see 'other CPU %' in the JSON)"
fi

# 0. The disk's durable-write latency: one group commit cannot be faster than this.
measure_dsync() {
  local count=$(( QUICK == 1 ? 50 : 200 )) seconds
  # Overwrite a file written beforehand, as the WALs do once allocated (no size change to journal).
  dd if=/dev/zero of="$TMP/dsync-probe" bs=4k count="$count" conv=fsync 2>/dev/null || return 0
  seconds="$(dd if=/dev/zero of="$TMP/dsync-probe" bs=4k count="$count" conv=notrunc oflag=dsync 2>&1 |
    awk '/copied/ {for (i = 1; i <= NF; i++) if ($i ~ /^copied,?$/) {print $(i + 1); exit}}')" || true
  rm -f "$TMP/dsync-probe"
  [ -n "$seconds" ] || return 0
  DSYNC_MS="$(awk -v s="$seconds" -v n="$count" 'BEGIN {printf "%.2f", s * 1000 / n}')"
  say "disk: one 4 KiB O_DSYNC write (a durable commit's floor) takes $DSYNC_MS ms on average"
}
DSYNC_MS=""
SOAK_RSS=""
SOAK_CACHE_BYTES=""
measure_dsync

# 1. Embedded stores, with the nginx ceiling next to each scenario.
if [ "$API_KEY" -eq 1 ]; then
  mkdir -p "$TMP/data-embedded"
  key_json="$(env "${CLEAN_ENV[@]}" "$BIN" keys create --name bench --scopes admin --data-dir "$TMP/data-embedded" 2>/dev/null)"
  key="$(printf '%s' "$key_json" | sed -n 's/.*"key":"\([^"]*\)".*/\1/p')"
  [ -n "$key" ] || { echo "bench: could not create an API key: $key_json" >&2; exit 1; }
  export BENCH_AUTHORIZATION="Bearer $key"
  AUTH_CURL=(-H "Authorization: $BENCH_AUTHORIZATION")
fi
if start_service embedded "$TMP/data-embedded"; then
  run_backend embedded "" 1
  if [ "$SOAK" -gt 0 ] && [ -n "${LIVE[$SVC_PID]:-}" ]; then
    # The memory bound holds "under POST load with the default cache size", so the soak starts
    # with the read cache full: GETs of the post-* users, whose answers the earlier POST
    # scenarios made large. The soak then writes other users (soak-*), whose writes do not
    # invalidate those answers, so the cache stays full throughout.
    say "filling the read cache: GET of the post-* users for $(( QUICK == 1 ? 3 : 8 ))s"
    env BENCH_USER_PREFIX=post- BENCH_THREADS="$THREADS" BENCH_USERS="$USERS" BENCH_COUNT_STATUS=0 \
      timeout -k 5 70 "${CLIENT_PIN[@]+"${CLIENT_PIN[@]}"}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$(( QUICK == 1 ? 3 : 8 ))s" --timeout 10s \
      -s "$here/wrk/get_cold.lua" "$SCHEME://127.0.0.1:$SVC_PORT" >"$TMP/fill-read-cache.log" 2>&1 || true
    SOAK_CACHE_BYTES="$(curl -s --max-time 10 "$SCHEME://127.0.0.1:$SVC_PORT/metrics" |
      awk '$1 == "eventlogger_read_cache_bytes" {print $2}')"
    say "read cache at the soak's start: ${SOAK_CACHE_BYTES:-?} bytes"
    # The fill's GETs render answers of up to 1 MiB on 64 connections at once; the memory they
    # free goes back to the kernel within about a second (src/jemalloc_options.cc). The soak
    # measures the POST load, so it starts after that.
    sleep 2
    say "soak: post-150b on embedded for ${SOAK}s, sampling RSS every 5 s"
    row_add soak-post-150b embedded ok
    RSS_SAMPLES="$TMP/soak-rss.txt" RUN_SECONDS="$SOAK" \
      wrk_run "soak-post-150b|embedded" "$here/wrk/post.lua" "$SCHEME://127.0.0.1:$SVC_PORT" "$SVC_PID" "$SVC_PID" "" \
      BENCH_USER_PREFIX=soak- BENCH_DETAILS_BYTES=150 || fail "soak: the service died"
    if [ -s "$TMP/soak-rss.txt" ]; then
      # RSS in MiB: after the first 30 s, at the end, and the least-squares slope after 30 s.
      SOAK_RSS="$(awk -v cache="${SOAK_CACHE_BYTES:-null}" '$2 != "" {t[NR] = $1; r[NR] = $2 / 1024; n = NR}
        END {
          for (i = 1; i <= n; i++) if (t[i] >= 30) { if (!s) s = i; m++; st += t[i]; sr += r[i]; str += t[i] * r[i]; stt += t[i] * t[i] }
          slope = (m > 1 && m * stt - st * st != 0) ? (m * str - st * sr) / (m * stt - st * st) * 60 : 0
          printf "{\"readCacheBytesAtStart\": %s, \"at30sMiB\": %.1f, \"endMiB\": %.1f, \"slopeMiBPerMinute\": %.2f, \"samples\": [", cache, (s ? r[s] : r[1]), r[n], slope
          for (i = 1; i <= n; i++) printf "%s[%d, %.1f]", (i > 1 ? ", " : ""), t[i], r[i]
          printf "]}"
        }' "$TMP/soak-rss.txt")"
      say "soak RSS: ${SOAK_RSS%%, \"samples\"*}}"
    fi
    say "  ${R[soak-post-150b|embedded,rps]:-0} req/s, p99 ${R[soak-post-150b|embedded,p99]:-?} ms, peak RSS ${R[soak-post-150b|embedded,rss_mib]:-?} MiB"
  fi
  if [ -n "${LIVE[$SVC_PID]:-}" ]; then
    stop_pid "$SVC_PID" 30 || fail "eventlogger serve (embedded) exited with status $? at SIGTERM"
  fi
else
  for s in "${SCENARIOS[@]}"; do row_add "$s" embedded failed "the service did not start"; done
  fail "eventlogger serve (embedded) did not start"
fi

# 2. Cold start: process start to the first answered /healthz.
if [ "$COLD_STARTS" -gt 0 ]; then
  measure_cold_starts empty-data-dir ""
  [ -d "$TMP/data-embedded" ] && measure_cold_starts after-benchmark-data "$TMP/data-embedded"
fi

# 3. PostgreSQL + dynalite, when the test servers start.
PG_NOTE=""
if [ "$PG_DYNALITE" != off ]; then
  TEST_SERVERS_STATE="$TMP/test-servers"
  say "starting PostgreSQL + dynalite (tests/support/test-servers.sh, ports $PG_PORT/$DYNAMO_PORT)"
  if exports="$(EVENTLOGGER_TEST_PG_PORT=$PG_PORT EVENTLOGGER_TEST_DYNAMO_PORT=$DYNAMO_PORT \
        timeout -k 5 180 "${SERVER_PIN[@]+"${SERVER_PIN[@]}"}" "$root/tests/support/test-servers.sh" start "$TEST_SERVERS_STATE" \
        2>"$TMP/test-servers.log")"; then
    eval "$exports"
    pg_url="$EVENTLOGGER_TEST_POSTGRES_URL"
    ddb_url="dynamodb://BenchEvents?region=us-east-1&endpoint=$EVENTLOGGER_TEST_DYNAMODB_ENDPOINT"
    store_flags=(--metadata "$pg_url" --documents "$ddb_url")
    if ! env "${CLEAN_ENV[@]}" "${AWS_ENV[@]}" "$BIN" migrate --data-dir "$TMP/data-pg" "${store_flags[@]}" \
         >"$TMP/migrate.log" 2>&1; then
      PG_NOTE="migrate failed: $(tail -n 1 "$TMP/migrate.log" | cut -c1-160)"
    elif ! start_service pg-dynalite "$TMP/data-pg" "${store_flags[@]}"; then
      PG_NOTE="serve failed: $(grep -v '^$' "$TMP/serve-pg-dynalite.log" | tail -n 1 | cut -c1-160)"
    else
      store_pids="$(
        [ -f "$TEST_SERVERS_STATE/pg/postmaster.pid" ] && descendants "$(head -n 1 "$TEST_SERVERS_STATE/pg/postmaster.pid")"
        [ -f "$TEST_SERVERS_STATE/dynalite.pid" ] && descendants "$(cat "$TEST_SERVERS_STATE/dynalite.pid")"
      )" || true
      run_backend pg-dynalite "$(echo $store_pids)" "$([ "$PG_DYNALITE" = on ] && echo 1 || echo 0)"
      if [ -n "${LIVE[$SVC_PID]:-}" ]; then stop_pid "$SVC_PID" 30 || true; fi
    fi
  else
    PG_NOTE="test servers did not start: $(grep -v '^$' "$TMP/test-servers.log" | tail -n 1 | cut -c1-160)"
  fi
  "$root/tests/support/test-servers.sh" stop "$TEST_SERVERS_STATE" >/dev/null 2>&1 || true
  TEST_SERVERS_STATE=""
  if [ -n "$PG_NOTE" ]; then
    say "pg-dynalite unavailable: $PG_NOTE"
    for s in "${SCENARIOS[@]}"; do row_add "$s" pg-dynalite unavailable "$PG_NOTE"; done
  fi
fi

# --- report ------------------------------------------------------------------------------------

ratio() {  # row: requests/s relative to the scenario's nginx ceiling
  local scenario="${R[$1,scenario]}" mine="${R[$1,rps]:-}" ceiling
  ceiling="${R[$scenario|nginx,rps]:-}"
  [ -n "$mine" ] && [ -n "$ceiling" ] && [ "${R[$scenario|nginx,status]}" = ok ] || { echo ""; return; }
  awk -v a="$mine" -v b="$ceiling" 'BEGIN {if (b > 0) printf "%.3f", a / b}'
}

# Rows ordered by scenario, then embedded, pg-dynalite, nginx.
ORDERED=()
for s in "${ALL_SCENARIOS[@]}" soak-post-150b; do
  for b in embedded pg-dynalite nginx; do
    [[ " ${ROWS[*]-} " == *" $s|$b "* ]] && ORDERED+=("$s|$b")
  done
done

{
  printf '\n%-14s %-12s %9s %8s %8s %8s %9s %8s %8s %8s %6s %6s %6s\n' \
    scenario backend 'req/s' 'p50 ms' 'p99 ms' 'p99.9 ms' 'CPU s/1k' 'RSS MiB' non-2xx 'vs nginx' load 'other%' 'idle%'
  for key in "${ORDERED[@]}"; do
    if [ "${R[$key,status]}" = ok ] || [ -n "${R[$key,rps]:-}" ]; then
      printf '%-14s %-12s %9s %8s %8s %8s %9s %8s %8s %8s %6s %6s %6s%s\n' \
        "${R[$key,scenario]}" "${R[$key,backend]}" "${R[$key,rps]:-}" "${R[$key,p50]:-}" "${R[$key,p99]:-}" \
        "${R[$key,p999]:-}" "${R[$key,cpu_per_1k]:-}" "${R[$key,rss_mib]:-}" "${R[$key,non2xx]:-}" \
        "$(ratio "$key")" "${R[$key,load1]:-}" "${R[$key,other_cpu_pct]:-}" "${R[$key,idle_pct]:-}" \
        "$([ "${R[$key,status]}" = ok ] || echo "  <- ${R[$key,status]}: ${R[$key,note]}")"
    else
      printf '%-14s %-12s %s\n' "${R[$key,scenario]}" "${R[$key,backend]}" "${R[$key,status]}: ${R[$key,note]}"
    fi
  done
  for label in empty-data-dir after-benchmark-data; do
    [ -n "${COLD[$label,median]:-}" ] &&
      printf 'cold start to first answer (%s): median %s ms (runs: %s ms)\n' "$label" "${COLD[$label,median]}" "${COLD[$label,runs]}"
  done
  for key in "${ORDERED[@]}"; do
    [[ "${R[$key,scenario]}" == batch-* ]] && [ -n "${R[$key,events_per_s]:-}" ] || continue
    single="${R[post-150b|${R[$key,backend]},events_per_s]:-}"
    printf '%s (%s): %s events/s%s\n' "${R[$key,scenario]}" "${R[$key,backend]}" "${R[$key,events_per_s]}" \
      "$([ -n "$single" ] && awk -v b="${R[$key,events_per_s]}" -v s="$single" 'BEGIN {if (s > 0) printf ", %.1fx post-150b (%s events/s)", b / s, s}')"
  done
  for key in "${ORDERED[@]}"; do
    [ -n "${R[$key,intent_appends]:-}" ] && [ "${R[$key,intent_appends]}" != 0 ] || continue
    printf 'group commit during %s (%s): %s intent-log appends, %s events each, %s ms each (write and fdatasync)\n' \
      "${R[$key,scenario]}" "${R[$key,backend]}" "${R[$key,intent_appends]}" "${R[$key,events_per_append]}" \
      "${R[$key,append_ms]}"
  done
  for key in "${ORDERED[@]}"; do
    [ -n "${R[$key,fsyncs]:-}" ] || continue
    printf 'fsync calls during %s (%s): %s; 2xx answers: %s\n' "${R[$key,scenario]}" "${R[$key,backend]}" \
      "${R[$key,fsyncs]}" "$(( ${R[$key,s201]:-0} + ${R[$key,s202]:-0} ))"
  done
  [ -z "$SOAK_RSS" ] || printf 'soak RSS (MiB): %s\n' "$(sed 's/, "samples".*//' <<<"$SOAK_RSS")}"
  [ -z "$DSYNC_MS" ] || printf 'disk: a 4 KiB O_DSYNC write takes %s ms (floor of one durable commit; a POST waits for one: the intent log)\n' "$DSYNC_MS"
  printf 'load average at start: %s; CPUs: %s; %s s per run, %s connections, %s wrk threads\n' \
    "$START_LOAD" "$NCPU" "$DURATION" "$CONNECTIONS" "$THREADS"
} | tee "$TMP/table.txt"

json_string() {  # escapes for JSON (the notes are plain text)
  local s="${1//\\/\\\\}"
  s="${s//\"/\\\"}"
  s="${s//$'\n'/ }"
  s="${s//$'\t'/ }"
  printf '"%s"' "$s"
}
json_number() { [ -n "${1:-}" ] && printf '%s' "$1" || printf 'null'; }

write_json() {
  local key first=1 label
  printf '{\n'
  printf '  "date": "%s",\n' "$START_DATE"
  printf '  "host": %s,\n' "$(json_string "$(hostname)")"
  printf '  "cpus": %s,\n' "$NCPU"
  printf '  "cpuModel": %s,\n' "$(json_string "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)")"
  printf '  "kernel": %s,\n' "$(json_string "$(uname -r)")"
  printf '  "commit": %s,\n' "$(json_string "$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)")"
  printf '  "worktreeDirty": %s,\n' "$([ -n "$(git -C "$root" --no-optional-locks status --porcelain --untracked-files=no 2>/dev/null)" ] && echo true || echo false)"
  printf '  "loadAverageAtStart": %s,\n' "$(json_string "$START_LOAD")"
  printf '  "diskDsyncWriteMs": %s,\n' "$(json_number "$DSYNC_MS")"
  printf '  "soakRss": %s,\n' "$(json_number "$SOAK_RSS")"
  printf '  "options": {"durationSeconds": %s, "quick": %s, "connections": %s, "wrkThreads": %s, "users": %s, "tls": %s, "serveArgs": %s, "serverCpus": %s, "clientCpus": %s},\n' \
    "$DURATION" "$([ "$QUICK" = 1 ] && echo true || echo false)" "$CONNECTIONS" "$THREADS" "$USERS" \
    "$([ "$TLS" = 1 ] && echo true || echo false)" "$(json_string "${SERVE_ARGS[*]-}")" "$(json_string "${SERVER_CPUS:-}")" "$(json_string "${CLIENT_CPUS:-}")"
  printf '  "sizes": {'
  first=1
  for key in $(printf '%s\n' "${!SIZES[@]}" | sort); do
    printf '%s"%s": %s' "$([ $first = 1 ] || echo ', ')" "$key" "${SIZES[$key]}"
    first=0
  done
  printf '},\n'
  printf '  "coldStartMs": {'
  first=1
  for label in empty-data-dir after-benchmark-data; do
    [ -n "${COLD[$label,median]:-}" ] || continue
    printf '%s"%s": {"median": %s, "runs": [%s]}' "$([ $first = 1 ] || echo ', ')" "$label" \
      "${COLD[$label,median]}" "${COLD[$label,runs]}"
    first=0
  done
  printf '},\n'
  printf '  "rows": [\n'
  first=1
  for key in "${ORDERED[@]}"; do
    [ $first = 1 ] || printf ',\n'
    first=0
    printf '    {"scenario": "%s", "backend": "%s", "status": "%s", "note": %s,\n' \
      "${R[$key,scenario]}" "${R[$key,backend]}" "${R[$key,status]}" "$(json_string "${R[$key,note]:-}")"
    printf '     "requestsPerSecond": %s, "eventsPerSecond": %s, "ceilingRatio": %s, "requests": %s, "seconds": %s,\n' \
      "$(json_number "${R[$key,rps]:-}")" "$(json_number "${R[$key,events_per_s]:-}")" "$(json_number "$(ratio "$key")")" \
      "$(json_number "${R[$key,requests]:-}")" "$(json_number "${R[$key,seconds]:-}")"
    printf '     "latencyMs": {"p50": %s, "p90": %s, "p99": %s, "p999": %s, "mean": %s, "max": %s},\n' \
      "$(json_number "${R[$key,p50]:-}")" "$(json_number "${R[$key,p90]:-}")" "$(json_number "${R[$key,p99]:-}")" \
      "$(json_number "${R[$key,p999]:-}")" "$(json_number "${R[$key,mean]:-}")" "$(json_number "${R[$key,max]:-}")"
    printf '     "serverCpuSeconds": %s, "serverCpuSecondsPer1000Requests": %s, "peakRssMiB": %s,\n' \
      "$(json_number "${R[$key,cpu_s]:-}")" "$(json_number "${R[$key,cpu_per_1k]:-}")" "$(json_number "${R[$key,rss_mib]:-}")"
    printf '     "non2xx": %s, "status201": %s, "status202": %s, "status503": %s, "statusOther": %s, "socketErrors": %s,\n' \
      "$(json_number "${R[$key,non2xx]:-}")" "$(json_number "${R[$key,s201]:-}")" "$(json_number "${R[$key,s202]:-}")" \
      "$(json_number "${R[$key,s503]:-}")" "$(json_number "${R[$key,sother]:-}")" "$(json_number "${R[$key,sockerr]:-}")"
    printf '     "meanGetBodyBytes": %s, "loadAverage1m": %s, "otherCpuPercent": %s, "idleCpuPercent": %s, "wrkCpuSeconds": %s, "storeServersCpuSeconds": %s,\n' \
      "$(json_number "${R[$key,get_mean_bytes]:-}")" "$(json_number "${R[$key,load1]:-}")" \
      "$(json_number "${R[$key,other_cpu_pct]:-}")" "$(json_number "${R[$key,idle_pct]:-}")" "$(json_number "${R[$key,wrk_cpu_s]:-}")" \
      "$(json_number "${R[$key,store_cpu_s]:-}")"
    printf '     "intentLogAppends": %s, "eventsPerAppend": %s, "meanAppendMs": %s,\n' \
      "$(json_number "${R[$key,intent_appends]:-}")" "$(json_number "${R[$key,events_per_append]:-}")" \
      "$(json_number "${R[$key,append_ms]:-}")"
    printf '     "threadCpuSeconds": {%s}, "threadRunQueueWaitSeconds": {%s}, "fsyncCalls": {%s}' \
      "${R[$key,threads]:-}" "${R[$key,waits]:-}" "${R[$key,fsyncs]:-}"
    [ -z "${R[$key,runs]:-}" ] || printf ', "runs": [%s]' "${R[$key,runs]}"
    [ -z "${R[$key,pair_ratios]:-}" ] || printf ', "pairRatios": [%s]' "${R[$key,pair_ratios]}"
    printf '}'
  done
  printf '\n  ],\n'
  printf '  "failures": ['
  first=1
  local f
  for f in "${FAILURES[@]+"${FAILURES[@]}"}"; do
    printf '%s%s' "$([ $first = 1 ] || echo ', ')" "$(json_string "$f")"
    first=0
  done
  printf ']\n}\n'
}
mkdir -p "$(dirname "$OUT")"
write_json >"$OUT.tmp" && mv "$OUT.tmp" "$OUT"
say "wrote $OUT"

if [ "$FAILED" = 1 ]; then
  say "something broke:"
  printf '  - %s\n' "${FAILURES[@]}" >&2
  exit 1
fi
exit 0
