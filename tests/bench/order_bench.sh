#!/usr/bin/env bash
# Orders end to end under load: a Release node (durability on) and the C++
# load generators on 127.0.0.1; prints two tables: closed loop with
# `buyers` buyers (the node saturated: its capacity) and open loop at
# `rate` orders/s offered (the latency at that load, from each order's
# intended arrival; tests/bench/order_curve.sh draws the whole curve).
# Each row gets a fresh node and data directory.
#   tests/bench/order_bench.sh [seconds=10] [buyers=50] [rate=2000]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-10}; buyers=${2:-50}; rate=${3:-2000}
scripts/build bench >/dev/null
source tests/bench/closed_loop.sh

work=$(mktemp -d /tmp/emporium-orders.XXXXXX)
trap 'rm -rf "$work"' EXIT
start_bench_node "$work/closed"
build/bench/tests/bench/order_load "$bench_port" "$buyers" "$secs" admin@bench.test bench-admin
stop_bench_node
echo
# Open loop: enough buyers that an arrival rarely waits for a free one.
start_bench_node "$work/open"
build/bench/tests/bench/order_open_loop "$bench_port" 400 "$secs" admin@bench.test bench-admin \
  "$rate" | grep '^|'
stop_bench_node
