#!/usr/bin/env bash
# HTTP benchmarks, printed as a Markdown table (docs/benchmarks.md keeps the
# latest): wrk against a Release node on 127.0.0.1, beside nginx serving the
# node's catalog answer as a static file and bare_beast_server (the least
# Beast does) answering the same bytes from memory. Each server at 20 and
# 256 connections, the three interleaved in every round, `runs` rounds;
# every figure is the median with min and max, and non-2xx answers and
# socket errors (connect, read, write, timeout) are summed over the runs.
#   tests/bench/http_bench.sh [seconds=10] [runs=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-10}; runs=${2:-3}
scripts/install-deps bench
scripts/build bench >/dev/null

work=$(mktemp -d /tmp/emporium-bench.XXXXXX)
chmod 755 "$work" # nginx workers run as www-data and must read the file
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
port=$(free_port); nginx_port=$(free_port); bare_port=$(free_port)
# wrk opens every connection from 127.0.0.1: lift the per-client cap (256).
EMPORIUM_ADMIN_EMAIL=admin@bench.test EMPORIUM_ADMIN_PASSWORD=bench-admin \
  EMPORIUM_MAX_CONNECTIONS_PER_CLIENT=1000000 EMPORIUM_REQUESTS_PER_SECOND_CLIENT=0 \
  build/bench/emporium --port "$port" --data-dir "$work/data" >"$work/node.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.1; done

query="/api/products?category=Books&maxPrice=25"
mkdir -p "$work/www/api"
curl -sf "http://127.0.0.1:$port$query" >"$work/www/api/products.json"
count=$(python3 -c "import json,sys;print(len(json.load(open(sys.argv[1]))))" "$work/www/api/products.json")
cat >"$work/nginx.conf" <<NGINX
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/www;
    location = /api/products { default_type application/json; try_files /api/products.json =404; }
  }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work" -g "daemon off;" &
pids+=($!)
build/bench/tests/bench/bare_beast_server "$bare_port" "$work/www/api/products.json" 2 &
pids+=($!)
sleep 0.5

login() {
  curl -sf -X POST "http://127.0.0.1:$port/api/auth/$1" -H 'Content-Type: application/json' -d "$2"
}
admin=$(login login '{"email":"admin@bench.test","password":"bench-admin"}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])')
curl -sf -X PUT "http://127.0.0.1:$port/api/products/1/stock" -H "Authorization: Bearer $admin" \
  -H 'Content-Type: application/json' -d '{"quantity":1000000}' >/dev/null
login register '{"email":"bench@bench.test","password":"Kettle-Lamp-42"}' >/dev/null
token=$(login login '{"email":"bench@bench.test","password":"Kettle-Lamp-42"}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])')
curl -sf -X POST "http://127.0.0.1:$port/api/cart/add" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' -d '{"productId":1,"quantity":1000}' >/dev/null

# wrk_row NAME CONNECTIONS URL [extra wrk args]: appends one raw result
# line "name|conns|rps|p50|p99|non2xx|socket_errors" to $work/raw
wrk_row() {
  local name=$1 conns=$2 url=$3; shift 3
  wrk -t2 -c"$conns" -d"${secs}s" --latency "$@" "$url" >"$work/wrk.out" 2>&1 || true
  python3 - "$name" "$conns" "$work/wrk.out" >>"$work/raw" <<'PY'
import re, sys
name, conns, text = sys.argv[1], sys.argv[2], open(sys.argv[3]).read()
def ms(label):
    m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    if not m:
        return float("nan")
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
print(f"{name}|{conns}|{float(rps.group(1)) if rps else 0.0}|{ms('50%')}|{ms('99%')}|"
      f"{int(non2xx.group(1)) if non2xx else 0}|{sum(map(int, sock.groups())) if sock else 0}")
PY
}

catalog="catalog query ($count products), emporium"
for r in $(seq 1 "$runs"); do
  for conns in 20 256; do
    wrk_row "$catalog" "$conns" "http://127.0.0.1:$port$query"
    wrk_row "same bytes as a static file, nginx" "$conns" "http://127.0.0.1:$nginx_port/api/products"
    wrk_row "same bytes from memory, bare Beast server" "$conns" "http://127.0.0.1:$bare_port/api/products"
  done
  EMPORIUM_BENCH_TOKEN=$token wrk_row "POST /api/cart/add (durable), emporium" 64 \
    "http://127.0.0.1:$port" -s tests/bench/cart_add.lua
done

python3 - "$work/raw" "$secs" "$runs" <<'PY'
import statistics, sys
from collections import OrderedDict
rows = OrderedDict()
for line in open(sys.argv[1]):
    name, conns, rps, p50, p99, non2xx, sock = line.strip().split("|")
    rows.setdefault((name, int(conns)), []).append(
        (float(rps), float(p50), float(p99), int(non2xx), int(sock)))
sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, "tests/bench")
from spread import spread as mmm
nginx = {c: statistics.median(r[0] for r in runs) for (n, c), runs in rows.items() if "nginx" in n}
print("| request | connections | requests/s | p50 ms | p99 ms | non-2xx | socket errors | vs nginx |")
print("|---|---|---|---|---|---|---|---|")
for key in sorted(rows, key=lambda k: (k[0].startswith("POST"), k[1], k[0])):
    name, conns = key
    runs = rows[key]
    rps = statistics.median(r[0] for r in runs)
    ratio = f"{rps / nginx[conns]:.2f}" if conns in nginx and nginx[conns] else "-"
    print(f"| {name} | {conns} | {mmm([r[0] for r in runs], lambda x: f'{x:,.0f}')} | "
          f"{mmm([r[1] for r in runs], lambda x: f'{x:.2f}')} | "
          f"{mmm([r[2] for r in runs], lambda x: f'{x:.2f}')} | "
          f"{sum(r[3] for r in runs)} | {sum(r[4] for r in runs)} | {ratio} |")
print(f"\n(wrk -t2 -d{sys.argv[2]}s on the same 2-core machine as the servers; "
      f"median (min-max) of {sys.argv[3]} interleaved runs; errors summed over the runs)")
PY
