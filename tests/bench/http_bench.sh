#!/usr/bin/env bash
# HTTP benchmarks in one run, printed as a Markdown table (README.md keeps
# the latest): wrk against a Release node on 127.0.0.1, and nginx serving the
# same catalog answer as a static file (the ceiling).
#   tests/bench/http_bench.sh [seconds=10]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-10}
scripts/install-deps bench
scripts/build bench >/dev/null

work=$(mktemp -d /tmp/emporium-bench.XXXXXX)
chmod 755 "$work" # nginx workers run as www-data and must read the file
node_pid=""; nginx_pid=""
cleanup() {
  [[ -n "$node_pid" ]] && kill "$node_pid" 2>/dev/null || true
  [[ -n "$nginx_pid" ]] && kill "$nginx_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
port=$(free_port); nginx_port=$(free_port)
# wrk opens every connection from 127.0.0.1: lift the per-client cap (256).
EMPORIUM_ADMIN_EMAIL=admin@bench.test EMPORIUM_ADMIN_PASSWORD=bench-admin \
  EMPORIUM_MAX_CONNECTIONS_PER_CLIENT=1000000 \
  build/bench/emporium --port "$port" --data-dir "$work/data" >"$work/node.log" 2>&1 &
node_pid=$!
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
nginx_pid=$!
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

# run NAME CONNECTIONS URL [extra wrk args]: prints one table row
results=()
run() {
  local name=$1 conns=$2 url=$3; shift 3
  local out
  out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency "$@" "$url")
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); errors=${errors:-0}
  results+=("$name|$conns|$rps|$p50|$p99|$errors")
}
run "catalog query ($count products), emporium" 20 "http://127.0.0.1:$port$query"
run "catalog query ($count products), emporium" 256 "http://127.0.0.1:$port$query"
run "same bytes as a static file, nginx" 256 "http://127.0.0.1:$nginx_port/api/products"
EMPORIUM_BENCH_TOKEN=$token run "POST /api/cart/add (durable), emporium" 64 \
  "http://127.0.0.1:$port" -s tests/bench/cart_add.lua

nginx_rps=$(cut -d'|' -f3 <<<"${results[2]}")
echo "| request | connections | requests/s | p50 | p99 | non-2xx | vs nginx |"
echo "|---|---|---|---|---|---|---|"
for row in "${results[@]}"; do
  IFS='|' read -r name conns rps p50 p99 errors <<<"$row"
  ratio=$(python3 -c "print(f'{float(\"$rps\")/float(\"$nginx_rps\"):.2f}')")
  echo "| $name | $conns | $rps | $p50 | $p99 | $errors | $ratio |"
done
echo
echo "(wrk -t2 -d${secs}s on the same 2-core machine as the server; one run)"
