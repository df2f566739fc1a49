#!/usr/bin/python3
"""Signs one request with botocore, as a reference for sigv4_botocore_test.cc.

Usage: botocore_sign.py INPUT_FILE

INPUT_FILE has one "field value" pair per line (split at the first space):
  signer     sigv4 | s3v4   (botocore.auth.SigV4Auth or S3SigV4Auth)
  method     e.g. POST
  url        full URL, e.g. https://dynamodb.eu-west-1.amazonaws.com/
  region     e.g. eu-west-1
  service    e.g. dynamodb
  time       signing time, YYYYMMDDTHHMMSSZ (UTC)
  access_key, secret_key, token (token may be absent)
  header     "Name:value", value verbatim; repeat for several headers,
             duplicates allowed
  body_hex   the body, hex-encoded (so that any bytes survive)

Writes to stdout one line "header<TAB>lowercase-name<TAB>value" for each of
Authorization, X-Amz-Date, X-Amz-Security-Token and X-Amz-Content-SHA256 that
botocore set, then a line "canonical-request-follows" and botocore's canonical
request verbatim. Exits non-zero, with the reason on stderr, if botocore cannot
be imported or the pinned time did not take effect: the calling test must then
fail, never pass vacuously.
"""

import datetime
import sys
import types

try:
    import botocore
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
except ImportError as error:
    sys.stderr.write(
        f"botocore is not importable by {sys.executable}: {error}; "
        "install Debian's python3-botocore\n")
    sys.exit(3)

REPORTED_HEADERS = [
    "Authorization", "X-Amz-Date", "X-Amz-Security-Token",
    "X-Amz-Content-SHA256",
]


def read_input(path):
    fields = {}
    headers = []
    with open(path, encoding="utf-8") as handle:
        for line in handle.read().split("\n"):
            if not line:
                continue
            field, _, value = line.partition(" ")
            if field == "header":
                name, _, header_value = value.partition(":")
                headers.append((name, header_value))
            else:
                fields[field] = value
    return fields, headers


def pin_botocore_clock(when):
    """Makes botocore.auth see `when` as the current UTC time.

    botocore reads the clock through its module-level `datetime` import, so a
    private copy of the module with a pinned `datetime` class is swapped in
    there; nothing else in the process is affected.
    """

    class PinnedDatetime(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return when

        @classmethod
        def now(cls, tz=None):
            if tz is None:
                return when
            return when.replace(tzinfo=datetime.timezone.utc).astimezone(tz)

    pinned_module = types.ModuleType("datetime")
    pinned_module.__dict__.update(datetime.__dict__)
    pinned_module.datetime = PinnedDatetime
    botocore.auth.datetime = pinned_module


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    fields, headers = read_input(argv[1])
    when = datetime.datetime.strptime(fields["time"], "%Y%m%dT%H%M%SZ")
    pin_botocore_clock(when)

    credentials = botocore.credentials.Credentials(
        fields["access_key"], fields["secret_key"], fields.get("token") or None)
    signer_class = {
        "sigv4": botocore.auth.SigV4Auth,
        "s3v4": botocore.auth.S3SigV4Auth,
    }[fields["signer"]]
    signer = signer_class(credentials, fields["service"], fields["region"])

    captured = []
    original_canonical_request = signer.canonical_request

    def capture_canonical_request(request):
        canonical = original_canonical_request(request)
        captured.append(canonical)
        return canonical

    signer.canonical_request = capture_canonical_request

    request = botocore.awsrequest.AWSRequest(
        method=fields["method"], url=fields["url"],
        data=bytes.fromhex(fields.get("body_hex", "")))
    for name, value in headers:
        # HTTPHeaders appends on assignment, so repeated names stay repeated.
        request.headers[name] = value
    signer.add_auth(request)

    if request.headers.get("X-Amz-Date") != fields["time"]:
        signed_at = request.headers.get("X-Amz-Date")
        sys.stderr.write(
            "pinning botocore's clock had no effect (botocore "
            f"{botocore.__version__} signed at {signed_at})\n")
        return 4

    out = []
    for name in REPORTED_HEADERS:
        value = request.headers.get(name)
        if value is not None:
            out.append(f"header\t{name.lower()}\t{value}\n")
    out.append("canonical-request-follows\n")
    out.append(captured[-1] if captured else "")
    sys.stdout.buffer.write("".join(out).encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
