#!/usr/bin/env bash
# Where an order's CPU goes (issue 18: the orders' knee is CPU): the
# open-loop generator at each offered rate, and the node's CPU by thread
# group (tests/bench/thread_cpu.py) over the middle of each run, per
# confirmed order, with the bytes the node wrote per order. Each row:
# `runs` runs against a node restarted on one data directory; figures are
# median (min-max) with the generator's p50 and p99, the cancelled, failed,
# timed-out and error counts summed. Then one more run at the first rate
# shows what a commit writes, by B-tree (tests/bench/wal_frames.py).
#   tests/bench/order_cpu.sh [runs=3] [seconds=14] [buyers=1000] [rates="1000 2000"]
# ORDERS_WORK=<dir> keeps the data directory (and its buyers' sign-ups,
# minutes of Argon2) for the next invocation. ORDER_CPU_NO_FRAMES=1 skips
# the last run (what a commit writes), for A/B runs that alternate builds
# or settings. ORDER_CPU_SETTLE=<s> waits that long after the node is ready
# before the arrivals (a node on a large data directory finishes its
# start-up work first, so that the window measures orders alone).
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-3}; secs=${2:-14}; buyers=${3:-1000}; rates=${4:-"1000 2000"}
(( secs >= 8 )) || { echo "order_cpu.sh: runs of at least 8 s (the window leaves 2 s at each end)" >&2; exit 2; }
scripts/build bench >/dev/null
source tests/bench/closed_loop.sh
bench_work_dir "${ORDERS_WORK:-}"
raw="$work/cpu.raw"
: >"$raw"
window=$((secs - 4)) # from 2 s into the arrivals to 2 s before their end

# start_generator <rate> <seconds>: the generator in the background (gen),
# returning once its arrivals have begun (it says when, on stderr).
start_generator() {
  : >"$work/gen.run.err"
  ORDER_LOAD_TOKENS="$work/tokens" build/bench/tests/bench/order_open_loop \
    "$bench_port" "$buyers" "$2" admin@bench.test bench-admin "$1" poisson 0 \
    >"$work/gen.out" 2>"$work/gen.run.err" &
  gen=$!
  # A fresh data directory's buyers sign up first (minutes of Argon2): the
  # window must not start before the arrivals do, however long that takes
  # (a 60 s cap put a first run's window over the sign-ups).
  local wait_ms=""
  while kill -0 "$gen" 2>/dev/null; do
    wait_ms=$(sed -n 's/^arrivals begin in \([0-9]*\) ms$/\1/p' "$work/gen.run.err")
    [[ -n "$wait_ms" ]] && break
    sleep 0.1
  done
  sleep "$(python3 -c "print(${wait_ms:-0} / 1000)")"
}

finish_generator() {
  wait "$gen"
  cat "$work/gen.run.err" >>"$work/gen.err"
}

for rate in $rates; do
  for _ in $(seq 1 "$runs"); do
    start_bench_node "$work"
    sleep "${ORDER_CPU_SETTLE:-0}"
    start_generator "$rate" "$secs"
    sleep 2 # past the first arrivals' ramp
    cpu=$(python3 tests/bench/thread_cpu.py "$bench_node_pid" "$window")
    finish_generator
    stop_bench_node
    python3 - "$rate" "$cpu" "$(grep '^counts ' "$work/gen.out" | cut -d' ' -f2-)" \
      "$(grep '^|' "$work/gen.out" | tail -1)" >>"$raw" <<'PY'
import json, sys
rate, cpu, counts, line = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
# The generator's row: offered, schedule, confirmed/s, p50, p99, max, confirmed
# late, cancelled, add failed, place failed, timed out, errors.
cols = [c.strip() for c in line.strip().strip("|").split("|")]
ms = lambda c: float(c.split()[0])
print(json.dumps({"rate": int(rate), "confirmed_s": float(cols[2]), "errors": counts["errors"],
                  "p50_ms": ms(cols[3]), "p99_ms": ms(cols[4]), "cancelled": int(cols[7]),
                  "not_placed": int(cols[8]) + int(cols[9]), "timed_out": int(cols[10]),
                  **cpu}))
PY
  done
done

python3 - "$raw" "$runs" "$secs" "$buyers" <<'PY'
import json, sys
from collections import OrderedDict
sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, "tests/bench")
from spread import spread as mmm
rows = OrderedDict()
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows.setdefault(r["rate"], []).append(r)
named = [("store", "shard stores"), ("caf.multiplexer", "CAF workers"), ("http io", "Beast I/O"),
         ("ckpt", "checkpointers")]
print("| offered | confirmed/s | p50 | p99 | node, cores | node CPU per order | "
      + " | ".join(f"{label}, per order" for _, label in named)
      + " | other, per order | written per order | cancelled | add or placement failed "
        "| timed out | errors |")
print("|---" * (12 + len(named)) + "|")
ms = lambda x: f"{x:.3f} ms"
for rate, rs in rows.items():
    def per_order(r, cpu_s):  # ms of CPU per confirmed order
        return cpu_s / r["seconds"] / max(r["confirmed_s"], 1) * 1000
    cells = [mmm([r["confirmed_s"] for r in rs]),
             mmm([r["p50_ms"] for r in rs], lambda x: f"{x:.1f} ms"),
             mmm([r["p99_ms"] for r in rs], lambda x: f"{x:.1f} ms"),
             mmm([sum(r["cpu"].values()) / r["seconds"] for r in rs], lambda x: f"{x:.2f}"),
             mmm([per_order(r, sum(r["cpu"].values())) for r in rs], ms)]
    for group, _ in named:
        cells.append(mmm([per_order(r, r["cpu"].get(group, 0.0)) for r in rs], ms))
    cells.append(mmm([per_order(r, sum(v for k, v in r["cpu"].items()
                                       if k not in dict(named))) for r in rs], ms))
    cells.append(mmm([r["wchar"] / r["seconds"] / max(r["confirmed_s"], 1) / 1024 for r in rs],
                     lambda x: f"{x:.1f} KB"))
    for count in ("cancelled", "not_placed", "timed_out", "errors"):
        cells.append(str(sum(r[count] for r in rs)))
    print(f"| {rate:,}/s | " + " | ".join(cells) + " |")
print(f"\n(Poisson arrivals, {sys.argv[4]} buyers, {sys.argv[3]} s runs, the node's CPU over "
      f"the middle {int(sys.argv[3]) - 4} s of the arrivals; median (min-max) of {sys.argv[2]} runs; "
      f"p50 and p99 from each order's intended arrival to its Confirmed event, as the generator "
      f"measures them; the counts summed over the runs. 'written' is what the node passed to "
      f"write calls (WAL, checkpoints, sockets))")
PY

[[ -n "${ORDER_CPU_NO_FRAMES:-}" ]] && exit 0
first=${rates%% *}
echo
echo "What a commit writes at $first/s offered (one run; the logs copied 3 s into the arrivals):"
echo
start_bench_node "$work"
start_generator "$first" 10
sleep 3
python3 tests/bench/wal_frames.py "$work" "$bench_node_pid"
finish_generator
stop_bench_node
