#!/usr/bin/env python3
"""A restart on a large data directory: what the first seconds cost.

Per run, a Release node starts on the directory (each build on its own copy,
made once: a newer build migrates the files it opens), and the script
measures from exec: ready (/health/ready 200); then, at once, 48 buyers'
order history reads and 48 cart adds (product 1, taken back afterwards),
their p50 and max; and the node's CPU over the 8 s after ready. The node's
`orders_resumed` lines give how long after its opening each shard listed
its unfinished orders. Builds alternate, the first going first every other
round, after one start each that is not counted (a newer build migrates
its copy then). Prints each run, then median (min-max) per build.

The directory is one the order benchmarks keep (ORDERS_WORK of
tests/bench/order_cpu.sh: buyers signed up, their tokens in `tokens`),
grown by their runs; docs/benchmarks.md used one of 2.4 million orders.
usage: tests/bench/restart_bench.py <data-dir> [rounds=3] [binary...]
(default binary: build/bench/emporium; name two to compare builds)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from spread import spread  # noqa: E402
from harness import free_port  # noqa: E402  a port free and reserved for this process

BUYERS = 48


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def call(port, method, path, token, body=None):
    """(ms, status) of one request."""
    start = time.monotonic()
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Authorization": "Bearer " + token,
                                          "Content-Type": "application/json"})
    try:
        status = urllib.request.urlopen(req, timeout=60).status
    except urllib.error.HTTPError as e:
        status = e.code
    except OSError:
        status = 0  # no answer: counted as an error
    return (time.monotonic() - start) * 1000, status


def one_restart(binary, work):
    port = free_port()
    env = dict(os.environ, EMPORIUM_ADMIN_EMAIL="admin@bench.test",
               EMPORIUM_ADMIN_PASSWORD="bench-admin", EMPORIUM_REQUESTS_PER_SECOND_CLIENT="0",
               EMPORIUM_MAX_CONNECTIONS_PER_CLIENT="1000000")
    log_path = os.path.join(work, "node.log")
    mark = os.path.getsize(log_path) if os.path.exists(log_path) else 0
    started = time.monotonic()
    with open(log_path, "ab") as log:
        node = subprocess.Popen([binary, "--port", str(port), "--data-dir", work,
                                 "--metrics-port", "0", "--access-token-minutes", "10080"],
                                stdout=log, stderr=log, env=env)
    try:
        while True:
            if node.poll() is not None:
                raise RuntimeError(f"{binary} exited with {node.returncode} (see {log_path})")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=1).read()
                break
            except OSError:
                time.sleep(0.01)
        ready = time.monotonic() - started
        cpu_at_ready = cpu_seconds(node.pid)
        cpu_after = []  # read 8 s after ready, whatever the requests are doing then
        timer = threading.Timer(8, lambda: cpu_after.append(cpu_seconds(node.pid)))
        timer.start()
        tokens = open(os.path.join(work, "tokens")).read().split()[:BUYERS]
        history, adds = [], []
        threads = [threading.Thread(target=lambda t=t: history.append(
                       call(port, "GET", "/api/orders/history", t))) for t in tokens]
        threads += [threading.Thread(target=lambda t=t: adds.append(
                        call(port, "POST", "/api/cart/add", t, {"productId": 1, "quantity": 1})))
                    for t in tokens]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for t in tokens:  # the carts as they were
            call(port, "POST", "/api/cart/add", t, {"productId": 1, "quantity": -1})
        timer.join()
        cpu = cpu_after[0] - cpu_at_ready
    finally:
        node.terminate()
        node.wait()
    with open(log_path, "rb") as f:
        f.seek(mark)
        lines = [json.loads(l) for l in f.read().decode(errors="replace").splitlines()
                 if '"orders_resumed"' in l]
    listed = [int(l.get("listed_after_ms", 0)) for l in lines]
    hist_ms = sorted(ms for ms, _ in history)
    add_ms = sorted(ms for ms, _ in adds)
    return {"ready_ms": ready * 1000, "history_p50": hist_ms[len(hist_ms) // 2],
            "history_max": hist_ms[-1], "add_p50": add_ms[len(add_ms) // 2],
            "add_max": add_ms[-1], "cpu_8s": cpu,
            "errors": sum(1 for _, s in history + adds if s != 200),
            "shards_listed": len(lines), "listed_after_ms_max": max(listed) if listed else None,
            "orders_resumed": sum(int(l["orders"]) for l in lines)}


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    source = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    binaries = sys.argv[3:] or ["build/bench/emporium"]
    scratch = tempfile.mkdtemp(prefix="restart-bench-", dir=os.path.dirname(os.path.abspath(source)))
    try:
        copies = {}
        for i, b in enumerate(binaries):
            copies[b] = os.path.join(scratch, str(i))
            shutil.copytree(source, copies[b], symlinks=True)
        # A first start per build, not counted: a newer build migrates its
        # copy then (its ready time says how long that took), and the files
        # come into the page cache for every build alike.
        for b in binaries:
            print(b, "first start (not counted), ready after",
                  f"{one_restart(b, copies[b])['ready_ms']:.0f} ms", flush=True)
        runs = {b: [] for b in binaries}
        for r in range(rounds):
            order = binaries if r % 2 == 0 else binaries[::-1]
            for b in order:
                run = one_restart(b, copies[b])
                runs[b].append(run)
                print(b, json.dumps({k: round(v, 2) if isinstance(v, float) else v
                                     for k, v in run.items()}), flush=True)
        print("| build | ready after | history p50 | history max | cart add p50 | cart add max "
              "| node CPU in the 8 s after ready | errors |")
        print("|---|---|---|---|---|---|---|---|")
        for b in binaries:
            rs = runs[b]
            col = lambda k, f=lambda x: f"{x:.0f} ms": spread([r[k] for r in rs], f)
            print(f"| {b} | {col('ready_ms')} | {col('history_p50')} | {col('history_max')} "
                  f"| {col('add_p50')} | {col('add_max')} "
                  f"| {col('cpu_8s', lambda x: f'{x:.2f} s')} | {sum(r['errors'] for r in rs)} |")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
