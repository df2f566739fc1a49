#!/usr/bin/env bash
# Installs what eventlogger needs from Debian 12 packages.
#   scripts/install-deps.sh          build + run dependencies
#   scripts/install-deps.sh --test   also what the test suite needs
#   scripts/install-deps.sh --bench  also what the benchmark needs
# Packages already present are not reinstalled; apt runs only when something is missing.
set -euo pipefail

packages=(
  cmake g++ make pkg-config
  libboost-dev libboost-program-options-dev
  rapidjson-dev librocksdb-dev libsqlite3-dev libssl-dev libxxhash-dev
  libpq-dev unixodbc-dev zlib1g-dev libjemalloc-dev libpugixml-dev ca-certificates
)
for arg in "$@"; do
  case "$arg" in
    --test) packages+=(libgtest-dev libgmock-dev python3 python3-botocore python3-boto3
                       postgresql odbc-postgresql prometheus clang libclang-rt-14-dev clang-tidy python3-yaml curl openssl)
            # dynalite runs on Node.js; keep an existing Node (which may bundle
            # npm) rather than pull Debian's npm over it.
            command -v npm >/dev/null 2>&1 || packages+=(nodejs npm) ;;
    --bench) packages+=(wrk nginx-light procps iproute2 curl openssl) ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
