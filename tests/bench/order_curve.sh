#!/usr/bin/env bash
# Orders, open loop (issue 18): confirmed orders/s and latency from the
# intended arrival against the offered rate, up to the knee, then a row
# with 50 ms payment latency and a hot-product row (10 products get half of
# the orders). Poisson arrivals, `buyers` buyers (an arrival finding all of
# them busy waits, and that wait counts), a 10 s per-order timeout, stock
# of 10^6 per product over 200 products. Each row: `runs` runs, each
# against a node restarted on one data directory; figures are median
# (min-max), every failure column is summed over the runs. After each run
# the generator's counts are checked against the node's database: every
# order it was told was placed is a row of the orders table, and at least
# as many charges succeeded as orders were confirmed.
#   tests/bench/order_curve.sh [runs=3] [seconds=10] [buyers=1000] [rates="500 1000 2000 3000 4000 5000"]
# ORDERS_WORK=<dir> keeps the data directory (and the buyers' sign-ups).
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-3}; secs=${2:-10}; buyers=${3:-1000}; rates=${4:-"500 1000 2000 3000 4000 5000"}
scripts/build bench >/dev/null
source tests/bench/closed_loop.sh
bench_work_dir "${ORDERS_WORK:-}"
raw="$work/curve.raw"
: >"$raw"

source tests/bench/order_rows.sh

for rate in $rates; do
  row "offered $rate/s" "$rate" 0
done
row "offered 2000/s, 50 ms payments" 2000 0 --payment-latency-ms 50
row "offered 2000/s, hot products" 2000 1

order_table
