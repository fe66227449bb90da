"""The seed's contract (Auth, Products, Cart tables) against the real binary."""
import os
import shutil
import socket
import tempfile
import time
import unittest

from harness import Node, make_jwt, ADMIN_EMAIL

node = None
static_dir = None


def setUpModule():
    global node, static_dir
    static_dir = tempfile.mkdtemp(prefix="emporium-static-")
    with open(os.path.join(static_dir, "index.html"), "w") as f:
        f.write("<!doctype html><title>shop</title>")
    os.makedirs(os.path.join(static_dir, "assets"))
    with open(os.path.join(static_dir, "assets", "app.js"), "w") as f:
        f.write("console.log('hi')")
    node = Node(extra_args=["--static-dir", static_dir,
                            "--cors-origins", "http://localhost:3000"]).start()


def tearDownModule():
    node.close()
    shutil.rmtree(static_dir, ignore_errors=True)


class AuthTests(unittest.TestCase):
    def test_register_login_profile_validate(self):
        status, body, _ = node.request("POST", "/api/Auth/register", {
            "email": "Ann@Example.com", "password": "secret-pass", "confirmPassword": "secret-pass",
            "firstName": "Ann", "lastName": "Lee"})
        self.assertEqual(status, 200)
        self.assertIn("message", body)
        login = node.login("ann@example.com")
        for key in ("token", "accessToken", "refreshToken", "userId", "email", "expiresAt"):
            self.assertIn(key, login)
        self.assertEqual(login["token"], login["accessToken"])
        self.assertEqual(login["tokenType"], "Bearer")
        self.assertGreater(login["expiresAt"], time.time() * 1000)
        status, profile, _ = node.request("GET", "/api/auth/profile", token=login["token"])
        self.assertEqual(status, 200)
        self.assertEqual(profile["id"], login["userId"])
        self.assertEqual(profile["firstName"], "Ann")
        self.assertEqual(profile["lastName"], "Lee")
        for key in ("userName", "address", "city", "state", "country", "zipCode"):
            self.assertIn(key, profile)
        status, v, _ = node.request("POST", "/api/auth/validate", {"accessToken": login["token"]})
        self.assertEqual((status, v["valid"], v["userId"]), (200, True, login["userId"]))
        status, v, _ = node.request("POST", "/api/auth/validate", {"accessToken": "nope"})
        self.assertEqual((status, v["valid"]), (401, False))

    def test_duplicate_email_and_invalid_registration(self):
        node.register("dup@example.com")
        status, body, _ = node.request("POST", "/api/auth/register",
                                       {"email": "DUP@example.com", "password": "secret-pass"})
        self.assertEqual(status, 400)
        self.assertIn("message", body)
        for bad in ({"email": "not-an-email", "password": "secret-pass"},
                    {"email": "x@example.com", "password": "short"},
                    {"email": "y@example.com", "password": "secret-pass", "confirmPassword": "other"}):
            status, body, _ = node.request("POST", "/api/auth/register", bad)
            self.assertEqual(status, 400, bad)
            self.assertEqual(body["code"], "invalid_argument")

    def test_wrong_password_is_401(self):
        node.register("wrong@example.com")
        status, body, _ = node.request("POST", "/api/auth/login",
                                       {"email": "wrong@example.com", "password": "bad-pass"})
        self.assertEqual((status, body["message"]), (401, "Invalid credentials"))
        status, body, _ = node.request("POST", "/api/auth/login",
                                       {"email": "nobody@example.com", "password": "bad-pass"})
        self.assertEqual(status, 401)

    def test_refresh_rotates_and_revoke_stops_it(self):
        login = node.new_user("fresh@example.com")
        status, again, _ = node.request("POST", "/api/auth/refresh", {
            "accessToken": login["accessToken"], "refreshToken": login["refreshToken"]})
        self.assertEqual(status, 200)
        self.assertNotEqual(again["refreshToken"], login["refreshToken"])
        self.assertEqual(again["userId"], login["userId"])
        # The old refresh token was single-use.
        status, _, _ = node.request("POST", "/api/auth/refresh", {
            "accessToken": login["accessToken"], "refreshToken": login["refreshToken"]})
        self.assertEqual(status, 401)
        status, _, _ = node.request("POST", "/api/auth/revoke", token=again["token"])
        self.assertEqual(status, 200)
        status, _, _ = node.request("POST", "/api/auth/refresh", {
            "accessToken": again["accessToken"], "refreshToken": again["refreshToken"]})
        self.assertEqual(status, 401)

    def test_browser_sessions_keep_the_refresh_token_in_an_httponly_cookie(self):
        node.register("cookie@example.com")
        opt_in = {"X-Session-Cookie": "1"}
        status, login, headers = node.request(
            "POST", "/api/auth/login", {"email": "cookie@example.com", "password": "secret-pass"},
            headers=opt_in)
        self.assertEqual(status, 200)
        self.assertNotIn("refreshToken", login)  # script never sees it
        cookie = headers["set-cookie"]
        self.assertRegex(cookie, r"^emporium_refresh=[^;]{20,};")
        for attribute in ("HttpOnly", "SameSite=Strict", "Path=/api/auth"):
            self.assertIn(attribute, cookie)
        # Plain HTTP and no trusted proxy: a Secure cookie would never come back.
        self.assertNotIn("Secure", cookie)
        first = cookie.split(";")[0]
        # An empty body refreshes from the cookie and rotates it.
        status, again, headers = node.request(
            "POST", "/api/auth/refresh", raw=b"", headers={**opt_in, "Cookie": "a=b; " + first})
        self.assertEqual(status, 200, again)
        self.assertEqual(again["userId"], login["userId"])
        second = headers["set-cookie"].split(";")[0]
        self.assertNotEqual(second, first)
        # The rotated-out cookie is dead; without the opt-in header the cookie is ignored.
        status, _, _ = node.request("POST", "/api/auth/refresh", raw=b"",
                                    headers={**opt_in, "Cookie": first})
        self.assertEqual(status, 401)
        status, _, _ = node.request("POST", "/api/auth/refresh", raw=b"", headers={"Cookie": second})
        self.assertEqual(status, 400)
        # Logging out clears the cookie and revokes the token behind it.
        status, _, headers = node.request("POST", "/api/auth/revoke", token=again["token"])
        self.assertEqual(status, 200)
        self.assertIn("Max-Age=0", headers["set-cookie"])
        status, _, _ = node.request("POST", "/api/auth/refresh", raw=b"",
                                    headers={**opt_in, "Cookie": second})
        self.assertEqual(status, 401)

    def test_tampered_tokens_are_401(self):
        login = node.new_user("tamper@example.com")
        uid = login["userId"]
        now = int(time.time())
        good = {"sub": uid, "email": "tamper@example.com", "role": "customer", "iss": "emporium",
                "iat": now, "exp": now + 600}
        self.assertEqual(node.request("GET", "/api/auth/profile", token=make_jwt(good))[0], 200)
        header, payload, sig = login["token"].split(".")
        cases = {
            "expired": make_jwt(dict(good, exp=now - 10)),
            "wrong secret": make_jwt(good, secret="another-secret"),
            "alg none": make_jwt(good, header={"alg": "none", "typ": "JWT"}).rsplit(".", 1)[0] + ".",
            "other issuer": make_jwt(dict(good, iss="someone-else")),
            "payload swapped": header + "." + make_jwt(dict(good, role="admin")).split(".")[1] + "." + sig,
            "garbage": "a.b.c",
            "two parts": header + "." + payload,
        }
        for name, token in cases.items():
            status, body, headers = node.request("GET", "/api/auth/profile", token=token)
            self.assertEqual(status, 401, name)
            self.assertEqual(body["code"], "unauthenticated", name)
        status, _, _ = node.request("GET", "/api/auth/profile")
        self.assertEqual(status, 401)

    def test_login_rate_limited_per_account(self):
        node.register("limited@example.com")
        statuses = []
        for _ in range(7):
            status, _, headers = node.request("POST", "/api/auth/login", {
                "email": "limited@example.com", "password": "wrong-pass"})
            statuses.append(status)
        self.assertEqual(statuses[:5], [401] * 5)
        self.assertEqual(statuses[5], 429)
        status, body, headers = node.request("POST", "/api/auth/login", {
            "email": "limited@example.com", "password": "secret-pass"})
        self.assertEqual(status, 429)
        self.assertGreater(int(headers["retry-after"]), 0)


