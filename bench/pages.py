#!/usr/bin/env python3
"""The read path under load: pages of GET /events/{userId}, next to nginx serving the same bytes.

    bench/pages.py [--binary PATH] [--duration S] [--runs N] [--quick] [--out FILE]

Starts `eventlogger serve` (embedded stores, a fresh temporary data dir) on 127.0.0.1, pre-loads
one user per history size in HISTORIES, walks each user's pages once to collect their cursors,
then runs every scenario in SCENARIOS with wrk, alternating each service run with an nginx run
that answers the same paths with the same body. Each row is its side's best run; the ratio is
service / nginx. The full walk (every page of the 10k user, one client, one page after another)
is timed separately. Writes JSON to bench/results/pages-latest.json. Everything it starts
listens on 127.0.0.1 and is stopped at the end, also on failure or Ctrl-C.

Needs wrk and nginx (scripts/install-deps.sh --bench) and a release build (scripts/build.sh
release, or --binary).
"""
import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET = "bench-pages-cursor-secret-0123456789"
DETAILS_BYTES = 150  # as the get-hot scenario of bench/run.sh

# One user per history size: the page cost must not depend on it.
HISTORIES = {"pages-1k": 1_000, "pages-10k": 10_000, "pages-100k": 100_000}

# name: (user, which targets, what it shows)
#   first   the default query's first page: the read cache's
#   pages   every page of the user but the first, through its cursor (never cached)
SCENARIOS = [
    ("page-cached-10k", "pages-10k", "first", "first page of a 10k-event user, from the read cache"),
    ("page-uncached-10k", "pages-10k", "pages", "random pages (by cursor) of a 10k-event user, from RocksDB"),
    ("page-uncached-1k", "pages-1k", "pages", "random pages of a 1k-event user"),
    ("page-uncached-100k", "pages-100k", "pages", "random pages of a 100k-event user"),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port, path, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", path)
            if c.getresponse().status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def details(rng):
    head = '{"ip":"10.%d.%d.%d","device":"Chrome","amount":%d.%02d,"pad":"' % (
        rng.randrange(256), rng.randrange(256), rng.randrange(1, 255), rng.randrange(1, 500), rng.randrange(100))
    pad = max(0, DETAILS_BYTES - len(head) - 2)
    return head + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(pad)) + '"}'


def preload(port, user, count, writers=8):
    """POSTs `count` events for `user` from `writers` keep-alive connections."""
    errors = []

    def work(index, n):
        rng = random.Random(index)
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        types = ["view", "click", "bet", "login"]
        for i in range(n):
            body = json.dumps({"userId": user, "eventType": types[i % 4], "jsonDetails": json.loads(details(rng))})
            c.request("POST", "/events", body, {"Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            if r.status not in (201, 202):
                errors.append(r.status)
                return

    share = [count // writers + (1 if i < count % writers else 0) for i in range(writers)]
    threads = [threading.Thread(target=work, args=(i, n)) for i, n in enumerate(share)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"pre-load of {user} failed: HTTP {errors[0]}")


def next_target(response):
    link = response.getheader("Link") or ""
    m = re.fullmatch(r"<([^>]+)>; rel=\"next\"", link)
    return m.group(1) if m else None


def walk(port, first):
    """Every page from `first` on: (targets, bodies, events, seconds)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    targets, bodies, events = [], [], 0
    target = first
    started = time.perf_counter()
    while target:
        c.request("GET", target)
        r = c.getresponse()
        body = r.read()
        if r.status != 200:
            raise SystemExit(f"GET {target}: HTTP {r.status} {body[:200]!r}")
        targets.append(target)
        bodies.append(body)
        events += body.count(b'"eventId"')
        target = next_target(r)
    return targets, bodies, events, time.perf_counter() - started


def cpu_seconds(pid):
    """(user, system) CPU seconds the process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def wrk(port, targets_file, duration, connections, threads, pid=None):
    cpu0 = cpu_seconds(pid) if pid else (0, 0)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "--latency",
         "-s", os.path.join(ROOT, "bench", "wrk", "targets.lua"), f"http://127.0.0.1:{port}"],
        env={**os.environ, "BENCH_TARGETS": targets_file}, capture_output=True, text=True,
        timeout=duration + 60).stdout
    cpu1 = cpu_seconds(pid) if pid else (0, 0)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99_ms = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)] if p99 else None
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rate": rate, "p99Ms": p99_ms, "non2xx": int(bad.group(1)) if bad else 0,
            "cpuUsPerRequest": (cpu1[0] + cpu1[1] - cpu0[0] - cpu0[1]) / requests * 1e6 if pid and requests else None,
            "systemCpuUsPerRequest": (cpu1[1] - cpu0[1]) / requests * 1e6 if pid and requests else None}


def start_nginx(tmp, body):
    d = os.path.join(tmp, "nginx")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "www"))
    os.makedirs(os.path.join(d, "tmp"))
    with open(os.path.join(d, "www", "page.json"), "wb") as f:
        f.write(body)
    port = free_port()
    conf = f"""worker_processes 2;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off; server_tokens off; sendfile on; tcp_nodelay on;
  keepalive_requests 1000000000; keepalive_timeout 300s;
  open_file_cache max=16 inactive=600s; open_file_cache_valid 600s;
  client_body_temp_path {d}/tmp/body; proxy_temp_path {d}/tmp/proxy; fastcgi_temp_path {d}/tmp/fastcgi;
  uwsgi_temp_path {d}/tmp/uwsgi; scgi_temp_path {d}/tmp/scgi;
  server {{
    listen 127.0.0.1:{port};
    root {d}/www;
    add_header X-Request-Id 5f0c2a9e1b7d43aa0001 always;
    location /events/ {{ default_type application/json; try_files /page.json =404; }}
  }}
}}
"""
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(conf)
    os.system(f"chmod -R a+rX {d}")
    proc = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-p", d, "-c", f"{d}/nginx.conf",
                             "-e", f"{d}/error.log"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_http(port, "/events/x"):
        proc.kill()
        raise SystemExit("nginx did not start")
    return proc, port


