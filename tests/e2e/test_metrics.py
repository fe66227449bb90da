"""Metrics: GET /metrics on its own listener, checked by promtool, its figures
against what the test did, and a real Prometheus (Debian's) scraping a
3-node cluster every second while orders flow, queried through its HTTP API
and compared with the load generator's own counts. The shipped scrape
config and alert rules pass promtool."""
import http.client
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

from harness import IMAGE, REPO, Cluster, Node, free_port, wait_for

PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")


def setUpModule():
    # scripts/test installs them; in CI a missing tool is a failure, not a skip.
    if os.environ.get("CI") and not (PROMTOOL and PROMETHEUS):
        raise RuntimeError("prometheus/promtool missing: run scripts/install-deps metrics")


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as res:
        return res.headers.get("Content-Type"), res.read().decode()


def sample(text, name, **labels):
    """The value of the sample `name{labels}` (labels matched exactly), or None."""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        if got == {k: str(v) for k, v in labels.items()}:
            return float(m.group(4))
    return None


def shop_order(node, email, token=None):
    """Signs up (unless given a token), puts one unit in the cart and places
    an order; the token and the order id."""
    token = token or node.new_user(email)["token"]
    products = node.request("GET", "/api/products?pageSize=50")[1]
    pid = next(p["id"] for p in products if p["stockQuantity"] >= 5)
    status, _, _ = node.request("POST", "/api/cart/add", {"productId": pid, "quantity": 1},
                                token=token)
    assert status == 200, status
    status, placed, _ = node.request("POST", "/api/orders/place",
                                     {"paymentMethodId": "pm_card_visa"}, token=token)
    assert status == 200, (status, placed)
    return token, placed["orderId"]


def wait_terminal(node, token, order_id):
    def terminal():
        status, body, _ = node.request("GET", f"/api/orders/{order_id}", token=token)
        return status == 200 and body["state"] in ("Confirmed", "Cancelled") and body["state"]
    return wait_for(terminal, timeout=30, what=f"order {order_id} to end")


