"""Hostile clients against the real binary: thousands of malformed or
mutated frames to /notificationHub and /ws and malformed HTTP requests to
every route. After each batch the node is ready, a second user's sockets
opened before the attack are still open and receive that user's own order
events, and the carts and orders accepted before the attack are unchanged."""
import itertools
import json
import os
import random
import socket
import time
import unittest

from harness import Node, raw_exchange
from wsclient import WebSocket

RS = "\x1e"
WRONG = [None, True, False, 0, -1, 1.5, 2 ** 63, -(2 ** 63) - 1, 1e308, "", "x", "1", [], [1], {}, {"a": 1}]
VICTIM_PRODUCT = 5  # the victim's orders during the attack; the attack only touches product 1
node = None
attacker = None
victim = None
bystander = None


def setUpModule():
    global node, attacker, victim, bystander
    # The attack opens and drops thousands of sockets as one user; the per-user
    # socket cap (tested in test_abuse) would only slow it down here.
    node = Node(extra_args=["--max-body-bytes", "65536", "--read-timeout", "5",
                            "--max-sockets-per-user", "100000"]).start()
    attacker = node.new_user("attacker@example.com")
    victim = node.new_user("victim@example.com")
    bystander = node.new_user("bystander@example.com")
    status, _, _ = node.request("PUT", f"/api/products/{VICTIM_PRODUCT}/stock",
                                {"stockQuantity": 1000}, token=node.admin_token())
    assert status == 200


def tearDownModule():
    node.close()


def open_socket(path):
    """Opens a socket, waiting while the user's socket quota is full: the
    attack closes sockets as fast as it opens them, and the server frees a
    slot only once it has seen the close."""
    deadline = time.time() + 10
    while True:
        ws = WebSocket(node.port, path)
        if ws.status != 429 or time.time() > deadline:
            assert ws.status == 101, ws.status
            return ws
        ws.close()
        time.sleep(0.02)


def hub(token, handshake=True):
    ws = open_socket(f"/notificationHub?access_token={token}")
    if handshake:
        ws.send(json.dumps({"protocol": "json", "version": 1}) + RS)
        assert ws.recv() == "{}" + RS
    return ws


def records(ws_messages):
    for _, data in ws_messages:
        for r in data.decode(errors="replace").split(RS):
            if r:
                yield json.loads(r)


class Attack:
    """Sends frames over a connection, reopening it whenever the server
    closes it, and counts what was sent and how often it was closed."""

    def __init__(self, opener):
        self.opener = opener
        self.ws = None
        self.sent = 0
        self.closed = 0

    def send(self, frame_bytes, needs_fresh=False):
        if self.ws is None or needs_fresh:
            self.reset()
        try:
            self.ws.send_raw(frame_bytes)
            self.sent += 1
            self.ws.drain()
        except (ConnectionError, OSError):
            self.closed += 1
            self.ws.close()
            self.ws = None

    def reset(self):
        if self.ws is not None:
            self.ws.close()
        self.ws = self.opener()

    def finish(self):
        if self.ws is not None:
            self.ws.close()
            self.ws = None


