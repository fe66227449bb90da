#!/usr/bin/env bash
# Orders end to end under load: a Release node (durability on) and the C++
# load generator (50 buyers) on 127.0.0.1; prints one table row.
#   tests/bench/order_bench.sh [seconds=10] [buyers=50]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-10}; buyers=${2:-50}
scripts/build bench >/dev/null
work=$(mktemp -d /tmp/emporium-orders.XXXXXX)
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
EMPORIUM_ADMIN_EMAIL=admin@bench.test EMPORIUM_ADMIN_PASSWORD=bench-admin \
  build/bench/emporium --port "$port" --data-dir "$work" >"$work/node.log" 2>&1 &
node_pid=$!
trap 'kill $node_pid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.1; done
build/bench/tests/bench/order_load "$port" "$buyers" "$secs" admin@bench.test bench-admin
