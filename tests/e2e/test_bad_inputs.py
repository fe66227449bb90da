"""A table of bad inputs: each gets its status and a JSON error body, and the
server stays up and correct afterwards."""
import json
import socket
import time
import unittest

from harness import Node, raw_exchange

node = None
user = None


def setUpModule():
    global node, user
    node = Node(extra_args=["--max-body-bytes", "65536", "--max-header-bytes", "4096",
                            "--read-timeout", "2"]).start()
    user = node.new_user("bad-inputs@example.com")


def tearDownModule():
    node.close()


def cases(token):
    T = token
    big = "x" * 70000
    return [
        # (name, method, path, raw body bytes or None, headers, expected status, expected code)
        ("broken json", "POST", "/api/cart/add", b'{"productId": 1,', T, 400, "invalid_argument"),
        ("json array", "POST", "/api/cart/add", b'[1,2]', T, 400, "invalid_argument"),
        ("json string", "POST", "/api/cart/add", b'"hello"', T, 400, "invalid_argument"),
        ("empty body", "POST", "/api/cart/add", b'', T, 400, "invalid_argument"),
        ("productId as string", "POST", "/api/cart/add", b'{"productId":"1","quantity":1}', T, 400, "invalid_argument"),
        ("quantity as string", "POST", "/api/cart/add", b'{"productId":1,"quantity":"2"}', T, 400, "invalid_argument"),
        ("quantity float", "POST", "/api/cart/add", b'{"productId":1,"quantity":1.5}', T, 400, "invalid_argument"),
        ("quantity zero", "POST", "/api/cart/add", b'{"productId":1,"quantity":0}', T, 400, "invalid_argument"),
        ("quantity huge", "POST", "/api/cart/add", b'{"productId":1,"quantity":99999999999}', T, 400, "invalid_argument"),
        ("quantity over line max", "POST", "/api/cart/add", b'{"productId":1,"quantity":10001}', T, 400, "invalid_argument"),
        ("negative productId", "POST", "/api/cart/add", b'{"productId":-4,"quantity":1}', T, 400, "invalid_argument"),
        ("productId missing", "POST", "/api/cart/add", b'{"quantity":1}', T, 400, "invalid_argument"),
        ("productId null", "POST", "/api/cart/add", b'{"productId":null,"quantity":1}', T, 400, "invalid_argument"),
        ("productId object", "POST", "/api/cart/add", b'{"productId":{"a":1},"quantity":1}', T, 400, "invalid_argument"),
        ("productId 1e400", "POST", "/api/cart/add", b'{"productId":1e400,"quantity":1}', T, 400, "invalid_argument"),
        ("negative on missing line", "POST", "/api/cart/add", b'{"productId":7,"quantity":-1}', T, 400, "invalid_argument"),
        ("unknown product", "POST", "/api/cart/add", b'{"productId":424242,"quantity":1}', T, 400, "invalid_argument"),
        ("bad utf-8", "POST", "/api/auth/register", b'{"email":"\xff\xfe@x.com","password":"secret-pass"}', None, 400, "invalid_argument"),
        ("sql-looking email", "POST", "/api/auth/login", b'{"email":"\' OR 1=1 --","password":"x"}', None, 401, "unauthenticated"),
        ("sql-looking search", "GET", "/api/products?search=%27%3B%20DROP%20TABLE%20products%3B--", None, None, 200, None),
        ("register missing password", "POST", "/api/auth/register", b'{"email":"a@b.co"}', None, 400, "invalid_argument"),
        ("register password number", "POST", "/api/auth/register", b'{"email":"a@b.co","password":123456}', None, 400, "invalid_argument"),
        ("register huge email", "POST", "/api/auth/register", json.dumps({"email": "a" * 300 + "@b.co", "password": "secret-pass"}).encode(), None, 400, "invalid_argument"),
        ("login broken json", "POST", "/api/auth/login", b'{email:', None, 400, "invalid_argument"),
        ("refresh missing token", "POST", "/api/auth/refresh", b'{}', None, 400, "invalid_argument"),
        ("validate wrong type", "POST", "/api/auth/validate", b'{"accessToken":5}', None, 400, "invalid_argument"),
        ("minPrice not a number", "GET", "/api/products?minPrice=abc", None, None, 400, "invalid_argument"),
        ("maxPrice negative", "GET", "/api/products?maxPrice=-3", None, None, 400, "invalid_argument"),
        ("pageSize too big", "GET", "/api/products?page=1&pageSize=1000", None, None, 400, "invalid_argument"),
        ("page zero", "GET", "/api/products?page=0", None, None, 400, "invalid_argument"),
        ("sortBy unknown", "GET", "/api/products?sortBy=password", None, None, 400, "invalid_argument"),
        ("product id not a number", "GET", "/api/products/abc", None, None, 400, "invalid_argument"),
        ("product id overflow", "GET", "/api/products/99999999999999999999999", None, None, 400, "invalid_argument"),
        ("cart item id not a number", "PUT", "/api/cart/items/xyz", b'{"quantity":1}', T, 400, "invalid_argument"),
        ("cart set negative", "PUT", "/api/cart/items/1", b'{"quantity":-2}', T, 400, "invalid_argument"),
        ("missing auth", "POST", "/api/cart/add", b'{"productId":1,"quantity":1}', None, 401, "unauthenticated"),
        ("garbage bearer", "GET", "/api/cart", None, "garbage", 401, "unauthenticated"),
        ("customer creates product", "POST", "/api/products", b'{"name":"x","price":1}', T, 403, "forbidden"),
        ("huge body", "POST", "/api/cart/add", ('{"pad":"%s"}' % big).encode(), T, 413, "payload_too_large"),
        ("bad percent escape", "GET", "/api/products?search=%zz", None, None, 400, "invalid_argument"),
    ]


