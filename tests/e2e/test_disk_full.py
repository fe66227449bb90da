"""A full disk, against the real binary: the node keeps answering, refuses
what it cannot write with a JSON error (never a hang until the edge's
timeout), loses nothing it acknowledged, and takes writes again once there
is room. The data directory is a small tmpfs the test mounts (the tests run
as root) and fills with a file of its own."""
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from harness import Node, big_stock_products, orders_charged_twice, units_accounted


def fill(directory):
    """Writes a file until the file system is full; returns its path."""
    path = os.path.join(directory, "filler")
    with open(path, "wb", buffering=0) as f:
        for size in (1 << 20, 4096, 512):
            block = b"\0" * size
            try:
                while True:
                    f.write(block)
            except OSError:
                pass
    return path


class DiskFullTests(unittest.TestCase):
    def setUp(self):
        self.mount = tempfile.mkdtemp(prefix="emporium-full-")
        self.logs = tempfile.mkdtemp(prefix="emporium-full-logs-")
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", self.mount],
                       check=True)
        self.node = None

    def start_node(self):
        """A node with its data on the tmpfs and its log outside it (so that
        it can be read); EMPORIUM_TEST_LOG_LEVEL=debug logs every step."""
        data = os.path.join(self.mount, "data")
        os.mkdir(data)
        self.node = Node(data_dir=data, log_name=os.path.join(self.logs, "node.log"),
                         env={"EMPORIUM_LOG_LEVEL": os.environ.get("EMPORIUM_TEST_LOG_LEVEL",
                                                                   "info")})
        return self.node.start(), data

    def tell(self, *what):
        """With EMPORIUM_TEST_KEEP_LOGS set (the logs are kept), what a run saw."""
        if os.environ.get("EMPORIUM_TEST_KEEP_LOGS"):
            print(self.logs, *what)

    def assert_answered_at_once(self, answers):
        """Each (status, body, seconds): taken, or refused with a JSON error a
        client can read (500 storage_failure, or 503 while the entity
        restarts), within 5 s, never the edge's 504 after a write that
        waited for an answer that never came."""
        for status, body, took in answers:
            self.assertIn(status, (200, 500, 503), body)
            if status != 200:
                self.assertIsInstance(body, dict, body)
                self.assertIn(body.get("code"), ("storage_failure", "unavailable"), body)
            self.assertLess(took, 5, (status, body))

    def tearDown(self):
        if self.node:
            self.node.close()
        subprocess.run(["umount", self.mount])
        os.rmdir(self.mount)
        if not os.environ.get("EMPORIUM_TEST_KEEP_LOGS"):
            shutil.rmtree(self.logs, ignore_errors=True)

    def test_a_full_disk_refuses_writes_and_loses_nothing_acknowledged(self):
        node, _ = self.start_node()
        users = [node.new_user(f"full{i}@example.com") for i in range(4)]
        products = [p for p, _ in big_stock_products(node, 21)]
        spare = products.pop()  # added once room is back
        filler = fill(self.mount)

        lock = threading.Lock()
        answers = []       # (status, body, seconds)
        acknowledged = {}  # (user, product) -> units the node said it holds
        attempted = {}
        refused = threading.Event()

        def shop(i, user):
            for n in range(400):
                if refused.is_set() and n % 50 == 0 and n > 0:
                    break  # enough of the full disk seen
                product = products[(i * 7 + n) % len(products)]
                started = time.monotonic()
                status, body, _ = node.request("POST", "/api/cart/add",
                                               {"productId": product, "quantity": 1},
                                               token=user["token"], timeout=30)
                took = time.monotonic() - started
                with lock:
                    answers.append((status, body, took))
                    key = (user["userId"], product)
                    attempted[key] = attempted.get(key, 0) + 1
                    if status == 200:
                        acknowledged[key] = acknowledged.get(key, 0) + 1
                    else:
                        refused.set()

        threads = [threading.Thread(target=shop, args=(i, u), daemon=True)
                   for i, u in enumerate(users)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        self.assertFalse(any(t.is_alive() for t in threads), "the adds did not end")

        statuses = sorted({s for s, _, _ in answers})
        self.tell([(s, b.get("code") if isinstance(b, dict) else None, round(t, 2))
                   for s, b, t in answers if s != 200])
        self.assertTrue(refused.is_set(), f"the full disk refused nothing: {statuses}")
        self.assert_answered_at_once(answers)
        self.assertEqual(node.request("GET", "/health/live")[0], 200)

        # Room again: writes are taken again (the entity that failed a
        # write restarts from its last durable state after a back-off).
        os.remove(filler)

        def add_works():
            status, _, _ = node.request("POST", "/api/cart/add",
                                        {"productId": spare, "quantity": 1},
                                        token=users[0]["token"])
            return status == 200

        deadline = time.monotonic() + 60
        while not add_works():
            self.assertLess(time.monotonic(), deadline, node.log())
            time.sleep(0.5)

        def check_carts():
            for u in users:
                token = node.login(u["email"])["token"]
                status, cart, _ = node.request("GET", "/api/cart", token=token)
                self.assertEqual(status, 200, cart)
                got = {l["productId"]: l["quantity"] for l in cart["items"]}
                for (user, product), units in acknowledged.items():
                    if user != u["userId"]:
                        continue
                    # Every acknowledged unit is there; a refused add may be
                    # there too (its change rode along with a later write).
                    self.assertGreaterEqual(got.get(product, 0), units, (product, got))
                    self.assertLessEqual(got.get(product, 0),
                                         attempted[(user, product)], got)

        check_carts()
        node.kill()  # what was acknowledged is on disk, not only in memory
        node.start()
        check_carts()

    def test_orders_placed_on_a_full_disk_end_once_there_is_room(self):
        node, data = self.start_node()
        (hot, _), (other, _) = big_stock_products(node, 2)
        buyers = [node.new_user(f"fullorder{i}@example.com") for i in range(6)]
        units = {p: units_accounted(data, p) for p in (hot, other)}
        filler = fill(self.mount)

        lock = threading.Lock()
        answers = []   # (what, status, body, seconds)
        accepted = []  # (buyer, order id)
        refused = threading.Event()

        def timed(what, method, path, body, token):
            started = time.monotonic()
            status, answer, _ = node.request(method, path, body, token=token, timeout=30)
            with lock:
                answers.append((what, status, answer, time.monotonic() - started))
            if status != 200:
                refused.set()
            return status, answer

        def shop(b):
            # Shops on the full disk until writes are refused (a commit that
            # needs a page the file system cannot give), then a little more.
            for n in range(150):
                if refused.is_set() and n % 10 == 0:
                    break
                product = hot if n % 2 == 0 else other
                status, _ = timed("add", "POST", "/api/cart/add",
                                  {"productId": product, "quantity": 1}, b["token"])
                if status != 200:
                    continue
                status, body = timed("place", "POST", "/api/orders/place",
                                     {"paymentMethodId": "pm_card_visa"}, b["token"])
                if status == 200:
                    with lock:
                        accepted.append((b, body["orderId"]))

        threads = [threading.Thread(target=shop, args=(b,), daemon=True) for b in buyers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        self.assertFalse(any(t.is_alive() for t in threads), "the shopping did not end")
        self.tell(len(accepted), sorted({(w, s) for w, s, _, _ in answers}))
        self.assertTrue(refused.is_set(), "the full disk refused nothing")
        self.assertGreater(len(accepted), 0)
        self.assert_answered_at_once((s, b, t) for _, s, b, t in answers)
        # What was accepted while the disk was full went on while it was:
        # its steps failed, were retried and backed off. With room again
        # every order ends, confirmed or cancelled.
        os.remove(filler)
        deadline = time.monotonic() + 120
        ended = {}
        for b, order in accepted:
            while True:
                status, body, _ = node.request("GET", f"/api/orders/{order}", token=b["token"])
                if status == 200 and body["state"] in ("Confirmed", "Cancelled"):
                    ended[body["state"]] = ended.get(body["state"], 0) + 1
                    break
                self.assertLess(time.monotonic(), deadline, (order, status, body, node.log()))
                time.sleep(0.5)
        self.tell(ended)
        # Every unit is accounted for (sold or back on hand: nothing stays
        # reserved by an order that ended) and no order was charged twice.
        self.assertEqual(node.terminate(), 0)
        for p, before in units.items():
            self.assertEqual(units_accounted(data, p), before, p)
        self.assertEqual(orders_charged_twice(data), [])

if __name__ == "__main__":
    unittest.main()
