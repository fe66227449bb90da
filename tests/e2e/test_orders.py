"""Orders end to end: the seed's seven-step flow over /ws and over the
SignalR hub, idempotent placement, history, cancel, 403s, contention."""
import json
import re
import threading
import time
import unittest
import urllib.request

from harness import Node, big_stock_products, entity_state, free_port, snapshot_keys, wait_for
from wsclient import WebSocket

RS = "\x1e"
node = None


def setUpModule():
    global node
    node = Node().start()


def tearDownModule():
    node.close()


def order_state(token, order_id):
    return node.request("GET", f"/api/orders/{order_id}", token=token)[1]["state"]


def events_until_terminal(ws, order_id):
    seen = []
    while True:
        e = ws.recv_json()
        if e.get("type") == "order.status" and e["orderId"] == order_id:
            seen.append(e)
            if e["status"] in ("Confirmed", "Cancelled"):
                return seen


class OrderFlowTests(unittest.TestCase):
    def shopper(self, name):
        login = node.new_user(f"{name}-{time.time_ns()}@example.com")
        return login["token"], login["userId"]

    def test_seven_steps_over_plain_websocket(self):
        token, uid = self.shopper("seven")                             # 1-2 register, login
        ws = WebSocket(node.port, f"/ws?access_token={token}")          # 3 connect
        self.assertEqual(ws.status, 101)
        self.assertEqual(ws.recv_json()["type"], "hello")
        products = node.request("GET", "/api/products?category=Kitchen")[1]  # 4 browse
        pid = next(p["id"] for p in products if p["stockQuantity"] >= 2)
        self.assertEqual(node.request("POST", "/api/cart/add",          # 5 add to cart
                                      {"productId": pid, "quantity": 2}, token=token)[0], 200)
        status, placed, _ = node.request("POST", "/api/orders/place",   # 6 place
                                         {"paymentMethodId": "pm_card_visa"}, token=token)
        self.assertEqual(status, 200)
        for key in ("message", "orderId", "status"):
            self.assertIn(key, placed)
        events = events_until_terminal(ws, placed["orderId"])           # 7 confirmation
        self.assertEqual([e["status"] for e in events],
                         ["Submitted", "StockReserved", "PaymentAuthorized", "Confirmed"])
        seqs = [e["seq"] for e in events]
        self.assertEqual(seqs, sorted(seqs))
        for e in events:
            self.assertIn("at", e)
            self.assertIn("reason", e)
        self.assertEqual(node.request("GET", "/api/cart", token=token)[1]["items"], [])
        ws.close()
        # Resume: a new socket asking from seq 0 gets every event of the order, in order.
        ws = WebSocket(node.port, "/ws", timeout=10)
        self.assertEqual(ws.status, 401)
        ws = WebSocket(node.port, f"/ws?access_token={token}")
        ws.recv_json()
        ws.send(json.dumps({"resume": 0}))
        replay = events_until_terminal(ws, placed["orderId"])
        self.assertEqual([e["status"] for e in replay],
                         ["Submitted", "StockReserved", "PaymentAuthorized", "Confirmed"])
        ws.close()

    def test_seven_steps_over_signalr(self):
        token, uid = self.shopper("signalr")
        status, neg, _ = node.request("POST", "/notificationHub/negotiate?negotiateVersion=1",
                                      token=token)
        self.assertEqual(status, 200)
        self.assertEqual(neg["negotiateVersion"], 1)
        self.assertEqual(neg["availableTransports"][0]["transport"], "WebSockets")
        hub = WebSocket(node.port, f"/notificationHub?id={neg['connectionToken']}&access_token={token}")
        self.assertEqual(hub.status, 101)
        hub.send(json.dumps({"protocol": "json", "version": 1}) + RS)
        self.assertEqual(hub.recv(), "{}" + RS)
        other = node.new_user(f"other-{time.time_ns()}@example.com")["userId"]
        hub.send(json.dumps({"type": 1, "invocationId": "0", "target": "JoinGroup",
                             "arguments": [other]}) + RS)
        refused = json.loads(hub.recv().rstrip(RS))
        self.assertEqual((refused["type"], refused["invocationId"]), (3, "0"))
        self.assertIn("error", refused)
        hub.send(json.dumps({"type": 1, "invocationId": "1", "target": "JoinGroup",
                             "arguments": [uid]}) + RS)
        joined = json.loads(hub.recv().rstrip(RS))
        self.assertEqual(joined, {"type": 3, "invocationId": "1", "result": None})
        node.request("POST", "/api/cart/add", {"productId": 2, "quantity": 1}, token=token)
        placed = node.request("POST", "/api/orders/place", {"paymentMethodId": "pm_card_mastercard"},
                              token=token)[1]
        statuses = []
        while "Confirmed" not in statuses:
            for record in hub.recv().split(RS):
                if not record:
                    continue
                msg = json.loads(record)
                if msg.get("type") == 1 and msg["target"] == "ReceiveOrderNotification":
                    n = msg["arguments"][0]
                    self.assertEqual(n["orderId"], placed["orderId"])
                    self.assertIn("totalAmount", n)
                    statuses.append(n["status"])
        self.assertEqual(statuses, ["Submitted", "StockReserved", "PaymentAuthorized", "Confirmed"])
        hub.close()

    def test_declined_card_and_history_and_idempotency(self):
        token, uid = self.shopper("declined")
        node.request("POST", "/api/cart/add", {"productId": 3, "quantity": 1}, token=token)
        before = node.request("GET", "/api/products/3")[1]["stockQuantity"]
        headers = {"Idempotency-Key": "try-1"}
        status, first, _ = node.request("POST", "/api/orders/place",
                                        {"paymentMethodId": "pm_card_chargeDeclinedInsufficientFunds"},
                                        token=token, headers=headers)
        self.assertEqual(status, 200)
        status, again, _ = node.request("POST", "/api/orders/place",
                                        {"paymentMethodId": "pm_card_chargeDeclinedInsufficientFunds"},
                                        token=token, headers=headers)
        self.assertEqual((status, again), (200, first))
        status, body, _ = node.request("POST", "/api/orders/place", {"paymentMethodId": "pm_card_visa"},
                                       token=token, headers=headers)
        self.assertEqual(status, 409)
        oid = first["orderId"]
        wait_for(lambda: order_state(token, oid) == "Cancelled")
        order = node.request("GET", f"/api/orders/{oid}", token=token)[1]
        self.assertEqual((order["status"], order["reason"]), ("Cancelled", "insufficient_funds"))
        self.assertEqual([t["status"] for t in order["timeline"]], ["Submitted", "StockReserved", "Cancelled"])
        for key in ("id", "userId", "orderDate", "totalAmount", "items"):
            self.assertIn(key, order)
        self.assertEqual(wait_for(lambda: node.request("GET", "/api/products/3")[1]["stockQuantity"] == before), True)
        history = node.request("GET", "/api/orders/history", token=token)[1]
        self.assertEqual([o["id"] for o in history], [oid])
        # The order failed: its unit came back to the cart (compensation runs
        # after the cancel is durable, so it may take a moment).
        self.assertTrue(wait_for(lambda: len(node.request("GET", "/api/cart", token=token)[1]["items"]) == 1))

    def test_empty_cart_other_users_order_and_cancel(self):
        token, uid = self.shopper("cancel")
        status, body, _ = node.request("POST", "/api/orders/place", {"paymentMethodId": "pm_card_visa"},
                                       token=token)
        self.assertEqual(status, 400)
        node.request("POST", "/api/cart/add", {"productId": 4, "quantity": 1}, token=token)
        oid = node.request("POST", "/api/orders/place", {"paymentMethodId": "pm_card_visa"},
                           token=token)[1]["orderId"]
        intruder, _ = self.shopper("intruder")
        self.assertEqual(node.request("GET", f"/api/orders/{oid}", token=intruder)[0], 403)
        self.assertEqual(node.request("POST", f"/api/orders/{oid}/cancel", token=intruder)[0], 403)
        self.assertEqual(node.request("GET", "/api/orders/999999", token=token)[0], 404)
        wait_for(lambda: order_state(token, oid) == "Confirmed")
        status, body, _ = node.request("POST", f"/api/orders/{oid}/cancel", token=token)
        self.assertEqual(status, 409)


