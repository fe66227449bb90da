#!/usr/bin/env bash
# Orders past the knee, with and without a bound on the orders a node works
# on at once (--max-orders-in-progress, actors/order/saga_load.hpp). The
# open-loop generator of order_curve.sh (Poisson arrivals, latency from the
# intended arrival to Confirmed, add-to-cart included, a 10 s per-order
# timeout, the node's database checked against the generator's counts
# after every run) at each offered rate, once per bound, the bounds
# alternating within each round so that every variant meets the same
# moments of this shared machine. "place failed" counts the placements the
# bound refused (503, "of which busy"): a refused buyer is not a
# confirmed order, and its add-to-cart was paid for.
#   tests/bench/order_overload.sh [rounds=3] [seconds=10] [buyers=1000] [rates="3000 4000"] [bounds="0 256"] [node flags...]
# e.g. a slow payment provider: ... 3 10 1000 200 "0 128" --payment-latency-ms 1000 \
#   --payment-max-in-flight 64 --payment-timeout-ms 5000
# (bound 0: no bound, as before 2026-12-05; the default is 4096, which the
# generator's 1,000 buyers cannot reach.)
# ORDERS_WORK=<dir> keeps the data directory (and the buyers' sign-ups).
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}; secs=${2:-10}; buyers=${3:-1000}; rates=${4:-"3000 4000"}
bounds=${5:-"0 256"}
shift $(($# < 5 ? $# : 5))
scripts/build bench >/dev/null
source tests/bench/closed_loop.sh
bench_work_dir "${ORDERS_WORK:-}"
raw="$work/overload.raw"
: >"$raw"
source tests/bench/order_rows.sh

for round in $(seq 1 "$rounds"); do
  for rate in $rates; do
    for bound in $bounds; do
      runs=1 row "offered $rate/s, bound $bound" "$rate" 0 --max-orders-in-progress "$bound" "$@"
    done
  done
done
runs=$rounds order_table