def signalr_frames():
    """(frame bytes, needs a fresh connection) pairs: every field with every
    wrong JSON type, truncations, binary, invalid UTF-8, unknown targets and
    types, many records in one message, ping floods."""
    text = lambda s: WebSocket.frame(0x1, s.encode() if isinstance(s, str) else s)
    out = []
    # The three frames that used to kill a node, and handshakes of every shape.
    out.append((text('{"protocol":1}' + RS), "pre"))
    out.append((text('{"type":"1"}' + RS), "post"))
    out.append((text('{"type":1,"target":"JoinGroup","arguments":"x"}' + RS), "post"))
    for v in WRONG:
        out.append((text(json.dumps({"protocol": v, "version": 1}) + RS), "pre"))
        out.append((text(json.dumps({"protocol": "json", "version": v}) + RS), "pre"))
        out.append((text(json.dumps(v) + RS), "pre"))
    # Invocations with every field of every wrong type, blocking or not.
    base = {"type": 1, "invocationId": "7", "target": "JoinGroup", "arguments": [attacker["userId"]]}
    for field, v in itertools.product(["type", "invocationId", "target", "arguments"], WRONG):
        for drop_id in (False, True):
            msg = dict(base)
            msg[field] = v
            if drop_id and field != "invocationId":
                msg.pop("invocationId")
            out.append((text(json.dumps(msg) + RS), "post"))
    for v in WRONG:
        out.append((text(json.dumps(dict(base, arguments=[v])) + RS), "post"))
        out.append((text(json.dumps(dict(base, arguments=[v, v])) + RS), "post"))
        out.append((text(json.dumps(dict(base, target="LeaveGroup", arguments=[v])) + RS), "post"))
    for t in [-1, 0, 2, 3, 4, 5, 8, 9, 99, 2 ** 31, 2 ** 40]:
        out.append((text(json.dumps({"type": t, "invocationId": "1", "target": "X", "arguments": []}) + RS), "post"))
    for target in ["", "joingroup", "SendMessage", "x" * 5000, "\u00e9\u4e2d", "JoinGroup\u0000"]:
        out.append((text(json.dumps(dict(base, target=target)) + RS), "post"))
    # Truncations of a valid invocation at every length.
    whole = json.dumps(base) + RS
    for cut in range(1, len(whole)):
        out.append((text(whole[:cut]), "post"))
    # Invocations before the handshake, binary frames, invalid UTF-8, NULs.
    out.append((text(whole), "pre"))
    out.append((WebSocket.frame(0x2, whole.encode()), "post"))
    out.append((WebSocket.frame(0x2, os.urandom(64)), "post"))
    out.append((text(b'{"type":1,"target":"\xff\xfe","arguments":[]}\x1e'), "post"))
    out.append((text(b'\xc3\x28' + RS.encode()), "post"))
    out.append((text('{"type":6}\x00' + RS), "post"))
    # Oversized: above the 64 KiB message limit, and a record split to grow past it.
    out.append((text("[" * 70000), "post"))
    out.append((text('{"type":6,"pad":"' + "x" * 60000), "post"))
    # Deep nesting and many records in one message; ping floods.
    out.append((text("[" * 20000 + "]" * 20000 + RS), "post"))
    out.append((text(('{"type":6}' + RS) * 3000), "post"))
    out.append((text((json.dumps(base) + RS) * 500), "post"))
    for _ in range(300):
        out.append((text('{"type":6}' + RS), "post"))
    # Continuation frames out of order, a fragmented record, control frames.
    out.append((WebSocket.frame(0x0, b'{"type":6}' + b"\x1e"), "post"))
    out.append((WebSocket.frame(0x1, b'{"type":', fin=False) + WebSocket.frame(0x0, b'6}\x1e'), "post"))
    out.append((WebSocket.frame(0x9, b"ping"), "post"))
    out.append((WebSocket.frame(0xA, b"pong"), "post"))
    out.append((WebSocket.frame(0x3, b"reserved opcode"), "post"))
    # Random mutations of valid records.
    rng = random.Random(11)
    seeds = [whole, json.dumps({"protocol": "json", "version": 1}) + RS, '{"type":6}' + RS, '{"type":7}' + RS]
    while len(out) < 5200:
        b = bytearray(rng.choice(seeds).encode())
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(b))
            b[i] = rng.choice([rng.randrange(256), ord('"'), ord('{'), ord(']'), 0x1e, ord('1')])
        out.append((text(bytes(b)), rng.choice(["pre", "post"])))
    return out


def ws_frames():
    text = lambda s: WebSocket.frame(0x1, s.encode() if isinstance(s, str) else s)
    out = []
    for v in WRONG:
        out.append(text(json.dumps({"resume": v})))
        out.append(text(json.dumps({"type": v})))
        out.append(text(json.dumps({"type": "resume", "seq": v})))
        out.append(text(json.dumps(v)))
    for t in ["ping", "pong", "hello", "", "subscribe", "x" * 3000, "resume"]:
        out.append(text(json.dumps({"type": t})))
    out.append(text('{"resume":0}'))
    for cut in range(1, 12):
        out.append(text('{"resume":0}'[:cut]))
    out.append(WebSocket.frame(0x2, b'{"resume":0}'))
    out.append(WebSocket.frame(0x2, os.urandom(100)))
    out.append(text(b"\xed\xa0\x80"))  # a UTF-16 surrogate: not UTF-8
    out.append(text("x" * 70000))
    out.append(text("[" * 30000))
    for _ in range(500):
        out.append(text('{"type":"ping"}'))
    for _ in range(200):
        out.append(WebSocket.frame(0x9, b"p"))
    rng = random.Random(5)
    while len(out) < 2100:
        b = bytearray(rng.choice([b'{"resume":3}', b'{"type":"ping"}', b'{"type":"resume","seq":1}']))
        b[rng.randrange(len(b))] = rng.randrange(256)
        out.append(text(bytes(b)))
    return out


