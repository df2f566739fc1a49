#!/usr/bin/env bash
# Configures and builds into a build directory.
#   scripts/build.sh [release|debug|sanitize]   (default: release)
set -euo pipefail
cd "$(dirname "$0")/.."

kind="${1:-release}"
case "$kind" in
  release)  dir=build/release;  flags=(-DCMAKE_BUILD_TYPE=Release) ;;
  debug)    dir=build/debug;    flags=(-DCMAKE_BUILD_TYPE=Debug) ;;
  # -g1: line tables are all a sanitizer report needs, and full debug info
  # made the test binaries 300 MB, much of the build spent writing and
  # linking it. Still -O0: at -O1 g++ 12 reports false maybe-uninitialized
  # warnings inside libstdc++'s <regex>.
  sanitize) dir=build/sanitize; flags=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-g1" -DEVENTLOGGER_SANITIZE=ON) ;;
  *) echo "unknown build kind: $kind" >&2; exit 2 ;;
esac
jobs="${EVENTLOGGER_BUILD_JOBS:-$(nproc)}"
# EVENTLOGGER_BUILD_TESTS=OFF builds only the service (no GoogleTest needed);
# EVENTLOGGER_TEST_PER_CASE=OFF registers each test binary with CTest once
# instead of each of its cases (CMakeLists.txt).
flags+=(-DEVENTLOGGER_BUILD_TESTS="${EVENTLOGGER_BUILD_TESTS:-ON}")
flags+=(-DEVENTLOGGER_TEST_PER_CASE="${EVENTLOGGER_TEST_PER_CASE:-ON}")
cmake -S . -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j "$jobs"
