#!/usr/bin/env bash
# Quick start: install dependencies, build, and run the service on the
# embedded default stores (SQLite + RocksDB under ./data). Extra arguments go
# to `eventlogger serve`, e.g. scripts/run.sh --listen 127.0.0.1:9090
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
EVENTLOGGER_BUILD_TESTS=OFF scripts/build.sh release
exec build/release/eventlogger serve "$@"