class QuickSecondCheckoutTests(unittest.TestCase):
    """A slow payment keeps the first order open; a second checkout meanwhile
    must not charge for the same units again."""

    @classmethod
    def setUpClass(cls):
        cls.slow = Node(extra_args=["--payment-latency-ms", "1500"], log_name="slow-node.log").start()

    @classmethod
    def tearDownClass(cls):
        cls.slow.close()

    def test_units_leave_the_cart_when_placed_and_are_charged_once(self):
        slow = self.slow
        login = slow.new_user(f"twice-{time.time_ns()}@example.com")
        token = login["token"]
        before = slow.request("GET", "/api/products/5")[1]["stockQuantity"]
        slow.request("POST", "/api/cart/add", {"productId": 5, "quantity": 2}, token=token)
        first = slow.request("POST", "/api/orders/place", {"paymentMethodId": "pm_card_visa"}, token=token)
        self.assertEqual(first[0], 200)
        # A second checkout at once: refused (the cart is already empty) or
        # placed and then cancelled because the first order holds the units.
        second = slow.request("POST", "/api/orders/place", {"paymentMethodId": "pm_card_visa"}, token=token)
        self.assertIn(second[0], (200, 400))
        # The units left the cart while the first order still waits for its payment.
        self.assertTrue(wait_for(lambda: slow.request("GET", "/api/cart", token=token)[1]["items"] == []))
        self.assertIn(slow.request("GET", f"/api/orders/{first[1]['orderId']}", token=token)[1]["state"],
                      ("Submitted", "StockReserved"))
        # Shopping on: the next order holds only what was added since.
        slow.request("POST", "/api/cart/add", {"productId": 6, "quantity": 1}, token=token)
        third = slow.request("POST", "/api/orders/place", {"paymentMethodId": "pm_card_visa"}, token=token)
        self.assertEqual(third[0], 200)

        def finals():
            history = slow.request("GET", "/api/orders/history", token=token)[1]
            if any(o["state"] not in ("Confirmed", "Cancelled") for o in history):
                return None
            return history
        history = wait_for(finals, timeout=30)
        self.assertTrue(history)
        confirmed = sorted((o["id"], [(i["productId"], i["quantity"]) for i in o["items"]])
                           for o in history if o["state"] == "Confirmed")
        self.assertEqual(confirmed, [(first[1]["orderId"], [(5, 2)]), (third[1]["orderId"], [(6, 1)])])
        if second[0] == 200:
            cancelled = [o for o in history if o["id"] == second[1]["orderId"]][0]
            self.assertEqual((cancelled["state"], cancelled["reason"]), ("Cancelled", "cart_changed"))
        self.assertEqual(slow.request("GET", "/api/products/5")[1]["stockQuantity"], before - 2)
        self.assertEqual(slow.request("GET", "/api/cart", token=token)[1]["items"], [])


