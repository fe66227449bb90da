"""Retention end to end: old outbox events are deleted by the running node
(a socket resuming from before them is told to reload), Idempotency-Keys are
forgotten after their time while the orders stay, old stock sales and
test-mode payment ledger rows are deleted, freed pages go back to the disk, and the figures show in /metrics.
Rows are aged by rewriting their times in the shard files (what 30 days of
waiting would do)."""
import json
import os
import sqlite3
import time
import unittest

from harness import Node, current_shard_files as shard_files, free_port, wait_for
from test_metrics import sample, scrape
from wsclient import WebSocket

DAY_MS = 24 * 3600 * 1000


def metric(port, name):
    return sample(scrape(port)[1], name) or 0


def in_every_shard(data_dir, sql, args=()):
    """Runs `sql` on every shard file beside the running node (WAL: it keeps serving)."""
    for path in shard_files(data_dir):
        db = sqlite3.connect(path, timeout=10)
        try:
            db.execute(sql, args)
            db.commit()
        finally:
            db.close()


def scalar(path, sql):
    db = sqlite3.connect(path, timeout=10)
    try:
        return db.execute(sql).fetchone()[0]
    finally:
        db.close()


class RetentionTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.metrics_port = free_port()
        cls.node = Node(extra_args=["--retention-sweep-seconds", "1",
                                    "--metrics-port", str(cls.metrics_port)]).start()

    @classmethod
    def tearDownClass(cls):
        cls.node.close()

    def place(self, token, key=None):
        node = self.node
        products = node.request("GET", "/api/products?pageSize=50")[1]
        pid = next(p["id"] for p in products if p["stockQuantity"] >= 5)
        self.assertEqual(node.request("POST", "/api/cart/add", {"productId": pid, "quantity": 1},
                                      token=token)[0], 200)
        status, placed, _ = node.request("POST", "/api/orders/place",
                                         {"paymentMethodId": "pm_card_visa"}, token=token,
                                         headers={"Idempotency-Key": key} if key else None)
        self.assertEqual(status, 200, placed)
        return placed["orderId"]

    def two_confirmed_orders(self, who):
        """A new user's two orders, one after the other, both Confirmed."""
        node = self.node
        token = node.new_user(f"{who}-{time.time_ns()}@example.com")["token"]
        orders = self.place(token), self.place(token)
        for order in orders:
            wait_for(lambda: node.request("GET", f"/api/orders/{order}", token=token)[1]
                     .get("state") == "Confirmed", what=f"order {order} confirmed")
        return orders

    def events(self, ws, until_order):
        """Frames up to and including `until_order`'s Confirmed event."""
        seen = []
        while True:
            frame = ws.recv_json()
            seen.append(frame)
            if frame.get("orderId") == until_order and frame.get("status") == "Confirmed":
                return seen

    def test_a_socket_resuming_from_pruned_events_is_told_to_reload(self):
        node = self.node
        login = node.new_user(f"keep-{time.time_ns()}@example.com")
        token = login["token"]
        ws = WebSocket(node.port, f"/ws?access_token={token}")
        self.assertEqual(ws.recv_json()["type"], "hello")
        first = self.place(token)
        seqs = [e["seq"] for e in self.events(ws, first)]
        ws.close()
        # Every event so far is 40 days old; one order more is written now.
        in_every_shard(node.data_dir, "UPDATE outbox SET created_at = created_at - ?",
                       (40 * DAY_MS,))
        ws = WebSocket(node.port, f"/ws?access_token={token}")
        ws.recv_json()
        second = self.place(token)
        fresh = [e for e in self.events(ws, second) if e.get("type") == "order.status"]
        ws.close()
        wait_for(lambda: metric(self.metrics_port, "emporium_retention_events_pruned_total") >= len(seqs),
                 what="the sweep deleting the aged events")
        # Resuming from the first order's first event: its later events are gone.
        ws = WebSocket(node.port, f"/ws?access_token={token}")
        ws.recv_json()
        ws.send(json.dumps({"resume": seqs[0]}))
        reset = ws.recv_json()
        self.assertEqual(reset["type"], "reset")
        self.assertGreaterEqual(reset["seq"], fresh[-1]["seq"])
        ws.close()
        # Resuming from the last event before the second order is not a
        # reset: everything after it is still there.
        ws = WebSocket(node.port, f"/ws?access_token={token}")
        ws.recv_json()
        ws.send(json.dumps({"resume": fresh[0]["seq"] - 1}))
        replay = [ws.recv_json() for _ in fresh]
        self.assertEqual([e["seq"] for e in replay], [e["seq"] for e in fresh])
        ws.close()
        # The orders themselves stay, with their timelines.
        history = node.request("GET", "/api/orders/history", token=token)[1]
        self.assertEqual({o["id"] for o in history}, {first, second})
        self.assertGreater(metric(self.metrics_port, "emporium_live_resets_total"), 0)

    def test_a_socket_resuming_a_long_history_gets_all_of_it_and_stays_open(self):
        # A socket queues at most 1,024 frames; a replay of the whole outbox
        # at once closed the socket of any user with a longer history, on
        # every reconnect. It goes a page at a time now.
        node = self.node
        token = node.new_user(f"long-{time.time_ns()}@example.com")["token"]
        ws = WebSocket(node.port, f"/ws?access_token={token}")
        self.assertEqual(ws.recv_json()["type"], "hello")
        first = self.place(token)
        own = len(self.events(ws, first))
        ws.close()
        # Years of orders: the first order's events written 1,000 times more.
        in_every_shard(node.data_dir, """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
            INSERT INTO outbox(user_id, order_id, payload, created_at)
            SELECT user_id, order_id, payload, created_at FROM outbox, n
            WHERE order_id = ? ORDER BY i, seq""", (first,))
        total = own * 1001
        self.assertGreater(total, 3 * 1024)
        ws = WebSocket(node.port, f"/ws?access_token={token}", timeout=30)
        ws.recv_json()
        ws.send(json.dumps({"resume": 0}))
        seqs = [ws.recv_json()["seq"] for _ in range(total)]
        self.assertEqual(seqs, sorted(set(seqs)))  # each once, in order
        # Still open, and live again: the next order's events follow.
        second = self.place(token)
        after = self.events(ws, second)
        self.assertTrue(all(e["seq"] > seqs[-1] for e in after), after)
        ws.close()
        # The copies go, not to weigh on the other tests' retention sweeps.
        in_every_shard(node.data_dir, "DELETE FROM outbox WHERE order_id = ?", (first,))

    def test_an_idempotency_key_is_forgotten_after_its_time(self):
        node = self.node
        token = node.new_user(f"keys-{time.time_ns()}@example.com")["token"]
        key = f"order-{time.time_ns()}"
        first = self.place(token, key)
        # A retry within the retention gets the same order.
        status, again, _ = node.request("POST", "/api/orders/place",
                                        {"paymentMethodId": "pm_card_visa"}, token=token,
                                        headers={"Idempotency-Key": key})
        self.assertEqual((status, again["orderId"]), (200, first))
        in_every_shard(node.data_dir, "UPDATE orders SET placed_at = placed_at - ? WHERE id = ?",
                       (2 * DAY_MS, first))
        wait_for(lambda: metric(self.metrics_port, "emporium_retention_keys_forgotten_total") >= 1,
                 what="the sweep forgetting the aged key")
        # Now the same key is a new request: a new order (here refused, the
        # cart being empty, which shows it was not the stored answer).
        status, body, _ = node.request("POST", "/api/orders/place",
                                       {"paymentMethodId": "pm_card_visa"}, token=token,
                                       headers={"Idempotency-Key": key})
        self.assertNotEqual(body.get("orderId") if isinstance(body, dict) else None, first)
        self.assertEqual(status, 400, body)
        order = node.request("GET", f"/api/orders/{first}", token=token)
        self.assertEqual(order[0], 200)

    def sales_of(self, order):
        """The sold_at of every stock sale of `order`, over all shard files."""
        times = []
        for path in shard_files(self.node.data_dir):
            db = sqlite3.connect(path, timeout=10)
            try:
                times += [r[0] for r in db.execute(
                    "SELECT sold_at FROM stock_sales WHERE order_id = ?", (order,))]
            finally:
                db.close()
        return times

    def test_a_stock_sale_is_deleted_after_its_time(self):
        node = self.node
        before = time.time() * 1000
        old, new = self.two_confirmed_orders("sales")
        # One line each: one sale, dated when its stock committed.
        for order in (old, new):
            sold = self.sales_of(order)
            self.assertEqual(len(sold), 1, sold)
            self.assertTrue(before - 1000 <= sold[0] <= time.time() * 1000 + 1000, sold)
        pruned = metric(self.metrics_port, "emporium_retention_sales_pruned_total")
        in_every_shard(node.data_dir,
                       "UPDATE stock_sales SET sold_at = sold_at - ? WHERE order_id = ?",
                       (31 * DAY_MS, old))
        # The pass over the sales runs daily; its first ran at the node's
        # start. Make that a day ago too.
        in_every_shard(node.data_dir, "UPDATE retention SET value = value - ? "
                       "WHERE name = 'stock_sales_pass_cutoff'", (DAY_MS,))
        wait_for(lambda: self.sales_of(old) == [], what="the aged sale deleted")
        self.assertEqual(len(self.sales_of(new)), 1)  # within its time: kept
        self.assertGreaterEqual(metric(self.metrics_port, "emporium_retention_sales_pruned_total"),
                                pruned + 1)

    def ledger_times(self, *orders):
        """The test-mode ledger's created_at for each order's charge (None: no row)."""
        db = sqlite3.connect(os.path.join(self.node.data_dir, "emporium.db"), timeout=10)
        try:
            return [next(iter(db.execute("SELECT created_at FROM payments "
                                         "WHERE idempotency_key = ?", (f"order-{o}",))),
                         (None,))[0] for o in orders]
        finally:
            db.close()

    def test_the_test_mode_payment_ledger_forgets_old_charges(self):
        node = self.node
        before = time.time() * 1000
        old, new = self.two_confirmed_orders("ledger")
        for made in self.ledger_times(old, new):
            self.assertTrue(before - 1000 <= made <= time.time() * 1000 + 1000, made)
        pruned = metric(self.metrics_port, "emporium_retention_payments_pruned_total")
        # 31 days pass for every charge up to the old order's (the ledger is
        # swept oldest first, up to the first row that is not due).
        db = sqlite3.connect(os.path.join(node.data_dir, "emporium.db"), timeout=10)
        try:
            db.execute("UPDATE payments SET created_at = created_at - ? WHERE rowid <= "
                       "(SELECT rowid FROM payments WHERE idempotency_key = ?)",
                       (31 * DAY_MS, f"order-{old}"))
            db.commit()
        finally:
            db.close()
        wait_for(lambda: self.ledger_times(old)[0] is None, what="the aged charge deleted")
        self.assertIsNotNone(self.ledger_times(new)[0])  # within its time: kept
        self.assertGreaterEqual(
            metric(self.metrics_port, "emporium_retention_payments_pruned_total"), pruned + 1)
        self.assertIn("payment_ledger_swept", node.log(tail=None))

    def test_shard_files_give_freed_pages_back(self):
        node = self.node
        for path in shard_files(node.data_dir):
            self.assertEqual(scalar(path, "PRAGMA auto_vacuum"), 2, path)  # incremental
        wait_for(lambda: all(scalar(p, "PRAGMA freelist_count") == 0
                             for p in shard_files(node.data_dir)),
                 what="free pages handed back")


if __name__ == "__main__":
    unittest.main()
