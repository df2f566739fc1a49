#!/usr/bin/env bash
# Quick start: install dependencies, build, and run every test; lint the code
# (clang-tidy) and the OpenAPI document, and check every response against it;
# fuzz briefly.
#   scripts/test.sh               what CI runs: the release binary is built
#                                 and linted; the tests are built and run
#                                 under AddressSanitizer + UBSan, and the
#                                 process tests run again on the release
#                                 binary
#   scripts/test.sh --no-sanitize the tests built and run in release instead
#                                 (faster locally; no sanitizers)
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=1
for arg in "$@"; do
  case "$arg" in
    --no-sanitize) sanitize=0 ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh --test

# Real PostgreSQL and dynalite for the backend tests, on loopback ports of
# their own; stopped on exit, whatever happens.
servers_dir="$(mktemp -d /tmp/eventlogger-test-servers.XXXXXX)"
cleanup() {
  [ -z "${lint_pid:-}" ] || kill "$lint_pid" 2>/dev/null || true
  [ -z "${fuzz_pid:-}" ] || kill "$fuzz_pid" 2>/dev/null || true
  tests/support/test-servers.sh stop "$servers_dir" || true
  rm -rf "$servers_dir"
}
trap cleanup EXIT
# Assigned first: a server that fails to start stops the run here (an eval
# of a failed command substitution would carry on without it).
server_env="$(tests/support/test-servers.sh start "$servers_dir")"
eval "$server_env"

# The OpenAPI tooling (npm): Spectral lints the document, Ajv validates the
# responses the integration tests received against it.
(cd tests/openapi && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
echo "== lint (OpenAPI) =="
tests/openapi/node_modules/.bin/spectral lint --fail-severity=warn --ruleset tests/openapi/.spectral.yaml \
  src/http/openapi/openapi.json

build_suite() {
  echo "== build ($1) =="
  scripts/build.sh "$1"
}

test_suite() {
  local kind="$1"
  echo "== test ($kind) =="
  # Integration tests start real servers on loopback; run binaries one at a
  # time so two suites never compete for the two cores.
  local responses="$servers_dir/responses-$kind.jsonl"
  EVENTLOGGER_TEST_RESPONSE_LOG="$responses" \
    ctest --test-dir "build/$kind" --output-on-failure --timeout 1200 -j 1
  echo "== responses against the OpenAPI document ($kind) =="
  node tests/openapi/validate_responses.js src/http/openapi/openapi.json "$responses"
}

# clang-tidy over src/ with the checked-in .clang-tidy (any finding fails),
# beside the tests: they mostly wait on sockets and servers, and the lint
# runs at the lowest priority, so it takes only idle CPU.
start_lint() {
  nice -n 19 scripts/lint.sh >"$servers_dir/lint.log" 2>&1 &
  lint_pid=$!
}

# libFuzzer on the network-facing parsers, briefly (scripts/fuzz.sh runs
# longer on demand; crashes found become tests/fuzz/regressions inputs),
# beside the tests as the lint is.
start_fuzz() {
  nice -n 19 scripts/fuzz.sh "${EVENTLOGGER_FUZZ_SECONDS:-10}" >"$servers_dir/fuzz.log" 2>&1 &
  fuzz_pid=$!
}

if [ "$sanitize" -eq 1 ]; then
  # One build of the tests, the sanitizers', with each test binary run whole
  # (a process per case cost minutes of sanitizer start-up); the release
  # build is the shipped binary only. Building the tests twice made CI run
  # past 30 minutes on two cores.
  EVENTLOGGER_BUILD_TESTS=OFF build_suite release
  start_lint
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_init_order=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  EVENTLOGGER_TEST_PER_CASE=OFF build_suite sanitize
  start_fuzz
  test_suite sanitize
  # The tests that run the binary itself (its command line, signals,
  # kill -9, restarts, jemalloc's settings) once more on the release one.
  echo "== test (the release binary) =="
  EVENTLOGGER_TEST_BINARY="$PWD/build/release/eventlogger" EVENTLOGGER_TEST_BINARY_JEMALLOC=1 \
    EVENTLOGGER_TEST_BACKEND=embedded build/sanitize/tests/integration_test --gtest_brief=1 \
    --gtest_filter='ProcessTest.*:CrashTest.*:PrivacyProcessTest.*:CliTest.*:PrivacyCliTest.*:SecureDefaultTest.*:LambdaTest.*'
else
  build_suite release
  start_lint
  start_fuzz
  test_suite release
fi
echo "== lint (clang-tidy) =="
if ! wait "$lint_pid"; then
  cat "$servers_dir/lint.log" >&2
  exit 1
fi
tail -1 "$servers_dir/lint.log"
echo "== fuzz =="
if ! wait "$fuzz_pid"; then
  cat "$servers_dir/fuzz.log" >&2
  exit 1
fi
cat "$servers_dir/fuzz.log"
echo "== all tests passed =="
