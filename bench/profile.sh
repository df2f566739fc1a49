#!/usr/bin/env bash
# Profiles eventlogger on the embedded stores under the same wrk load as bench/run.sh's
# post-150b scenario (the default), its get-hot scenario (--scenario get-hot) or its
# batch-100x150b scenario (--scenario batch).
#
#   bench/profile.sh [options]
#
# Starts `eventlogger serve` (fresh temporary data dir, --access-log false) on 127.0.0.1,
# warms it up, then, each while wrk drives POST /events:
#   1. `perf trace -s`: system calls per thread (count and time: where the writers wait);
#   2. `perf record` (cpu-clock samples): where the CPU goes, by thread, library and function;
#   3. with --callgraph, `perf record --call-graph dwarf` for call chains (larger, slower).
# Prints the summaries and keeps the raw files in the output directory. Needs `perf`
# (Debian: linux-perf); without it, use valgrind --tool=callgrind by hand (see
# docs/performance.md).
#
# Options:
#   --scenario NAME     post (default), get-hot (one user with 100 events, read repeatedly) or
#                       batch (POST /events/batch, 100 events per request)
#   --duration S        seconds per profiled phase (default 10)
#   --details-bytes N   jsonDetails size (default 150)
#   --connections N     wrk connections (default 64)
#   --binary PATH       eventlogger binary (default build/release/eventlogger; not rebuilt)
#   --serve-args "..."  extra flags for `eventlogger serve`
#   --callgraph         also record DWARF call chains
#   --out DIR           where to keep the outputs (default: a new temporary directory)
#   -h, --help          this text
set -Eeuo pipefail
export LC_ALL=C

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
DURATION=10
DETAILS=150
CONNECTIONS=64
THREADS=2
BIN="$root/build/release/eventlogger"
SERVE_ARGS=()
CALLGRAPH=0
OUT=""
SCENARIO=post
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION="${2:?}"; shift ;;
    --details-bytes) DETAILS="${2:?}"; shift ;;
    --connections) CONNECTIONS="${2:?}"; shift ;;
    --binary) BIN="${2:?}"; shift ;;
    --serve-args) read -r -a SERVE_ARGS <<<"${2:-}"; shift ;;
    --callgraph) CALLGRAPH=1 ;;
    --scenario) SCENARIO="${2:?}"; shift ;;
    --out) OUT="${2:?}"; shift ;;
    -h|--help) sed -n '2,/^set -Eeuo/p' "$here/profile.sh" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/profile.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
for tool in perf wrk curl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench/profile.sh: '$tool' is missing" >&2; exit 2; }
done
[ -x "$BIN" ] || { echo "bench/profile.sh: no binary at $BIN (scripts/build.sh release)" >&2; exit 2; }

TMP="$(mktemp -d "${TMPDIR:-/tmp}/eventlogger-profile.XXXXXX")"
[ -n "$OUT" ] || OUT="$TMP/out"
mkdir -p "$OUT"
SVC_PID=""
WRK_PID=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  [ -z "$WRK_PID" ] || kill "$WRK_PID" 2>/dev/null || true
  if [ -n "$SVC_PID" ] && kill -0 "$SVC_PID" 2>/dev/null; then
    kill -TERM "$SVC_PID" 2>/dev/null || true
    for _ in $(seq 200); do kill -0 "$SVC_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SVC_PID" 2>/dev/null || true
  fi
  wait 2>/dev/null || true
  rm -rf "$TMP/data"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
say() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

port=58280
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
CLEAN_ENV=()
for v in $(compgen -e); do case "$v" in EVENTLOGGER_*) CLEAN_ENV+=(-u "$v") ;; esac; done
env "${CLEAN_ENV[@]}" "$BIN" serve --listen "127.0.0.1:$port" --data-dir "$TMP/data" --access-log false \
  "${SERVE_ARGS[@]}" >"$OUT/serve.log" 2>&1 &
SVC_PID=$!
for _ in $(seq 300); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz" || true)" = 200 ] && break
  kill -0 "$SVC_PID" 2>/dev/null || { cat "$OUT/serve.log" >&2; exit 1; }
  sleep 0.1
done

