#!/usr/bin/env python3
"""Recovery: how long a node takes to serve again after SIGKILL, with
1,000,000 carts on disk and 10,000 orders whose sagas were in the middle
of their payment when it died; beside the same restart of a data directory
with neither (the demo catalog only).

Per run, on a fresh copy of the prepared directory (the carts are written
by tests/bench/bulk_data, as saved cart snapshots of random 32-hex users
with 3 lines each):
1. a Release node whose payment provider answers after 10 minutes takes
   `orders` real orders from 50 buyers (each order goes through the API:
   add to cart, place; its saga reserves the stock and calls the provider,
   and waits);
2. SIGKILL; the unfinished sagas are counted in the shard files (the same
   query the node resumes them with);
3. the node starts again (payments answered at once now) and the script
   measures from exec: ready (/health/ready 200), a cart read from disk
   answered, a catalog query answered, and every saga ended (Confirmed or
   Cancelled, counted in the files every 100 ms).
Prints median (min-max) over `runs`.
usage: tests/bench/recovery_bench.py [runs=3] [carts=1000000] [orders=10000]
RECOVERY_WORK=<dir> keeps the prepared directory (its carts) for the next call.
"""
import glob
import http.client
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.path.join(ROOT, "build", "bench", "emporium")
BULK = os.path.join(ROOT, "build", "bench", "tests", "bench", "bulk_data")
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
CARTS = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
ORDERS = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
BUYERS = 50
PASSWORD = "Kettle-Lamp-42"
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from harness import free_port, snapshot_keys  # noqa: E402  the node's snapshot key names


class Node:
    def __init__(self, data_dir, *flags):
        self.data_dir, self.port = data_dir, free_port()
        env = dict(os.environ, EMPORIUM_ADMIN_EMAIL="admin@bench.test",
                   EMPORIUM_ADMIN_PASSWORD="bench-admin",
                   EMPORIUM_MAX_CONNECTIONS_PER_CLIENT="1000000",
                   EMPORIUM_REQUESTS_PER_SECOND_CLIENT="0")
        self.log = open(os.path.join(data_dir, "node.log"), "ab")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [BINARY, "--port", str(self.port), "--data-dir", data_dir, "--metrics-port", "0",
             "--access-token-minutes", "10080", *flags], stdout=self.log, stderr=subprocess.STDOUT,
            env=env)

    def call(self, method, path, body=None, token=None, timeout=30):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        c.request(method, path, json.dumps(body) if body is not None else None, headers)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, (json.loads(data) if data else None)

    def wait_for(self, ok, limit=120):
        """Seconds from exec until ok() first holds."""
        deadline = time.time() + limit
        while time.time() < deadline:
            try:
                if ok():
                    return time.perf_counter() - self.started
            except OSError:
                pass
            time.sleep(0.01)
        raise RuntimeError("not within the limit; see " + self.data_dir + "/node.log")

    def ready(self):
        return self.call("GET", "/health/ready", timeout=2)[0] == 200

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)


def unfinished(data_dir):
    """Orders whose saga has not ended, over every shard file (as order_store.cpp asks)."""
    keys = snapshot_keys()
    status, compensated = keys[("order", "status")], keys[("order", "compensated")]
    n = 0
    for path in glob.glob(os.path.join(data_dir, "shard-*.db")):
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            n += db.execute(
                f"SELECT COUNT(*) FROM entities INDEXED BY entities_unfinished_orders "
                f"WHERE kind = 3 AND json_valid(state) AND "
                f"(json_extract(state, '$.{status}') NOT IN (4, 5) OR "
                f"(json_extract(state, '$.{status}') = 5 AND "
                f"json_extract(state, '$.{compensated}') = 0))").fetchone()[0]
        finally:
            db.close()
    return n


def prepare(work):
    """The demo directory and the one with the carts; buyers are bulk accounts."""
    for name, carts in (("base", 0), ("carts", CARTS)):
        d = os.path.join(work, name)
        if os.path.exists(os.path.join(d, "ready")):
            continue
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        node = Node(d)
        node.wait_for(node.ready)
        node.stop()
        subprocess.run([BULK, d, "0", str(BUYERS), PASSWORD, str(carts)], check=True,
                       stdout=subprocess.DEVNULL)
        open(os.path.join(d, "ready"), "w").close()


