#!/usr/bin/env python3
"""Logins under load: what a login costs, per build, side by side.

Each build gets a node on its own data directory with ACCOUNTS accounts
(signed up once). Per run the node is restarted and CLIENTS clients log in
for SECONDS, each from its own address (127.0.0.x, so that the per-address
counts work as for real clients), each login a random account, one in four
with a wrong password (a real 401, counted by every login limit); the
limits are set high enough that none refuses. Latency is from the send to
the answer; throughput is answers per second; errors are anything but 200
for a right password and 401 for a wrong one, or no answer. The node's CPU
per login is read from /proc over the run. Builds alternate, the first going
first every other round. Prints each run, then median (min-max) per build.
usage: tests/bench/login_bench.py [rounds=3] [binary...]
(default binary: build/bench/emporium; name two to compare builds)
"""
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import harness  # noqa: E402
from spread import spread  # noqa: E402

ACCOUNTS = 200
CLIENTS = 8
SECONDS = 10
PASSWORD = "bench-pass-1"
LIMITS = ["--login-failures-per-minute-ip", "100000",
          "--login-failures-per-minute-account", "100000"]


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def node_for(binary, data_dir):
    harness.BINARY = binary  # Node.command reads it when it starts
    return harness.Node(data_dir=data_dir, extra_args=LIMITS)


def sign_up(binary, data_dir):
    node = node_for(binary, data_dir).start()
    try:
        for i in range(ACCOUNTS):
            status, body, _ = node.request("POST", "/api/auth/register",
                                           {"email": f"user{i}@bench.test", "password": PASSWORD})
            assert status == 200, (status, body)
    finally:
        node.terminate()


def one_run(binary, data_dir, seed):
    node = node_for(binary, data_dir).start()
    results = []  # (ms, ok)
    lock = threading.Lock()
    stop_at = time.monotonic() + SECONDS

    def client(n):
        rng = random.Random(seed * 100 + n)
        source = f"127.0.0.{10 + n}"
        while time.monotonic() < stop_at:
            wrong = rng.random() < 0.25
            body = {"email": f"user{rng.randrange(ACCOUNTS)}@bench.test",
                    "password": "wrong-pass-1" if wrong else PASSWORD}
            start = time.monotonic()
            try:
                status, _, _ = node.request("POST", "/api/auth/login", body, source=source)
            except OSError:
                status = 0
            ms = (time.monotonic() - start) * 1000
            with lock:
                results.append((ms, status == (401 if wrong else 200)))

    try:
        cpu_before = cpu_seconds(node.proc.pid)
        started = time.monotonic()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        cpu = cpu_seconds(node.proc.pid) - cpu_before
    finally:
        node.terminate()
    ms = sorted(m for m, _ in results)
    return {"logins_s": len(results) / elapsed, "p50_ms": ms[len(ms) // 2],
            "p99_ms": ms[min(len(ms) - 1, int(len(ms) * 0.99))],
            "cpu_ms_per_login": cpu * 1000 / max(1, len(results)),
            "errors": sum(1 for _, ok in results if not ok)}


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    binaries = sys.argv[2:] or ["build/bench/emporium"]
    binaries = [os.path.abspath(b) for b in binaries]
    scratch = tempfile.mkdtemp(prefix="login-bench-")
    try:
        dirs = {}
        for i, b in enumerate(binaries):
            dirs[b] = os.path.join(scratch, str(i))
            os.makedirs(dirs[b])
            sign_up(b, dirs[b])
        runs = {b: [] for b in binaries}
        for r in range(rounds):
            for b in (binaries if r % 2 == 0 else binaries[::-1]):
                run = one_run(b, dirs[b], r)
                runs[b].append(run)
                print(b, json.dumps({k: round(v, 2) for k, v in run.items()}), flush=True)
        print(f"| build | logins/s ({CLIENTS} clients) | p50 | p99 | node CPU per login | errors |")
        print("|---|---|---|---|---|---|")
        for b in binaries:
            rs = runs[b]
            col = lambda k, f: spread([r[k] for r in rs], f)
            print(f"| {b} | {col('logins_s', lambda x: f'{x:.1f}')} "
                  f"| {col('p50_ms', lambda x: f'{x:.0f} ms')} "
                  f"| {col('p99_ms', lambda x: f'{x:.0f} ms')} "
                  f"| {col('cpu_ms_per_login', lambda x: f'{x:.1f} ms')} "
                  f"| {sum(r['errors'] for r in rs)} |")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
