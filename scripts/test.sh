#!/usr/bin/env bash
# Quick start: install dependencies, build, and run every test; then build
# and run the whole suite again under AddressSanitizer + UBSan; lint the
# code (clang-tidy) and the OpenAPI document, and check every response
# against it; fuzz briefly.
#   scripts/test.sh               everything (what CI runs)
#   scripts/test.sh --no-sanitize skip the sanitizer pass (faster local runs)
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
  # Under the sanitizers the HTTP suite runs on the embedded stores only:
  # the server backends' code (libpq, ODBC, the DynamoDB client) runs under
  # them in the SQL store and DynamoDB tests, and the release pass runs the
  # HTTP suite on every backend. It keeps CI under 30 minutes on 2 cores.
  local skip=()
  [ "$kind" != sanitize ] || skip=(-E '^(postgres|odbc)-dynamodb/')
  EVENTLOGGER_TEST_RESPONSE_LOG="$responses" \
    ctest --test-dir "build/$kind" --output-on-failure --timeout 600 -j 1 "${skip[@]+"${skip[@]}"}"
  echo "== responses against the OpenAPI document ($kind) =="
  node tests/openapi/validate_responses.js src/http/openapi/openapi.json "$responses"
}

build_suite release
# clang-tidy over src/ with the checked-in .clang-tidy (any finding fails),
# beside the release tests: they mostly wait on sockets and servers, and
# the lint runs at the lowest priority, so it takes only idle CPU.
nice -n 19 scripts/lint.sh >"$servers_dir/lint.log" 2>&1 &
lint_pid=$!
test_suite release
echo "== lint (clang-tidy) =="
if ! wait "$lint_pid"; then
  cat "$servers_dir/lint.log" >&2
  exit 1
fi
tail -1 "$servers_dir/lint.log"
if [ "$sanitize" -eq 1 ]; then
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_init_order=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  build_suite sanitize
  test_suite sanitize
fi
# libFuzzer on the network-facing parsers, briefly (scripts/fuzz.sh runs
# longer on demand): crashes found become tests/fuzz/regressions inputs.
scripts/fuzz.sh "${EVENTLOGGER_FUZZ_SECONDS:-10}"
echo "== all tests passed =="
