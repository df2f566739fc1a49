#!/usr/bin/env python3
"""Cold start of `eventlogger lambda`: process start to its first GET
…/invocation/next (init), then the first invocation's latency (a POST,
then a GET of that user), measured against a Runtime API on loopback
(tests/support/runtime_api.py), on the embedded stores and, when the test
servers' environment is set (tests/support/test-servers.sh), on
PostgreSQL + dynalite.

  bench/lambda_cold_start.py [--binary B] [--runs N] [--out FILE.json]

Prints one line per backend (medians over the runs) and writes JSON."""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
from runtime_api import RuntimeApi, http_api_event  # noqa: E402


def one_cold_start(binary, backend_args, data_dir, env):
    api = RuntimeApi()
    started = time.monotonic()
    process = subprocess.Popen([binary, "lambda", "--insecure", "--data-dir", data_dir, "--access-log", "false"]
                               + backend_args, env=dict(env, AWS_LAMBDA_RUNTIME_API=api.endpoint),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        first_next = api.next_calls.get(timeout=60)
        user = "cold-%d" % random.randrange(1 << 30)
        body = json.dumps({"userId": user, "eventType": "bench", "jsonDetails": {"n": 1}})
        sent = time.monotonic()
        api.events.put(("post", json.dumps(http_api_event("POST", "/events", body))))
        _, answer, post_done = api.answers.get(timeout=60)
        assert json.loads(answer)["statusCode"] == 201, answer
        api.events.put(("get", json.dumps(http_api_event("GET", "/events/" + user))))
        _, answer, get_done = api.answers.get(timeout=60)
        assert json.loads(answer)["statusCode"] == 200, answer
        return {"initMs": (first_next - started) * 1000, "firstPostMs": (post_done - sent) * 1000,
                "firstGetMs": (get_done - post_done) * 1000}
    finally:
        process.kill()
        process.wait()
        api.close()


def backends():
    yield "embedded", [], {}
    postgres = os.environ.get("EVENTLOGGER_TEST_POSTGRES_URL")
    dynamo = os.environ.get("EVENTLOGGER_TEST_DYNAMODB_ENDPOINT")
    if postgres and dynamo:
        unique = "bench%d" % random.randrange(1 << 30)
        metadata = postgres + ("&" if "?" in postgres else "?") + "schema=" + unique
        documents = "dynamodb://Bench_%s?region=us-east-1&endpoint=%s" % (unique, dynamo)
        yield "pg-dynalite", ["--metadata", metadata, "--documents", documents], {
            "AWS_ACCESS_KEY_ID": "AKIDEVENTLOGGERBENCH", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "us-east-1"}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(ROOT, "build", "release", "eventlogger"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", default=os.path.join(HERE, "results", "lambda-cold-start.json"))
    args = parser.parse_args()
    results = {}
    for name, backend_args, extra_env in backends():
        env = dict(os.environ, **extra_env)
        env.pop("AWS_LAMBDA_RUNTIME_API", None)
        if backend_args:
            subprocess.run([args.binary, "migrate"] + backend_args, env=env, check=True, stdout=subprocess.DEVNULL)
        runs = []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="eventlogger-cold-") as data_dir:
                runs.append(one_cold_start(args.binary, backend_args, data_dir, env))
        summary = {key: round(statistics.median(run[key] for run in runs), 1) for key in runs[0]}
        results[name] = {"median": summary, "runs": runs}
        print("%-12s init (start → first next) %6.1f ms   first POST %6.1f ms   first GET %6.1f ms   (median of %d)"
              % (name, summary["initMs"], summary["firstPostMs"], summary["firstGetMs"], args.runs))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "binary": args.binary,
                   "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
