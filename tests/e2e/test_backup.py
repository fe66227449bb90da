"""Online backup while orders flow, and restores that refuse what they must."""
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from harness import BINARY, Node, orders_charged_twice, units_accounted


def emporium(*args):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=120)


def wait_terminal(node, token, order_id, timeout=60):
    deadline = time.time() + timeout
    while True:
        status, order, _ = node.request("GET", f"/api/orders/{order_id}", token=token)
        if status == 200 and order["state"] in ("Confirmed", "Cancelled"):
            return order["state"]
        if time.time() > deadline:
            return (status, order)
        time.sleep(0.1)


class Backups(unittest.TestCase):
    def setUp(self):
        self.scratch = tempfile.mkdtemp(prefix="emporium-backup-")

    def tearDown(self):
        shutil.rmtree(self.scratch, ignore_errors=True)

    def test_backup_during_orders_then_restore_into_a_fresh_directory(self):
        # A slow provider keeps sagas in flight while the backup runs.
        node = Node(extra_args=["--payment-latency-ms", "200"]).start()
        restored = None
        try:
            admin = node.admin_token()
            initial = {}
            for pid in (21, 22, 23):
                node.request("PUT", f"/api/products/{pid}/stock", {"quantity": 500}, token=admin)
                initial[pid] = 500
            users = [node.new_user(f"backup{i}@example.com") for i in range(8)]
            accepted, lock, stop = [], threading.Lock(), threading.Event()

            def shop(i, u):
                n = 0
                while not stop.is_set() and n < 40:
                    pid = 21 + n % 3
                    node.request("POST", "/api/cart/add", {"productId": pid, "quantity": 1},
                                 token=u["token"])
                    status, body, _ = node.request(
                        "POST", "/api/orders/place", {"paymentMethodId": "pm_card_visa"},
                        token=u["token"], headers={"Idempotency-Key": f"b{i}-{n}"})
                    if status == 200:
                        with lock:
                            accepted.append((i, body["orderId"], time.time()))
                    n += 1

            threads = [threading.Thread(daemon=True, target=shop, args=(i, u)) for i, u in enumerate(users)]
            for t in threads:
                t.start()
            deadline = time.time() + 120
            while len(accepted) < 30 and time.time() < deadline:
                time.sleep(0.05)
            began = time.time()
            out = os.path.join(self.scratch, "backup")
            result = emporium("backup", "--data-dir", node.data_dir, "--out", out)
            self.assertEqual(result.returncode, 0, result.stderr)
            stop.set()
            for t in threads:
                t.join(timeout=120)
            before = [(i, oid) for i, oid, at in accepted if at < began]
            self.assertGreaterEqual(len(before), 30)

            manifest = json.load(open(os.path.join(out, "manifest.json")))
            names = sorted(f["name"] for f in manifest["files"])
            self.assertIn("emporium.db", names)
            self.assertIn("shards", names)  # the shard count travels with the data
            # (jwt.secret too when the node keeps one; these nodes get theirs from the env)
            self.assertEqual(len([n for n in names if n.startswith("shard-")]), 12)
            self.assertTrue(all(len(f["sha256"]) == 64 for f in manifest["files"]))
            self.assertEqual(oct(os.stat(out).st_mode & 0o777), "0o700")

            target = os.path.join(self.scratch, "restored")
            result = emporium("restore", "--from", out, "--data-dir", target)
            self.assertEqual(result.returncode, 0, result.stderr)
            restored = Node(data_dir=target).start()
            tokens = {i: restored.login(u["email"])["token"] for i, u in enumerate(users)}
            # Every order acknowledged before the backup began is there and
            # ends; stock is conserved; nothing is charged twice.
            for i, oid in before:
                self.assertIn(wait_terminal(restored, tokens[i], oid), ("Confirmed", "Cancelled"),
                              oid)
            restored.close()
            restored = None
            self.assertEqual(orders_charged_twice(target), [])
            for pid, units in initial.items():
                self.assertEqual(units_accounted(target, pid), units, pid)
        finally:
            if restored:
                restored.close()
            node.close()

    def test_restore_refuses_a_damaged_a_partial_backup_and_a_non_empty_target(self):
        node = Node().start()
        node.register("keep@example.com")
        out = os.path.join(self.scratch, "backup")
        self.assertEqual(emporium("backup", "--data-dir", node.data_dir, "--out", out).returncode, 0)
        node.close()
        # Into a directory that holds something: refused, nothing touched.
        busy = os.path.join(self.scratch, "busy")
        os.makedirs(busy)
        open(os.path.join(busy, "notes.txt"), "w").write("mine")
        result = emporium("restore", "--from", out, "--data-dir", busy)
        self.assertEqual(result.returncode, 1)
        self.assertIn("not empty", result.stderr)
        self.assertEqual(os.listdir(busy), ["notes.txt"])
        # One flipped byte in a shard file: refused, the target stays absent.
        damaged = os.path.join(self.scratch, "damaged")
        shutil.copytree(out, damaged)
        with open(os.path.join(damaged, "shard-03.db"), "r+b") as f:
            f.seek(5000)
            byte = f.read(1)
            f.seek(5000)
            f.write(bytes([byte[0] ^ 0xFF]))
        target = os.path.join(self.scratch, "t1")
        result = emporium("restore", "--from", damaged, "--data-dir", target)
        self.assertEqual(result.returncode, 1)
        self.assertIn("shard-03.db does not match", result.stderr)
        self.assertFalse(os.path.exists(target))
        self.assertEqual([n for n in os.listdir(self.scratch) if ".restoring" in n], [])
        # No manifest (a backup that did not finish): refused.
        partial = os.path.join(self.scratch, "partial")
        shutil.copytree(out, partial)
        os.remove(os.path.join(partial, "manifest.json"))
        result = emporium("restore", "--from", partial, "--data-dir", target)
        self.assertEqual(result.returncode, 1)
        self.assertIn("no manifest.json", result.stderr)
        # A manifest naming a file outside the backup: refused.
        hostile = os.path.join(self.scratch, "hostile")
        shutil.copytree(out, hostile)
        manifest = json.load(open(os.path.join(hostile, "manifest.json")))
        manifest["files"][0]["name"] = "../../etc/passwd"
        json.dump(manifest, open(os.path.join(hostile, "manifest.json"), "w"))
        result = emporium("restore", "--from", hostile, "--data-dir", target)
        self.assertEqual(result.returncode, 1)
        self.assertIn("not a valid manifest", result.stderr)
        # The intact one restores, and its account logs in.
        result = emporium("restore", "--from", out, "--data-dir", target)
        self.assertEqual(result.returncode, 0, result.stderr)
        again = Node(data_dir=target).start()
        try:
            again.login("keep@example.com")
        finally:
            again.close()
        # Bad usage is exit code 2.
        self.assertEqual(emporium("backup", "--data-dir", target).returncode, 2)
        # A backup never goes into a directory that holds something.
        result = emporium("backup", "--data-dir", target, "--out", busy)
        self.assertEqual(result.returncode, 1)
        self.assertIn("not empty", result.stderr)


if __name__ == "__main__":
    unittest.main()