class ProductTests(unittest.TestCase):
    def test_list_is_an_array_with_the_seed_fields(self):
        status, products, headers = node.request("GET", "/api/products")
        self.assertEqual(status, 200)
        self.assertIsInstance(products, list)
        self.assertGreaterEqual(len(products), 200)
        self.assertEqual(int(headers["x-total-count"]), len(products))
        for key in ("id", "name", "description", "price", "category", "stockQuantity"):
            self.assertIn(key, products[0])

    def test_filters_search_and_case_insensitive_paths(self):
        status, books, _ = node.request("GET", "/api/Products?category=BOOKS&maxPrice=15")
        self.assertEqual(status, 200)
        self.assertTrue(books)
        for p in books:
            self.assertEqual(p["category"], "Books")
            self.assertLessEqual(p["price"], 15)
        status, found, _ = node.request("GET", "/api/products?search=KETTLE")
        self.assertTrue(found)
        for p in found:
            self.assertIn("kettle", (p["name"] + p["description"]).lower())
        status, ranged, _ = node.request("GET", "/api/products?minPrice=20&maxPrice=25")
        self.assertTrue(all(20 <= p["price"] <= 25 for p in ranged))

    def test_paging_and_sorting(self):
        status, page, headers = node.request(
            "GET", "/api/products?page=2&pageSize=10&sortBy=price&sortOrder=desc")
        self.assertEqual(status, 200)
        self.assertEqual(len(page), 10)
        prices = [p["price"] for p in page]
        self.assertEqual(prices, sorted(prices, reverse=True))
        self.assertIn('rel="next"', headers["link"])
        self.assertIn('rel="prev"', headers["link"])
        status, first, _ = node.request("GET", "/api/products?page=1&pageSize=10&sortBy=price&sortOrder=desc")
        self.assertGreaterEqual(first[-1]["price"], page[0]["price"])

    def test_one_product_price_categories_and_404(self):
        status, p, _ = node.request("GET", "/api/products/5")
        self.assertEqual((status, p["id"]), (200, 5))
        status, price, _ = node.request("GET", "/api/products/5/price")
        self.assertEqual((status, price), (200, p["price"]))
        status, cats, _ = node.request("GET", "/api/products/categories")
        self.assertIn("Books", cats)
        self.assertEqual(cats, sorted(cats))
        status, body, _ = node.request("GET", "/api/products/999999")
        self.assertEqual((status, body["code"]), (404, "not_found"))

    def test_admin_crud_and_stock_and_403_for_customers(self):
        admin = node.admin_token()
        customer = node.new_user("shopper-crud@example.com")["token"]
        product = {"name": "Test Lamp", "description": "Bright", "price": 12.5,
                   "category": "Lighting", "stockQuantity": 4}
        status, _, _ = node.request("POST", "/api/products", product, token=customer)
        self.assertEqual(status, 403)
        status, created, _ = node.request("POST", "/api/products", product, token=admin)
        self.assertEqual(status, 201)
        pid = created["id"]
        status, read, _ = node.request("GET", f"/api/products/{pid}")
        self.assertEqual((read["name"], read["price"], read["stockQuantity"]), ("Test Lamp", 12.5, 4))
        self.assertIn("Lighting", node.request("GET", "/api/products/categories")[1])
        status, upd, _ = node.request("PUT", f"/api/products/{pid}", {"price": 9.99}, token=admin)
        self.assertEqual((status, upd["price"], upd["name"]), (200, 9.99, "Test Lamp"))
        status, stock, _ = node.request("PUT", f"/api/products/{pid}/stock", {"quantity": 11}, token=admin)
        self.assertEqual((status, stock["available"]), (200, 11))
        self.assertEqual(node.request("GET", f"/api/products/{pid}")[1]["stockQuantity"], 11)
        status, red, _ = node.request("POST", f"/api/products/{pid}/reduce-stock", {"quantity": 3}, token=admin)
        self.assertEqual((status, red["onHand"]), (200, 8))
        status, _, _ = node.request("POST", f"/api/products/{pid}/reduce-stock", {"quantity": 30}, token=admin)
        self.assertEqual(status, 400)
        status, _, _ = node.request("PUT", f"/api/products/{pid}/stock", {"quantity": 1}, token=customer)
        self.assertEqual(status, 403)
        status, _, _ = node.request("DELETE", f"/api/products/{pid}", token=admin)
        self.assertEqual(status, 200)
        self.assertEqual(node.request("GET", f"/api/products/{pid}")[0], 404)
        self.assertEqual(node.request("DELETE", f"/api/products/{pid}", token=admin)[0], 404)


    def create_product(self, admin, name, category, stock):
        product = {"name": name, "description": "Dim", "price": 30, "category": category,
                   "stockQuantity": stock}
        status, created, _ = node.request("POST", "/api/products", product, token=admin)
        self.assertEqual(status, 201, created)
        return created

    def test_a_stock_reduction_retried_with_its_idempotency_key_applies_once(self):
        admin = node.admin_token()
        created = self.create_product(admin, "Retried Lamp", "Lighting", 20)
        path = f"/api/products/{created['id']}/reduce-stock"
        key = {"Idempotency-Key": "reduce-7f3a9c"}
        status, first, _ = node.request("POST", path, {"quantity": 3}, token=admin, headers=key)
        self.assertEqual((status, first["onHand"], first["message"]), (200, 17, "Stock reduced"))
        # The admin's client timed out and sends the same request again.
        status, again, _ = node.request("POST", path, {"quantity": 3}, token=admin, headers=key)
        self.assertEqual((status, again["onHand"]), (200, 17))
        # The same key with another quantity is another request: refused.
        status, other, _ = node.request("POST", path, {"quantity": 4}, token=admin, headers=key)
        self.assertEqual((status, other["code"]), (409, "conflict"), other)
        # Without a key, or with a new one, each reduction applies.
        self.assertEqual(node.request("POST", path, {"quantity": 3}, token=admin)[1]["onHand"], 14)
        self.assertEqual(node.request("POST", path, {"quantity": 3}, token=admin)[1]["onHand"], 11)
        status, fresh, _ = node.request("POST", path, {"quantity": 1}, token=admin,
                                        headers={"Idempotency-Key": "reduce-new"})
        self.assertEqual((status, fresh["onHand"]), (200, 10))
        status, long_key, _ = node.request("POST", path, {"quantity": 1}, token=admin,
                                           headers={"Idempotency-Key": "k" * 201})
        self.assertEqual(status, 400, long_key)
        self.assertEqual(node.request("GET", f"/api/products/{created['id']}")[1]["stockQuantity"],
                         10)

    def test_a_listing_asked_again_shows_every_change(self):
        # Listings are answered from a cache per I/O thread, keyed by the
        # query and the read model's version: asked again and again, a
        # listing must still show each change as soon as the product shows
        # it (a cache that missed a version would go on serving the old).
        admin = node.admin_token()
        pid = self.create_product(admin, "Cached Lamp", "CacheProbe", 4)["id"]
        queries = ["/api/products?category=CacheProbe", "/api/products?category=cacheprobe",
                   "/api/products?category=CACHEPROBE&page=1&pageSize=5"]

        def listed():
            seen = []
            for q in queries:
                for _ in range(3):  # the second and third come from the cache
                    status, body, headers = node.request("GET", q)
                    self.assertEqual(status, 200)
                    self.assertEqual(int(headers["x-total-count"]), len(body))
                    seen.append([(p["id"], p["price"], p["stockQuantity"]) for p in body])
            return seen

        def settles_on(expected):
            deadline = time.time() + 5
            while True:
                seen = listed()
                if all(s == expected for s in seen) or time.time() > deadline:
                    self.assertEqual(seen, [expected] * len(seen))
                    return
                time.sleep(0.05)

        settles_on([(pid, 30, 4)])
        self.assertEqual(node.request("PUT", f"/api/products/{pid}/stock", {"quantity": 11},
                                      token=admin)[0], 200)
        settles_on([(pid, 30, 11)])
        self.assertEqual(node.request("PUT", f"/api/products/{pid}", {"price": 9.5},
                                      token=admin)[0], 200)
        settles_on([(pid, 9.5, 11)])
        self.assertEqual(node.request("DELETE", f"/api/products/{pid}", token=admin)[0], 200)
        settles_on([])