@unittest.skipUnless(PROMTOOL, "promtool missing (scripts/install-deps metrics)")
class MetricsEndpointTests(unittest.TestCase):
    def setUp(self):
        self.metrics_port = free_port()
        self.node = Node(extra_args=["--metrics-port", str(self.metrics_port)]).start()

    def tearDown(self):
        self.node.close()

    def test_figures_match_what_was_done_and_promtool_is_content(self):
        token, order_id = shop_order(self.node, f"metrics-{time.time_ns()}@example.com")
        self.assertEqual(wait_terminal(self.node, token, order_id), "Confirmed")
        for _ in range(2):  # two more placements, one of them refused (empty cart)
            self.node.request("POST", "/api/orders/place", {"paymentMethodId": "pm_card_visa"},
                              token=token)
        content_type, text = wait_for(
            lambda: (lambda r: r if sample(r[1], "emporium_order_transitions_total",
                                           **{"from": "PaymentAuthorized", "to": "Confirmed"}) == 1
                     else None)(scrape(self.metrics_port)),
            timeout=10, what="the confirmation in the metrics")
        self.assertTrue(content_type.startswith("text/plain; version=0.0.4"))
        lint = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                              text=True)
        self.assertEqual(lint.returncode, 0, lint.stdout + lint.stderr)
        self.assertEqual(lint.stdout.strip() + lint.stderr.strip(), "")
        self.assertEqual(sample(text, "emporium_orders_placed_total"), 1)
        self.assertEqual(sample(text, "emporium_http_requests_total",
                                route="/api/orders/place", method="POST", code="2xx"), 1)
        self.assertEqual(sample(text, "emporium_http_requests_total",
                                route="/api/orders/place", method="POST", code="4xx"), 2)
        self.assertEqual(sample(text, "emporium_http_request_duration_seconds_count",
                                route="/api/orders/place"), 3)
        self.assertEqual(sample(text, "emporium_order_duration_seconds_count"), 1)
        self.assertGreaterEqual(sample(text, "emporium_payment_provider_calls_total",
                                       outcome="approved"), 1)
        self.assertEqual(sample(text, "emporium_payment_breaker_state"), 0)
        self.assertEqual(sample(text, "emporium_entities_resident", kind="order"), 1)
        self.assertGreaterEqual(sample(text, "emporium_sqlite_commits_total", db="shard-00.db")
                                or 0, 0)
        commits = sum(float(v) for v in re.findall(r'^emporium_sqlite_commits_total\{[^}]*\} (\S+)$',
                                                   text, re.M))
        self.assertGreater(commits, 0)
        file_bytes = [float(v) for v in re.findall(
            r'^emporium_sqlite_file_bytes\{db="shard-\d+\.db"\} (\S+)$', text, re.M)]
        self.assertEqual(len(file_bytes), 12)  # one per shard file
        self.assertTrue(all(b >= 4096 for b in file_bytes))
        self.assertIsNotNone(re.search(r'(?m)^emporium_sqlite_wal_pages\{db="[^"]+"\} \d+$', text))
        self.assertGreater(sample(text, "process_resident_memory_bytes"), 10_000_000)
        self.assertLess(abs(sample(text, "process_start_time_seconds") - time.time()), 120)
        self.assertGreater(sample(text, "process_open_fds"), 5)
        self.assertGreaterEqual(sample(text, "emporium_http_open_connections"), 0)
        for actor in ("store", "router", "directory", "payment"):
            self.assertRegex(text, rf'(?m)^emporium_actor_mailbox_depth\{{actor="{actor}",'
                                   rf'instance="[^"]+"\}} \d+$')

    def test_catalog_listings_count_as_cached_or_rendered(self):
        def counts():
            text = scrape(self.metrics_port)[1]
            return (sample(text, "emporium_catalog_listings_total", answer="cached") or 0,
                    sample(text, "emporium_catalog_listings_total", answer="rendered") or 0)
        cached0, rendered0 = counts()
        # One keep-alive connection: one session, one I/O thread, one cache.
        conn = http.client.HTTPConnection("127.0.0.1", self.node.port, timeout=10)
        try:
            for _ in range(6):
                conn.request("GET", "/api/products?category=Books&maxPrice=25")
                res = conn.getresponse()
                self.assertEqual(res.status, 200)
                self.assertTrue(json.loads(res.read()))
        finally:
            conn.close()
        cached, rendered = counts()
        self.assertEqual((cached - cached0) + (rendered - rendered0), 6)
        # Rendered once, then served from the cache (twice if the catalog
        # published a snapshot meanwhile).
        self.assertIn(rendered - rendered0, (1, 2))
        self.assertGreaterEqual(cached - cached0, 4)

    def test_a_token_is_checked_in_full_once_per_thread(self):
        def counts():
            text = scrape(self.metrics_port)[1]
            return (sample(text, "emporium_tokens_verified_total", answer="remembered") or 0,
                    sample(text, "emporium_tokens_verified_total", answer="checked") or 0)
        token = self.node.new_user("remembered@example.com")["token"]
        remembered0, checked0 = counts()
        # One keep-alive connection: one session, one I/O thread.
        conn = http.client.HTTPConnection("127.0.0.1", self.node.port, timeout=10)
        try:
            for _ in range(5):
                conn.request("GET", "/api/cart", headers={"Authorization": "Bearer " + token})
                res = conn.getresponse()
                self.assertEqual(res.status, 200)
                res.read()
            # A forged token that differs in its last character only:
            # checked in full, and refused.
            forged = token[:-1] + ("A" if token[-1] != "A" else "B")
            conn.request("GET", "/api/cart", headers={"Authorization": "Bearer " + forged})
            res = conn.getresponse()
            self.assertEqual(res.status, 401)
            res.read()
        finally:
            conn.close()
        remembered, checked = counts()
        self.assertEqual(checked - checked0, 2)  # the first use, and the forged one
        self.assertEqual(remembered - remembered0, 4)

    def test_refusals_count_by_limit(self):
        # Every limit's series is there before anything is refused; a login
        # past the per-address allowance counts under that limit alone.
        port = free_port()
        node = Node(extra_args=["--metrics-port", str(port),
                                "--login-failures-per-minute-ip", "2"]).start()
        try:
            text = scrape(port)[1]
            limits = ("requests_per_client", "socket_messages_per_client", "requests_in_flight",
                      "connections", "connections_per_client", "logins_per_address",
                      "logins_per_address_account", "registrations_per_address",
                      "login_checks_queued", "registration_checks_queued",
                      "password_checks_per_client", "orders_in_progress")
            for limit in limits:
                self.assertEqual(sample(text, "emporium_limit_refusals_total", limit=limit), 0,
                                 limit)
            codes = [node.request("POST", "/api/auth/login",
                                  {"email": f"nobody{i}@example.com", "password": "wrong"},
                                  source="127.0.0.51")[0] for i in range(4)]
            self.assertEqual(codes, [401, 401, 429, 429])
            text = scrape(port)[1]
            self.assertEqual(sample(text, "emporium_limit_refusals_total",
                                    limit="logins_per_address"), 2)
            for limit in limits:
                if limit != "logins_per_address":
                    self.assertEqual(sample(text, "emporium_limit_refusals_total", limit=limit), 0,
                                     limit)
            # The log names a refused client, once per limit per 10 s.
            refused = [json.loads(l) for l in node.log(tail=100_000).splitlines()
                       if '"limit_refused"' in l]
            self.assertEqual(len(refused), 1, refused)
            self.assertEqual(refused[0]["limit"], "logins_per_address")
            self.assertEqual(refused[0]["client"], "127.0.0.51")
            self.assertEqual(refused[0]["unlogged_since"], "0")
        finally:
            node.close()

    def test_the_listener_is_apart_from_the_shop(self):
        status, _, _ = self.node.request("GET", "/metrics")
        self.assertEqual(status, 404)  # not on the shop's port
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/api/products")
        self.assertEqual(refused.exception.code, 404)  # and the shop not on the metrics port

    def test_a_taken_metrics_port_stops_the_node_with_a_message(self):
        other = Node(extra_args=["--metrics-port", str(self.metrics_port)])
        other.start(wait=False)
        code = other.proc.wait(timeout=60)
        with open(other.log_path) as f:
            log = f.read()
        other.close()
        self.assertNotEqual(code, 0)
        self.assertIn(str(self.metrics_port), log)


