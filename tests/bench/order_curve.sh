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

db_counts() { # orders rows over the shards, succeeded unrefunded charges
  python3 - "$work" <<'PY'
import glob, os, sqlite3, sys
orders = 0
for f in glob.glob(os.path.join(sys.argv[1], "shard-*.db")):
    db = sqlite3.connect(f"file:{f}?mode=ro", uri=True)
    orders += db.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
    db.close()
db = sqlite3.connect(f"file:{os.path.join(sys.argv[1], 'emporium.db')}?mode=ro", uri=True)
charges = db.execute("SELECT COUNT(*) FROM payments WHERE status='succeeded' AND refunded=0").fetchone()[0]
print(orders, charges)
PY
}

# row <label> <rate> <hot 0|1> [node flags...]
row() {
  local label=$1 rate=$2 hot=$3 out before after
  shift 3
  for r in $(seq 1 "$runs"); do
    start_bench_node "$work" "$@"
    read -r -a before < <(db_counts)
    out=$(ORDER_LOAD_TOKENS="$work/tokens" build/bench/tests/bench/order_open_loop \
      "$bench_port" "$buyers" "$secs" admin@bench.test bench-admin "$rate" poisson "$hot" 2>>"$work/gen.err")
    stop_bench_node
    read -r -a after < <(db_counts)
    python3 - "$label" "$rate" "$(grep '^|' <<<"$out" | tail -1)" "$(grep '^counts ' <<<"$out" | cut -d' ' -f2-)" \
      "${before[@]}" "${after[@]}" >>"$raw" <<'PY'
import json, sys
label, rate, line, counts = sys.argv[1:5]
b_orders, b_charges, a_orders, a_charges = map(int, sys.argv[5:9])
c = json.loads(counts)
cells = [x.strip() for x in line.strip().strip("|").split("|")]
ms = lambda s: float(s.split()[0])
check = "ok"
if a_orders - b_orders != c["placed"]:
    check = f"orders table +{a_orders - b_orders} vs {c['placed']} placed"
elif a_charges - b_charges < c["confirmed"] + c["confirmed_late"]:
    check = f"charges +{a_charges - b_charges} < {c['confirmed'] + c['confirmed_late']} confirmed"
print(json.dumps({"label": label, "rate": float(rate), "confirmed_s": float(cells[2]),
                  "p50": ms(cells[3]), "p99": ms(cells[4]), "max": ms(cells[5]), **c, "check": check}))
PY
  done
}

for rate in $rates; do
  row "offered $rate/s" "$rate" 0
done
row "offered 2000/s, 50 ms payments" 2000 0 --payment-latency-ms 50
row "offered 2000/s, hot products" 2000 1

python3 - "$raw" "$runs" "$secs" "$buyers" <<'PY'
import json, statistics, sys
from collections import OrderedDict
rows = OrderedDict()
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows.setdefault(r["label"], []).append(r)
sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, "tests/bench")
from spread import spread as mmm
n = lambda x: f"{x:,.0f}"
t = lambda x: f"{x:.1f}"
print("| row | confirmed/s | p50 ms | p99 ms | max ms | confirmed late | cancelled | add failed "
      "| place failed | timed out | errors | database check |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for label, rs in rows.items():
    s = lambda k: sum(r[k] for r in rs)
    checks = sorted({r["check"] for r in rs})
    print(f"| {label} | {mmm([r['confirmed_s'] for r in rs], n)} | {mmm([r['p50'] for r in rs], t)} "
          f"| {mmm([r['p99'] for r in rs], t)} | {mmm([r['max'] for r in rs], t)} "
          f"| {s('confirmed_late')} | {s('cancelled')} | {s('add_failed')} | {s('place_failed')} "
          f"| {s('timed_out')} | {s('errors')} | {'; '.join(checks)} |")
print(f"\n(Poisson arrivals, {sys.argv[4]} buyers, {sys.argv[3]} s per run, median (min-max) of "
      f"{sys.argv[2]} runs; latency from the intended arrival to Confirmed, add-to-cart included; "
      f"failure columns summed over the runs)")
PY