# Every route of the router (http/handlers), placeholders filled in.
ROUTES = [
    ("GET", "/health/live"), ("GET", "/health/ready"), ("GET", "/health"),
    ("POST", "/api/auth/register"), ("POST", "/api/auth/login"), ("POST", "/api/auth/refresh"),
    ("POST", "/api/auth/revoke"), ("POST", "/api/auth/validate"), ("GET", "/api/auth/profile"),
    ("GET", "/api/products"), ("GET", "/api/products/1"), ("GET", "/api/products/categories"),
    ("GET", "/api/products/1/price"),
    ("POST", "/api/products"), ("PUT", "/api/products/1"), ("DELETE", "/api/products/999"),
    ("PUT", "/api/products/1/stock"), ("POST", "/api/products/1/reduce-stock"),
    ("GET", "/api/cart"), ("POST", "/api/cart/add"), ("PUT", "/api/cart/items/1"),
    ("DELETE", "/api/cart/items/1"), ("DELETE", "/api/cart"), ("GET", "/api/cart/someone"),
    ("DELETE", "/api/cart/someone"),
    ("POST", "/api/orders/place"), ("GET", "/api/orders/history"), ("GET", "/api/orders/1"),
    ("POST", "/api/orders/1/cancel"), ("POST", "/notificationHub/negotiate"),
    ("GET", "/ws"), ("GET", "/notificationHub"), ("GET", "/api/cluster"), ("GET", "/api/openapi.yaml"),
]
FIELDS = ["email", "password", "confirmPassword", "firstName", "lastName", "refreshToken",
          "accessToken", "name", "description", "price", "category", "stockQuantity",
          "quantity", "productId", "paymentMethodId", "userId"]


