"""Every connection a node (or its healthcheck command) makes to a host
named by a host name looks the name up within the caller's own deadline
(support/name_lookup.hpp), so a nameserver that does not answer costs a
clear error, not a stall: here the OTLP collector and the healthcheck.
glibc's lookup waits ~10 s for such a nameserver (5 s, 2 tries). The
cluster's seeds and Stripe's API host have their own tests
(test_cluster.SilentNameserverTests, test_payments_stripe.StripeNameTests)."""
import subprocess
import time
import unittest

from harness import BINARY, Node, SilentDns, free_port, needs_silent_dns, wait_for
from test_metrics import sample, scrape
from test_traces import Collector, log_lines


class CollectorByNameTests(unittest.TestCase):
    def test_a_collector_named_by_host_name_gets_the_spans(self):
        collector = Collector()
        node = Node(extra_args=["--otlp-endpoint", f"http://localhost:{collector.port}"],
                    log_name="named-collector.log").start()
        try:
            self.assertEqual(node.request("GET", "/api/products?pageSize=1")[0], 200)
            wait_for(lambda: collector.spans, timeout=15, what="spans at the collector")
        finally:
            node.close()
            collector.stop()


@needs_silent_dns
class SilentNameserverTests(unittest.TestCase):
    def setUp(self):
        self.dns = SilentDns()

    def tearDown(self):
        self.dns.close()

    def test_a_collector_whose_name_does_not_resolve_holds_up_nothing(self):
        metrics_port = free_port()
        node = Node(extra_args=["--otlp-endpoint", "http://collector.emporium.test:4318",
                                "--metrics-port", str(metrics_port)],
                    log_name="silent-collector.log")
        node.wrapper = self.dns.wrapper
        try:
            node.start()
            self.assertEqual(node.request("GET", "/api/products?pageSize=1")[0], 200)
            wait_for(lambda: any(l["msg"] == "trace_export_failed" for l in log_lines(node)),
                     timeout=20, what="the first export failing")
            failed = [l for l in log_lines(node) if l["msg"] == "trace_export_failed"][0]
            self.assertEqual(failed["error"],
                             "resolve: no answer from the name lookup within 2000 ms")
            body = scrape(metrics_port)[1]
            self.assertEqual(sample(body, "emporium_trace_spans_exported_total") or 0, 0)
            self.assertGreaterEqual(sample(body, "emporium_trace_spans_lost_total") or 0, 1)
            # A stop during the next export's lookup: the exporter gives up
            # with its 2 s, not with the lookup's ~10 s.
            self.assertEqual(node.request("GET", "/api/products?pageSize=1")[0], 200)
            time.sleep(1.2)  # the exporter gathers for 1 s, then looks up
            started = time.monotonic()
            code = node.terminate(timeout=60)
            took = time.monotonic() - started
            names = [l["msg"] for l in log_lines(node)]
            self.assertEqual(code, 0)
            self.assertIn("stopped cleanly", names)
            self.assertNotIn("exit_forced", names)
            self.assertLess(took, 6, names[-5:])
        finally:
            node.close()

    def test_the_healthcheck_gives_up_on_a_lookup_at_its_timeout(self):
        started = time.monotonic()
        probe = subprocess.run(
            self.dns.wrapper + [BINARY, "healthcheck", "--url",
                                "http://node.emporium.test:8080/health/ready",
                                "--timeout-ms", "1000"],
            capture_output=True, text=True, timeout=60)
        took = time.monotonic() - started
        self.assertEqual(probe.returncode, 1, probe.stderr)
        self.assertIn("resolve: no answer from the name lookup within 1000 ms", probe.stderr)
        self.assertLess(took, 4, probe.stderr)

    def test_the_healthcheck_by_name_reaches_a_ready_node(self):
        node = Node(log_name="probed-node.log").start()
        try:
            probe = subprocess.run(
                self.dns.wrapper + [BINARY, "healthcheck", "--url",
                                    f"http://localhost:{node.port}/health/ready"],
                capture_output=True, text=True, timeout=60)
            self.assertEqual(probe.returncode, 0, probe.stderr)
        finally:
            node.close()


if __name__ == "__main__":
    unittest.main()
