#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang with ASan + UBSan) and runs each
# for SECONDS (default 30), starting from tests/fuzz/seeds/<target> and after
# replaying tests/fuzz/regressions/<target>. Exits non-zero on the first
# crash, leak, timeout or broken invariant; the input that caused it is kept
# under build/fuzz/artifacts/ (add it to tests/fuzz/regressions/ with the fix).
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-30}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(event_request batch_request list_query authorization jwks http_head dynamodb_response)

cmake -S fuzz -B build/fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build/fuzz -j "${EVENTLOGGER_BUILD_JOBS:-$(nproc)}" >/dev/null

artifacts="build/fuzz/artifacts"
mkdir -p "$artifacts"
for target in "${targets[@]}"; do
  binary="build/fuzz/${target}_fuzzer"
  regressions="tests/fuzz/regressions/$target"
  if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions")" ]; then
    "$binary" "$regressions"/* >/dev/null 2>&1 || { echo "fuzz: $target fails a regression input" >&2; "$binary" "$regressions"/*; exit 1; }
  fi
  # A corpus of this run's own: the seeds stay as they are in the tree.
  corpus="$(mktemp -d)"
  cp tests/fuzz/seeds/"$target"/* "$corpus"/
  echo "== fuzz $target (${seconds}s) =="
  if ! "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$artifacts/$target-" "$corpus" >"build/fuzz/$target.log" 2>&1; then
    tail -40 "build/fuzz/$target.log" >&2
    rm -rf "$corpus"
    echo "fuzz: $target failed; the input is in $artifacts/" >&2
    exit 1
  fi
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "build/fuzz/$target.log" | tr '\n' ' '
  echo
  rm -rf "$corpus"
done
echo "== fuzzing passed =="
