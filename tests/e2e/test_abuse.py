"""Abuse resistance against the real binary: request framing that smuggles,
tokens in query strings, owner-only data files."""
import concurrent.futures
import http.client
import json
import os
import re
import socket
import time
import stat
import unittest

from harness import Node, raw_exchange

node = None
user = None


def setUpModule():
    global node, user
    node = Node().start()
    user = node.new_user("abuse@example.com")


def tearDownModule():
    node.close()


class Framing(unittest.TestCase):
    def test_unknown_transfer_encoding_is_501_and_closes(self):
        for coding in [b"xchunked", b"gzip, chunked", b"identity", b"chunked, gzip"]:
            # Framed as the parser reads it (chunked when chunked is last; the
            # parser itself refuses chunked beside a Content-Length, with 400).
            chunked = coding.endswith(b"chunked")
            body = b"2\r\n{}\r\n0\r\n\r\n" if chunked else b"Content-Length: 2\r\n\r\n{}"
            answer = raw_exchange(
                node.port,
                b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + coding +
                b"\r\n" + (b"\r\n" if chunked else b"") + body +
                b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
            head = answer.split(b"\r\n\r\n", 1)[0]
            self.assertTrue(head.startswith(b"HTTP/1.1 501"), (coding, answer[:200]))
            self.assertIn(b"Connection: close", head)
            # The bytes after the body were never read as a second request.
            self.assertEqual(answer.count(b"HTTP/1.1 "), 1, answer)

    def test_chunked_still_works(self):
        answer = raw_exchange(
            node.port,
            b"POST /api/auth/validate HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
            b"2\r\n{}\r\n0\r\n\r\n")
        self.assertNotIn(b" 501 ", answer.split(b"\r\n", 1)[0])


class QueryTokens(unittest.TestCase):
    def test_access_token_query_refused_on_rest_routes(self):
        token = user["token"]
        self.assertEqual(node.request("GET", "/api/cart", token=token)[0], 200)
        for path in ["/api/cart", "/api/auth/profile", "/api/orders/history"]:
            status, body, _ = node.request("GET", f"{path}?access_token={token}")
            self.assertEqual(status, 401, path)
            self.assertEqual(body["code"], "unauthenticated")

    def test_access_token_query_accepted_on_websocket_upgrades(self):
        from wsclient import WebSocket
        for path in ["/ws", "/notificationHub"]:
            ws = WebSocket(node.port, f"{path}?access_token={user['token']}")
            self.assertEqual(ws.status, 101, path)
            ws.close()


class DataFiles(unittest.TestCase):
    def test_data_directory_and_files_are_owner_only(self):
        mode = stat.S_IMODE(os.stat(node.data_dir).st_mode)
        self.assertEqual(mode, 0o700)
        files = []
        for root, _, names in os.walk(node.data_dir):
            for name in names:
                path = os.path.join(root, name)
                if name.endswith(".log"):
                    continue  # written by the test harness, not the node
                files.append(path)
                self.assertEqual(stat.S_IMODE(os.stat(path).st_mode) & 0o077, 0, path)
        self.assertTrue(any(f.endswith("-wal") for f in files), files)
        self.assertTrue(any(f.endswith(".db") for f in files), files)

    def test_loose_files_of_an_older_version_are_tightened_at_start(self):
        other = Node()
        try:
            os.chmod(other.data_dir, 0o755)
            loose = os.path.join(other.data_dir, "left-by-old-version")
            with open(loose, "w") as f:
                f.write("x")
            os.chmod(loose, 0o644)
            other.start()
            self.assertEqual(stat.S_IMODE(os.stat(other.data_dir).st_mode), 0o700)
            self.assertEqual(stat.S_IMODE(os.stat(loose).st_mode), 0o600)
        finally:
            other.close()


if __name__ == "__main__":
    unittest.main()


def login(email, password, source, target=None):
    return (target or node).request("POST", "/api/auth/login",
                                    {"email": email, "password": password}, source=source)


class LoginLimits(unittest.TestCase):
    def test_parallel_wrong_passwords_are_counted_when_they_start(self):
        node.register("parallel@example.com", "secret-pass")
        import concurrent.futures
        with concurrent.futures.ThreadPoolExecutor(12) as pool:
            results = list(pool.map(lambda _: login("parallel@example.com", "wrong-pass", "127.0.0.5")[0],
                                    range(12)))
        self.assertEqual(results.count(401), 5, results)  # login-failures-per-minute-account
        self.assertEqual(results.count(429), 7, results)

    def test_the_owner_logs_in_while_attacked_from_elsewhere(self):
        node.register("owner@example.com", "secret-pass")
        codes = [login("owner@example.com", "guess-pass", "127.0.0.6")[0] for _ in range(8)]
        self.assertEqual(codes[:5], [401] * 5)
        self.assertEqual(set(codes[5:]), {429})
        status, body, headers = login("owner@example.com", "wrong-pass", "127.0.0.6")
        self.assertEqual(status, 429)
        self.assertGreater(int(headers["retry-after"]), 0)
        # From the owner's own address: in, despite the attack (after a delay).
        status, body, _ = login("owner@example.com", "secret-pass", "127.0.0.7")
        self.assertEqual(status, 200, body)

    def test_unknown_emails_from_one_address_do_not_block_others(self):
        node.register("bystander2@example.com", "secret-pass")
        statuses = [login(f"ghost{i}@example.com", "whatever-pass", "127.0.0.8")[0] for i in range(31)]
        self.assertEqual(statuses[:30], [401] * 30)
        self.assertEqual(statuses[30], 429)
        self.assertEqual(login("bystander2@example.com", "secret-pass", "127.0.0.9")[0], 200)

    def test_unknown_email_takes_as_long_as_a_wrong_password(self):
        import statistics
        node.register("timing@example.com", "secret-pass")

        def timed(email, source):
            start = time.monotonic()
            status = login(email, "wrong-pass", source)[0]
            self.assertEqual(status, 401)
            return time.monotonic() - start
        known = statistics.median(timed("timing@example.com", f"127.0.1.{i}") for i in range(5))
        unknown = statistics.median(timed(f"nobody{i}@example.com", f"127.0.2.{i}") for i in range(5))
        self.assertGreater(known, 0.02)  # a real argon2id check ran
        self.assertGreater(unknown, known * 0.5, (known, unknown))

    def test_a_successful_login_does_not_use_up_the_allowance(self):
        node.register("often@example.com", "secret-pass")
        for _ in range(12):
            self.assertEqual(login("often@example.com", "secret-pass", "127.0.0.10")[0], 200)


class Registration(unittest.TestCase):
    def test_weak_passwords_are_refused_with_the_reason(self):
        for password, why in [("short1!", "at least 8"), ("password", "too easy"),
                              ("12345678", "too easy"), ("weakling@example.com", "too easy")]:
            status, body, _ = node.request("POST", "/api/auth/register",
                                           {"email": "weakling@example.com", "password": password})
            self.assertEqual(status, 400, password)
            self.assertEqual(body["field"], "password")
            self.assertIn(why, body["message"], password)

    def test_registrations_are_limited_per_client_address(self):
        limited = Node(env={"EMPORIUM_REGISTRATIONS_PER_MINUTE_IP": "3"}).start()
        try:
            codes = [limited.request("POST", "/api/auth/register",
                                     {"email": f"r{i}@example.com", "password": "secret-pass"},
                                     source="127.0.0.11")[0] for i in range(4)]
            self.assertEqual(codes, [200, 200, 200, 429])
            status, _, headers = limited.request("POST", "/api/auth/register",
                                                 {"email": "r9@example.com", "password": "secret-pass"},
                                                 source="127.0.0.11")
            self.assertGreater(int(headers["retry-after"]), 0)
            status, _, _ = limited.request("POST", "/api/auth/register",
                                           {"email": "r10@example.com", "password": "secret-pass"},
                                           source="127.0.0.12")
            self.assertEqual(status, 200)
        finally:
            limited.close()

    def test_a_full_hash_queue_answers_503_and_logins_do_not_wait_for_registrations(self):
        busy = Node(extra_args=["--password-hash-queue", "2"]).start()
        try:
            busy.register("quick@example.com", "secret-pass")
            import concurrent.futures
            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                signups = [pool.submit(busy.request, "POST", "/api/auth/register",
                                       {"email": f"burst{i}@example.com", "password": "secret-pass"},
                                       source=f"127.0.3.{i}") for i in range(12)]
                time.sleep(0.05)
                start = time.monotonic()
                status, _, _ = busy.request("POST", "/api/auth/login",
                                            {"email": "quick@example.com", "password": "secret-pass"},
                                            source="127.0.4.1")
                login_seconds = time.monotonic() - start
                results = [f.result() for f in signups]
            self.assertEqual(status, 200)
            codes = [r[0] for r in results]
            self.assertIn(503, codes)
            self.assertIn(200, codes)
            for code, _, headers in results:
                if code == 503:
                    self.assertIn("retry-after", headers)
            # 12 registrations queued on their own pool; the login did not wait
            # behind them (each hash takes ~0.1 s; 12 in a row would be > 1 s).
            self.assertLess(login_seconds, 1.0)
        finally:
            busy.close()

    def test_one_client_cannot_fill_the_password_queue(self):
        # 1 check at a time per client here: of 6 logins sent at once from
        # one address, those that find its check still running get 429
        # (the shared queue of 64 stays for the others); another address is
        # checked meanwhile.
        node = Node(extra_args=["--password-checks-per-client", "1"]).start()
        try:
            import concurrent.futures
            with concurrent.futures.ThreadPoolExecutor(7) as pool:
                burst = [pool.submit(node.request, "POST", "/api/auth/login",
                                     {"email": f"nobody{i}@example.com", "password": "wrong"},
                                     source="127.0.5.1") for i in range(6)]
                time.sleep(0.02)
                other = pool.submit(node.request, "POST", "/api/auth/login",
                                    {"email": "someone@example.com", "password": "wrong"},
                                    source="127.0.5.2")
                results = [f.result() for f in burst]
                other_status = other.result()[0]
            codes = [r[0] for r in results]
            self.assertGreaterEqual(codes.count(401), 1, codes)
            self.assertGreaterEqual(codes.count(429), 1, codes)
            self.assertEqual(codes.count(401) + codes.count(429), 6, codes)
            for code, body, headers in results:
                if code == 429:
                    self.assertEqual(body["code"], "rate_limited")
                    self.assertIn("password checks", body["message"])
                    self.assertIn("retry-after", headers)
            self.assertEqual(other_status, 401)
            # Sign-ups hash under the same bound.
            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                signups = [pool.submit(node.request, "POST", "/api/auth/register",
                                       {"email": f"burst{i}@example.com",
                                        "password": "secret-pass"},
                                       source="127.0.5.3") for i in range(4)]
                codes = [f.result()[0] for f in signups]
            self.assertGreaterEqual(codes.count(200), 1, codes)
            self.assertGreaterEqual(codes.count(429), 1, codes)
            self.assertEqual(codes.count(200) + codes.count(429), 4, codes)
            # Refused checks were not counted as failures: the address may
            # still log in once its check is done.
            node.register("after@example.com", "secret-pass")
            status, _, _ = node.request("POST", "/api/auth/login",
                                        {"email": "after@example.com", "password": "secret-pass"},
                                        source="127.0.5.1")
            self.assertEqual(status, 200)
        finally:
            node.close()


class Proxies(unittest.TestCase):
    def test_forwarded_for_is_believed_only_from_a_trusted_proxy(self):
        proxied = Node(extra_args=["--trusted-proxies", "127.0.0.1/32"]).start()
        try:
            def fail(forwarded, source):
                return proxied.request("POST", "/api/auth/login",
                                       {"email": f"x{time.time_ns()}@example.com", "password": "wrong-pass"},
                                       headers={"X-Forwarded-For": forwarded}, source=source)[0]
            # Through the proxy (peer 127.0.0.1): the client is the forwarded address.
            codes = [fail("6.6.6.6, 10.0.0.7", "127.0.0.1") for _ in range(31)]
            self.assertEqual(codes[-1], 429)
            self.assertEqual(fail("10.0.0.8", "127.0.0.1"), 401)  # another client behind the proxy
            self.assertEqual(fail("10.0.0.7", "127.0.0.1"), 429)
            # A client connecting directly cannot pose as someone else.
            codes = [fail("10.0.0.9", "127.0.0.13") for _ in range(31)]
            self.assertEqual(codes[-1], 429)
            self.assertEqual(fail("10.0.0.10", "127.0.0.13"), 429)  # still itself
        finally:
            proxied.close()

    def test_the_session_cookie_is_secure_when_a_trusted_proxy_says_https(self):
        proxied = Node(extra_args=["--trusted-proxies", "127.0.0.1/32"]).start()
        try:
            proxied.register("secure-cookie@example.com")
            login = {"email": "secure-cookie@example.com", "password": "secret-pass"}

            def cookie_of(proto, source, path="/api/auth/login", body=login, extra=None):
                headers = {"X-Session-Cookie": "1", **(extra or {})}
                if proto:
                    headers["X-Forwarded-Proto"] = proto
                status, answer, lines = proxied.request("POST", path, body, headers=headers,
                                                        source=source)
                self.assertEqual(status, 200, answer)
                return answer, lines["set-cookie"]
            answer, cookie = cookie_of("https", "127.0.0.1")
            self.assertIn("; Secure;", cookie)
            # A rotation through the proxy keeps it Secure; so does the logout's.
            _, rotated = cookie_of("https", "127.0.0.1", "/api/auth/refresh", {},
                                   {"Cookie": cookie.split(";")[0]})
            self.assertIn("; Secure;", rotated)
            status, _, lines = proxied.request("POST", "/api/auth/revoke", token=answer["token"],
                                               headers={"X-Forwarded-Proto": "https"},
                                               source="127.0.0.1")
            self.assertEqual(status, 200)
            self.assertIn("; Secure;", lines["set-cookie"])
            self.assertIn("Max-Age=0", lines["set-cookie"])
            # Plain HTTP at the proxy, or the header from a client that is not one.
            self.assertNotIn("Secure", cookie_of("http", "127.0.0.1")[1])
            self.assertNotIn("Secure", cookie_of("https", "127.0.0.13")[1])
        finally:
            proxied.close()


class RefreshTokenFamilies(unittest.TestCase):
    def test_a_replayed_refresh_token_ends_the_whole_session(self):
        node.register("family@example.com", "secret-pass")
        first = node.login("family@example.com")
        other_device = node.login("family@example.com")

        def refresh(tok):
            return node.request("POST", "/api/auth/refresh",
                                {"accessToken": first["token"], "refreshToken": tok})
        status, second, _ = refresh(first["refreshToken"])
        self.assertEqual(status, 200)
        status, third, _ = refresh(second["refreshToken"])
        self.assertEqual(status, 200)
        # Someone presents the already rotated token: refused, and the newest
        # token of that family no longer works either.
        self.assertEqual(refresh(first["refreshToken"])[0], 401)
        self.assertEqual(refresh(third["refreshToken"])[0], 401)
        # Another login (its own family) is not affected.
        self.assertEqual(refresh(other_device["refreshToken"])[0], 200)


class ConfiguredAdmin(unittest.TestCase):
    def test_an_admin_email_taken_by_a_customer_stops_the_node_unless_promoted(self):
        first = Node().start()
        try:
            first.register("boss@example.com", "secret-pass")
            first.terminate()
            squatted = Node(data_dir=first.data_dir, env={"EMPORIUM_ADMIN_EMAIL": "boss@example.com",
                                                          "EMPORIUM_ADMIN_PASSWORD": "admin-pass-1"},
                            log_name="squatted.log")
            squatted.start(wait=False)
            self.assertEqual(squatted.proc.wait(timeout=60), 2)
            self.assertIn("belongs to an existing non-admin account", squatted.log())
            promoted = Node(data_dir=first.data_dir, extra_args=["--promote-admin"],
                            env={"EMPORIUM_ADMIN_EMAIL": "boss@example.com",
                                 "EMPORIUM_ADMIN_PASSWORD": "admin-pass-1"},
                            log_name="promoted.log").start()
            try:
                deadline = time.time() + 30
                while "promoted to admin" not in promoted.log() and time.time() < deadline:
                    time.sleep(0.1)
                # The account keeps its own password; its new tokens carry the role.
                token = promoted.login("boss@example.com", "secret-pass")["token"]
                status, body, _ = promoted.request("GET", "/api/cluster", token=token)
                self.assertEqual(status, 200, body)
            finally:
                promoted.close()
        finally:
            first.close()


class RequestRate(unittest.TestCase):
    """Requests per client address: a burst, then the rate; 429 + Retry-After
    on a connection that stays open; other clients, health probes and static
    files untouched; X-Forwarded-For believed only from a trusted proxy."""

    @classmethod
    def setUpClass(cls):
        # 5 a second, bursts of 10. The harness turns the limit off for the
        # other tests (they send from 127.0.0.1 as fast as they can).
        cls.node = Node(env={"EMPORIUM_REQUESTS_PER_SECOND_CLIENT": "5"},
                        extra_args=["--trusted-proxies", "127.0.0.40/32"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.node.close()

    def keep_alive_calls(self, n, source, path="/api/products?pageSize=1", headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.node.port, timeout=10,
                                          source_address=(source, 0))
        answers = []
        try:
            for _ in range(n):
                conn.request("GET", path, headers=headers or {})
                res = conn.getresponse()
                answers.append((res.status, res.read(), res.getheader("Retry-After")))
        finally:
            conn.close()
        return answers

    def test_a_client_past_its_rate_gets_429_and_keeps_its_connection(self):
        answers = self.keep_alive_calls(25, "127.0.0.30")
        statuses = [a[0] for a in answers]
        # The burst (10), then refusals; tokens come back at 5 a second
        # while the 25 run (a slow machine lets a few more through).
        self.assertEqual(statuses[:10], [200] * 10, statuses)
        self.assertGreaterEqual(statuses.count(429), 5, statuses)
        self.assertEqual(set(statuses), {200, 429}, statuses)
        status, body, retry_after = next(a for a in answers if a[0] == 429)
        self.assertEqual(json.loads(body)["code"], "rate_limited")
        self.assertGreaterEqual(int(retry_after), 1)
        # Health probes and static files are not counted, nor refused.
        self.assertEqual(self.node.request("GET", "/health/ready", source="127.0.0.30")[0], 200)
        self.assertNotEqual(self.node.request("GET", "/", source="127.0.0.30")[0], 429)
        # Another client is untouched; the refused one gets requests again
        # at the rate once it waits.
        self.assertEqual(self.node.request("GET", "/api/products?pageSize=1", source="127.0.0.31")[0], 200)
        time.sleep(1.2)
        again = [a[0] for a in self.keep_alive_calls(15, "127.0.0.30")]
        self.assertEqual(again[:5], [200] * 5, again)
        self.assertIn(429, again)

    def test_a_socket_is_no_way_around_the_limit(self):
        from wsclient import WebSocket
        token = self.node.new_user("rate-socket@example.com")["token"]  # from 127.0.0.1
        ws = WebSocket(self.node.port, f"/ws?access_token={token}", source="127.0.0.33")
        try:
            self.assertEqual(ws.status, 101)  # the upgrade took one of the 10
            ws.recv()  # the socket's greeting
            try:
                for _ in range(30):
                    ws.send('{"type":"ping"}')
            except OSError:
                pass  # closed while the flood was still going out
            pongs, closed = 0, None
            try:
                while True:
                    if json.loads(ws.recv()) == {"type": "pong"}:
                        pongs += 1
            except ConnectionError as e:
                closed = e.args[1] if len(e.args) > 1 else b""
            # Messages count like requests: the rest of the burst is answered,
            # then the socket is closed with 1008 (policy violation).
            self.assertGreaterEqual(pongs, 5)
            self.assertLess(pongs, 30)
            self.assertEqual(int.from_bytes(closed[:2], "big"), 1008, closed)
        finally:
            ws.close()

    def test_forwarded_for_counts_only_from_a_trusted_proxy(self):
        # Not a trusted proxy: a forged X-Forwarded-For does not get a fresh bucket.
        forged = [a[0] for a in self.keep_alive_calls(
            25, "127.0.0.32", headers={"X-Forwarded-For": "198.51.100.1"})]
        self.assertIn(429, forged)
        fresh = [a[0] for a in self.keep_alive_calls(
            5, "127.0.0.32", headers={"X-Forwarded-For": "198.51.100.2"})]
        self.assertIn(429, fresh)
        # Through the trusted proxy, each forwarded client has its own.
        one = [a[0] for a in self.keep_alive_calls(
            25, "127.0.0.40", headers={"X-Forwarded-For": "198.51.100.3"})]
        self.assertIn(429, one)
        other = self.node.request("GET", "/api/products?pageSize=1", source="127.0.0.40",
                                  headers={"X-Forwarded-For": "198.51.100.4"})
        self.assertEqual(other[0], 200)

    def test_an_ipv6_client_is_its_network_not_each_address(self):
        # One subscriber's /64 holds 2^64 addresses: a new one per request
        # must not be a new bucket. Forwarded by the trusted proxy, each
        # request from another address of 2001:db8:5:6::/64.
        answers = [self.keep_alive_calls(
            1, "127.0.0.40", headers={"X-Forwarded-For": f"2001:db8:5:6::{i:x}"})[0][0]
            for i in range(1, 26)]
        self.assertEqual(answers[:10], [200] * 10, answers)
        self.assertIn(429, answers)
        # Another /64 is another client.
        other = self.node.request("GET", "/api/products?pageSize=1", source="127.0.0.40",
                                  headers={"X-Forwarded-For": "2001:db8:5:7::1"})
        self.assertEqual(other[0], 200)


def pipelined_cart_reads(port, token, n):
    """`n` GET /api/cart pipelined on one connection (the last closes it):
    each answer's status, Retry-After and body, in order."""
    one = (b"GET /api/cart HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
           % token.encode())
    data = b"".join(one + b"\r\n" for _ in range(n - 1)) + one + b"Connection: close\r\n\r\n"
    answer = raw_exchange(port, data, timeout=10)
    out = []
    for part in answer.split(b"HTTP/1.1 ")[1:]:
        head, _, body = part.partition(b"\r\n\r\n")
        retry = re.search(rb"(?im)^retry-after: *(\d+)", head)
        out.append((int(head[:3]), retry and int(retry.group(1)), body))
    return out


class RequestsInFlight(unittest.TestCase):
    """The global counterpart of the limits per client: past
    --max-requests-in-flight held requests, an API request gets a 503 with
    Retry-After at once instead of a place in the queue."""

    def test_past_the_nodes_cap_api_requests_get_503_and_probes_still_answer(self):
        capped = Node(extra_args=["--max-requests-in-flight", "2"]).start()
        try:
            token = capped.new_user("in-flight@example.com")["token"]
            # 16 pipelined cart reads on each of 4 connections at once: the
            # edge normally reads several before the first answer is
            # written. Not always: on a loaded machine (CI, 2026-12-04 and
            # 2026-12-06) its I/O thread answered each before parsing the
            # next, and all 16 of one connection's reads were 200 five bursts
            # in a row. Four connections at once hold more than 2 between
            # them; up to 5 bursts, and a cap that never refuses fails all.
            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                for _ in range(5):
                    bursts = list(pool.map(
                        lambda _: pipelined_cart_reads(capped.port, token, 16), range(4)))
                    answers = [a for burst in bursts for a in burst]
                    statuses = [a[0] for a in answers]
                    for burst in bursts:
                        self.assertEqual(len(burst), 16, statuses)
                    self.assertLessEqual(set(statuses), {200, 503}, statuses)
                    if 503 in statuses:
                        break
            self.assertIn(503, statuses)
            status, retry_after, body = next(a for a in answers if a[0] == 503)
            self.assertEqual(json.loads(body)["code"], "unavailable")
            self.assertEqual(retry_after, 1)
            # Once they are answered the node takes requests again; health
            # probes never count.
            self.assertEqual(capped.request("GET", "/api/cart", token=token)[0], 200)
            self.assertEqual(capped.request("GET", "/health/ready")[0], 200)
        finally:
            capped.close()
        # The same burst under the default cap (4,096): every read answered.
        token = node.new_user("in-flight-default@example.com")["token"]
        self.assertEqual([a[0] for a in pipelined_cart_reads(node.port, token, 16)], [200] * 16)


def read_answer(f):
    """One HTTP/1.1 answer from a socket file: (status, body)."""
    status = int(f.readline().split()[1])
    length = 0
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, f.read(length)


class HeaderTimeout(unittest.TestCase):
    def test_the_next_heads_time_starts_when_the_last_answer_is_out(self):
        # --header-timeout counts from the connection going idle ("after its
        # previous answer"): answers slower than it must not close the
        # connection the client is still using.
        short = Node(extra_args=["--header-timeout", "1"]).start()
        try:
            one = ('POST /api/auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
                   'Content-Length: {}\r\n\r\n{}')
            data = b""
            for i in range(16):  # as many as a connection may have in flight
                body = json.dumps({"email": f"slow-answers-{i}@example.com",
                                   "password": "Kettle-Lamp-42"})
                data += one.format(len(body), body).encode()
            with socket.create_connection(("127.0.0.1", short.port), timeout=30) as s:
                f = s.makefile("rb")
                s.sendall(data)
                statuses = [read_answer(f)[0]]
                first = time.monotonic()
                statuses += [read_answer(f)[0] for _ in range(15)]
                owed_for = time.monotonic() - first
                self.assertEqual(statuses, [200] * 16)
                # The next request on the same connection, right away.
                s.sendall(b"GET /api/products?pageSize=1 HTTP/1.1\r\nHost: x\r\n\r\n")
                status, body = read_answer(f)
                self.assertEqual(status, 200)
                self.assertEqual(len(json.loads(body)), 1)
                # And an idle connection is still closed after the timeout.
                time.sleep(2)
                self.assertEqual(s.recv(100), b"")
        finally:
            short.close()
        if owed_for < 1.2:
            self.skipTest(f"the answers took {owed_for:.2f} s, under the 1 s header timeout: "
                          "this machine hashes too fast for the test to show anything")


class ConnectionFairness(unittest.TestCase):
    def test_one_client_cannot_take_every_connection(self):
        capped = Node(extra_args=["--max-connections-per-client", "5", "--header-timeout", "2"]).start()
        try:
            idle = []
            for _ in range(5):
                idle.append(socket.create_connection(("127.0.0.1", capped.port),
                                                     source_address=("127.0.0.20", 0)))
            time.sleep(0.2)
            over = socket.create_connection(("127.0.0.1", capped.port), source_address=("127.0.0.20", 0))
            over.settimeout(5)
            answer = over.recv(4096)
            self.assertTrue(answer.startswith(b"HTTP/1.1 429"), answer)
            self.assertIn(b"Retry-After", answer)
            over.close()
            # Another client is untouched.
            self.assertEqual(capped.request("GET", "/health/live", source="127.0.0.21")[0], 200)
            # Idle connections that never send a request head are closed after
            # the header timeout, and the slots come back.
            time.sleep(3)
            for s in idle:
                s.settimeout(2)
                self.assertEqual(s.recv(100), b"")  # closed by the server
                s.close()
            time.sleep(0.2)
            self.assertEqual(capped.request("GET", "/health/live", source="127.0.0.20")[0], 200)
        finally:
            capped.close()

    def test_one_user_cannot_hold_every_socket(self):
        from wsclient import WebSocket
        capped = Node(extra_args=["--max-sockets-per-user", "3"]).start()
        try:
            one = capped.new_user("sockets@example.com")["token"]
            two = capped.new_user("sockets2@example.com")["token"]
            open_ = [WebSocket(capped.port, f"/ws?access_token={one}"),
                     WebSocket(capped.port, f"/notificationHub?access_token={one}"),
                     WebSocket(capped.port, f"/ws?access_token={one}")]
            self.assertEqual([w.status for w in open_], [101, 101, 101])
            refused = WebSocket(capped.port, f"/notificationHub?access_token={one}")
            self.assertEqual(refused.status, 429)
            refused.close()
            other = WebSocket(capped.port, f"/ws?access_token={two}")
            self.assertEqual(other.status, 101)
            other.close()
            open_[0].close()
            deadline = time.time() + 10
            while True:  # the server notices the close, then the slot is free
                again = WebSocket(capped.port, f"/ws?access_token={one}")
                if again.status == 101 or time.time() > deadline:
                    break
                again.close()
                time.sleep(0.1)
            self.assertEqual(again.status, 101)
            again.close()
            for w in open_[1:]:
                w.close()
        finally:
            capped.close()
