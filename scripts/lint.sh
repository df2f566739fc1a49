#!/usr/bin/env bash
# clang-tidy over src/ with the checked-in .clang-tidy; any finding fails.
# Uses the compile commands of build/release (configured here if needed).
#   scripts/lint.sh [FILE...]   (default: every .cc under src/)
set -euo pipefail
cd "$(dirname "$0")/.."

cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
# The generated sources (the OpenAPI document) must exist for their TU.
cmake --build build/release --target eventlogger_http -j "${EVENTLOGGER_BUILD_JOBS:-$(nproc)}" >/dev/null
files=("$@")
[ ${#files[@]} -gt 0 ] || mapfile -t files < <(find "$PWD/src" -name '*.cc' | sort)
# Boost 1.74 enables Asio's coroutines for clang only with the Coroutines
# TS headers; clang 14 has C++20's, so say so. -Wno-unknown-warning-option:
# the compile commands carry g++-only warning flags.
log="$(mktemp)"
if ! run-clang-tidy-14 -quiet -p build/release -j "${EVENTLOGGER_BUILD_JOBS:-$(nproc)}" \
     -extra-arg=-DBOOST_ASIO_HAS_CO_AWAIT -extra-arg=-DBOOST_ASIO_HAS_STD_COROUTINE \
     -extra-arg=-Wno-unknown-warning-option "${files[@]}" >"$log" 2>&1; then
  grep -E "(warning|error):" "$log" | sort -u >&2 || cat "$log" >&2
  rm -f "$log"
  echo "lint: clang-tidy found the problems above" >&2
  exit 1
fi
rm -f "$log"
echo "== lint (clang-tidy) passed: ${#files[@]} files =="
