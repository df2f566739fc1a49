"""A Lambda Runtime API on loopback for Python tests and the benchmark,
written from AWS's documented interface (2018-06-01): the caller queues
events; the runtime takes them with GET …/invocation/next and posts its
answers, which are kept with the time they came."""
import http.server
import queue
import threading
import time

API = "/2018-06-01/runtime/"


class RuntimeApi(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.events = queue.Queue()    # (request_id, event_json)
        self.answers = queue.Queue()   # (path, body, monotonic time it came)
        self.next_calls = queue.Queue()  # monotonic time of each next
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def endpoint(self):
        return "127.0.0.1:%d" % self.server_address[1]

    def handle_error(self, request, client_address):
        pass  # a runtime killed mid-request (the benchmark does it) is no error of the API's

    def close(self):
        self.shutdown()
        self.server_close()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Head and body go out in separate writes: without this, Nagle holds
    # the body until the runtime's delayed ACK, 40 ms per invocation.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def _reply(self, status, body=b"{}", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path != API + "invocation/next":
            return self._reply(404)
        self.server.next_calls.put(time.monotonic())
        request_id, event = self.server.events.get()
        deadline_ms = int(time.time() * 1000) + 30000
        self._reply(200, event.encode(), [("Lambda-Runtime-Aws-Request-Id", request_id),
                                          ("Lambda-Runtime-Deadline-Ms", str(deadline_ms)),
                                          ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000001")])

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.answers.put((self.path, body.decode(), time.monotonic()))
        self._reply(202)


def http_api_event(method, path, body=None):
    """A payload 2.0 (HTTP API) proxy event."""
    event = {"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
             "headers": {"content-type": "application/json"},
             "requestContext": {"requestId": "bench", "http": {"method": method, "path": path, "sourceIp": "192.0.2.1"}},
             "isBase64Encoded": False}
    if body is not None:
        event["body"] = body
    return event
