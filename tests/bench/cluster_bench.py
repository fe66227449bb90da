#!/usr/bin/env python3
"""Cluster benchmark, one run, printed as Markdown (README.md keeps the latest):

1. cart adds/s and catalog reads/s: one node alone vs a three-node cluster
   (through nginx as the front door, and straight at one node's edge);
2. latency of GET /api/cart for a user whose cart lives on the node asked
   vs on another node (p50/p99, 4 connections);
3. SIGKILL one node under cart-add load: time until its shards are served
   again, and the load's latency and errors over that window.

Everything runs on 127.0.0.1 with the Release binary (build/bench) and wrk;
load generator and nodes share this machine's cores.
usage: tests/bench/cluster_bench.py [seconds-per-phase=5]
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.path.join(ROOT, "build", "bench", "emporium")
SECS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
ADMIN = ("admin@bench.test", "bench-admin")
SHARDS = 12
LUA = os.path.join(ROOT, "tests", "bench", "cart_add_many.lua")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, method, path, body=None, token=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=30) as res:
        data = res.read()
        return json.loads(data) if data else None


def stable_hash(text):
    """actors/cluster/shard_map.cpp's hash, to know where a user's cart lives."""
    h = 14695981039346656037
    for c in text.encode():
        h ^= c
        h = (h * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & 0xFFFFFFFFFFFFFFFF
    h ^= h >> 33
    return h


class Nodes:
    def __init__(self, n, work):
        self.dir = os.path.join(work, f"data{n}")
        os.makedirs(self.dir)
        self.http = [free_port() for _ in range(n)]
        self.node_ports = [free_port() for _ in range(n)] if n > 1 else []
        self.procs = []
        seeds = ",".join(f"127.0.0.1:{p}" for p in self.node_ports)
        # The load comes from 127.0.0.1 alone: lift the per-client limits.
        env = dict(os.environ, EMPORIUM_ADMIN_EMAIL=ADMIN[0], EMPORIUM_ADMIN_PASSWORD=ADMIN[1],
                   EMPORIUM_JWT_SECRET="bench-secret-0123456789abcdef0123456789",
                   EMPORIUM_REGISTRATIONS_PER_MINUTE_IP="1000000",
                   EMPORIUM_MAX_CONNECTIONS_PER_CLIENT="1000000")
        for i in range(n):
            args = [BINARY, "--port", str(self.http[i]), "--data-dir", self.dir]
            if n > 1:
                args += ["--node-port", str(self.node_ports[i]), "--node-name", f"node{i + 1}",
                         "--seeds", seeds]
            log = open(os.path.join(self.dir, f"node{i + 1}.log"), "ab")
            self.procs.append(subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env))
        self.wait_formed(list(range(n)))

    def health(self, i):
        return call(self.http[i], "GET", "/health/ready")["checks"]["cluster"]

    def wait_formed(self, members, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                views = [self.health(i) for i in members]
                if all(v["liveMembers"] == len(members) and v["readyShards"] == v["ownedShards"]
                       for v in views) and sum(v["ownedShards"] for v in views) == SHARDS:
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError("nodes did not form")

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()


def wrk(url, conns, secs, script=None, env=None, threads=2):
    args = ["wrk", f"-t{min(threads, conns)}", f"-c{conns}", f"-d{secs}s", "--latency"]
    if script:
        args += ["-s", script]
    out = subprocess.run(args + [url], capture_output=True, text=True,
                         env=dict(os.environ, **(env or {}))).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "p50": lat.get("50", "?"), "p99": lat.get("99", "?"),
            "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errors.group(1).strip() if errors else "none"}


def users(port, n, prefix):
    tokens = {}
    for i in range(n):
        email = f"{prefix}{i}@bench.test"
        call(port, "POST", "/api/auth/register", {"email": email, "password": "Kettle-Lamp-42"})
        login = call(port, "POST", "/api/auth/login", {"email": email, "password": "Kettle-Lamp-42"})
        tokens[login["userId"]] = login["token"]
    return tokens


def prepare(port, tokens):
    admin = call(port, "POST", "/api/auth/login", {"email": ADMIN[0], "password": ADMIN[1]})["token"]
    call(port, "PUT", "/api/products/1/stock", {"quantity": 10_000_000}, admin)
    for t in tokens.values():
        call(port, "POST", "/api/cart/add", {"productId": 1, "quantity": 100}, t)
    return admin


def nginx_front(work, ports):
    port = free_port()
    conf = os.path.join(work, "nginx.conf")
    servers = "\n".join(f"    server 127.0.0.1:{p};" for p in ports)
    with open(conf, "w") as f:
        f.write(f"""worker_processes 2;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 1000000;
  upstream emporium {{
{servers}
    keepalive 256;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://emporium;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
""")
    proc = subprocess.Popen(["nginx", "-c", conf, "-p", work, "-g", "daemon off;"])
    time.sleep(0.5)
    return port, proc


def main():
    work = tempfile.mkdtemp(prefix="emporium-cluster-bench-")
    os.chmod(work, 0o755)
    rows = []
    query = "/api/products?category=Books&maxPrice=25"
    try:
        # -- 1. one node vs three --------------------------------------------
        one = Nodes(1, work)
        tokens = users(one.http[0], 64, "solo")
        prepare(one.http[0], tokens)
        env = {"EMPORIUM_BENCH_TOKENS": ",".join(tokens.values())}
        solo_cart = wrk(f"http://127.0.0.1:{one.http[0]}", 64, SECS, LUA, env)
        solo_read = wrk(f"http://127.0.0.1:{one.http[0]}{query}", 256, SECS)
        one.stop()

        three = Nodes(3, work)
        tokens = users(three.http[0], 64, "trio")
        admin = prepare(three.http[0], tokens)
        env = {"EMPORIUM_BENCH_TOKENS": ",".join(tokens.values())}
        front, nginx = nginx_front(work, three.http)
        try:
            trio_cart = wrk(f"http://127.0.0.1:{front}", 64, SECS, LUA, env)
            trio_read = wrk(f"http://127.0.0.1:{front}{query}", 256, SECS)
            edge_cart = wrk(f"http://127.0.0.1:{three.http[0]}", 64, SECS, LUA, env)
        finally:
            nginx.terminate()
            nginx.wait()
        print(f"## Cluster ({time.strftime('%Y-%m-%d', time.gmtime())}, {SECS} s per row)\n")
        print("| load | setup | requests/s | p50 | p99 | non-2xx | vs one node |")
        print("|---|---|---|---|---|---|---|")
        for name, solo, rows3 in (("cart add, 64 users, 64 conns", solo_cart,
                                   [("3 nodes via nginx", trio_cart),
                                    ("3 nodes, all load on node 1's edge", edge_cart)]),
                                  ("catalog query, 256 conns", solo_read,
                                   [("3 nodes via nginx", trio_read)])):
            print(f"| {name} | one node | {solo['rps']:.0f} | {solo['p50']} | {solo['p99']} "
                  f"| {solo['non2xx']} | 1.00 |")
            for label, r in rows3:
                print(f"| {name} | {label} | {r['rps']:.0f} | {r['p50']} | {r['p99']} "
                      f"| {r['non2xx']} | {r['rps'] / solo['rps']:.2f} |")

        # -- 2. local vs remote entity ------------------------------------------
        owners = call(three.http[0], "GET", "/api/cluster", token=admin)["owners"]
        local = next(t for u, t in tokens.items()
                     if owners[str(stable_hash(u) % SHARDS)] == "node1")
        remote = next(t for u, t in tokens.items()
                      if owners[str(stable_hash(u) % SHARDS)] != "node1")
        lat_local = wrk(f"http://127.0.0.1:{three.http[0]}/api/cart", 4, SECS,
                        os.path.join(ROOT, "tests", "bench", "get_cart.lua"),
                        {"EMPORIUM_BENCH_TOKEN": local}, threads=1)
        lat_remote = wrk(f"http://127.0.0.1:{three.http[0]}/api/cart", 4, SECS,
                         os.path.join(ROOT, "tests", "bench", "get_cart.lua"),
                         {"EMPORIUM_BENCH_TOKEN": remote}, threads=1)
        print("\n| GET /api/cart on node 1, 4 conns | requests/s | p50 | p99 |")
        print("|---|---|---|---|")
        for label, r in (("cart on node 1 (local)", lat_local),
                         ("cart on another node (one network hop each way)", lat_remote)):
            print(f"| {label} | {r['rps']:.0f} | {r['p50']} | {r['p99']} |")

        # -- 3. failover under load ---------------------------------------------
        window = max(SECS, 6)
        result = {}

        def load():
            result.update(wrk(f"http://127.0.0.1:{three.http[0]}", 16, window, LUA, env))

        loader = threading.Thread(target=load)
        loader.start()
        time.sleep(1.5)
        killed = time.time()
        three.procs[2].kill()
        three.wait_formed([0, 1])
        failover = time.time() - killed
        loader.join()
        print(f"\n| SIGKILL node 3 under cart-add load (16 conns on node 1, {window} s window) | value |")
        print("|---|---|")
        print(f"| kill -> its shards served again (both survivors agree, shards open) | {failover * 1000:.0f} ms |")
        print(f"| cart adds/s over the window | {result['rps']:.0f} |")
        print(f"| p50 / p99 over the window | {result['p50']} / {result['p99']} |")
        print(f"| non-2xx answers | {result['non2xx']} |")
        print(f"| wrk socket errors (a request with no answer in 2 s counts as a timeout) "
              f"| {result['socket_errors']} |")
        three.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\n(wrk on the same 2-core machine as every node; one run)")


if __name__ == "__main__":
    main()
