#!/usr/bin/env bash
# Scale of data: the same measurements on a small data directory (the
# 320-product demo catalog, 1,000 accounts) and a large one (100,000
# products, 1,000,000 accounts), interleaved over `runs` runs, each on a
# fresh start of a Release node:
#   start-up (exec to ready), resident memory after the load, the
#   storefront's catalog page and a catalog search, once with a popular
#   term (remembered) and once with a needle never remembered (wrk, 20
#   connections),
#   login latency (sequential logins of random accounts: Argon2 included),
#   and closed-loop order throughput (order_load, 50 buyers).
# The large directory is the small one plus tests/bench/bulk_data's rows.
#   tests/bench/scale_bench.sh [runs=3] [seconds=5] [products=100000] [users=1000000]
# SCALE_WORK=<dir> keeps both directories for the next invocation.
# SCALE_BEFORE=<binary>: adds a row of the large directory served by that
# build (an earlier commit's), interleaved: the before/after of a change.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-3}; secs=${2:-5}; products=${3:-100000}; users=${4:-1000000}
scripts/build bench >/dev/null
source tests/bench/closed_loop.sh
bench_work_dir "${SCALE_WORK:-}"
password=Kettle-Lamp-42

if [[ ! -f "$work/small/ready" ]]; then
  rm -rf "$work/small" "$work/large"
  start_bench_node "$work/small" # creates the directory and the demo catalog
  stop_bench_node
  build/bench/tests/bench/bulk_data "$work/small" 0 1000 "$password"
  # The buyers of the order row sign up through the API (tokens kept).
  closed_loop_row "$work/small" 50 1 >/dev/null
  touch "$work/small/ready"
fi
if [[ ! -f "$work/large/ready" ]]; then
  rm -rf "$work/large"
  cp -a "$work/small" "$work/large"
  rm -f "$work/large/ready" "$work/large/node.log"
  build/bench/tests/bench/bulk_data "$work/large" "$products" "$((users - 1000))" "$password"
  touch "$work/large/ready"
fi

# measure <dir> <accounts>: one line "startup_s rss_mib page_rps page_p99 search_rps search_p99
# search_errors many_rps many_p99 many_errors login_p50 login_p99 orders_s order_failed"
measure() {
  local dir=$1 accounts=$2 t0 startup
  t0=$(date +%s.%N)
  start_bench_node "$dir"
  startup=$(python3 -c "import sys;print(f'{float(sys.argv[2])-float(sys.argv[1]):.2f}')" "$t0" "$(date +%s.%N)")
  local base="http://127.0.0.1:$bench_port"
  local page search searches
  page=$(wrk_figures "$base/api/products?page=1&pageSize=20")
  search=$(wrk_figures "$base/api/products?search=kettle&sortBy=price&page=1&pageSize=20")
  # A needle the node has not remembered, every request (search_many.lua).
  searches=$(wrk_figures "$base" -s tests/bench/search_many.lua)
  local logins
  logins=$(python3 - "$bench_port" "$accounts" "$password" <<'PY'
import http.client, json, random, sys, time
port, accounts, password = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = random.Random(7)
took, failed = [], 0
for _ in range(40):
    email = f"user{rng.randrange(accounts)}@scale.test"
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    t = time.perf_counter()
    c.request("POST", "/api/auth/login", json.dumps({"email": email, "password": password}),
              {"Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    took.append((time.perf_counter() - t) * 1000)
    failed += r.status != 200
took.sort()
print(f"{took[len(took)//2]:.1f} {took[int(len(took)*0.99)]:.1f} {failed}")
PY
)
  local orders
  orders=$(ORDER_LOAD_TOKENS="$dir/tokens" build/bench/tests/bench/order_load \
    "$bench_port" 50 "$secs" admin@bench.test bench-admin | tail -1 |
    awk -F'|' '{gsub(/ /,"",$4); gsub(/ /,"",$8); print $4, $8}')
  local rss
  rss=$(awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$bench_node_pid/status")
  stop_bench_node
  echo "$startup $rss $page $search $searches $logins $orders"
}

# wrk_figures <url> [wrk options]: "rps p99_ms errors" (non-2xx and socket errors summed)
wrk_figures() {
  local url=$1
  shift
  wrk -t2 -c20 -d"${secs}s" --latency "$@" "$url" >"$work/wrk.out" 2>&1 || true
  python3 - "$work/wrk.out" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
p99 = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)] if m else float("nan")
rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
print(f"{float(rps.group(1)) if rps else 0:.0f} {p99:.2f} "
      f"{(int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sock.groups())) if sock else 0)}")
PY
}

: >"$work/rows"
for r in $(seq 1 "$runs"); do
  echo "small $(measure "$work/small" 1000)" >>"$work/rows"
  echo "large $(measure "$work/large" "$users")" >>"$work/rows"
  if [[ -n "${SCALE_BEFORE:-}" ]]; then
    echo "before $(bench_binary=$SCALE_BEFORE measure "$work/large" "$users")" >>"$work/rows"
  fi
done
cat "$work/rows" >&2
python3 - "$work/rows" "$products" "$users" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
names = ["start-up (s)", "resident memory (MiB)", "catalog page 1 (req/s)", "catalog page 1 p99 (ms)",
         "catalog page errors", "search+sort by price (req/s)", "search p99 (ms)", "search errors",
         "search, a needle not remembered (req/s)", "its p99 (ms)", "its errors",
         "login p50 (ms)", "login p99 (ms)", "login failures", "orders/s (closed loop, 50 buyers)",
         "orders failed"]
def spread(values):
    v = sorted(values)
    return f"{statistics.median(v):g} ({v[0]:g}-{v[-1]:g})"
by = {"small": [], "large": [], "before": []}
for r in rows:
    by[r[0]].append([float(x) for x in r[1:]])
before = bool(by["before"])
large = f"{int(sys.argv[2]):,} products, {int(sys.argv[3]):,} users"
print(f"| | 320 products, 1,000 users | {large} | large/small |"
      + (f" {large}, the SCALE_BEFORE build |" if before else ""))
print("|---|---|---|---|" + ("---|" if before else ""))
for i, name in enumerate(names):
    s = [r[i] for r in by["small"]]; l = [r[i] for r in by["large"]]
    ratio = statistics.median(l) / statistics.median(s) if statistics.median(s) else float("nan")
    extra = f" {spread([r[i] for r in by['before']])} |" if before else ""
    print(f"| {name} | {spread(s)} | {spread(l)} | {ratio:.2f} |{extra}")
print(f"\n(median (min-max) of {len(by['small'])} runs, small and large interleaved; "
      "wrk -t2 -c20; 40 sequential logins of random accounts; order_load 50 buyers)")
PY
