"""scripts/cluster end to end: three nodes behind nginx, HTTP and WebSocket
through the front door, kill / start / status / down."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import BINARY, ADMIN_EMAIL, free_block, ADMIN_PASSWORD, JWT_SECRET
from wsclient import WebSocket

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


class ClusterScriptTests(unittest.TestCase):
    def setUp(self):
        self.data = tempfile.mkdtemp(prefix="emporium-cluster-script-")
        base = free_block(13)
        self.http_base = base
        self.env = dict(os.environ, EMPORIUM_DATA_DIR=self.data,
                        EMPORIUM_BINARY=os.path.abspath(BINARY),
                        EMPORIUM_HTTP_BASE=str(base), EMPORIUM_NODE_BASE=str(base + 5),
                        EMPORIUM_METRICS_BASE=str(base + 9),
                        EMPORIUM_ADMIN_EMAIL=ADMIN_EMAIL, EMPORIUM_ADMIN_PASSWORD=ADMIN_PASSWORD,
                        EMPORIUM_JWT_SECRET=JWT_SECRET)

    def tearDown(self):
        self.cluster("down")
        shutil.rmtree(self.data, ignore_errors=True)
        shutil.rmtree(self.data + "-nginx", ignore_errors=True)

    def cluster(self, *args):
        result = subprocess.run([os.path.join(ROOT, "scripts", "cluster"), *args],
                                env=self.env, capture_output=True, text=True, timeout=300)
        return result.returncode, result.stdout + result.stderr

    def call(self, method, path, body=None, token=None, source=None):
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.http_base, timeout=30,
                                          source_address=(source, 0) if source else None)
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = "Bearer " + token
        conn.request(method, path, json.dumps(body) if body is not None else None, headers)
        res = conn.getresponse()
        data = res.read()
        conn.close()
        return res.status, json.loads(data) if data else None

    def wait_status(self, pattern_count, needle, timeout=30):
        deadline = time.time() + timeout
        while True:
            code, out = self.cluster("status")
            if out.count(needle) == pattern_count:
                return out
            self.assertLess(time.time(), deadline, out)
            time.sleep(0.2)

    def test_up_kill_start_status_down(self):
        code, out = self.cluster("up", "3")
        self.assertEqual(code, 0, out)
        self.wait_status(3, "live members 3, quorum True")
        # Through nginx: sign up, fill a cart, order, and watch it on a socket.
        self.assertEqual(self.call("POST", "/api/auth/register",
                                   {"email": "front@door.test", "password": "secret-pass"})[0], 200)
        status, login = self.call("POST", "/api/auth/login",
                                  {"email": "front@door.test", "password": "secret-pass"})
        token = login["token"]
        ws = WebSocket(self.http_base, f"/ws?access_token={token}")
        self.assertEqual(ws.recv_json()["type"], "hello")
        self.assertEqual(self.call("POST", "/api/cart/add", {"productId": 9, "quantity": 1},
                                   token)[0], 200)
        status, placed = self.call("POST", "/api/orders/place",
                                   {"paymentMethodId": "pm_card_visa"}, token)
        self.assertEqual(status, 200, placed)
        seen = []
        while "Confirmed" not in seen:
            seen.append(ws.recv_json()["status"])
        ws.close()
        # Behind nginx every connection comes from 127.0.0.1; the nodes trust
        # it and key limits on X-Forwarded-For. An attacker at 127.0.0.2
        # failing logins is stopped; a user at 127.0.0.3 still logs in.
        limited = False
        for i in range(200):
            status, _ = self.call("POST", "/api/auth/login",
                                  {"email": f"nobody{i}@door.test", "password": "wrong-pass"},
                                  source="127.0.0.2")
            if status == 429:
                limited = True
                break
            self.assertEqual(status, 401)
        self.assertTrue(limited, "the attacker was never limited")
        status, _ = self.call("POST", "/api/auth/login",
                              {"email": "front@door.test", "password": "secret-pass"},
                              source="127.0.0.3")
        self.assertEqual(status, 200)
        # nginx sends each client address to one node (the limits a node
        # counts per client then see all of its traffic), and the clients
        # spread over the nodes.
        admin = self.call("POST", "/api/auth/login",
                          {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})[1]["token"]
        served = {}
        for client in range(10, 22):
            for _ in range(4):
                status, view = self.call("GET", "/api/cluster", token=admin,
                                         source=f"127.0.0.{client}")
                self.assertEqual(status, 200, view)
                served.setdefault(client, set()).add(view["node"])
        self.assertTrue(all(len(nodes) == 1 for nodes in served.values()), served)
        self.assertGreater(len(set.union(*served.values())), 1, served)

        code, out = self.cluster("kill", "2")
        self.assertIn("node 2 killed", out)
        out = self.wait_status(2, "live members 2, quorum True")
        self.assertIn("node 2: down", out)
        # nginx steers around the dead edge; the cart is still there.
        for _ in range(6):
            status, cart = self.call("GET", "/api/cart", token=token)
            self.assertEqual(status, 200)
        code, out = self.cluster("start", "2")
        self.assertIn("node 2 started", out)
        self.wait_status(3, "live members 3, quorum True")
        code, out = self.cluster("down")
        self.assertEqual(code, 0, out)
        code, out = self.cluster("status")
        self.assertEqual(out.count(": down"), 4, out)  # three nodes and nginx
        self.assertTrue(os.path.exists(os.path.join(self.data, "node-1.log")))
        # The nodes talked TLS with certificates `up` made in <data>/tls.
        with open(os.path.join(self.data, "node-1.log")) as f:
            self.assertIn("TLS with mutual authentication", f.read())
        tls = os.path.join(self.data, "tls")
        self.assertEqual(sorted(os.listdir(tls)), sorted(
            ["ca.crt", "ca.key"] + [f"node{i}.{ext}" for i in (1, 2, 3) for ext in ("crt", "key")]))
        for name in os.listdir(tls):
            self.assertEqual(os.stat(os.path.join(tls, name)).st_mode & 0o777, 0o600, name)


if __name__ == "__main__":
    unittest.main()
