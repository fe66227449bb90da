# Rows of the open-loop order benchmark, shared by order_curve.sh and
# order_overload.sh. Source after closed_loop.sh and bench_work_dir; set
# `raw` (a file the rows append to), `runs`, `secs` and `buyers` first.
# `order_table` prints the rows as a table: median (min-max) of the runs,
# every failure column summed.

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
    drain_open_orders
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

order_table() {
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
      "| place failed | of which busy (503) | timed out | errors | database check |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for label, rs in rows.items():
    s = lambda k: sum(r[k] for r in rs)
    checks = sorted({r["check"] for r in rs})
    print(f"| {label} | {mmm([r['confirmed_s'] for r in rs], n)} | {mmm([r['p50'] for r in rs], t)} "
          f"| {mmm([r['p99'] for r in rs], t)} | {mmm([r['max'] for r in rs], t)} "
          f"| {s('confirmed_late')} | {s('cancelled')} | {s('add_failed')} | {s('place_failed')} "
          f"| {sum(r.get('busy', 0) for r in rs)} | {s('timed_out')} | {s('errors')} "
          f"| {'; '.join(checks)} |")
print(f"\n(Poisson arrivals, {sys.argv[4]} buyers, {sys.argv[3]} s per run, median (min-max) of "
      f"{sys.argv[2]} runs; latency from the intended arrival to Confirmed, add-to-cart included; "
      f"failure columns summed over the runs)")
PY
}
