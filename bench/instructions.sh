#!/usr/bin/env bash
# Counts the user-space instructions eventlogger executes per POST /events, by thread, under
# valgrind's callgrind: a deterministic measure that does not move with the machine's load the
# way req/s and CPU seconds do (this VM has no hardware counters for `perf stat`). Use it to
# compare two binaries on the CPU work of a change too small to show above the throughput noise.
#
#   bench/instructions.sh [options]
#
# Starts `eventlogger serve` under callgrind on a fresh temporary data dir (127.0.0.1), sends
# N POSTs with bench/wrk/post.lua (64 connections, ~150-byte jsonDetails over 10,000 users),
# stops the service cleanly and prints instructions per request for each thread that did work,
# and their total. Kernel work (system calls, TCP) is not counted. Under valgrind the service
# runs ~50x slower, so batches are smaller than at full speed and the writer's per-batch costs
# weigh more; compare binaries with each other, not with a real-speed profile.
#
# Options:
#   --binary PATH       eventlogger binary (default build/release/eventlogger; not rebuilt)
#   --requests N        POSTs to send (default 8000)
#   --details-bytes N   jsonDetails size (default 150)
#   --keep DIR          keep the callgrind files in DIR (for callgrind_annotate)
#   -h, --help          this text
set -Eeuo pipefail
export LC_ALL=C

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
BIN="$root/build/release/eventlogger"
REQUESTS=8000
DETAILS=150
KEEP=""
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) BIN="${2:?}"; shift ;;
    --requests) REQUESTS="${2:?}"; shift ;;
    --details-bytes) DETAILS="${2:?}"; shift ;;
    --keep) KEEP="${2:?}"; shift ;;
    -h|--help) sed -n '2,/^set -Eeuo/p' "$here/instructions.sh" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/instructions.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
for tool in valgrind callgrind_annotate wrk curl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench/instructions.sh: '$tool' is missing" >&2; exit 2; }
done
[ -x "$BIN" ] || { echo "bench/instructions.sh: no binary at $BIN (scripts/build.sh release)" >&2; exit 2; }
[ "$REQUESTS" -ge 2 ] || { echo "bench/instructions.sh: --requests must be at least 2" >&2; exit 2; }

TMP="$(mktemp -d "${TMPDIR:-/tmp}/eventlogger-instructions.XXXXXX")"
SVC_PID=""
WRK_PID=""
cleanup() {
  [ -n "$WRK_PID" ] && kill "$WRK_PID" 2>/dev/null || true
  [ -n "$SVC_PID" ] && kill -KILL "$SVC_PID" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

port=58380
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$TMP/callgrind.out" \
  "$BIN" serve --listen "127.0.0.1:$port" --data-dir "$TMP/data" --access-log false \
  >"$TMP/serve.log" 2>&1 &
SVC_PID=$!
for _ in $(seq 600); do
  curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break
  kill -0 "$SVC_PID" 2>/dev/null || { cat "$TMP/serve.log" >&2; exit 1; }
  sleep 0.1
done

# Thread names, in creation order: callgrind numbers its per-thread files the same way.
names=()
for task in $(ls "/proc/$SVC_PID/task" | sort -n); do
  name="$(cat "/proc/$SVC_PID/task/$task/comm" 2>/dev/null || echo '?')"
  # Threads that never set a name carry valgrind's ("callgrind-amd64").
  case "$name" in callgrind-*) name="(unnamed)" ;; esac
  [ ${#names[@]} -eq 0 ] && name="main"
  names+=("$name")
done

# Each of wrk's 2 threads stops after half the requests (BENCH_QUOTA) and leaves a marker.
BENCH_DONE_MARKER="$TMP/done" BENCH_QUOTA=$((REQUESTS / 2)) BENCH_USER_PREFIX=post- \
  BENCH_DETAILS_BYTES="$DETAILS" \
  wrk -t2 -c64 -d600s --timeout 30s -s "$here/wrk/post.lua" "http://127.0.0.1:$port" \
  >"$TMP/wrk.out" 2>&1 &
WRK_PID=$!
deadline=$((SECONDS + 600))
while kill -0 "$WRK_PID" 2>/dev/null; do
  [ "$(ls "$TMP"/done.* 2>/dev/null | wc -l)" -ge 2 ] && kill -INT "$WRK_PID" 2>/dev/null
  [ "$SECONDS" -lt "$deadline" ] || { echo "bench/instructions.sh: wrk did not finish" >&2; exit 1; }
  sleep 0.5
done
wait "$WRK_PID" 2>/dev/null || true
WRK_PID=""
kill -TERM "$SVC_PID"
wait "$SVC_PID" 2>/dev/null || true
SVC_PID=""

# A few requests may still have been in flight when wrk stopped; at thousands of requests they
# move the result by well under 1%.
printf '%-16s %14s\n' thread "instr/request"
total=0
for file in "$TMP"/callgrind.out-*; do
  index=$((10#${file##*-}))
  count="$(callgrind_annotate "$file" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')"
  [ -n "$count" ] || continue
  total=$((total + count))
  per=$((count / REQUESTS))
  [ "$per" -ge 100 ] && printf '%-16s %14d\n' "${names[$((index - 1))]:-thread-$index}" "$per"
done
printf '%-16s %14d\n' total $((total / REQUESTS))
if [ -n "$KEEP" ]; then
  mkdir -p "$KEEP"
  cp "$TMP"/callgrind.out-* "$KEEP"/
  echo "callgrind files in $KEEP (callgrind_annotate --inclusive=yes FILE)"
fi
