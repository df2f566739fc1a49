#!/usr/bin/env python3
"""The Lambda package (scripts/package-lambda.sh) is self-contained: every
library the binary loads, as `ldd` resolves it, is in the package, and the
package's bootstrap, started with an empty environment, serves an
invocation from a Runtime API on loopback (tests/support/runtime_api.py).
Usage: package_test.py ROOT BINARY"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from runtime_api import API, RuntimeApi, http_api_event  # noqa: E402

ROOT, BINARY = sys.argv.pop(1), sys.argv.pop(1)


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
        data = os.path.join(self.dir, "data")
        env = {"AWS_LAMBDA_RUNTIME_API": api.endpoint,
               "EVENTLOGGER_DATA_DIR": data, "EVENTLOGGER_INSECURE": "true"}
        process = subprocess.Popen([os.path.join(self.out, "bootstrap")], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            api.events.put(("request-1", json.dumps(http_api_event("GET", "/healthz"))))
            path, body, _ = api.answers.get(timeout=30)
            self.assertEqual(path, API + "invocation/request-1/response")
            answer = json.loads(body)
            self.assertEqual(answer["statusCode"], 200)
            self.assertEqual(json.loads(answer["body"]), {"status": "ok"})
        finally:
            process.kill()
            output = process.communicate()[0].decode(errors="replace")
            api.close()
        self.assertIn('"msg":"ready"', output)


if __name__ == "__main__":
    unittest.main()
