"""Process-level durability: SIGKILL after acknowledged changes loses none of
them; SIGTERM stops cleanly with exit 0; a corrupt database is refused with
exit code 3 and left untouched."""
import os
import pathlib
import socket
import subprocess
import tempfile
import json
import threading
import time
import unittest

from harness import Node, BINARY, orders_charged_twice, units_accounted
from wsclient import WebSocket


class DurabilityTests(unittest.TestCase):
    def test_sigkill_keeps_every_acknowledged_change(self):
        node = Node().start()
        try:
            admin = node.admin_token()
            users = [node.new_user(f"durable{i}@example.com") for i in range(4)]
            acknowledged = {u["userId"]: {} for u in users}
            lock = threading.Lock()

            def shop(u, offset):
                # Many adds in flight at once; record only what was acknowledged.
                for n in range(60):
                    product = 1 + (offset * 7 + n) % 40
                    status, _, _ = node.request("POST", "/api/cart/add",
                                                {"productId": product, "quantity": 1},
                                                token=u["token"])
                    if status == 200:
                        with lock:
                            lines = acknowledged[u["userId"]]
                            lines[product] = lines.get(product, 0) + 1

            threads = [threading.Thread(daemon=True, target=shop, args=(u, i)) for i, u in enumerate(users)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            status, stock, _ = node.request("PUT", "/api/products/50/stock", {"quantity": 77},
                                            token=admin)
            self.assertEqual(status, 200)
            node.kill()  # no chance to flush anything

            node.start()
            for u in users:
                token = node.login(u["email"])["token"]
                cart = node.request("GET", "/api/cart", token=token)[1]
                got = {l["productId"]: l["quantity"] for l in cart["items"]}
                self.assertEqual(got, acknowledged[u["userId"]])
            self.assertEqual(node.request("GET", "/api/products/50")[1]["stockQuantity"], 77)
        finally:
            node.close()

    def test_sigkill_with_200_orders_in_flight(self):
        # A slow payment provider keeps the sagas in flight when the node dies.
        node = Node(extra_args=["--payment-latency-ms", "300"]).start()
        try:
            admin = node.admin_token()
            initial = {}
            for pid in (11, 12, 13, 14, 15):
                node.request("PUT", f"/api/products/{pid}/stock", {"quantity": 150}, token=admin)
                initial[pid] = 150
            users = [node.new_user(f"crash{i}@example.com") for i in range(40)]
            accepted = []  # (user index, order id)
            refused = []
            lock = threading.Lock()

            def shop(i, u):
                # A new product per order: a slow earlier order that confirms
                # late takes its own units out of the cart, never this one's.
                for n in range(5):
                    pid = 11 + n
                    node.request("POST", "/api/cart/add", {"productId": pid, "quantity": 1},
                                 token=u["token"])
                    status, body, _ = node.request("POST", "/api/orders/place",
                                                   {"paymentMethodId": "pm_card_visa"},
                                                   token=u["token"],
                                                   headers={"Idempotency-Key": f"k{i}-{n}"})
                    with lock:
                        if status == 200:
                            accepted.append((i, body["orderId"]))
                        else:
                            refused.append((status, body))

            threads = [threading.Thread(daemon=True, target=shop, args=(i, u)) for i, u in enumerate(users)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(refused, [])
            self.assertEqual(len(accepted), 200)
            node.kill()
            log_before = os.path.getsize(node.log_path)
            node.start()
            tokens = [node.login(u["email"])["token"] for u in users]
            for i, oid in accepted:
                wait = time.time() + 60
                while True:
                    state = node.request("GET", f"/api/orders/{oid}", token=tokens[i])[1]["state"]
                    if state in ("Confirmed", "Cancelled") or time.time() > wait:
                        break
                    time.sleep(0.1)
                self.assertIn(state, ("Confirmed", "Cancelled"), oid)
            self.assertEqual(orders_charged_twice(node.data_dir), [])
            # The restart found the orders still in flight (the slow provider
            # had some mid-payment when the node died) and resumed them.
            with open(node.log_path, "rb") as f:
                f.seek(log_before)
                resumed = [json.loads(l) for l in f.read().decode().splitlines()
                           if '"orders_resumed"' in l]
            self.assertEqual(len(resumed), 12, resumed)  # once per shard
            self.assertGreater(sum(int(r["orders"]) for r in resumed), 0)
            for pid, units in initial.items():
                self.assertEqual(units_accounted(node.data_dir, pid), units, pid)
            # A client resuming from 0 sees every status change of its orders, in order.
            ws = WebSocket(node.port, f"/ws?access_token={tokens[0]}")
            ws.recv_json()
            ws.send(json.dumps({"resume": 0}))
            mine = [oid for i, oid in accepted if i == 0]
            finals = {}
            seqs = []
            while len(finals) < len(mine):
                e = ws.recv_json()
                seqs.append(e["seq"])
                if e["status"] in ("Confirmed", "Cancelled"):
                    finals[e["orderId"]] = e["status"]
            self.assertEqual(seqs, sorted(seqs))
            self.assertEqual(set(finals), set(mine))
            ws.close()
        finally:
            node.close()

    def test_sigterm_exits_zero_and_keeps_data(self):
        node = Node().start()
        try:
            u = node.new_user("term@example.com")
            node.request("POST", "/api/cart/add", {"productId": 3, "quantity": 2}, token=u["token"])
            self.assertEqual(node.terminate(), 0)
            self.assertIn("stopped cleanly", node.log())
            node.start()
            token = node.login("term@example.com")["token"]
            items = node.request("GET", "/api/cart", token=token)[1]["items"]
            self.assertEqual([(i["productId"], i["quantity"]) for i in items], [(3, 2)])
        finally:
            node.close()

    def test_corrupt_database_is_refused(self):
        for name in ("emporium.db", "shard-05.db"):
            node = Node()
            try:
                path = os.path.join(node.data_dir, name)
                with open(path, "wb") as f:
                    f.write(b"definitely not sqlite " * 500)
                before = pathlib.Path(path).read_bytes()
                result = subprocess.run([BINARY, "--port", "0", "--data-dir", node.data_dir],
                                        capture_output=True, timeout=60)
                self.assertEqual(result.returncode, 3, name)
                self.assertIn(b"not a readable Emporium database", result.stderr)
                self.assertIn(name.encode(), result.stderr)
                self.assertEqual(pathlib.Path(path).read_bytes(), before)
            finally:
                node.close()

    def test_changing_the_shard_count_of_a_data_dir_is_refused(self):
        node = Node().start()
        try:
            self.assertEqual(node.terminate(), 0)
            result = subprocess.run([BINARY, "--port", "0", "--data-dir", node.data_dir,
                                     "--shards", "7"], capture_output=True, timeout=60)
            self.assertEqual(result.returncode, 2)
            self.assertIn(b"12 shards", result.stderr)
        finally:
            node.close()

    def test_a_port_in_use_ends_the_node_with_a_message_not_a_crash(self):
        # The metrics port is bound before the edge starts: a busy one used
        # to crash the node (SIGSEGV, the edge stopped before it started).
        busy = socket.socket()
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        try:
            for flags in (["--port", "0", "--metrics-port", str(port)], ["--port", str(port)]):
                with tempfile.TemporaryDirectory() as data:
                    result = subprocess.run([BINARY, "--data-dir", data] + flags,
                                            capture_output=True, timeout=120)
                self.assertEqual(result.returncode, 1, (flags, result.stderr[-2000:]))
                # The message is the last word: a sanitizer build reports a
                # crash after it (and exits 1 too).
                self.assertEqual(result.stderr.strip().splitlines()[-1],
                                 f"emporium: cannot listen on 127.0.0.1:{port}: Address already "
                                 f"in use".encode(), (flags, result.stderr[-2000:]))
        finally:
            busy.close()

    def test_bad_config_exit_code(self):
        result = subprocess.run([BINARY, "--port", "notaport"], capture_output=True, timeout=60)
        self.assertEqual(result.returncode, 2)
        self.assertIn(b"port", result.stderr)


if __name__ == "__main__":
    unittest.main()
