#!/usr/bin/env python3
"""Cluster benchmark, one run, printed as Markdown (README.md keeps the latest):

1. cart adds/s and catalog reads/s: one node alone vs a three-node cluster
   (through nginx as the front door, and straight at one node's edge);
2. latency of GET /api/cart for a user whose cart lives on the node asked
   vs on another node (p50/p99, 4 connections);
3. SIGKILL one node under cart-add load: time until its shards are served
   again, and the load's latency and errors over that window;
4. what node-to-node TLS costs: two three-node clusters side by side, one
   with --cluster-tls on (the default, also used by 1-3) and one off,
   measured interleaved 3 times: remote-cart reads (p50/p99) and cart adds
   through one edge (two thirds cross to another node).

Everything runs on 127.0.0.1 with the Release binary (build/bench) and wrk;
load generator and nodes share this machine's cores.
usage: tests/bench/cluster_bench.py [seconds-per-phase=5] [tls]  (tls: part 4 alone)
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


def user_shard(port, admin, user):
    """The shard of a user's cart, as the node's router computes it."""
    return call(port, "GET", f"/api/cluster?user={user}", token=admin)["userShard"]


class Nodes:
    def __init__(self, n, work, tls=True):
        self.dir = os.path.join(work, f"data{n}-{'tls' if tls else 'plain'}")
        os.makedirs(self.dir)
        certs = os.path.join(self.dir, "tls")
        if n > 1 and tls:
            subprocess.run([os.path.join(ROOT, "scripts", "cluster-certs"), certs,
                            *[f"node{i + 1}" for i in range(n)]], check=True,
                           stdout=subprocess.DEVNULL)
        self.http = [free_port() for _ in range(n)]
        self.node_ports = [free_port() for _ in range(n)] if n > 1 else []
        self.procs = []
        seeds = ",".join(f"127.0.0.1:{p}" for p in self.node_ports)
        # The load comes from 127.0.0.1 alone: lift the per-client limits.
        env = dict(os.environ, EMPORIUM_METRICS_PORT="0", EMPORIUM_ADMIN_EMAIL=ADMIN[0], EMPORIUM_ADMIN_PASSWORD=ADMIN[1],
                   EMPORIUM_JWT_SECRET="bench-secret-0123456789abcdef0123456789",
                   EMPORIUM_REGISTRATIONS_PER_MINUTE_IP="100000",
                   EMPORIUM_PASSWORD_CHECKS_PER_CLIENT="100000",
                   EMPORIUM_MAX_CONNECTIONS_PER_CLIENT="1000000",
                   EMPORIUM_REQUESTS_PER_SECOND_CLIENT="0")
        for i in range(n):
            args = [BINARY, "--port", str(self.http[i]), "--data-dir", self.dir]
            if n > 1:
                args += ["--node-port", str(self.node_ports[i]), "--node-name", f"node{i + 1}",
                         "--seeds", seeds]
                args += (["--cluster-ca", f"{certs}/ca.crt", "--cluster-cert",
                          f"{certs}/node{i + 1}.crt", "--cluster-key", f"{certs}/node{i + 1}.key"]
                         if tls else ["--cluster-tls", "off"])
            log = open(os.path.join(self.dir, f"node{i + 1}.log"), "ab")
            self.procs.append(subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env))
        self.wait_formed(list(range(n)))

    def health(self, i):
        return call(self.http[i], "GET", "/health/ready")["checks"]["cluster"]

    def wait_formed(self, members, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for i in members:
                if self.procs[i].poll() is not None:
                    raise RuntimeError(f"node {i + 1} exited: {self.log_tail(i)}")
            try:
                views = [self.health(i) for i in members]
                if all(v["liveMembers"] == len(members) and v["readyShards"] == v["ownedShards"]
                       for v in views) and sum(v["ownedShards"] for v in views) == SHARDS:
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError("nodes did not form: " + " | ".join(self.log_tail(i) for i in members))

    def log_tail(self, i):
        with open(os.path.join(self.dir, f"node{i + 1}.log"), "rb") as f:
            return f.read().decode(errors="replace")[-500:]

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


def ms(text):
    """wrk's latency text (850.00us, 1.20ms, 2.00s) in milliseconds."""
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def spread(values, fmt="{:.0f}"):
    values = sorted(values)
    return f"{fmt.format(values[len(values) // 2])} ({fmt.format(values[0])}-{fmt.format(values[-1])})"


