#!/usr/bin/env bash
# The mixed row (issue 18): catalog queries, cart adds, socket resumes and
# orders on one node at once, each stream open loop at its own offered rate
# (Poisson; latency from the intended arrival), beside each stream alone.
# Streams: mixed_open_loop (catalog, cart adds, resumes) and order_open_loop
# (orders: add, place, wait for Confirmed on the buyer's socket), run side
# by side; their windows overlap all but their ~1-2 s set-ups. Each row:
# `runs` runs, each against a node restarted on one data directory; figures
# are median (min-max), failure columns summed over the runs.
#   tests/bench/mixed_bench.sh [runs=3] [seconds=10] [catalog/s=2000] [adds/s=1000] [resumes/s=50] [orders/s=500]
# MIXED_WORK=<dir> keeps the data directory and the users' sign-ups
# (1,400 users: ~10 minutes of Argon2 the first time).
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-3}; secs=${2:-10}; catalog=${3:-2000}; adds=${4:-1000}; resumes=${5:-50}; orders=${6:-500}
buyers=300 cart_users=1000 # mixed_open_loop's users start after the order buyers
scripts/build bench >/dev/null
source tests/bench/closed_loop.sh
bench_work_dir "${MIXED_WORK:-}"
raw="$work/mixed.raw"
: >"$raw"
bin=build/bench/tests/bench

mixed() { # <catalog/s> <adds/s> <resumes/s>
  ORDER_LOAD_TOKENS="$work/tokens" "$bin/mixed_open_loop" "$bench_port" "$secs" admin@bench.test \
    bench-admin "$1" "$2" "$3" "$cart_users" "$buyers" 2>>"$work/gen.err"
}

orders() { # <orders/s>: one "stream {json}" line like mixed_open_loop's
  local out
  out=$(ORDER_LOAD_TOKENS="$work/tokens" "$bin/order_open_loop" "$bench_port" "$buyers" "$secs" \
    admin@bench.test bench-admin "$1" poisson 2>>"$work/gen.err")
  python3 - "$1" "$(grep '^| [0-9]' <<<"$out" | tail -1)" "$(grep '^counts ' <<<"$out" | cut -d' ' -f2-)" <<'PY'
import json, sys
rate, line, counts = sys.argv[1:4]
c = json.loads(counts)
cells = [x.strip() for x in line.strip().strip("|").split("|")]
ms = lambda s: float(s.split()[0])
print("stream " + json.dumps({
    "name": "order (place -> Confirmed)", "offered": float(rate), "ok_per_s": float(cells[2]),
    "p50": ms(cells[3]), "p99": ms(cells[4]), "max": ms(cells[5]),
    "failed": c["add_failed"] + c["place_failed"] + c["cancelled"],
    "timed_out": c["timed_out"], "errors": c["errors"]}))
PY
}

# row <label> <command...>: runs the command against a fresh node `runs` times
row() {
  local label=$1
  shift
  for _ in $(seq 1 "$runs"); do
    start_bench_node "$work"
    "$@" | grep '^stream ' | sed "s/^stream /$label\t/" >>"$raw"
    stop_bench_node
  done
}

together() {
  orders "$orders" &
  local pid=$!
  mixed "$catalog" "$adds" "$resumes"
  wait "$pid"
}

# Sign-ups first (kept in $work/tokens), so that no row pays for them.
start_bench_node "$work"
mixed 0 0 1 >/dev/null
stop_bench_node

row alone mixed "$catalog" 0 0
row alone mixed 0 "$adds" 0
row alone mixed 0 0 "$resumes"
row alone orders "$orders"
row together together

python3 - "$raw" "$runs" "$secs" <<'PY'
import json, sys
from collections import OrderedDict
sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, "tests/bench")
from spread import spread as mmm
rows = OrderedDict()
for line in open(sys.argv[1]):
    label, text = line.rstrip("\n").split("\t", 1)
    r = json.loads(text)
    rows.setdefault(r["name"], {}).setdefault(label, []).append(r)
n = lambda x: f"{x:,.0f}"
t = lambda x: f"{x:.1f}"
print("| stream | offered/s | alone: ok/s | p50 ms | p99 ms | at once: ok/s | p50 ms | p99 ms "
      "| p99 at once / alone | failed | timed out | errors |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for name, by in rows.items():
    a, m = by.get("alone", []), by.get("together", [])
    med = lambda rs, k: sorted(r[k] for r in rs)[len(rs) // 2] if rs else 0
    ratio = f"{med(m, 'p99') / med(a, 'p99'):.2f}" if a and m and med(a, "p99") > 0 else "n/a"
    s = lambda k: sum(r[k] for r in a + m)
    offered = (a or m)[0]["offered"]
    print(f"| {name} | {n(offered)} | {mmm([r['ok_per_s'] for r in a], n)} | {mmm([r['p50'] for r in a], t)} "
          f"| {mmm([r['p99'] for r in a], t)} | {mmm([r['ok_per_s'] for r in m], n)} "
          f"| {mmm([r['p50'] for r in m], t)} | {mmm([r['p99'] for r in m], t)} | {ratio} "
          f"| {s('failed')} | {s('timed_out')} | {s('errors')} |")
print(f"\n(Poisson arrivals, {sys.argv[3]} s per run, median (min-max) of {sys.argv[2]} runs, a node "
      f"restarted for each; latency from the intended arrival; ok/s counts answers inside the window; "
      f"failure columns summed over every run, alone and at once)")
PY
