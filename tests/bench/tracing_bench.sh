#!/usr/bin/env bash
# What tracing costs: confirmed orders/s with traces off, with every span
# exported to an OTLP/HTTP collector on this host (tests/bench/otlp_sink.py,
# which accepts and counts), and with a collector that refuses connections
# (spans made, encoded and dropped: the node's own share of the cost, without
# the collector's CPU on the same two cores). Side by side: each run starts a
# Release node per row on one data directory, 50 closed-loop buyers by
# default. Prints every run, then each row's median with min and max, and
# the spans the collector received.
#   tests/bench/tracing_bench.sh [runs=3] [seconds=8] [buyers=50]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-3}; secs=${2:-8}; buyers=${3:-50}
scripts/build bench >/dev/null

work=$(mktemp -d /tmp/emporium-tracing.XXXXXX)
sink_port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
python3 tests/bench/otlp_sink.py "$sink_port" "$work/spans" &
sink_pid=$!
trap 'kill $sink_pid 2>/dev/null || true; rm -rf "$work"' EXIT
source tests/bench/closed_loop.sh

echo "| run | traces off: orders/s | failed | p50 / p99 | exported: orders/s | failed | p50 / p99 | collector refusing: orders/s | failed |"
echo "|---|---|---|---|---|---|---|---|---|"
off=(); on=(); refused=()
for r in $(seq 1 "$runs"); do
  read -r a a_failed a50 a99 < <(closed_loop_row "$work" "$buyers" "$secs")
  read -r b b_failed b50 b99 < <(closed_loop_row "$work" "$buyers" "$secs" \
    --otlp-endpoint "http://127.0.0.1:$sink_port")
  read -r c c_failed _ _ < <(closed_loop_row "$work" "$buyers" "$secs" \
    --otlp-endpoint "http://127.0.0.1:9")
  off+=("$a"); on+=("$b"); refused+=("$c")
  echo "| $r | $a | $a_failed | $a50 / $a99 | $b | $b_failed | $b50 / $b99 | $c | $c_failed |"
done
echo
echo "traces off: $(median_of "${off[@]}"); exported: $(median_of "${on[@]}");" \
  "collector refusing: $(median_of "${refused[@]}") orders/s"
echo "spans received by the collector: $(cat "$work/spans" 2>/dev/null || echo 0)"
grep -h "trace_export_failed\|spans_dropped" "$work/node.log" | head -3 || true