class OrdersInProgressBoundTests(unittest.TestCase):
    """--max-orders-in-progress: a node working on as many orders as it
    takes refuses the next placement at once (503, Retry-After) with nothing
    written or taken from the cart, and takes it once an order has ended."""

    @classmethod
    def setUpClass(cls):
        cls.busy = Node(extra_args=["--payment-latency-ms", "3000", "--max-orders-in-progress", "1"],
                        log_name="busy-node.log").start()

    @classmethod
    def tearDownClass(cls):
        cls.busy.close()

    def buyer(self, name, product):
        login = self.busy.new_user(f"{name}-{time.time_ns()}@example.com")
        token = login["token"]
        status = self.busy.request("POST", "/api/cart/add", {"productId": product, "quantity": 1},
                                   token=token)[0]
        self.assertEqual(status, 200)
        return token

    def test_a_placement_past_the_bound_is_refused_whole_and_taken_later(self):
        busy = self.busy
        first, second = self.buyer("first", 7), self.buyer("second", 8)
        placed = busy.request("POST", "/api/orders/place", {"paymentMethodId": "pm_card_visa"},
                              token=first, headers={"Idempotency-Key": "first-1"})
        self.assertEqual(placed[0], 200)
        # The first order waits 3 s for its payment: the node is at its bound.
        wait_for(lambda: order_state_on(busy, first, placed[1]["orderId"]) == "StockReserved",
                 what="the first order at work")
        status, body, headers = busy.request("POST", "/api/orders/place",
                                             {"paymentMethodId": "pm_card_visa"}, token=second,
                                             headers={"Idempotency-Key": "second-1"})
        self.assertEqual(status, 503, body)
        self.assertEqual(body["code"], "overloaded")
        self.assertIn("nothing was placed", body["message"])
        self.assertEqual(headers["retry-after"], "1")
        # Nothing was written or taken: no order, the cart as it was.
        self.assertEqual(busy.request("GET", "/api/orders/history", token=second)[1], [])
        cart = busy.request("GET", "/api/cart", token=second)[1]["items"]
        self.assertEqual([(i["productId"], i["quantity"]) for i in cart], [(8, 1)])
        # The first order's own retry is answered (it is not a new order).
        again = busy.request("POST", "/api/orders/place", {"paymentMethodId": "pm_card_visa"},
                             token=first, headers={"Idempotency-Key": "first-1"})
        self.assertEqual((again[0], again[1]), (200, placed[1]))
        # Once it is Confirmed, the refused buyer's retry (same key) is placed.
        wait_for(lambda: order_state_on(busy, first, placed[1]["orderId"]) == "Confirmed",
                 timeout=30, what="the first order confirmed")
        retry = busy.request("POST", "/api/orders/place", {"paymentMethodId": "pm_card_visa"},
                             token=second, headers={"Idempotency-Key": "second-1"})
        self.assertEqual(retry[0], 200, retry[1])
        wait_for(lambda: order_state_on(busy, second, retry[1]["orderId"]) == "Confirmed",
                 timeout=30, what="the second order confirmed")
        refused = [json.loads(l) for l in busy.log(tail=None).splitlines()
                   if '"limit_refused"' in l and '"orders_in_progress"' in l]
        self.assertEqual(len(refused), 1, refused)
        self.assertEqual(refused[0]["client"], "127.0.0.1")


