# Sourced by the order benchmarks: a Release node on a shared data
# directory, and one closed-loop row against a fresh node there (the
# buyers sign up once and their tokens are reused: a node restarted on the
# directory keeps its JWT secret).
#   closed_loop_row <work-dir> <buyers> <seconds> [node flags...]
# prints "orders/s failed p50 p99"; the node's log goes to <work-dir>/node.log.
# bench_work_dir <dir or "">: sets `work` to the given directory, kept with
# its buyers' sign-ups for the next invocation (minutes of Argon2), or to a
# temporary one removed on exit.
bench_work_dir() {
  if [[ -n "$1" ]]; then
    work=$1
    mkdir -p "$work"
  else
    work=$(mktemp -d /tmp/emporium-bench.XXXXXX)
    trap 'rm -rf "$work"' EXIT
  fi
}

# start_bench_node <work-dir> [node flags...]: a Release node (or
# $bench_binary, another build to compare with) on a free port of
# 127.0.0.1, its log appended to <work-dir>/node.log; sets bench_port and
# bench_node_pid once it is ready (waits up to 60 s, polling every 20 ms).
start_bench_node() {
  local work=$1
  shift
  mkdir -p "$work"
  bench_port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  # Every buyer signs up and connects from 127.0.0.1: the per-client limits
  # of a real deployment would refuse the load generator itself. Access
  # tokens last a week: the saved tokens of a kept data directory would
  # otherwise expire after 15 minutes (every socket handshake refused).
  EMPORIUM_ADMIN_EMAIL=admin@bench.test EMPORIUM_ADMIN_PASSWORD=bench-admin \
    EMPORIUM_REGISTRATIONS_PER_MINUTE_IP=100000 EMPORIUM_PASSWORD_CHECKS_PER_CLIENT=100000 EMPORIUM_MAX_CONNECTIONS_PER_CLIENT=1000000 \
    EMPORIUM_REQUESTS_PER_SECOND_CLIENT=0 \
    "${bench_binary:-build/bench/emporium}" --port "$bench_port" --data-dir "$work" --metrics-port 0 \
      --access-token-minutes 10080 "$@" \
      >>"$work/node.log" 2>&1 &
  bench_node_pid=$!
  for _ in $(seq 1 3000); do
    curl -sf "http://127.0.0.1:$bench_port/health/ready" >/dev/null && break
    sleep 0.02
  done
}

# unfinished_orders: the orders of `work` whose saga has not ended (the
# shard files, counted as the node's start-up query counts them).
unfinished_orders() {
  python3 -c "import sys; sys.dont_write_bytecode = True; sys.path.insert(0, 'tests/bench')
import recovery_bench as r; print(r.unfinished('$work'))"
}

# drain_open_orders: waits (up to 600 s) until the running bench node has
# no unfinished order. A run must not meet the previous run's orders: with a
# slow provider, a stop leaves voids to do, and they take the provider's
# slots from the next run's charges.
drain_open_orders() {
  for _ in $(seq 1 600); do
    [[ $(unfinished_orders) == 0 ]] && return 0
    sleep 1
  done
  echo "drain_open_orders: orders still open after 600 s in $work" >&2
}

stop_bench_node() {
  kill "$bench_node_pid" 2>/dev/null || true
  wait "$bench_node_pid" 2>/dev/null || true
}

closed_loop_row() {
  local work=$1 buyers=$2 secs=$3 row
  shift 3
  start_bench_node "$work" "$@"
  row=$(ORDER_LOAD_TOKENS="$work/tokens" build/bench/tests/bench/order_load \
    "$bench_port" "$buyers" "$secs" admin@bench.test bench-admin | tail -1)
  stop_bench_node
  # | buyers | load | orders/s | p50 | p99 | max | failed |
  echo "$row" | awk -F'|' '{gsub(/ /,"",$4); gsub(/ /,"",$8); gsub(/ /,"",$5); gsub(/ /,"",$6); print $4, $8, $5, $6}'
}

# median_of <values...>: "median (min-max)"
median_of() {
  python3 tests/bench/spread.py "$@"
}
