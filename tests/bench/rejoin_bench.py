#!/usr/bin/env python3
"""Rejoin after a freeze, printed as Markdown (docs/benchmarks.md keeps the latest).

A three-node cluster (TLS between nodes, heartbeat 500 ms, peer timeout 2 s,
as the tests run it). Node 3 is stopped with SIGSTOP until node 1 counts 2
live members, then 1 s more, then continued with SIGCONT: the time from
SIGCONT until every node sees 3 members and all 12 shards are open again,
and the hellos lost on the way (`seed_unreachable` with `request_timeout`
in the logs). No load: what is measured is membership, not the shards'
drain. A thaw that does not form the cluster within 60 s counts as failed.
BUSY=n runs n busy loops beside it, as a loaded machine (CI's parallel
tests, a sanitizer build) slows the nodes' TLS handshakes: two nodes that
dial each other after a thaw then cross more often (README, Cluster).

usage: [BUSY=n] tests/bench/rejoin_bench.py [thaws=10] [binary=build/bench/emporium] [label]
Several binaries side by side: run it once per binary, interleaved.
"""
import os
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
THAWS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
BINARY = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "build", "bench", "emporium")
LABEL = sys.argv[3] if len(sys.argv) > 3 else os.path.basename(BINARY)

os.environ["EMPORIUM_TEST_BINARY"] = BINARY
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from harness import Cluster  # noqa: E402  (the e2e tests' cluster, same flags)


def lost_hellos(cluster):
    return sum(node.log(tail=None).count('"error":"system_error(request_timeout)"')
               for node in cluster.nodes)


def main():
    busy = [subprocess.Popen(["sh", "-c", "while :; do :; done"])
            for _ in range(int(os.environ.get("BUSY", "0")))]
    cluster = Cluster(3).start()
    times, failed = [], 0
    try:
        cluster.wait_formed()
        for _ in range(THAWS):
            cluster[2].proc.send_signal(signal.SIGSTOP)
            while cluster.cluster_health(0)["liveMembers"] != 2:
                time.sleep(0.05)
            time.sleep(1.0)
            cluster[2].proc.send_signal(signal.SIGCONT)
            thawed = time.time()
            try:
                cluster.wait_formed(timeout=60)
                times.append(time.time() - thawed)
            except RuntimeError:
                failed += 1
                cluster.wait_formed(timeout=120)  # the next thaw starts from a whole cluster
        lost = lost_hellos(cluster)
    finally:
        cluster[2].proc.send_signal(signal.SIGCONT)
        cluster.close()
        for p in busy:
            p.kill()
            p.wait()
    over = sum(1 for t in times if t > 5)
    print("| binary | busy loops | thaws | formed again, s: median (min-max) | over 5 s | not in 60 s | hellos lost |")
    print("|---|---|---|---|---|---|---|")
    b = len(busy)
    if times:
        print(f"| {LABEL} | {b} | {THAWS} | {statistics.median(times):.2f} ({min(times):.2f}-{max(times):.2f}) "
              f"| {over} | {failed} | {lost} |")
    else:
        print(f"| {LABEL} | {b} | {THAWS} | - | - | {failed} | {lost} |")


if __name__ == "__main__":
    main()