class CartTests(unittest.TestCase):
    def setUp(self):
        self.user = node.new_user(f"cart-{self._testMethodName}@example.com")
        self.token = self.user["token"]
        self.uid = self.user["userId"]

    def add(self, product, quantity, user_id=None):
        body = {"productId": product, "quantity": quantity}
        if user_id is not None:
            body["userId"] = user_id
        return node.request("POST", "/api/cart/add", body, token=self.token)

    def test_seed_cart_flow(self):
        status, cart, _ = node.request("GET", f"/api/cart/{self.uid}", token=self.token)
        self.assertEqual((status, cart["items"], cart["totalPrice"]), (200, [], 0))
        p1 = node.request("GET", "/api/products/1")[1]
        p2 = node.request("GET", "/api/products/2")[1]
        self.assertEqual(self.add(1, 2, self.uid)[0], 200)
        status, body, _ = self.add(2, 1)
        self.assertEqual(status, 200)
        self.assertIn("message", body)
        status, cart, _ = node.request("GET", f"/api/Cart/{self.uid}", token=self.token)
        lines = {l["productId"]: l for l in cart["items"]}
        self.assertEqual(lines[1]["quantity"], 2)
        self.assertEqual(lines[1]["productName"], p1["name"])
        self.assertEqual(lines[1]["priceAtAddition"], p1["price"])
        self.assertAlmostEqual(cart["totalPrice"], round(2 * p1["price"] + p2["price"], 2))
        # Negative quantity lowers, and a line reaching 0 disappears.
        self.add(1, -1)
        self.add(2, -1)
        cart = node.request("GET", f"/api/cart/{self.uid}", token=self.token)[1]
        self.assertEqual([(l["productId"], l["quantity"]) for l in cart["items"]], [(1, 1)])
        status, body, _ = node.request("DELETE", f"/api/cart/{self.uid}", token=self.token)
        self.assertEqual(status, 200)
        self.assertEqual(node.request("GET", f"/api/cart/{self.uid}", token=self.token)[1]["items"], [])

    def test_price_at_addition_survives_a_price_change(self):
        admin = node.admin_token()
        status, created, _ = node.request("POST", "/api/products", {
            "name": "Price Test", "price": 10, "stockQuantity": 5}, token=admin)
        pid = created["id"]
        self.add(pid, 1)
        node.request("PUT", f"/api/products/{pid}", {"price": 20}, token=admin)
        line = node.request("GET", "/api/cart", token=self.token)[1]["items"][0]
        self.assertEqual(line["priceAtAddition"], 10)

    def test_rest_item_calls(self):
        status, cart, _ = node.request("PUT", "/api/cart/items/3", {"quantity": 4}, token=self.token)
        self.assertEqual((status, cart["items"][0]["quantity"]), (200, 4))
        status, cart, _ = node.request("PUT", "/api/cart/items/3", {"quantity": 1}, token=self.token)
        self.assertEqual(cart["items"][0]["quantity"], 1)
        status, cart, _ = node.request("DELETE", "/api/cart/items/3", token=self.token)
        self.assertEqual((status, cart["items"]), (200, []))
        status, body, _ = node.request("DELETE", "/api/cart/items/3", token=self.token)
        self.assertEqual(status, 404)

    def test_other_users_cart_is_403(self):
        other = node.new_user(f"other-{self._testMethodName}@example.com")
        self.add(1, 1)
        for method, path in (("GET", f"/api/cart/{other['userId']}"),
                             ("DELETE", f"/api/cart/{other['userId']}")):
            status, body, _ = node.request(method, path, token=self.token)
            self.assertEqual((status, body["code"]), (403, "forbidden"))
        status, _, _ = self.add(1, 1, other["userId"])
        self.assertEqual(status, 403)
        # Nothing leaked into the other cart.
        self.assertEqual(node.request("GET", "/api/cart", token=other["token"])[1]["items"], [])

    def test_missing_product_is_400_and_over_stock_is_409(self):
        status, body, _ = self.add(987654, 1)
        self.assertEqual((status, body["field"]), (400, "productId"))
        admin = node.admin_token()
        pid = node.request("POST", "/api/products", {"name": "Scarce", "price": 1, "stockQuantity": 3},
                           token=admin)[1]["id"]
        self.assertEqual(self.add(pid, 2)[0], 200)
        status, body, _ = self.add(pid, 2)
        self.assertEqual((status, body["available"], body["code"]), (409, 3, "insufficient_stock"))
        self.assertEqual(node.request("GET", "/api/cart", token=self.token)[1]["items"][0]["quantity"], 2)

    def test_cart_calls_need_a_token(self):
        for method, path in (("GET", "/api/cart"), ("POST", "/api/cart/add"), ("DELETE", "/api/cart/x")):
            self.assertEqual(node.request(method, path, {"productId": 1, "quantity": 1})[0], 401)