class BadInputTests(unittest.TestCase):
    def test_table_of_bad_inputs(self):
        token = user["token"]
        table = cases(token)
        self.assertGreaterEqual(len(table), 30)
        for name, method, path, raw, tok, want_status, want_code in table:
            with self.subTest(name):
                headers = {"Content-Type": "application/json"}
                status, body, _ = node.request(method, path, token=tok, headers=headers, raw=raw)
                self.assertEqual(status, want_status, f"{name}: {body}")
                if want_code:
                    self.assertIsInstance(body, dict, name)
                    self.assertEqual(body.get("code"), want_code, name)
                    self.assertTrue(body.get("message"), name)
        # Still up, and still correct.
        self.assertEqual(node.request("GET", "/health/ready")[0], 200)
        status, _, _ = node.request("POST", "/api/cart/add", {"productId": 1, "quantity": 2}, token=token)
        self.assertEqual(status, 200)
        cart = node.request("GET", "/api/cart", token=token)[1]
        self.assertEqual([(l["productId"], l["quantity"]) for l in cart["items"]], [(1, 2)])
        self.assertGreaterEqual(len(node.request("GET", "/api/products")[1]), 200)

    def test_a_cart_error_says_what_is_wrong(self):
        token = node.new_user("cart-errors@example.com")["token"]
        status, body, _ = node.request("POST", "/api/cart/add", {"productId": 9, "quantity": -1},
                                       token=token)
        self.assertEqual(status, 400)
        self.assertEqual(body["code"], "invalid_argument")
        self.assertIn("not in the cart", body["message"])
        # Lowering a line that is there still works, down to removing it.
        node.request("POST", "/api/cart/add", {"productId": 9, "quantity": 2}, token=token)
        status, _, _ = node.request("POST", "/api/cart/add", {"productId": 9, "quantity": -2},
                                    token=token)
        self.assertEqual(status, 200)
        self.assertEqual(node.request("GET", "/api/cart", token=token)[1]["items"], [])

    def test_malformed_http_header_limit_and_slow_clients(self):
        answer = raw_exchange(node.port, b"THIS IS NOT HTTP\r\n\r\n")
        self.assertTrue(answer.startswith(b"HTTP/1.1 400"), answer[:80])
        self.assertIn(b'"code":"invalid_argument"', answer)
        big_header = b"GET /api/products HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8000 + b"\r\n\r\n"
        answer = raw_exchange(node.port, big_header)
        self.assertTrue(answer.startswith(b"HTTP/1.1 431"), answer[:80])
        # A client that sends half a request and stalls is dropped (read timeout 2 s).
        answer = raw_exchange(node.port, b"GET /api/products HTTP/1.1\r\nHost: x\r\n", timeout=8)
        self.assertEqual(answer, b"")
        self.assertEqual(node.request("GET", "/health/live")[0], 200)

    def test_connection_cap(self):
        capped = Node(extra_args=["--max-connections", "3"]).start()
        try:
            time.sleep(0.5)  # the readiness probe's connection must be gone first
            held = [socket.create_connection(("127.0.0.1", capped.port)) for _ in range(3)]
            time.sleep(0.3)
            # The fourth connection is closed at accept: no answer at all.
            self.assertEqual(raw_exchange(capped.port, b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"), b"")
            for s in held:
                s.close()
            time.sleep(0.3)
            self.assertEqual(capped.request("GET", "/health/live")[0], 200)
        finally:
            capped.close()

    def test_pipelined_requests_answer_in_order(self):
        reqs = b"".join(b"GET /api/products/%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(1, 6))
        reqs += b"GET /api/products/6 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        answer = raw_exchange(node.port, reqs)
        ids = [json.loads(part.split(b"\r\n\r\n", 1)[1].split(b"HTTP/1.1")[0])["id"]
               for part in answer.split(b"HTTP/1.1 200 OK")[1:]]
        self.assertEqual(ids, [1, 2, 3, 4, 5, 6])


if __name__ == "__main__":
    unittest.main()
