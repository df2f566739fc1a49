#!/usr/bin/env python3
"""The Lambda package (scripts/package-lambda.sh) is self-contained: every
library the binary loads, as `ldd` resolves it, is in the package, and the
package's bootstrap, started with an empty environment, serves an
invocation from a Runtime API on loopback (a minimal one here, written
from AWS's documented interface). Usage: package_test.py ROOT BINARY"""
import http.server
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest

ROOT, BINARY = sys.argv.pop(1), sys.argv.pop(1)
API = "/2018-06-01/runtime/"


class RuntimeApi(http.server.ThreadingHTTPServer):
    """Hands out the queued events and keeps what comes back."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), RuntimeApiHandler)
        self.events = queue.Queue()
        self.answers = queue.Queue()


class RuntimeApiHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"{}", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path != API + "invocation/next":
            return self.reply(404)
        request_id, event = self.server.events.get()
        self.reply(200, event.encode(), [("Lambda-Runtime-Aws-Request-Id", request_id),
                                         ("Lambda-Runtime-Deadline-Ms", "9999999999999"),
                                         ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000001")])

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.answers.put((self.path, body.decode()))
        self.reply(202)


class PackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="eventlogger-package-")
        cls.out = os.path.join(cls.dir, "package")
        subprocess.run([os.path.join(ROOT, "scripts/package-lambda.sh"), cls.out, BINARY], check=True,
                       stdout=subprocess.DEVNULL)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_every_library_the_binary_loads_comes_from_the_package(self):
        lib = os.path.join(self.out, "lib")
        loader = [f for f in os.listdir(lib) if f.startswith("ld-linux")]
        self.assertEqual(len(loader), 1)
        # The loader the bootstrap uses, asked where each library comes from.
        listing = subprocess.run([os.path.join(lib, loader[0]), "--list", "--library-path", lib,
                                  os.path.join(self.out, "eventlogger")],
                                 check=True, capture_output=True, text=True, env={}).stdout
        resolved = [line.split("=>")[1].split("(")[0].strip() for line in listing.splitlines() if "=>" in line]
        self.assertGreater(len(resolved), 5, listing)
        for path in resolved:
            self.assertTrue(path.startswith(lib + "/"), "%s is not from the package:\n%s" % (path, listing))
        self.assertTrue(os.path.isfile(os.path.join(self.out, "ca-certificates.crt")))
        self.assertTrue(os.access(os.path.join(self.out, "bootstrap"), os.X_OK))

    def test_the_bootstrap_serves_an_invocation_with_an_empty_environment(self):
        api = RuntimeApi()
        threading.Thread(target=api.serve_forever, daemon=True).start()
        data = os.path.join(self.dir, "data")
        env = {"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:%d" % api.server_address[1],
               "EVENTLOGGER_DATA_DIR": data, "EVENTLOGGER_INSECURE": "true"}
        process = subprocess.Popen([os.path.join(self.out, "bootstrap")], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            event = {"version": "2.0", "rawPath": "/healthz", "rawQueryString": "", "headers": {},
                     "requestContext": {"http": {"method": "GET", "path": "/healthz", "sourceIp": "192.0.2.1"}},
                     "isBase64Encoded": False}
            api.events.put(("request-1", json.dumps(event)))
            path, body = api.answers.get(timeout=30)
            self.assertEqual(path, API + "invocation/request-1/response")
            answer = json.loads(body)
            self.assertEqual(answer["statusCode"], 200)
            self.assertEqual(json.loads(answer["body"]), {"status": "ok"})
        finally:
            process.kill()
            output = process.communicate()[0].decode(errors="replace")
            api.shutdown()
        self.assertIn('"msg":"ready"', output)


if __name__ == "__main__":
    unittest.main()