class EdgeTests(unittest.TestCase):
    def test_health_and_openapi(self):
        self.assertEqual(node.request("GET", "/health/live")[0], 200)
        status, body, _ = node.request("GET", "/health/ready")
        self.assertEqual((status, body["status"]), (200, "ready"))
        self.assertEqual(node.request("GET", "/health")[0], 200)
        status, text, headers = node.request("GET", "/api/openapi.yaml")
        self.assertEqual(status, 200)
        self.assertIn("openapi: 3", text)
        self.assertIn("yaml", headers["content-type"])

    def test_unknown_route_404_wrong_method_405(self):
        status, body, _ = node.request("GET", "/api/unknown")
        self.assertEqual((status, body["code"]), (404, "not_found"))
        status, body, headers = node.request("PATCH", "/api/products")
        self.assertEqual(status, 405)
        self.assertIn("GET", headers["allow"])

    def test_cors(self):
        status, _, headers = node.request("OPTIONS", "/api/products", headers={
            "Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"})
        self.assertEqual(status, 204)
        self.assertEqual(headers["access-control-allow-origin"], "http://localhost:3000")
        _, _, headers = node.request("GET", "/api/products/1", headers={"Origin": "http://evil.test"})
        self.assertNotIn("access-control-allow-origin", headers)

    def answer_headers(self, method, path, body=None, token=None, headers=None):
        status, _, lines = node.request(method, path, body, token=token, headers=headers,
                                        all_headers=True)
        return status, lines

    def check_security_headers(self, what, lines, page=False, cache="no-store"):
        def values(name):
            return [v for k, v in lines if k == name]
        self.assertEqual(values("x-content-type-options"), ["nosniff"], what)
        self.assertEqual(values("x-frame-options"), ["DENY"], what)
        self.assertEqual(values("referrer-policy"), ["no-referrer"], what)
        self.assertEqual(values("cache-control"), [cache], what)
        [policy] = values("content-security-policy")
        self.assertIn("frame-ancestors 'none'", policy, what)
        if page:
            self.assertIn("script-src 'self'", policy, what)
            self.assertIn("connect-src 'self'", policy, what)
            self.assertNotIn("unsafe", policy, what)
            self.assertTrue(policy.endswith("; report-uri /api/csp-reports"), (what, policy))
            self.assertNotIn("stripe", policy, what)  # only a shop with Stripe's card form
        else:
            self.assertTrue(policy.startswith("default-src 'none'"), (what, policy))

    def test_security_headers_on_every_answer(self):
        """Tokens, carts, errors and files are never stored by a cache unless
        the answer says so, never sniffed, never framed; the page may run
        only its own files."""
        node.register("headers@example.com")
        login = {"email": "headers@example.com", "password": "secret-pass"}
        status, lines = self.answer_headers("POST", "/api/auth/login", login)
        self.assertEqual(status, 200)
        self.check_security_headers("login, tokens in the body", lines)
        status, lines = self.answer_headers("POST", "/api/auth/login", login,
                                            headers={"X-Session-Cookie": "1"})
        self.assertEqual(status, 200)
        self.assertTrue(any(k == "set-cookie" for k, _ in lines))
        self.check_security_headers("login, refresh token in a cookie", lines)
        token = node.login("headers@example.com")["token"]
        for method, path, expected in (("GET", "/api/cart", 200), ("GET", "/api/products", 200),
                                       ("GET", "/api/unknown", 404),
                                       ("PATCH", "/api/products", 405)):
            status, lines = self.answer_headers(method, path, token=token)
            self.assertEqual(status, expected, path)
            self.check_security_headers(f"{method} {path}", lines)
        for path in ("/", "/orders/17"):
            status, lines = self.answer_headers("GET", path)
            self.assertEqual(status, 200)
            self.check_security_headers(path, lines, page=True, cache="no-cache")
        status, lines = self.answer_headers("GET", "/assets/app.js")
        self.assertEqual(status, 200)
        self.check_security_headers("an asset", lines, cache="public, max-age=3600")
        # A request that does not parse is answered by the session itself.
        with socket.create_connection((node.host, node.port), timeout=30) as s:
            s.sendall(b"NOT AN HTTP REQUEST\r\n\r\n")
            reply = b""
            while b"\r\n\r\n" not in reply:
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
        head = reply.split(b"\r\n\r\n")[0].decode().split("\r\n")
        self.assertTrue(head[0].startswith("HTTP/1.1 400"), head[0])
        lines = [(k.strip().lower(), v.strip()) for k, v in
                 (line.split(":", 1) for line in head[1:])]
        self.check_security_headers("a malformed request", lines)

    def test_payment_config_of_the_built_in_provider(self):
        status, body, _ = node.request("GET", "/api/payments/config")
        self.assertEqual(status, 200)
        self.assertEqual(body, {"provider": "test", "livemode": False, "publishableKey": None})

    def test_static_files_fallback_and_no_traversal(self):
        status, text, headers = node.request("GET", "/")
        self.assertEqual(status, 200)
        self.assertIn("<title>shop</title>", text)
        self.assertTrue(headers["content-type"].startswith("text/html"))
        status, text, headers = node.request("GET", "/assets/app.js")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/javascript"))
        status, text, _ = node.request("GET", "/orders/17")  # a client route
        self.assertIn("<title>shop</title>", text)
        self.assertEqual(node.request("GET", "/assets/missing.js")[0], 404)
        for path in ("/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/assets/..%2f..%2fetc/passwd"):
            status, body, _ = node.request("GET", path)
            self.assertNotIn("root:", str(body), path)


if __name__ == "__main__":
    unittest.main()
