#!/usr/bin/python3
"""Checks one SQS request our client sent against botocore, for
sqs_botocore_test.cc.

Usage: botocore_sqs_check.py INPUT_JSON

INPUT_JSON holds: operation (e.g. "SendMessage"), params (the operation's
input as botocore takes it, e.g. {"QueueUrl": ..., "MessageBody": ...}),
and the request our client sent: method, url, headers ([[name, value], ...]),
body (text); plus region, access_key, secret_key, token (may be empty).

Three checks, each against botocore's own code and SQS service model
(Debian's python3-botocore, which speaks SQS's query protocol):
  1. params are valid input for the operation (botocore's ParamValidator):
     the test describes the call in the model's terms, not ours;
  2. the form body, decoded, holds exactly the fields botocore's query
     serializer writes for those params (the order of form fields is free),
     and the request is a form POST to "/";
  3. botocore's SigV4Auth, signing our request (the headers we signed, our
     body, at our X-Amz-Date, for service "sqs"), computes our Authorization.
Exits 0 if all hold; otherwise 1 with every difference on stderr, or 3 if
botocore is missing or no longer speaks the query protocol for SQS (the
test must then fail, never pass vacuously).
"""

import datetime
import json
import os
import sys
import urllib.parse

try:
    import botocore
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    import botocore.serialize
    import botocore.session
    import botocore.validate
except ImportError as error:
    sys.stderr.write(f"botocore is not importable by {sys.executable}: {error}; install Debian's python3-botocore\n")
    sys.exit(3)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from botocore_sign import pin_botocore_clock  # noqa: E402  (beside this file)


def check_serialization(model, given, problems):
    operation = model.operation_model(given["operation"])
    report = botocore.validate.ParamValidator().validate(given["params"], operation.input_shape)
    if report.has_errors():
        problems.append("the test's params are not valid botocore input: " + report.generate_report())
        return
    expected = botocore.serialize.create_serializer("query").serialize_to_request(given["params"], operation)
    ours = urllib.parse.parse_qsl(given["body"], keep_blank_values=True, strict_parsing=True)
    names = [name for name, _ in ours]
    if len(names) != len(set(names)):
        problems.append(f"a form field is repeated: {names}")
    theirs = sorted((str(name), str(value)) for name, value in expected["body"].items())
    if sorted(ours) != theirs:
        problems.append(f"form fields differ:\n  ours:     {sorted(ours)}\n  botocore: {theirs}")
    if given["method"] != expected["method"]:
        problems.append(f"method {given['method']}, botocore {expected['method']}")
    path = urllib.parse.urlsplit(given["url"]).path
    if path != expected["url_path"]:
        problems.append(f"path {path!r}, botocore {expected['url_path']!r}")
    content_type = [value for name, value in given["headers"] if name.lower() == "content-type"]
    if not content_type or not content_type[0].startswith("application/x-www-form-urlencoded"):
        problems.append(f"Content-Type {content_type}, botocore {expected['headers'].get('Content-Type')}")


def check_signature(given, problems):
    headers = {name.lower(): value for name, value in given["headers"]}
    authorization = headers.get("authorization", "")
    prefix = "AWS4-HMAC-SHA256 "
    fields = dict(part.strip().split("=", 1) for part in authorization[len(prefix):].split(","))
    signed = fields.get("SignedHeaders", "").split(";")
    for required in ["content-type", "host", "x-amz-date"] + (["x-amz-security-token"] if given["token"] else []):
        if required not in signed:
            problems.append(f"{required} is not signed (SignedHeaders={fields.get('SignedHeaders')})")
    when = datetime.datetime.strptime(headers.get("x-amz-date", ""), "%Y%m%dT%H%M%SZ")
    pin_botocore_clock(when)
    credentials = botocore.credentials.Credentials(given["access_key"], given["secret_key"], given["token"] or None)
    request = botocore.awsrequest.AWSRequest(method=given["method"], url=given["url"], data=given["body"].encode())
    for name, value in given["headers"]:
        if name.lower() in signed and name.lower() not in ("x-amz-date", "x-amz-security-token"):
            request.headers[name] = value
    botocore.auth.SigV4Auth(credentials, "sqs", given["region"]).add_auth(request)
    if request.headers["Authorization"] != authorization:
        problems.append(f"Authorization differs:\n  ours:     {authorization}\n  botocore: {request.headers['Authorization']}")


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    with open(argv[1], encoding="utf-8") as handle:
        given = json.load(handle)
    model = botocore.session.get_session().get_service_model("sqs")
    if model.protocol != "query":
        sys.stderr.write(f"botocore {botocore.__version__} speaks {model.protocol} to SQS, not query: "
                         "use Debian's python3-botocore (1.29)\n")
        return 3
    problems = []
    check_serialization(model, given, problems)
    check_signature(given, problems)
    for problem in problems:
        sys.stderr.write(problem + "\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
