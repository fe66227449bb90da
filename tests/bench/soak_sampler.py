#!/usr/bin/env python3
"""The soak's eyes and its third kind of load (see tests/bench/soak).

Runs catalog queries at a fixed rate (every error counted) and, once a
minute, prints one row: the node's resident memory, database and WAL bytes,
open file descriptors, the minute's p99 over every HTTP route (from the
node's own histogram: the edge's view, queueing included), its 5xx answers
and the catalog client's errors. At the end it compares the last minute
with the first one after warm-up and says what grew.
    soak_sampler.py <pid> <port> <metrics-port> <data-dir> <minutes> [warmup=3] [queries/s=50]
"""
import glob
import os
import re
import sys
import threading
import time
import urllib.request

pid, port, metrics_port, data_dir, minutes = (int(sys.argv[1]), int(sys.argv[2]),
                                              int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
warmup = int(sys.argv[6]) if len(sys.argv) > 6 else 3
qps = float(sys.argv[7]) if len(sys.argv) > 7 else 50.0
QUERIES = ["/api/products?pageSize=20", "/api/products?category=Kitchen",
           "/api/products?search=lamp&sortBy=price", "/api/products?page=3&pageSize=10",
           "/api/products/categories"]


class Catalog(threading.Thread):
    """Catalog queries on a schedule: one every 1/qps seconds, late ones not skipped."""

    def __init__(self):
        super().__init__(daemon=True)
        self.ok = self.errors = 0
        self.stop = threading.Event()

    def run(self):
        due, i = time.monotonic(), 0
        while not self.stop.is_set():
            due += 1 / qps
            time.sleep(max(0.0, due - time.monotonic()))
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{QUERIES[i % len(QUERIES)]}",
                                            timeout=5) as res:
                    res.read()
                    self.ok += 1
            except Exception:
                self.errors += 1
            i += 1


def scrape():
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as res:
        text = res.read().decode()
    buckets, server_errors = {}, 0.0
    for line in text.splitlines():
        m = re.match(r'^emporium_http_request_duration_seconds_bucket\{.*le="([^"]+)".*\} (\S+)$',
                     line)
        if m:
            le = float("inf") if m.group(1) == "+Inf" else float(m.group(1))
            buckets[le] = buckets.get(le, 0.0) + float(m.group(2))
        m = re.match(r'^emporium_http_requests_total\{.*code="5xx".*\} (\S+)$', line)
        if m:
            server_errors += float(m.group(1))
    return buckets, server_errors


def p99_ms(before, after):
    """The 99th percentile of the requests between two scrapes (bucket upper bound)."""
    les = sorted(after)
    counts = [after[le] - before.get(le, 0.0) for le in les]  # cumulative
    total = counts[-1] if counts else 0
    if total <= 0:
        return float("nan")
    for le, c in zip(les, counts):
        if c >= 0.99 * total:
            return le * 1000
    return float("inf")


def sizes():
    db = sum(os.path.getsize(p) for p in glob.glob(os.path.join(data_dir, "*.db")))
    wal = sum(os.path.getsize(p) for p in glob.glob(os.path.join(data_dir, "*.db-wal")))
    return db, wal


def rss_kib():
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


catalog = Catalog()
catalog.start()
print("| minute | RSS MiB | database MiB | WAL MiB | open fds | p99 ms (all routes) "
      "| requests | 5xx | catalog errors |")
print("|---|---|---|---|---|---|---|---|---|", flush=True)
rows = []
prev_buckets, prev_5xx = scrape()
prev_errors = 0
for minute in range(1, minutes + 1):
    time.sleep(60)
    buckets, errors_5xx = scrape()
    db, wal = sizes()
    row = {"minute": minute, "rss": rss_kib() / 1024, "db": db / 2**20, "wal": wal / 2**20,
           "fds": len(os.listdir(f"/proc/{pid}/fd")), "p99": p99_ms(prev_buckets, buckets),
           "requests": buckets.get(float("inf"), 0) - prev_buckets.get(float("inf"), 0),
           "5xx": errors_5xx - prev_5xx, "catalog_errors": catalog.errors - prev_errors}
    rows.append(row)
    print(f"| {minute} | {row['rss']:.1f} | {row['db']:.1f} | {row['wal']:.1f} | {row['fds']} "
          f"| {row['p99']:.1f} | {row['requests']:.0f} | {row['5xx']:.0f} "
          f"| {row['catalog_errors']} |", flush=True)
    prev_buckets, prev_5xx, prev_errors = buckets, errors_5xx, catalog.errors
catalog.stop.set()

base = rows[min(warmup, len(rows) - 1)]
last = rows[-1]
print(f"\nfrom minute {base['minute']} (after warm-up) to minute {last['minute']}:")
for key, unit in (("rss", "MiB"), ("wal", "MiB"), ("fds", ""), ("db", "MiB")):
    grew = last[key] - base[key]
    print(f"  {key}: {base[key]:.1f} -> {last[key]:.1f} {unit} ({grew:+.1f})")
print(f"  5xx in all: {sum(r['5xx'] for r in rows):.0f}; catalog client errors in all: "
      f"{catalog.errors} of {catalog.ok + catalog.errors}")