def stop(proc):
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def metric(port, name):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("GET", "/metrics")
    for line in c.getresponse().read().decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--binary", default=os.path.join(ROOT, "build", "release", "eventlogger"))
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--runs", type=int, default=2)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--quick", action="store_true", help="3 s runs, one run each")
    p.add_argument("--scenarios", help="comma-separated subset of: " + ", ".join(n for n, *_ in SCENARIOS))
    p.add_argument("--serve-args", default="", help="extra flags for eventlogger serve")
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "pages-latest.json"))
    args = p.parse_args()
    if args.quick:
        args.duration, args.runs = 3, 1
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
            sys.exit(f"bench/pages.py: {tool} is missing (scripts/install-deps.sh --bench)")

    tmp = tempfile.mkdtemp(prefix="eventlogger-pages-")
    os.chmod(tmp, 0o755)  # nginx's workers (another user when run as root) must reach its files
    service = nginx = None
    try:
        port = free_port()
        log = open(os.path.join(tmp, "service.log"), "w")
        service = subprocess.Popen(
            [args.binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", os.path.join(tmp, "data"),
             "--access-log", "false", "--cursor-secret", SECRET] + args.serve_args.split(), stdout=log, stderr=log)
        if not wait_http(port, "/healthz"):
            sys.exit("eventlogger did not start; see " + log.name)
        started = time.perf_counter()
        for user, count in HISTORIES.items():
            preload(port, user, count)
        print(f"pre-loaded {sum(HISTORIES.values())} events in {time.perf_counter() - started:.1f} s", flush=True)

        pages = {}
        for user, count in HISTORIES.items():
            targets, bodies, events, seconds = walk(port, f"/events/{user}")
            if events != count:
                sys.exit(f"walk of {user} saw {events} events, expected {count}")
            pages[user] = (targets, bodies)
        # The full walk, timed: best of five, after the one above warmed the caches.
        walks = [walk(port, "/events/pages-10k")[3] for _ in range(5)]
        full_walk = {"user": "pages-10k", "pages": len(pages["pages-10k"][0]), "bestSeconds": min(walks),
                     "medianSeconds": sorted(walks)[2]}
        print(f"full walk of pages-10k: {full_walk['pages']} pages in {min(walks) * 1000:.1f} ms "
              f"({min(walks) / full_walk['pages'] * 1e6:.0f} us a page, one client)", flush=True)

        rows = []
        wanted = set(args.scenarios.split(",")) if args.scenarios else None
        for name, user, which, what in SCENARIOS:
            if wanted is not None and name not in wanted:
                continue
            targets, bodies = pages[user]
            chosen = targets[:1] if which == "first" else targets[1:]
            body = bodies[0] if which == "first" else bodies[len(bodies) // 2]
            targets_file = os.path.join(tmp, name + ".targets")
            with open(targets_file, "w") as f:
                f.write("\n".join(chosen) + "\n")
            hits0 = metric(port, "eventlogger_read_cache_hits_total")
            service_runs, nginx_runs = [], []
            for _ in range(args.runs):
                service_runs.append(wrk(port, targets_file, args.duration, args.connections, args.threads, service.pid))
                nginx, nginx_port = start_nginx(tmp, body)
                nginx_runs.append(wrk(nginx_port, targets_file, args.duration, args.connections, args.threads))
                stop(nginx)
                nginx = None
            hits = metric(port, "eventlogger_read_cache_hits_total") - hits0
            best = max(r["rate"] for r in service_runs)
            ceiling = max(r["rate"] for r in nginx_runs)
            served = sum(r["rate"] for r in service_runs) * args.duration
            row = {"scenario": name, "what": what, "bodyBytes": len(body), "targets": len(chosen),
                   "rate": best, "nginxRate": ceiling, "ratio": best / ceiling,
                   "p99Ms": max(r["p99Ms"] or 0 for r in service_runs),
                   "cpuUsPerRequest": min(r["cpuUsPerRequest"] for r in service_runs),
                   "systemCpuUsPerRequest": min(r["systemCpuUsPerRequest"] for r in service_runs),
                   "cacheHitShare": min(1.0, hits / served) if served else 0,
                   "non2xx": sum(r["non2xx"] for r in service_runs), "runs": service_runs, "nginxRuns": nginx_runs}
            rows.append(row)
            print(f"{name:20} {best:>9,.0f} req/s  nginx {ceiling:>9,.0f}  ratio {row['ratio']:.3f}  "
                  f"p99 {row['p99Ms']:.2f} ms  CPU {row['cpuUsPerRequest']:.0f} us/req ({row['systemCpuUsPerRequest']:.0f} system)  body {len(body):,} B  cache hits {row['cacheHitShare']:.0%}", flush=True)
        result = {"binary": args.binary, "duration": args.duration, "runs": args.runs,
                  "connections": args.connections, "threads": args.threads, "histories": HISTORIES,
                  "fullWalk": full_walk, "rows": rows, "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
        print("wrote " + args.out)
    finally:
        stop(nginx)
        stop(service)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
