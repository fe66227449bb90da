#!/usr/bin/env bash
# Does anything wait on a payment? Confirmed orders/s with the test-mode
# provider answering after 0 ms and after 300 ms, side by side: each run
# starts a Release node per latency (0 then 300) on one data directory, the C++ generator
# drives `buyers` closed-loop buyers (each waits for its order's Confirmed
# before the next; with 300 ms per payment a buyer manages at most ~3
# orders/s, hence many buyers). Prints every run, then the median ratio
# with min and max (issue 14 asks for >= 80%).
#   tests/bench/payment_latency_bench.sh [runs=3] [seconds=10] [buyers=1000]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-3}; secs=${2:-10}; buyers=${3:-1000}
scripts/build bench >/dev/null

# One data directory for every run: the buyers sign up once (a thousand
# Argon2 hashes take minutes).
work=$(mktemp -d /tmp/emporium-paylat.XXXXXX)
trap 'rm -rf "$work"' EXIT
source tests/bench/closed_loop.sh

one() { # one <latency-ms>: prints "orders/s failed p50 p99"
  closed_loop_row "$work" "$buyers" "$secs" --payment-latency-ms "$1"
}

echo "| run | 0 ms: orders/s | failed | 300 ms: orders/s | failed | p50 / p99 at 300 ms | ratio |"
echo "|---|---|---|---|---|---|---|"
ratios=()
for r in $(seq 1 "$runs"); do
  read -r fast fast_failed _ _ < <(one 0)
  read -r slow slow_failed p50 p99 < <(one 300)
  ratio=$(python3 -c "print(f'{$slow / $fast:.2f}' if $fast else 'n/a')")
  ratios+=("$ratio")
  echo "| $r | $fast | $fast_failed | $slow | $slow_failed | $p50 / $p99 | $ratio |"
done
python3 - "${ratios[@]}" <<'PY'
import statistics, sys
r = sorted(float(x) for x in sys.argv[1:] if x != "n/a")
if r:
    print(f"\n300 ms / 0 ms confirmed orders/s: median {statistics.median(r):.2f} "
          f"(min {r[0]:.2f}, max {r[-1]:.2f}) over {len(r)} runs")
PY