def order_state_on(n, token, order_id):
    return n.request("GET", f"/api/orders/{order_id}", token=token)[1]["state"]


def counter(port, name, **labels):
    """A counter's value on a node's /metrics (0 when it has no sample yet)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as res:
        text = res.read().decode()
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    m = re.search(rf"^{name}(?:\{{{re.escape(want)}\}})? (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


class PaymentBacklogTests(unittest.TestCase):
    """A provider slower than the orders (2 calls at once, 1 s each, a 1.5 s
    payment deadline): the charges no order waits for any more are not sent,
    and the voids of the cancelled orders drain, each sent once, however
    long they queue. (Before 2026-12-05 a void waited 5 s and was asked
    again, so the queue filled with voids no one waited for and none
    finished.)"""
    ORDERS = 30

    @classmethod
    def setUpClass(cls):
        cls.metrics_port = free_port()
        cls.slow = Node(extra_args=["--payment-latency-ms", "1000", "--payment-max-in-flight", "2",
                                    "--payment-timeout-ms", "1500",
                                    "--metrics-port", str(cls.metrics_port)],
                        log_name="backlog-node.log").start()

    @classmethod
    def tearDownClass(cls):
        cls.slow.close()

    def test_unwanted_charges_are_not_sent_and_every_void_is_sent_once(self):
        slow, port = self.slow, self.metrics_port
        products = [p for p, _ in big_stock_products(slow, 5)]
        buyers = []
        for i in range(self.ORDERS):
            token = slow.new_user(f"backlog{i}-{time.time_ns()}@example.com")["token"]
            self.assertEqual(slow.request("POST", "/api/cart/add",
                                          {"productId": products[i % 5], "quantity": 1},
                                          token=token)[0], 200)
            buyers.append(token)
        stock_before = {p: slow.request("GET", f"/api/products/{p}")[1]["stockQuantity"]
                        for p in products}
        orders = [None] * self.ORDERS

        def place(i):
            status, body, _ = slow.request("POST", "/api/orders/place",
                                           {"paymentMethodId": "pm_card_visa"}, token=buyers[i])
            orders[i] = body["orderId"] if status == 200 else (status, body)

        threads = [threading.Thread(daemon=True, target=place, args=(i,))
                   for i in range(self.ORDERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertTrue(all(isinstance(o, int) for o in orders), orders)

        def final(i):
            state = slow.request("GET", f"/api/orders/{orders[i]}", token=buyers[i])[1]
            return state if state["state"] in ("Confirmed", "Cancelled") else None
        finals = [wait_for(lambda: final(i), timeout=30, what=f"order {i} ended")
                  for i in range(self.ORDERS)]
        cancelled = [f["id"] for f in finals if f["state"] == "Cancelled"]
        confirmed = [f["id"] for f in finals if f["state"] == "Confirmed"]
        # Two charges at a time, a second each, 1.5 s to answer: most orders
        # time out.
        self.assertGreaterEqual(len(cancelled), self.ORDERS // 2, finals)
        self.assertEqual({f["reason"] for f in finals if f["state"] == "Cancelled"},
                         {"payment_timeout"})
        # Every cancelled order is compensated (its void done, its units
        # back), at two voids a second: about 15 s behind the cancels.
        compensated = snapshot_keys()[("order", "compensated")]
        wait_for(lambda: all((entity_state(slow.data_dir, 3, o) or {}).get(compensated)
                             for o in cancelled),
                 timeout=60, what="every cancelled order compensated")
        # The charges whose order had run out of time before their turn
        # were never sent.
        self.assertGreater(counter(port, "emporium_payment_calls_expired_total"), 0)
        sent = sum(counter(port, "emporium_payment_provider_calls_total", outcome=o)
                   for o in ("approved", "declined", "transient", "timed_out"))
        self.assertLess(sent, self.ORDERS)
        # ... and each void went to the provider once.
        self.assertEqual(counter(port, "emporium_payment_provider_calls_total", outcome="refunded"),
                         len(cancelled))
        sold = {p: 0 for p in stock_before}
        for i, f in enumerate(finals):
            if f["state"] == "Confirmed":
                sold[products[i % 5]] += 1
        self.assertEqual({p: slow.request("GET", f"/api/products/{p}")[1]["stockQuantity"]
                          for p in stock_before},
                         {p: stock_before[p] - sold[p] for p in stock_before})
        self.assertEqual(len(confirmed) + len(cancelled), self.ORDERS)


class ContentionTests(unittest.TestCase):
    def test_sixty_buyers_ten_units(self):
        admin = node.admin_token()
        pid = node.request("POST", "/api/products", {"name": "Limited Edition", "price": 99,
                                                     "stockQuantity": 10}, token=admin)[1]["id"]
        buyers = []
        for i in range(60):
            login = node.new_user(f"race{i}-{time.time_ns()}@example.com")
            self.assertEqual(node.request("POST", "/api/cart/add", {"productId": pid, "quantity": 1},
                                          token=login["token"])[0], 200)
            buyers.append(login["token"])
        orders = [None] * 60
        barrier = threading.Barrier(60)

        def buy(i):
            barrier.wait()
            orders[i] = node.request("POST", "/api/orders/place", {"paymentMethodId": "pm_card_visa"},
                                     token=buyers[i])[1]["orderId"]

        threads = [threading.Thread(daemon=True, target=buy, args=(i,)) for i in range(60)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        finals = {}
        for token, oid in zip(buyers, orders):
            finals[oid] = wait_for(lambda: (lambda s: s if s in ("Confirmed", "Cancelled") else None)(
                order_state(token, oid)))
        confirmed = [o for o, s in finals.items() if s == "Confirmed"]
        self.assertEqual(len(confirmed), 10)
        reasons = [node.request("GET", f"/api/orders/{o}", token=t)[1]["reason"]
                   for t, o in zip(buyers, orders) if finals[o] == "Cancelled"]
        self.assertEqual(reasons, ["out_of_stock"] * 50)
        self.assertEqual(node.request("GET", f"/api/products/{pid}")[1]["stockQuantity"], 0)


if __name__ == "__main__":
    unittest.main()