def http_requests(token, admin):
    """Raw request bytes; each gets a well-formed HTTP answer."""
    out = []

    def req(method, path, body=b"", headers=(), version="HTTP/1.1"):
        h = [f"Host: 127.0.0.1", "Connection: close"] + list(headers)
        if body or method in ("POST", "PUT"):
            h.append(f"Content-Length: {len(body)}")
        return (f"{method} {path} {version}\r\n" + "".join(x + "\r\n" for x in h) + "\r\n").encode() + body

    auths = [f"Authorization: Bearer {token}", f"Authorization: Bearer {admin}",
             "Authorization: Bearer x.y.z", "Authorization: Basic Zm9vOmJhcg==", "Authorization: Bearer "]
    for (method, path), auth in itertools.product(ROUTES, auths):
        out.append(req(method, path, headers=[auth]))
        if method in ("POST", "PUT"):
            for body in [b"{", b"[]", b'"s"', b"null", b"1", b"{\"a\":" * 2000, b"\xff\xfe", b"{}" * 3,
                         b'{"productId":1e999}', b'{"quantity":-0.0}']:
                out.append(req(method, path, body, headers=[auth, "Content-Type: application/json"]))
    for (method, path), field, v in itertools.product([r for r in ROUTES if r[0] in ("POST", "PUT")], FIELDS, WRONG):
        body = json.dumps({field: v}).encode()
        auth = auths[len(out) % 2]
        out.append(req(method, path, body, headers=[auth, "Content-Type: application/json"]))
    for bad_path in ["/api/products/-1", "/api/products/99999999999999999999", "/api/products/%00",
                     "/api/products/%zz", "/api/orders/1.5", "/api/cart/items/%ff", "/" + "a" * 3000,
                     "/api/products?page=-1&pageSize=1e9", "/api/products?sortBy=%27", "*", "http://x/",
                     "/api/products?a=%", "/api/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd"]:
        for method in ["GET", "POST", "PUT", "DELETE"]:
            out.append(req(method, bad_path, headers=[auths[0]]))
    malformed = [
        b"GET\r\n\r\n", b"\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"G\x00T / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"POST /api/cart/add HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        b"POST /api/cart/add HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nContent-Length: 2\r\n\r\n{}",
        b"POST /api/cart/add HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 10000 + b"\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad Header\r\n\r\n", b"GET / HTTP/1.1\r\n: empty\r\n\r\n",
        b"GET /api/cart HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n",
    ]
    # Cookies and Idempotency-Keys of every shape.
    for cookie in [b"emporium_refresh=", b"emporium_refresh=.", b"emporium_refresh=x.y", b";;;=;",
                   b"emporium_refresh=" + b"a" * 3000, b"emporium_refresh=\xff\xfe.\x01",
                   b"a=b; emporium_refresh=%00.%zz"]:
        malformed.append(b"POST /api/auth/refresh HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Session-Cookie: 1\r\nCookie: "
                         + cookie + b"\r\nContent-Length: 2\r\n\r\n{}")
        malformed.append(b"POST /api/auth/revoke HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Session-Cookie: 1\r\nCookie: "
                         + cookie + b"\r\nContent-Length: 0\r\n\r\n")
    for key in [b"", b" ", b"k" * 201, b"\xff\xfe", b"a\x01b", b"'; DROP TABLE orders; --"]:
        malformed.append(b"POST /api/orders/place HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer "
                         + token.encode() + b"\r\nIdempotency-Key: " + key
                         + b"\r\nContent-Length: 16\r\n\r\n{\"paymentMethodId")
    out.extend(malformed)
    rng = random.Random(3)
    templates = out[:200]
    while len(out) < 2300:
        b = bytearray(rng.choice(templates))
        for _ in range(rng.randint(1, 3)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        out.append(bytes(b))
    return out


class HostileClients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.token = victim["token"]
        cls.uid = victim["userId"]
        # A bystander's order and cart, accepted before any attack.
        cls.bystander = bystander["token"]
        status, _, _ = node.request("POST", "/api/cart/add", {"productId": 2, "quantity": 2},
                                    token=cls.bystander)
        assert status == 200
        cls.order_before = cls.place_and_confirm(cls.bystander)
        node.request("POST", "/api/cart/add", {"productId": 4, "quantity": 3}, token=cls.bystander)
        cls.cart_before = node.request("GET", "/api/cart", token=cls.bystander)[1]
        cls.history_before = node.request("GET", "/api/orders/history", token=cls.bystander)[1]
        assert cls.cart_before["items"], cls.cart_before
        # The victim's live sockets, opened before any attack.
        cls.victim_hub = hub(cls.token)
        cls.victim_hub.send(json.dumps({"type": 1, "invocationId": "1", "target": "JoinGroup",
                                        "arguments": [cls.uid]}) + RS)
        assert json.loads(cls.victim_hub.recv().rstrip(RS))["result"] is None
        cls.victim_ws = WebSocket(node.port, f"/ws?access_token={cls.token}")
        assert json.loads(cls.victim_ws.recv())["type"] == "hello"

    @classmethod
    def tearDownClass(cls):
        cls.victim_hub.close()
        cls.victim_ws.close()

    @staticmethod
    def place_and_confirm(token, product=VICTIM_PRODUCT):
        node.request("POST", "/api/cart/add", {"productId": product, "quantity": 1}, token=token)
        status, placed, _ = node.request("POST", "/api/orders/place", {"paymentMethodId": "pm_card_visa"},
                                         token=token, headers={"Idempotency-Key": f"k-{time.time_ns()}"})
        assert status == 200, placed
        deadline = time.time() + 20
        while time.time() < deadline:
            order = node.request("GET", f"/api/orders/{placed['orderId']}", token=token)[1]
            if order["state"] in ("Confirmed", "Cancelled"):
                return order
            time.sleep(0.05)
        raise AssertionError("order did not finish")

    def after_batch(self, name):
        """What must hold after every batch of hostile input."""
        status, body, _ = node.request("GET", "/health/ready")
        self.assertEqual(status, 200, f"{name}: not ready: {body}")
        self.assertIsNone(node.proc.poll(), f"{name}: the node died")
        order = self.place_and_confirm(self.token)
        self.assertEqual(order["state"], "Confirmed")
        want = order["id"]
        # Both victim sockets are open and get this order's events in order.
        for label, sock, pick in [("hub", self.victim_hub, self.hub_events), ("ws", self.victim_ws, self.ws_events)]:
            statuses = []
            deadline = time.time() + 20
            while "Confirmed" not in statuses and time.time() < deadline:
                statuses += [e["status"] for e in pick(sock) if e.get("orderId") == want]
            self.assertEqual(statuses, ["Submitted", "StockReserved", "PaymentAuthorized", "Confirmed"],
                             f"{name}: victim {label} socket")
        # What was accepted before the attack is untouched.
        self.assertEqual(node.request("GET", "/api/cart", token=self.bystander)[1], self.cart_before)
        first = node.request("GET", f"/api/orders/{self.order_before['id']}", token=self.bystander)[1]
        self.assertEqual(first, self.order_before)
        self.assertEqual(node.request("GET", "/api/orders/history", token=self.bystander)[1],
                         self.history_before)

    @staticmethod
    def hub_events(ws):
        out = []
        for r in ws.recv().split(RS):
            if r:
                msg = json.loads(r)
                if msg.get("type") == 1 and msg.get("target") == "ReceiveOrderNotification":
                    out.append(msg["arguments"][0])
        return out

    @staticmethod
    def ws_events(ws):
        msg = json.loads(ws.recv())
        return [msg] if msg.get("type") == "order.status" else []

    def test_1_signalr_frames(self):
        token = attacker["token"]
        pre = Attack(lambda: hub(token, handshake=False))
        post = Attack(lambda: hub(token))
        frames = signalr_frames()
        for i, (frame, phase) in enumerate(frames):
            (pre if phase == "pre" else post).send(frame, needs_fresh=(phase == "pre"))
            if i % 1000 == 999:
                self.after_batch(f"signalr frames up to {i}")
        # A socket closed in the middle of a frame.
        for _ in range(50):
            ws = hub(token)
            ws.send_raw(WebSocket.frame(0x1, b'{"type":1,"target":"JoinGroup"')[:9])
            ws.close()
        pre.finish()
        post.finish()
        self.assertGreaterEqual(pre.sent + post.sent, 5000)
        self.after_batch("signalr")

    def test_2_killer_frames_get_an_answer(self):
        token = attacker["token"]
        ws = hub(token, handshake=False)
        ws.send('{"protocol":1}' + RS)
        self.assertIn("error", json.loads(ws.recv().rstrip(RS)))
        for frame in ['{"type":"1"}', '{"type":1,"target":"JoinGroup","arguments":"x"}']:
            ws = hub(token)
            ws.send(frame + RS)
            close = json.loads(ws.recv().rstrip(RS))
            self.assertEqual(close["type"], 7)
            self.assertIn("error", close)
            with self.assertRaises(ConnectionError):
                ws.recv()
            ws.close()
        self.after_batch("killer frames")

    def test_3_ws_frames(self):
        attack = Attack(lambda: open_socket(f"/ws?access_token={attacker['token']}"))
        for i, frame in enumerate(ws_frames()):
            attack.send(frame)
            if i % 1000 == 999:
                self.after_batch(f"ws frames up to {i}")
        attack.finish()
        self.assertGreaterEqual(attack.sent, 2000)
        # Answers stay sane on a fresh socket.
        ws = open_socket(f"/ws?access_token={attacker['token']}")
        ws.recv()
        ws.send('{"type":"ping"}')
        self.assertEqual(json.loads(ws.recv()), {"type": "pong"})
        ws.send('{"resume":"x"}')
        self.assertEqual(json.loads(ws.recv())["type"], "error")
        ws.close()
        self.after_batch("ws")

    def test_4_http_requests(self):
        admin = node.admin_token()
        requests = http_requests(attacker["token"], admin)
        self.assertGreaterEqual(len(requests), 2000)
        server_errors = []
        for i, data in enumerate(requests):
            answer = raw_exchange(node.port, data, timeout=10)
            if answer:
                head = answer.split(b"\r\n", 1)[0]
                self.assertTrue(head.startswith(b"HTTP/1."), (data[:100], answer[:200]))
                status = int(head.split(b" ")[1])
                refused_coding = status == 501 and b"transfer-encoding" in data.lower()
                if status >= 500 and status != 503 and not refused_coding:
                    server_errors.append((data[:120], answer[:300]))
                if status >= 400 and b"application/json" in answer.split(b"\r\n\r\n", 1)[0]:
                    body = json.loads(answer.split(b"\r\n\r\n", 1)[1] or b"{}")
                    self.assertIn("message", body, data[:100])
                    self.assertIn("code", body, data[:100])
            if i % 700 == 699:
                self.after_batch(f"http requests up to {i}")
        self.assertEqual(server_errors, [])
        self.after_batch("http")


if __name__ == "__main__":
    unittest.main()
