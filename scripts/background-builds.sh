#!/usr/bin/env bash
# What scripts/test.sh runs beside the release tests, at the lowest priority
# (the tests mostly wait on sockets and servers, so this takes their idle
# CPU): clang-tidy, then the sanitizer build, then the fuzzers' build, one
# after another so that they never compete with each other for the cores.
#   scripts/background-builds.sh LOG_DIR SANITIZE(0|1)
# Writes LOG_DIR/{lint,build-sanitize,build-fuzz}.log; exits 1 if the lint
# found problems, 2 if the sanitizer build failed, 3 if the fuzzers' did.
set -uo pipefail
cd "$(dirname "$0")/.."

logs="${1:?usage: background-builds.sh LOG_DIR SANITIZE}"
sanitize="${2:?usage: background-builds.sh LOG_DIR SANITIZE}"

status=0
nice -n 19 scripts/lint.sh >"$logs/lint.log" 2>&1 || status=1
if [ "$sanitize" -eq 1 ]; then
  nice -n 19 scripts/build.sh sanitize >"$logs/build-sanitize.log" 2>&1 || exit 2
fi
nice -n 19 scripts/fuzz.sh --build-only >"$logs/build-fuzz.log" 2>&1 || exit 3
exit "$status"