case "$SCENARIO" in
  post) SCRIPT="$here/wrk/post.lua" ;;
  batch) SCRIPT="$here/wrk/batch.lua" ;;
  get-hot)
    SCRIPT="$here/wrk/get_hot.lua"
    pad="$(head -c 60 /dev/zero | tr '\0' p)"
    for i in $(seq 100); do
      curl -s -o /dev/null -H 'Content-Type: application/json' --data-binary \
        "{\"userId\":\"hot-00000\",\"eventType\":\"bet\",\"jsonDetails\":{\"ip\":\"10.0.0.$i\",\"device\":\"Chrome\",\"amount\":$i.50,\"currency\":\"EUR\",\"pad\":\"$pad\"}}" \
        "http://127.0.0.1:$port/events"
    done ;;
  *) echo "bench/profile.sh: --scenario is post, get-hot or batch" >&2; exit 2 ;;
esac

load() {  # seconds tag: wrk load in the background
  env BENCH_OUT="$OUT/wrk-$2.out" BENCH_THREADS="$THREADS" BENCH_USER_PREFIX=post- BENCH_DETAILS_BYTES="$DETAILS" \
    BENCH_HOT_USER=hot-00000 \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$1s" --timeout 10s -s "$SCRIPT" "http://127.0.0.1:$port" \
    >"$OUT/wrk-$2.log" 2>&1 &
  WRK_PID=$!
}
finish_load() {
  wait "$WRK_PID" || true
  WRK_PID=""
  awk '/^requests / {r = $2} /^duration_us / {d = $2} /^lat_p99_us / {p = $2}
       END {printf "  wrk: %d requests, %.0f req/s, p99 %.1f ms\n", r, r / (d / 1e6), p / 1000}' "$OUT/wrk-$1.out" >&2
}

say "warm-up: 3 s"
load 3 warmup; finish_load warmup

say "1/3 system calls per thread (perf trace -s), ${DURATION}s"
load $((DURATION + 1)) trace
sleep 0.5
perf trace -s -p "$SVC_PID" -o "$OUT/trace-summary.txt" -- sleep "$DURATION" >/dev/null 2>&1 || say "perf trace failed"
finish_load trace

say "2/3 CPU samples (perf record -F 999), ${DURATION}s"
load $((DURATION + 1)) record
sleep 0.5
perf record -F 999 -p "$SVC_PID" -o "$OUT/perf.data" -- sleep "$DURATION" >/dev/null 2>&1 || say "perf record failed"
finish_load record

if [ "$CALLGRAPH" = 1 ]; then
  say "3/3 call chains (perf record --call-graph dwarf), ${DURATION}s"
  load $((DURATION + 1)) callgraph
  sleep 0.5
  perf record -F 299 --call-graph dwarf,16384 -p "$SVC_PID" -o "$OUT/perf-callgraph.data" -- sleep "$DURATION" \
    >/dev/null 2>&1 || say "perf record --call-graph failed"
  finish_load callgraph
  perf report -i "$OUT/perf-callgraph.data" --stdio --children --percent-limit 3 \
    >"$OUT/callgraph.txt" 2>/dev/null || true
fi

report() { perf report -i "$OUT/perf.data" --stdio --no-children "$@" 2>/dev/null | grep -v '^#' | grep -v '^$'; }
report --sort comm >"$OUT/by-thread.txt" || true
report --sort dso >"$OUT/by-library.txt" || true
report --sort comm,dso >"$OUT/by-thread-library.txt" || true
report --sort dso,sym --percent-limit 0.4 >"$OUT/by-function.txt" || true

{
  echo "== CPU by thread (share of samples) =="
  head -n 15 "$OUT/by-thread.txt"
  echo
  echo "== CPU by library =="
  head -n 12 "$OUT/by-library.txt"
  echo
  echo "== CPU by thread and library (top 25) =="
  head -n 25 "$OUT/by-thread-library.txt"
  echo
  echo "== top functions =="
  head -n 45 "$OUT/by-function.txt"
  echo
  echo "== system calls per thread (perf trace -s; times in ms) =="
  grep -E '^ [^ ].*\([0-9]+\), [0-9]+ events|^ +(fdatasync|fsync|pwrite64|write|writev|sendmsg|sendto|recvfrom|read|futex|epoll_wait|io_uring_enter|pread64) ' \
    "$OUT/trace-summary.txt" || cat "$OUT/trace-summary.txt"
} | tee "$OUT/summary.txt"
say "outputs in $OUT"