def tls_cost(work, runs=3):
    clusters = {"on": Nodes(3, work, tls=True), "off": Nodes(3, work, tls=False)}
    try:
        setup = {}
        for mode, nodes in clusters.items():
            tokens = users(nodes.http[0], 64, f"tls{mode}")
            admin = prepare(nodes.http[0], tokens)
            owners = call(nodes.http[0], "GET", "/api/cluster", token=admin)["owners"]
            remote = next(t for u, t in tokens.items()
                          if owners[str(user_shard(nodes.http[0], admin, u))] != "node1")
            setup[mode] = (nodes, tokens, remote)
        results = {mode: {"read": [], "add": []} for mode in clusters}
        for _ in range(runs):
            for mode in ("off", "on"):  # interleaved: drift hits both alike
                nodes, tokens, remote = setup[mode]
                results[mode]["read"].append(wrk(
                    f"http://127.0.0.1:{nodes.http[0]}/api/cart", 4, SECS,
                    os.path.join(ROOT, "tests", "bench", "get_cart.lua"),
                    {"EMPORIUM_BENCH_TOKEN": remote}, threads=1))
                results[mode]["add"].append(wrk(
                    f"http://127.0.0.1:{nodes.http[0]}", 64, SECS, LUA,
                    {"EMPORIUM_BENCH_TOKENS": ",".join(tokens.values())}))
        print(f"\n| node-to-node TLS, 3 nodes, median (min-max) of {runs} interleaved runs "
              "| cluster-tls off | cluster-tls on | on / off |")
        print("|---|---|---|---|")
        for label, key, field in (
                ("GET /api/cart, cart on another node, 4 conns: requests/s", "read", "rps"),
                ("same: p50 ms", "read", "p50"), ("same: p99 ms", "read", "p99"),
                ("cart adds through node 1's edge, 64 conns: requests/s", "add", "rps"),
                ("same: p99 ms", "add", "p99"),
                ("non-2xx answers (all rows)", None, "non2xx")):
            if key is None:
                off = sum(r["non2xx"] for k in ("read", "add") for r in results["off"][k])
                on = sum(r["non2xx"] for k in ("read", "add") for r in results["on"][k])
                print(f"| {label} | {off} | {on} | |")
                continue
            conv = (lambda r: r["rps"]) if field == "rps" else (lambda r, f=field: ms(r[f]))
            off = [conv(r) for r in results["off"][key]]
            on = [conv(r) for r in results["on"][key]]
            form = "{:.0f}" if field == "rps" else "{:.2f}"
            ratio = sorted(on)[len(on) // 2] / sorted(off)[len(off) // 2]
            print(f"| {label} | {spread(off, form)} | {spread(on, form)} | {ratio:.2f} |")
        errors = {mode: "; ".join(r["socket_errors"] for k in m.values() for r in k
                                  if r["socket_errors"] != "none") or "none"
                  for mode, m in results.items()}
        print(f"| wrk socket errors (all rows) | {errors['off']} | {errors['on']} | |")
    finally:
        for nodes in clusters.values():
            nodes.stop()


def main():
    work = tempfile.mkdtemp(prefix="emporium-cluster-bench-")
    os.chmod(work, 0o755)
    if sys.argv[2:] == ["tls"]:
        try:
            tls_cost(work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
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
                     if owners[str(user_shard(three.http[0], admin, u))] == "node1")
        remote = next(t for u, t in tokens.items()
                      if owners[str(user_shard(three.http[0], admin, u))] != "node1")
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

        # -- 4. what TLS costs ---------------------------------------------------
        tls_cost(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\n(wrk on the same 2-core machine as every node; one run)")


if __name__ == "__main__":
    main()
