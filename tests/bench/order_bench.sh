#!/usr/bin/env bash
# Orders end to end under load: a Release node (durability on) and the C++
# load generator (50 buyers) on 127.0.0.1; prints one table with two rows:
# closed loop (the node saturated: its capacity) and paced at the issue's
# 2,000 orders/s (the latency at that load). Each row gets a fresh node.
#   tests/bench/order_bench.sh [seconds=10] [buyers=50] [rate=2000]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-10}; buyers=${2:-50}; rate=${3:-2000}
scripts/build bench >/dev/null

run() { # run <rate or empty>
  local work port node_pid
  work=$(mktemp -d /tmp/emporium-orders.XXXXXX)
  port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  # Every buyer signs up and connects from 127.0.0.1: the per-client limits
  # of a real deployment would refuse the load generator itself.
  EMPORIUM_ADMIN_EMAIL=admin@bench.test EMPORIUM_ADMIN_PASSWORD=bench-admin \
    EMPORIUM_REGISTRATIONS_PER_MINUTE_IP=100000 EMPORIUM_MAX_CONNECTIONS_PER_CLIENT=1000000 \
    build/bench/emporium --port "$port" --data-dir "$work" >"$work/node.log" 2>&1 &
  node_pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.1; done
  build/bench/tests/bench/order_load "$port" "$buyers" "$secs" admin@bench.test bench-admin "$@"
  kill "$node_pid" 2>/dev/null || true
  wait "$node_pid" 2>/dev/null || true
  rm -rf "$work"
}

run            # header and the closed-loop row
run "$rate" | tail -1
