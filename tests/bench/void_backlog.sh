#!/usr/bin/env bash
# A backlog of voids draining. Restarts a node on a copy of a kept order
# benchmark directory whose cancelled orders still have charges to void,
# with a slow provider, and samples every 10 s: the orders not yet finished
# (the shard files, as the node's start-up query counts them), the voids
# sent, the requests joined, the calls dropped unsent, the queue. Ends when
# no order is left or after <max seconds>.
#   tests/bench/void_backlog.sh <kept dir> [max seconds=300] [node flags...]
# A directory with such a backlog: an order_overload.sh run past a slow
# provider's capacity, kept (each run's stop leaves its voids undone), e.g.
#   ORDERS_WORK=/tmp/ow tests/bench/order_overload.sh 1 10 1000 200 "0" \
#     --payment-latency-ms 1000 --payment-max-in-flight 64 --payment-timeout-ms 5000
#   tests/bench/void_backlog.sh /tmp/ow 300 --payment-latency-ms 1000 \
#     --payment-max-in-flight 64 --payment-timeout-ms 5000
# bench_binary=<another build's emporium> runs that build instead.
set -euo pipefail
cd "$(dirname "$0")/../.."
kept=${1:?a kept order benchmark directory}
limit=${2:-300}
shift $(($# < 2 ? $# : 2))
scripts/build bench >/dev/null
source tests/bench/closed_loop.sh
bench_work_dir ""
cp -r "$kept"/. "$work"/
rm -f "$work"/node.log

metrics_port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
metric() { # <scrape> <name with labels>: its value, 0 when absent
  awk -v n="$2" '$1 == n { v = $2 } END { print v + 0 }' <<<"$1"
}

at_start=$(unfinished_orders)
start_bench_node "$work" --metrics-port "$metrics_port" "$@"
trap 'stop_bench_node; rm -rf "$work"' EXIT
echo "orders not finished at start: $at_start"
echo "| s | orders left | voids sent | joined | dropped unsent | queued |"
echo "|---|---|---|---|---|---|"
drained=""
for t in $(seq 10 10 "$limit"); do
  sleep 10
  scrape=$(curl -sf "http://127.0.0.1:$metrics_port/metrics" || true)
  left=$(unfinished_orders)
  printf '| %s | %s | %s | %s | %s | %s |\n' "$t" "$left" \
    "$(metric "$scrape" 'emporium_payment_provider_calls_total{outcome="refunded"}')" \
    "$(metric "$scrape" emporium_payment_calls_joined_total)" \
    "$(metric "$scrape" emporium_payment_calls_expired_total)" \
    "$(metric "$scrape" emporium_payment_calls_queued)"
  if [[ "$left" == 0 ]]; then
    drained=$t
    break
  fi
done
if [[ -n "$drained" ]]; then
  echo "drained within $drained s"
else
  echo "not drained in $limit s"
fi
