#!/usr/bin/env bash
# Packages the release binary as a self-contained AWS Lambda custom runtime
# (provided.al2023) in OUT_DIR: what `sam build` (BuildMethod: makefile,
# see Makefile) zips and uploads.
#   scripts/package-lambda.sh OUT_DIR [BINARY]
#
# OUT_DIR/
#   bootstrap      the entry point Lambda runs: starts the binary with the
#                  dynamic loader and libraries shipped beside it
#   eventlogger    the binary
#   lib/           every shared library `ldd` says it loads, the C library
#                  and the dynamic loader included
#   ca-certificates.crt  Debian's CA bundle: OpenSSL built here looks for
#                  CAs under /usr/lib/ssl, which Amazon Linux lacks
# Shipping the C library too makes the package independent of the
# runtime's: a binary linked on Debian 12 (glibc 2.36) would not start on
# Amazon Linux 2023 (glibc 2.34) with the system's. The build machine's
# architecture is the function's (x86_64 here).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

out="${1:?usage: scripts/package-lambda.sh OUT_DIR [BINARY]}"
binary="${2:-}"
if [ -z "$binary" ]; then
  (cd "$root" && EVENTLOGGER_BUILD_TESTS=OFF scripts/build.sh release >/dev/null)
  binary="$root/build/release/eventlogger"
fi
[ -x "$binary" ] || { echo "package-lambda: no binary at $binary" >&2; exit 2; }

mkdir -p "$out/lib"
cp "$binary" "$out/eventlogger"
strip --strip-debug "$out/eventlogger" 2>/dev/null || true
loader=""
# ldd lines: "libfoo.so.1 => /path/libfoo.so.1 (0x…)" or "/lib64/ld-linux-x86-64.so.2 (0x…)".
while read -r first second third _; do
  if [ "$second" = "=>" ] && [ -n "$third" ] && [ -f "$third" ]; then
    cp -L "$third" "$out/lib/$first"
  elif [[ "$first" == /* ]] && [ -f "$first" ]; then
    loader="$(basename "$first")"
    cp -L "$first" "$out/lib/$loader"
  fi
done < <(ldd "$binary")
[ -n "$loader" ] || { echo "package-lambda: ldd named no dynamic loader for $binary" >&2; exit 1; }
if ldd "$binary" | grep -q "not found"; then
  echo "package-lambda: a library of $binary is missing here:" >&2
  ldd "$binary" | grep "not found" >&2
  exit 1
fi

cp -L /etc/ssl/certs/ca-certificates.crt "$out/ca-certificates.crt"

cat >"$out/bootstrap" <<BOOTSTRAP
#!/bin/sh
# The Lambda entry point: the binary with the loader and libraries beside it.
here="\$(dirname "\$0")"
export SSL_CERT_FILE="\${SSL_CERT_FILE:-\$here/ca-certificates.crt}"
exec "\$here/lib/$loader" --library-path "\$here/lib" "\$here/eventlogger" lambda "\$@"
BOOTSTRAP
chmod 755 "$out/bootstrap" "$out/eventlogger" "$out/lib/$loader"
echo "packaged $(du -sh "$out" | cut -f1) in $out: bootstrap, eventlogger, $(ls "$out/lib" | wc -l) libraries"
