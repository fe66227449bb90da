"""Traces end to end: a capturing OTLP/HTTP endpoint (a small HTTP server in
the test) receives the spans of a 3-node cluster. One order placed through
node 2, whose user's shard another node owns, is one trace: the HTTP span is
the root, the saga's steps descend from it, spans come from two nodes with
matching parent ids, and the trace id is in both nodes' JSON log lines. The
collector going down changes nothing for clients."""
import json
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import Cluster, free_port, wait_for
from test_metrics import wait_terminal


class Collector:
    """Accepts POST /v1/traces with JSON bodies and keeps every span with
    the node (service.instance.id) that sent it."""

    def __init__(self):
        self.spans, self.bad_requests = [], []
        self.lock = threading.Lock()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    assert self.path == "/v1/traces", self.path
                    assert self.headers.get("Content-Type") == "application/json"
                    collector.take(json.loads(body))
                except (AssertionError, ValueError, KeyError) as e:
                    with collector.lock:
                        collector.bad_requests.append(repr(e))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def take(self, doc):
        for rs in doc["resourceSpans"]:
            attrs = {a["key"]: a["value"]["stringValue"] for a in rs["resource"]["attributes"]}
            assert attrs["service.name"] == "emporium", attrs
            for ss in rs["scopeSpans"]:
                for span in ss["spans"]:
                    with self.lock:
                        self.spans.append(dict(span, node=attrs["service.instance.id"]))

    def trace(self, trace_id):
        with self.lock:
            return [s for s in self.spans if s["traceId"] == trace_id]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def log_lines(node):
    out = []
    for line in node.log(tail=None).splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


