#!/usr/bin/env python3
"""A cluster member that drops SYNs, and what it costs the others: printed
as Markdown (README, Cluster, quotes the figures).

Two nodes whose third configured member is silent (harness.SilentPort: a
listener whose accept queue is full, as a peer that went away behind a port
mapping looks), listed first so that both dial it first. Per run: the
seconds from starting both nodes until both see 2 live members and all 12
shards are open (start-up included), or "not formed" past the limit; then
one node alone with the silent seed is stopped with SIGTERM 1 s after its
first dial gave up, and the seconds until it exits, and whether main.cpp's
watchdog had to end it (`exit_forced`). The same stop with a seed named by
a host name whose nameserver never answers (harness.SilentDns: the node in a
mount namespace with a resolv.conf of its own; root only), during its name
lookup. And a node whose Stripe API host (a fake, tests/e2e/fake_stripe.py)
is named by such a host name: one order placed (it is cancelled when its
payment deadline passes), then the stop, during the API host's lookup. A
node exporting spans to an OTLP collector named that way: one request, then
the stop during the next export's lookup. And `emporium healthcheck` with a
2 s timeout against a node named that way: the seconds until it gives up.

usage: tests/bench/silent_seed.py [binary=build/bench/emporium] [limit_s=120] [runs=3]
Several binaries side by side: run it once per binary, interleaved.
"""
import os
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "bench", "emporium")
LIMIT = int(sys.argv[2]) if len(sys.argv) > 2 else 120
RUNS = int(sys.argv[3]) if len(sys.argv) > 3 else 3

os.environ["EMPORIUM_TEST_BINARY"] = BINARY
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from harness import Cluster, Node, SilentDns, SilentPort, free_port  # noqa: E402


def formation(tls):
    silent = SilentPort()
    cluster = Cluster(2, tls=tls, other_seeds=[silent.address])
    try:
        cluster.start()
        started = time.monotonic()
        try:
            cluster.wait_formed(live=2, timeout=LIMIT)
            return f"{time.monotonic() - started:.1f} s"
        except RuntimeError:
            return f"not formed in {LIMIT} s"
    finally:
        cluster.close()
        silent.close()


def timed_stop(node):
    """SIGTERM now: the seconds until the node exits, its exit code, and
    whether main.cpp's watchdog had to end it."""
    started = time.monotonic()
    code = node.terminate(timeout=300)
    took = time.monotonic() - started
    forced = '"exit_forced"' in node.log(tail=None)
    return f"{took:.1f} s, exit {code}{', exit_forced' if forced else ''}"


NOT_MEASURED = "not measured (needs root and a mount namespace)"


def with_silent_dns(measure):
    """`measure`, or NOT_MEASURED where harness.SilentDns cannot work."""
    return lambda: measure() if SilentDns.usable() else NOT_MEASURED


def stop_during_dial(lookup=False):
    if lookup and not SilentDns.usable():
        return NOT_MEASURED
    silent = SilentDns() if lookup else SilentPort()
    seed = f"peer.emporium.test:{free_port()}" if lookup else silent.address
    node = Node(extra_args=["--node-port", str(free_port()), "--cluster-tls", "off",
                            "--seeds", seed], log_name="silent-seed.log")
    if lookup:
        node.wrapper = silent.wrapper
    try:
        node.start(wait=False)
        deadline = time.monotonic() + 300
        while '"seed_unreachable"' not in node.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1)
        return timed_stop(node)
    finally:
        node.close()
        silent.close()


@with_silent_dns
def stop_during_api_lookup():
    import test_payments_stripe as stripe  # the e2e helpers: fake, arguments, orders
    fake, dns = stripe.own_fake(), SilentDns()
    node = Node(extra_args=stripe.stripe_args(fake, **{
        "--stripe-api-base": f"https://api.stripe.test:{fake.port}",
        "--payment-timeout-ms": "2500"}), env=stripe.stripe_env(fake))
    node.wrapper = dns.wrapper
    try:
        node.start()
        token = stripe.shopper(node, "silent-dns")
        stripe.terminal(node, token, stripe.place(node, token, "pm_card_visa", product=12))
        time.sleep(0.5)
        return timed_stop(node)
    finally:
        node.close()
        dns.close()
        fake.stop()


@with_silent_dns
def stop_during_collector_lookup():
    dns = SilentDns()
    node = Node(extra_args=["--otlp-endpoint", "http://collector.emporium.test:4318"],
                log_name="silent-collector.log")
    node.wrapper = dns.wrapper
    try:
        node.start()
        node.request("GET", "/api/products?pageSize=1")
        time.sleep(1.2)  # the exporter gathers for 1 s, then looks the collector up
        return timed_stop(node)
    finally:
        node.close()
        dns.close()


@with_silent_dns
def healthcheck_by_silent_name():
    dns = SilentDns()
    try:
        started = time.monotonic()
        probe = subprocess.run(dns.wrapper + [BINARY, "healthcheck", "--url",
                                              "http://node.emporium.test:8080/health/ready",
                                              "--timeout-ms", "2000"],
                               capture_output=True, timeout=300)
        return f"{time.monotonic() - started:.1f} s, exit {probe.returncode}"
    finally:
        dns.close()


def main():
    print(f"binary: {BINARY}\n")
    print("| run | formed, plain | formed, TLS | stop during a dial "
          "| stop during a name lookup | stop during the payment API's lookup "
          "| stop during the collector's lookup | healthcheck, 2 s timeout |")
    print("|---|---|---|---|---|---|---|---|")
    for run in range(1, RUNS + 1):
        print(f"| {run} | {formation(False)} | {formation(True)} | {stop_during_dial()} "
              f"| {stop_during_dial(lookup=True)} | {stop_during_api_lookup()} "
              f"| {stop_during_collector_lookup()} | {healthcheck_by_silent_name()} |",
              flush=True)


if __name__ == "__main__":
    main()
