"""Structured logs: every line a node writes to stdout is one JSON object
with ts (RFC 3339, ms), level, node and msg; a debug-level run logs every
request by route template, a slow one at warn, a 5xx at error; and no
password, token, secret or card id ever reaches a log line."""
import json
import re
import time
import unittest

from harness import ADMIN_PASSWORD, JWT_SECRET, Node

RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def log_lines(node):
    with open(node.log_path, "rb") as f:
        return f.read().decode(errors="replace").splitlines()


class StructuredLogTests(unittest.TestCase):
    def test_a_debug_run_logs_requests_as_json_and_never_a_secret(self):
        node = Node(extra_args=["--log-level", "debug", "--slow-request-ms", "1",
                                "--node-name", "logtest"]).start()
        try:
            password = "Correct-Horse-Battery-9"
            email = f"logs-{time.time_ns()}@example.com"
            node.register(email, password)
            login = node.login(email, password)
            token, refresh = login["token"], login["refreshToken"]
            products = node.request("GET", "/api/products?pageSize=20")[1]
            pid = next(p["id"] for p in products if p["stockQuantity"] >= 2)
            self.assertEqual(node.request("POST", "/api/cart/add",
                                          {"productId": pid, "quantity": 1}, token=token)[0], 200)
            card = "pm_card_visa"
            status, placed, _ = node.request("POST", "/api/orders/place",
                                             {"paymentMethodId": card}, token=token)
            self.assertEqual(status, 200)
            status, renewed, _ = node.request("POST", "/api/auth/refresh",
                                              {"refreshToken": refresh})
            self.assertEqual(status, 200, renewed)
            node.request("GET", "/api/auth/profile", token="not-a-token")
            time.sleep(1.0)  # the writer thread flushes
            node.terminate()

            lines = [l for l in log_lines(node) if l.strip()]
            self.assertGreater(len(lines), 10)
            entries = []
            for line in lines:
                entry = json.loads(line)  # every line is one JSON object
                for key in ("ts", "level", "node", "msg"):
                    self.assertIn(key, entry, line)
                self.assertRegex(entry["ts"], RFC3339_MS)
                self.assertIn(entry["level"], ("debug", "info", "warn", "error"))
                self.assertEqual(entry["node"], "logtest")
                entries.append(entry)
            requests = [e for e in entries if e["msg"] in ("request", "slow_request")]
            self.assertTrue(any(e["route"] == "/api/orders/place" and e["method"] == "POST"
                                and e["status"] == "200" for e in requests))
            # The 1 ms threshold makes the placement slow: logged at warn.
            self.assertTrue(any(e["msg"] == "slow_request" and e["level"] == "warn"
                                for e in requests))
            self.assertTrue(any(e["msg"] == "starting" and e["admin_password"] == "***"
                                and e["jwt_secret"] == "***" for e in entries))
            self.assertTrue(any(e["msg"] == "stopped cleanly" for e in entries))
            text = "\n".join(lines)
            for secret in (password, token, refresh, renewed["token"], renewed["refreshToken"],
                           JWT_SECRET, ADMIN_PASSWORD, card):
                self.assertNotIn(secret, text)
        finally:
            node.close()

    def test_text_format_and_level_off(self):
        node = Node(extra_args=["--log-format", "text", "--node-name", "plain"]).start()
        try:
            node.terminate()
            lines = [l for l in log_lines(node) if l.strip()]
            self.assertTrue(any(re.match(r"^\S+Z INFO plain starting bind=127\.0\.0\.1 ", l)
                                for l in lines), lines[:3])
        finally:
            node.close()
        quiet = Node(extra_args=["--log-level", "off"]).start()
        try:
            quiet.request("GET", "/api/products")
            quiet.terminate()
            self.assertEqual([l for l in log_lines(quiet) if l.strip()], [])
        finally:
            quiet.close()


if __name__ == "__main__":
    unittest.main()