@unittest.skipUnless(PROMTOOL, "promtool missing (scripts/install-deps metrics)")
class ShippedConfigTests(unittest.TestCase):
    def test_scrape_config_and_alert_rules_pass_promtool(self):
        for args in (["check", "config", os.path.join(REPO, "config", "prometheus.yml")],
                     ["check", "rules", os.path.join(REPO, "config", "alerts.yml")]):
            result = subprocess.run([PROMTOOL] + args, capture_output=True, text=True)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        with open(os.path.join(REPO, "config", "alerts.yml")) as f:
            rules = f.read()
        for alert in ("EmporiumNodeDown", "EmporiumQuorumLost", "EmporiumOrdersFailing",
                      "EmporiumPaymentBreakerOpen", "EmporiumRequestLatencyHigh",
                      "EmporiumWalNotStartingOver", "EmporiumLoginsRefused"):
            self.assertIn(f"alert: {alert}", rules)

    def test_alert_rules_fire_on_the_series_they_are_for(self):
        # tests/e2e/alerts_test.yml: input series and the alerts they must
        # (and must not) raise at given times.
        cases = os.path.join(REPO, "tests", "e2e", "alerts_test.yml")
        result = subprocess.run([PROMTOOL, "test", "rules", cases], capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("SUCCESS", result.stdout)


class ThreadNamesTests(unittest.TestCase):
    """`top -H`, `perf` and /proc tell the node's threads apart: a store, a
    checkpointer and an accounts thread per database file, the HTTP and
    metrics I/O threads, the password hashers, the log writer
    (unnamed, they all read "caf.actor" or the binary's name)."""

    @unittest.skipIf(IMAGE, "the node runs in a container: its threads are not this process's")
    def test_the_node_names_its_threads(self):
        node = Node(extra_args=["--metrics-port", str(free_port())]).start()

        def thread_names():
            names = []
            task = f"/proc/{node.proc.pid}/task"
            for tid in os.listdir(task):
                try:
                    with open(f"{task}/{tid}/comm") as f:
                        names.append(f.read().strip())
                except FileNotFoundError:
                    pass  # the thread ended meanwhile
            return names

        try:
            shards = sorted(f[:-3] for f in os.listdir(node.data_dir)
                            if re.fullmatch(r"shard-\d+\.db", f))
            expected = ({f"store {s}" for s in shards} | {f"ckpt {s}" for s in shards} |
                        {f"acct {s}" for s in shards} |
                        {"ckpt emporium", "http io 0", "metrics io 0", "log writer",
                         "login hash", "signup hash", "payment test"})
            # A thread takes its name when it starts running, which can be
            # just after the node says it is ready.
            names = []

            def all_named():
                nonlocal names
                names = thread_names()
                return expected <= set(names)

            try:
                wait_for(all_named, timeout=10, what="every thread named")
            except AssertionError:
                pass  # the assertions below say which names are missing
        finally:
            node.close()
        self.assertTrue(shards)
        self.assertEqual(sorted(expected - set(names)), [])
        # The metrics listener's thread once took the edge's name too.
        self.assertEqual(names.count("http io 0"), 1, names)


@unittest.skipUnless(PROMETHEUS, "prometheus missing (scripts/install-deps metrics)")
class PrometheusScrapesAClusterTests(unittest.TestCase):
    def setUp(self):
        self.cluster = Cluster(3)
        self.metrics_ports = []
        for node in self.cluster.nodes:
            port = free_port()
            self.metrics_ports.append(port)
            node.extra_args += ["--metrics-port", str(port)]
        self.cluster.start()
        self.cluster.wait_formed()
        self.prom_dir = tempfile.mkdtemp(prefix="emporium-prometheus-")
        self.prom_port = free_port()
        config = os.path.join(self.prom_dir, "prometheus.yml")
        with open(config, "w") as f:
            json.dump({"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                       "scrape_configs": [{"job_name": "emporium", "static_configs": [
                           {"targets": [f"127.0.0.1:{p}" for p in self.metrics_ports]}]}]}, f)
        self.prom_log = open(os.path.join(self.prom_dir, "prometheus.log"), "wb")
        self.prom = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={self.prom_dir}/data",
             f"--web.listen-address=127.0.0.1:{self.prom_port}"],
            stdout=self.prom_log, stderr=subprocess.STDOUT)

    def tearDown(self):
        self.prom.terminate()
        try:
            self.prom.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.prom.kill()
        self.prom_log.close()
        shutil.rmtree(self.prom_dir, ignore_errors=True)
        self.cluster.close()

    def query(self, expr):
        """The first value of an instant query; None when empty or while
        Prometheus is still starting."""
        url = (f"http://127.0.0.1:{self.prom_port}/api/v1/query?" +
               urllib.parse.urlencode({"query": expr}))
        try:
            with urllib.request.urlopen(url, timeout=10) as res:
                body = json.loads(res.read())
        except OSError:
            return None
        assert body["status"] == "success", body
        result = body["data"]["result"]
        return float(result[0]["value"][1]) if result else None

    def test_prometheus_sees_the_orders_the_load_generator_placed(self):
        wait_for(lambda: self.query('sum(up{job="emporium"})') == 3, timeout=60,
                 what="prometheus to scrape all three nodes")
        placed, outcomes, lock = [], {}, threading.Lock()
        # Sign-ups first, one at a time: password hashing is deliberately
        # slow (and slower under the sanitizers); the load is the orders.
        tokens = [self.cluster[i % 3].new_user(f"prom-{i}-{time.time_ns()}@example.com")["token"]
                  for i in range(12)]

        def buyer(i):
            node = self.cluster[i % 3]
            for _ in range(2):
                token, order_id = shop_order(node, None, tokens[i])
                outcome = wait_terminal(node, token, order_id)
                with lock:
                    placed.append(order_id)
                    outcomes[outcome] = outcomes.get(outcome, 0) + 1

        threads = [threading.Thread(daemon=True, target=buyer, args=(i,)) for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(len(placed), 24, "\n".join(
            f"node{i + 1} (exit {self.cluster[i].proc.poll()}): " + self.cluster[i].log()[-1500:]
            for i in range(3)))
        confirmed = outcomes.get("Confirmed", 0)
        # Counters summed over the nodes (each order's saga ran on one node).
        wait_for(lambda: self.query("sum(emporium_orders_placed_total)") == 24, timeout=20,
                 what="24 placed orders in prometheus")
        wait_for(lambda: self.query('sum(emporium_order_transitions_total{to="Confirmed"})')
                 == confirmed, timeout=20, what=f"{confirmed} confirmations in prometheus")
        increase = self.query("sum(increase(emporium_orders_placed_total[1m]))")
        self.assertIsNotNone(increase)
        self.assertGreater(increase, 12)   # extrapolated by prometheus, so not exact
        self.assertLess(increase, 48)
        # Counted by the edge that answered, which may be another node than
        # the orders' owners above: its scrape can lag behind theirs.
        wait_for(lambda: self.query('sum(emporium_http_requests_total{route="/api/orders/place",'
                                    'code="2xx"})') == 24, timeout=20,
                 what="24 answered placements in prometheus")
        self.assertEqual(self.query("sum(emporium_cluster_shards_owned)"), 12)
        self.assertEqual(self.query("min(emporium_cluster_quorum)"), 1)
        self.assertEqual(self.query("max(emporium_cluster_live_members)"), 3)
        p99 = self.query('histogram_quantile(0.99, sum by (le) (rate('
                         'emporium_http_request_duration_seconds_bucket{route="/api/orders/place"}[1m])))')
        self.assertIsNotNone(p99)
        self.assertGreater(p99, 0)

        # The operations page's figures: the same registries, gathered
        # cluster-wide through any one node; admins only.
        status, stats, _ = self.cluster[1].request("GET", "/api/admin/stats",
                                                   token=self.cluster[1].admin_token())
        self.assertEqual(status, 200, stats)
        nodes = stats["nodes"]
        self.assertEqual(len(nodes), 3)
        self.assertTrue(all(n["reachable"] for n in nodes), nodes)
        self.assertEqual(sum(n["orders"]["placed"] for n in nodes), 24)
        self.assertEqual(sum(n["orders"]["confirmed"] for n in nodes), confirmed)
        self.assertEqual(sum(n["orders"]["cancelled"] for n in nodes), 24 - confirmed)
        self.assertEqual(sum(n["shardsOwned"] for n in nodes), 12)
        self.assertEqual(sum(r["requests"] for n in nodes for r in n["routes"]
                             if r["route"] == "/api/orders/place"), 24)
        self.assertTrue(all(n["breaker"] == "closed" for n in nodes))
        self.assertGreater(sum(n["commit"]["count"] for n in nodes if n["commit"]), 24)
        self.assertEqual(self.cluster[0].request("GET", "/api/admin/stats", token=tokens[0])[0],
                         403)
        self.assertEqual(self.cluster[0].request("GET", "/api/admin/stats")[0], 401)


if __name__ == "__main__":
    unittest.main()


LEVEL2_REPORT = {"csp-report": {
    "document-uri": "http://127.0.0.1/cart?session=s3cr3t-session",
    "referrer": "", "violated-directive": "script-src-elem",
    "effective-directive": "script-src-elem",
    "original-policy": "default-src 'self'; report-uri /api/csp-reports",
    "disposition": "enforce", "blocked-uri": "https://cdn.example.test/skimmer.js?card=4242424242424242",
    "line-number": 12, "column-number": 7, "source-file": "http://127.0.0.1/assets/app.js",
    "status-code": 200, "script-sample": "exfiltrate(cardNumber)"}}


class CspReportTests(unittest.TestCase):
    """POST /api/csp-reports: what the storefront page's policy refused in a
    buyer's browser reaches the operator as a metric and a log line, and
    whatever else is sent there is refused or bounded."""

    def setUp(self):
        self.metrics_port = free_port()
        self.node = Node(extra_args=["--metrics-port", str(self.metrics_port)],
                         env={"EMPORIUM_REQUESTS_PER_SECOND_CLIENT": "5"}).start()

    def tearDown(self):
        self.node.close()

    def post(self, body, content_type="application/csp-report", source=None):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.node.request("POST", "/api/csp-reports", raw=raw, source=source,
                                 headers={"Content-Type": content_type})

    def violations(self, directive):
        return sample(scrape(self.metrics_port)[1], "emporium_csp_violations_total",
                      directive=directive) or 0

    def logged(self):
        return [json.loads(l) for l in self.node.log(tail=None).splitlines()
                if '"content security policy violation"' in l]

    def test_a_browser_report_is_counted_and_logged_without_what_may_be_personal(self):
        status, body, _ = self.post(LEVEL2_REPORT)
        self.assertEqual((status, body), (204, None))
        batch = [
            {"type": "csp-violation", "age": 3, "url": "http://127.0.0.1/orders/9",
             "body": {"documentURL": "http://127.0.0.1/orders/9?x=1", "blockedURL": "eval",
                      "effectiveDirective": "script-src", "disposition": "enforce",
                      "sample": "secret-sample"}},
            {"type": "csp-violation", "body": {"effectiveDirective": "made-up-src-1"}},
            {"type": "csp-violation", "body": {"effectiveDirective": "made-up-src-2"}},
            {"type": "deprecation", "body": {"id": "x"}},
        ]
        status, body, _ = self.post(batch, "application/reports+json")
        self.assertEqual((status, body), (204, None))
        self.assertEqual(self.violations("script-src-elem"), 1)
        self.assertEqual(self.violations("script-src"), 1)
        self.assertEqual(self.violations("other"), 2)  # made-up names are one label
        wait_for(lambda: len(self.logged()) == 4, what="four log lines")
        first = self.logged()[0]
        self.assertEqual(first["level"], "warn")
        self.assertEqual((first["directive"], first["blocked"], first["document"], first["source"],
                          first["line"], first["enforced"], first["held_back"]),
                         ("script-src-elem", "https://cdn.example.test/skimmer.js", "/cart",
                          "http://127.0.0.1/assets/app.js", "12", "true", "0"))
        self.assertEqual(self.logged()[1]["document"], "/orders/9")
        log = self.node.log(tail=None)
        for never in ("4242424242424242", "s3cr3t-session", "exfiltrate", "secret-sample"):
            self.assertNotIn(never, log)

    def test_what_is_not_a_report_is_refused_and_counts_nothing(self):
        cases = [
            (b"{\"csp-report\": ", 400),
            (b"{}", 400),
            (b"[1, 2", 400),
            (b"\"script-src\"", 400),
            (b"{\"csp-report\": {\"effective-directive\": \"\xff\"}}", 400),
            (b"[" * 5000 + b"]" * 5000, 400),
            (b"{\"csp-report\": {\"blocked-uri\": \"" + b"x" * 17000 + b"\"}}", 413),
        ]
        for raw, code in cases:
            status, body, headers = self.post(raw)
            self.assertEqual(status, code, raw[:40])
            self.assertEqual(headers["content-type"], "application/json")
            self.assertEqual(body["code"], "invalid_argument" if code == 400 else "payload_too_large")
            self.assertTrue(body["message"])
        text = scrape(self.metrics_port)[1]
        self.assertNotIn("emporium_csp_violations_total{", text)
        self.assertEqual(self.logged(), [])
        self.assertEqual(self.node.request("GET", "/health/ready")[0], 200)

    def test_a_flood_is_counted_in_full_and_logs_a_few_lines_a_second(self):
        # 5 requests a second per client, 10 at once: 20 each from three
        # clients, then one more after the log budget has refilled a little.
        # Whatever the pace, the three take more (30 + 5 a second of the
        # run) than the log's burst and refill (20 + 5 a second).
        sources = ("127.0.0.61", "127.0.0.62", "127.0.0.63")
        codes = [self.post(LEVEL2_REPORT, source=src)[0] for src in sources for _ in range(20)]
        self.assertEqual(codes.count(204) + codes.count(429), 60)
        self.assertGreaterEqual(codes[:20].count(429), 1, "one client is held to its limit")
        for i in (1, 2):
            self.assertGreaterEqual(codes[20 * i:20 * i + 20].count(204), 10,
                                    "the others are not held by the first")
        time.sleep(0.5)
        self.assertEqual(self.post(LEVEL2_REPORT, source="127.0.0.64")[0], 204)
        accepted = codes.count(204) + 1
        self.assertEqual(self.violations("script-src-elem"), accepted)
        wait_for(lambda: int(self.logged()[-1]["held_back"]) > 0 if self.logged() else False,
                 what="a line that says how many were held back")
        lines = self.logged()
        self.assertLess(len(lines), accepted)
        self.assertLessEqual(len(lines), 20 + 5 * 30)  # the burst, then 5 a second
        # Every report is either a line or counted in the next line's held_back.
        self.assertEqual(len(lines) + sum(int(l["held_back"]) for l in lines), accepted)