class TracesAcrossNodesTests(unittest.TestCase):
    def setUp(self):
        self.collector = Collector()
        self.cluster = Cluster(3, extra_args=[
            "--otlp-endpoint", f"http://127.0.0.1:{self.collector.port}", "--log-level", "debug"])
        self.cluster.start()
        self.cluster.wait_formed()

    def tearDown(self):
        self.cluster.close()
        self.collector.stop()

    def buyer_on_another_node(self, via):
        """A user signed up through `via` whose shard (orders, index) another
        node owns; with the token, the owner's name and `via`'s name."""
        admin = via.admin_token()
        for i in range(40):
            token = via.new_user(f"traced-{i}-{time.time_ns()}@example.com")["token"]
            uid = via.request("GET", "/api/auth/profile", token=token)[1]["id"]
            view = via.request("GET", f"/api/cluster?user={uid}", token=admin)[1]
            owner = view["owners"][str(view["userShard"])]
            if owner != view["node"]:
                return token, owner, view["node"]
        self.fail("no user landed on another node's shard in 40 sign-ups")

    def place(self, node, token, headers=None):
        products = node.request("GET", "/api/products?pageSize=50")[1]
        pid = next(p["id"] for p in products if p["stockQuantity"] >= 5)
        status, _, _ = node.request("POST", "/api/cart/add", {"productId": pid, "quantity": 1},
                                    token=token)
        self.assertEqual(status, 200)
        status, placed, res_headers = node.request(
            "POST", "/api/orders/place", {"paymentMethodId": "pm_card_visa"}, token=token,
            headers=headers)
        self.assertEqual(status, 200, placed)
        return placed["orderId"], res_headers["traceparent"]

    def test_one_order_through_another_nodes_shard_is_one_trace(self):
        via = self.cluster[1]
        token, owner, via_name = self.buyer_on_another_node(via)
        order_id, traceparent = self.place(via, token)
        version, trace_id, root_id, flags = traceparent.split("-")
        self.assertEqual((version, flags, len(trace_id), len(root_id)), ("00", "01", 32, 16))
        outcome = wait_terminal(via, token, order_id)
        final = "order." + outcome
        wait_for(lambda: any(s["name"] == final for s in self.collector.trace(trace_id)),
                 timeout=20, what=f"the {final} span at the collector")
        time.sleep(1.5)  # one more export interval: the last spans of the trace
        spans = self.collector.trace(trace_id)
        self.assertEqual(self.collector.bad_requests, [])
        by_id = {s["spanId"]: s for s in spans}
        self.assertEqual(len(by_id), len(spans), "span ids are unique")

        roots = [s for s in spans if "parentSpanId" not in s]
        self.assertEqual(len(roots), 1, [(s["name"], s["node"]) for s in roots])
        root = roots[0]
        self.assertEqual(root["spanId"], root_id)
        self.assertEqual(root["name"], "POST /api/orders/place")
        self.assertEqual(root["kind"], 2)
        self.assertEqual(root["node"], via_name)
        attrs = {a["key"]: a["value"]["stringValue"] for a in root["attributes"]}
        self.assertEqual(attrs["http.response.status_code"], "200")

        def ancestry(span):
            chain = []
            while "parentSpanId" in span:
                self.assertIn(span["parentSpanId"], by_id,
                              f"{span['name']} names a parent the trace lacks")
                span = by_id[span["parentSpanId"]]
                chain.append(span["name"])
                self.assertLess(len(chain), 50)
            return chain, span

        names = {s["name"] for s in spans}
        for step in ("order.place", "saga.reserve", "saga.charge", "sqlite.commit",
                     "cluster.forward", final):
            self.assertIn(step, names)
        for s in spans:
            chain, top = ancestry(s)
            self.assertIs(top, root, f"{s['name']} does not descend from the HTTP span")
            self.assertLessEqual(int(s["startTimeUnixNano"]), int(s["endTimeUnixNano"]))
        saga_nodes = {s["node"] for s in spans if s["name"].startswith(("saga.", "order."))}
        self.assertEqual(saga_nodes, {owner})
        self.assertEqual({s["node"] for s in spans}, {via_name, owner})
        # The hop that carried the order: the owner may forward too (a stock
        # reservation for a product whose shard lives on another node).
        place = next(s for s in spans if s["name"] == "order.place")
        forward = by_id[place["parentSpanId"]]
        self.assertEqual(forward["name"], "cluster.forward")
        self.assertEqual(forward["node"], via_name)

        # The trace id in both nodes' JSON log lines.
        nodes = {n.request("GET", "/api/cluster", token=via.admin_token())[1]["node"]: n
                 for n in self.cluster.nodes}
        for name in (via_name, owner):
            traced = [l for l in log_lines(nodes[name]) if l.get("trace_id") == trace_id]
            self.assertTrue(traced, f"no log line of {name} carries trace {trace_id}")
            self.assertTrue(all(len(l["span_id"]) == 16 for l in traced))
        self.assertIn("order_transition",
                      {l["msg"] for l in log_lines(nodes[owner]) if l.get("trace_id") == trace_id})

    def test_a_callers_traceparent_is_continued_and_a_dead_collector_changes_nothing(self):
        via = self.cluster[0]
        token = via.new_user(f"caller-{time.time_ns()}@example.com")["token"]
        caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        order_id, traceparent = self.place(via, token, headers={"traceparent": caller})
        self.assertTrue(traceparent.startswith("00-0af7651916cd43dd8448eb211c80319c-"))
        self.assertNotEqual(traceparent.split("-")[2], "b7ad6b7169203331")
        wait_terminal(via, token, order_id)
        wait_for(lambda: any(s["name"] == "POST /api/orders/place" for s in
                             self.collector.trace("0af7651916cd43dd8448eb211c80319c")),
                 timeout=20, what="the continued trace at the collector")
        server = next(s for s in self.collector.trace("0af7651916cd43dd8448eb211c80319c")
                      if s["name"] == "POST /api/orders/place")
        self.assertEqual(server["parentSpanId"], "b7ad6b7169203331")
        # A malformed traceparent starts a new trace, never an error.
        status, _, headers = via.request("GET", "/api/products?pageSize=1",
                                         headers={"traceparent": "00-zz-yy-01"})
        self.assertEqual(status, 200)
        self.assertNotIn("zz", headers["traceparent"])

        self.collector.stop()
        for i in range(3):
            order_id, traceparent = self.place(via, token)
            self.assertRegex(traceparent, r"^00-[0-9a-f]{32}-[0-9a-f]{16}-01$")
            self.assertIn(wait_terminal(via, token, order_id), ("Confirmed", "Cancelled"))
        wait_for(lambda: "trace_export_failed" in via.log(tail=None), timeout=20,
                 what="the failed export in the log")


if __name__ == "__main__":
    unittest.main()
