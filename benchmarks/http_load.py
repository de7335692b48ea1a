"""A small load test of `policyengine serve`, on loopback only.

    .venv/bin/python benchmarks/http_load.py [--requests 3000] [--clients 8] [--engine durable]

Starts `policyengine serve` in a subprocess on a free 127.0.0.1 port, then `--clients` threads,
each with one keep-alive connection, send `--requests` requests in all: POST /run of the DOC
release scenario (the JSON contract), and every tenth request GET /rules/{id}. Every answer is
checked (status 200, and the /run body byte-identical to the first). Prints requests per second
and latency percentiles in milliseconds. Bounded: each request times out after 60 s and the
server is stopped at the end. A benchmark, not a test: the figures depend on the machine and
its load; docs/performance.md ("HTTP API") records a run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "doc-release-detainer-no-warrant.yaml"
RULE = "mn.state.no-detainer-hold"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(port: int, server: subprocess.Popen, limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("the server exited before it answered")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    sys.exit("the server did not start")


def client(port: int, jobs: list[int], body: bytes, expected: list[bytes], out: list[tuple[str, float]]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for n in jobs:
        kind = "GET /rules/{id}" if n % 10 == 9 else "POST /run"
        start = time.perf_counter()
        if kind == "POST /run":
            conn.request("POST", "/run", body=body, headers={"Content-Type": "application/json"})
        else:
            conn.request("GET", f"/rules/{RULE}")
        response = conn.getresponse()
        data = response.read()
        elapsed = (time.perf_counter() - start) * 1000
        if response.status != 200:
            raise SystemExit(f"{kind}: status {response.status}: {data[:200]!r}")
        if kind == "POST /run":
            if not expected:
                expected.append(data)
            elif data != expected[0]:
                raise SystemExit("POST /run answered differently from its first answer")
        out.append((kind, elapsed))
    conn.close()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--engine", choices=["durable", "reference"], default="durable")
    args = parser.parse_args()
    body = json.dumps(yaml.safe_load(SCENARIO.read_text()), default=str).encode()
    port = free_port()
    cmd = [sys.executable, "-m", "policyengine", "serve", "--port", str(port), "--engine", args.engine]
    server = subprocess.Popen(cmd, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        wait_up(port, server)
        warm = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        warm.request("POST", "/run", body=body)
        warm.getresponse().read()
        results: list[tuple[str, float]] = []
        expected: list[bytes] = []
        jobs = [list(range(i, args.requests, args.clients)) for i in range(args.clients)]
        threads = [threading.Thread(target=client, args=(port, j, body, expected, results), daemon=True) for j in jobs]
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
        wall = time.perf_counter() - start
        assert server.poll() is None, "the server died under load"
    finally:
        server.terminate()
        server.wait(timeout=30)
    if len(results) != args.requests:
        sys.exit(f"only {len(results)} of {args.requests} requests completed")
    print(f"engine {args.engine}, {args.clients} clients, {args.requests} requests, load average before: {load}")
    print(f"throughput: {args.requests / wall:.0f} requests/s over {wall:.1f} s")
    print(f"{'request':<18}{'count':>7}{'p50':>9}{'p90':>9}{'p99':>9}{'max':>9}  (ms)")
    for kind in ("POST /run", "GET /rules/{id}", "all"):
        times = [t for k, t in results if kind in ("all", k)]
        print(
            f"{kind:<18}{len(times):>7}{statistics.median(times):>9.1f}{pct(times, 90):>9.1f}"
            f"{pct(times, 99):>9.1f}{max(times):>9.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