def place_orders(node):
    """ORDERS orders through the API from BUYERS buyers; returns how many were placed."""
    status, admin = node.call("POST", "/api/auth/login",
                              {"email": "admin@bench.test", "password": "bench-admin"})
    assert status == 200, admin
    products = list(range(1, 11))
    for pid in products:
        node.call("PUT", f"/api/products/{pid}/stock", {"quantity": 1_000_000_000},
                  token=admin["token"])
    tokens = []
    for i in range(BUYERS):
        status, body = node.call("POST", "/api/auth/login",
                                 {"email": f"user{i}@scale.test", "password": PASSWORD})
        assert status == 200, body
        tokens.append(body["token"])
    placed, failed, lock = [0], [0], threading.Lock()

    def buyer(k):
        c = http.client.HTTPConnection("127.0.0.1", node.port, timeout=30)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {tokens[k]}"}
        n = 0
        while True:
            with lock:
                if placed[0] >= ORDERS:
                    return
            pid = products[(k + n) % len(products)]
            n += 1
            for path, body in (("/api/cart/add", {"productId": pid, "quantity": 1}),
                               ("/api/orders/place", {"paymentMethodId": "pm_card_visa"})):
                h = dict(headers, **({"Idempotency-Key": f"r{k}-{n}"} if "place" in path else {}))
                c.request("POST", path, json.dumps(body), h)
                r = c.getresponse()
                r.read()
                if r.status != 200:
                    with lock:
                        failed[0] += 1
                    break
            else:
                with lock:
                    placed[0] += 1

    threads = [threading.Thread(target=buyer, args=(k,)) for k in range(BUYERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return placed[0], failed[0]


def one_run(work, source, with_orders):
    d = os.path.join(work, "run")
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(source, d)
    placed = failed = 0
    # No bound on the orders in progress: 10,000 sagas waiting on a provider
    # is the state this benchmark makes on purpose.
    node = Node(d, "--payment-latency-ms", "600000", "--payment-timeout-ms", "600000",
                "--payment-call-timeout-ms", "600000", "--reserve-ttl", "3600",
                "--max-orders-in-progress", "0")
    node.wait_for(node.ready)
    # A token from before the kill (the signing key is in the directory):
    # the reads after the restart do not wait for an Argon2 login.
    status, body = node.call("POST", "/api/auth/login",
                             {"email": "user0@scale.test", "password": PASSWORD})
    assert status == 200, body
    token = body["token"]
    if with_orders:
        placed, failed = place_orders(node)
        time.sleep(1.0)  # the last sagas reach the provider
    node.kill()
    left = unfinished(d)
    node = Node(d)
    ready = node.wait_for(node.ready)
    # A cart that is only on disk, and a catalog query, answered.
    cart = node.wait_for(lambda: node.call("GET", "/api/cart", token=token)[0] == 200)
    catalog = node.wait_for(lambda: node.call("GET", "/api/products?pageSize=20")[0] == 200)
    ended = node.wait_for(lambda: unfinished(d) == 0, limit=600)
    node.stop()
    shutil.rmtree(d, ignore_errors=True)
    return {"placed": placed, "failed": failed, "unfinished": left, "ready": ready, "cart": cart,
            "catalog": catalog, "ended": ended}


def spread(values):
    v = sorted(values)
    return f"{v[len(v) // 2]:.2f} ({v[0]:.2f}-{v[-1]:.2f})"


def main():
    subprocess.run([os.path.join(ROOT, "scripts", "build"), "bench"], check=True,
                   stdout=subprocess.DEVNULL)
    keep = os.environ.get("RECOVERY_WORK")
    work = keep or tempfile.mkdtemp(prefix="emporium-recovery-")
    os.makedirs(work, exist_ok=True)
    try:
        prepare(work)
        rows = {"base": [], "carts": []}
        for _ in range(RUNS):
            rows["base"].append(one_run(work, os.path.join(work, "base"), False))
            rows["carts"].append(one_run(work, os.path.join(work, "carts"), True))
            print(rows["base"][-1], rows["carts"][-1], file=sys.stderr, flush=True)
        print(f"| after SIGKILL, from exec | demo catalog only | {CARTS:,} carts on disk, "
              f"{ORDERS:,} orders placed, their sagas waiting on the provider |")
        print("|---|---|---|")
        for key, name in (("placed", "orders placed before the kill"),
                          ("failed", "requests refused while placing"),
                          ("unfinished", "unfinished sagas on disk at restart"),
                          ("ready", "ready (s)"), ("cart", "a cart read from disk answered (s)"),
                          ("catalog", "a catalog query answered (s)"),
                          ("ended", "every saga ended (s)")):
            print(f"| {name} | {spread([r[key] for r in rows['base']])} | "
                  f"{spread([r[key] for r in rows['carts']])} |")
        print(f"\n(median (min-max) of {RUNS} runs, interleaved; Release build, 127.0.0.1)")
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
