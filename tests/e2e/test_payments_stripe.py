"""Payments through the Stripe provider, against a Stripe-shaped fake over
HTTPS (fake_stripe.py, its own CA): the seven-step flow, every decline kind,
5xx/429/dropped connections, a charge answering after the order gave up,
a wrong CA, webhooks, and SIGKILL during a hundred charges."""
import json
import os
import shutil
import tempfile
import threading
import time
import unittest

from fake_stripe import FakeStripe, event, make_tls, sign
from harness import Node, SilentDns, needs_silent_dns, wait_for
from wsclient import WebSocket

WEBHOOK_SECRET = "whsec_e2e_0123456789abcdef"
fake = None
node = None


def stripe_args(f, **overrides):
    args = {"--payment-provider": "stripe", "--stripe-api-base": f.url,
            "--stripe-ca-file": f.ca_file, "--stripe-webhook-secret": WEBHOOK_SECRET,
            "--payment-call-timeout-ms": "1500", "--payment-timeout-ms": "5000",
            "--payment-breaker-threshold": "100"}
    args.update(overrides)
    return [x for kv in args.items() for x in kv]


def stripe_env(f):
    return {"EMPORIUM_STRIPE_SECRET_KEY": f.api_key}


def setUpModule():
    global fake, node
    fake = FakeStripe().start()
    node = Node(extra_args=stripe_args(fake), env=stripe_env(fake)).start()


def tearDownModule():
    node.close()
    fake.stop()


def cents(amount):
    return round(amount * 100)


def shopper(n, name):
    login = n.new_user(f"{name}-{time.time_ns()}@example.com")
    return login["token"]


def place(n, token, method, product=1, quantity=1):
    status, body, _ = n.request("POST", "/api/cart/add",
                                {"productId": product, "quantity": quantity}, token=token)
    assert status == 200, (status, body)
    status, placed, _ = n.request("POST", "/api/orders/place", {"paymentMethodId": method},
                                  token=token)
    assert status == 200, (status, placed)
    return placed["orderId"]


def order_of(n, token, oid):
    return n.request("GET", f"/api/orders/{oid}", token=token)[1]


def terminal(n, token, oid, timeout=30):
    wait_for(lambda: order_of(n, token, oid)["state"] in ("Confirmed", "Cancelled"),
             timeout=timeout, what=f"order {oid} terminal")
    return order_of(n, token, oid)


def stock(n, product):
    return n.request("GET", f"/api/products/{product}")[1]["stockQuantity"]


def webhook(payload, header=None):
    data = json.dumps(payload).encode()
    return node.request("POST", "/api/payments/webhook", raw=data,
                        headers={"Content-Type": "application/json",
                                 "Stripe-Signature": sign(data, WEBHOOK_SECRET)
                                 if header is None else header})


def own_fake():
    """A fake of its own: order ids of two nodes' data directories overlap,
    and the fake's ledger counts by order id."""
    return FakeStripe().start()


class StripeFlowTests(unittest.TestCase):
    def test_seven_steps_charge_through_stripe(self):
        token = shopper(node, "stripe-seven")                          # 1-2 register, login
        ws = WebSocket(node.port, f"/ws?access_token={token}")          # 3 connect
        self.assertEqual(ws.recv_json()["type"], "hello")
        products = node.request("GET", "/api/products")[1]             # 4 browse
        pid = next(p["id"] for p in products if p["stockQuantity"] >= 2)
        oid = place(node, token, "pm_card_visa", pid, 2)               # 5-6 add, place
        seen = []
        while not seen or seen[-1] not in ("Confirmed", "Cancelled"):  # 7 confirmation
            e = ws.recv_json()
            if e.get("type") == "order.status" and e["orderId"] == oid:
                seen.append(e["status"])
        ws.close()
        self.assertEqual(seen, ["Submitted", "StockReserved", "PaymentAuthorized", "Confirmed"])
        order = order_of(node, token, oid)
        row = fake.ledger_by_order()[oid]
        self.assertEqual(row, {"charged": cents(order["totalAmount"]), "refunded": 0,
                               "intents": 1})
        # What Stripe received: a Bearer key, a pinned version, a stable key.
        posts = [c for c in fake.calls("POST", "/v1/payment_intents") if c[2] and
                 c[2].endswith(f"order-{oid}-charge")]
        self.assertEqual(len(posts), 1)
        self.assertRegex(posts[0][2], r"^emporium-[0-9a-f]{16}-order-\d+-charge$")

    def test_each_decline_cancels_with_its_reason_and_returns_the_stock(self):
        kinds = {"pm_card_chargeDeclined": "card_declined",
                 "pm_card_chargeDeclinedInsufficientFunds": "insufficient_funds",
                 "pm_card_chargeDeclinedExpiredCard": "expired_card",
                 "pm_card_chargeDeclinedIncorrectCvc": "incorrect_cvc",
                 "pm_card_authenticationRequired": "authentication_required",
                 "tok_not_a_payment_method": "invalid_payment_method"}
        before = stock(node, 5)
        for method, reason in kinds.items():
            with self.subTest(method=method):
                token = shopper(node, "decline")
                oid = place(node, token, method, product=5)
                order = terminal(node, token, oid)
                self.assertEqual((order["state"], order["reason"]), ("Cancelled", reason))
                self.assertEqual(fake.ledger_by_order().get(oid, {"charged": 0})["charged"], 0)
        wait_for(lambda: stock(node, 5) == before, what="stock back")
        # The intent that required authentication was canceled, not left open.
        with fake.lock:
            action = [pi for pi in fake.intents.values()
                      if pi["payment_method"] == "pm_card_authenticationRequired"]
        self.assertTrue(action)
        self.assertTrue(all(pi["status"] == "canceled" for pi in action))

    def test_failures_on_the_way_are_retried_under_one_key_and_charge_once(self):
        for faults in (("503", "500"), ("429", "drop")):
            with self.subTest(faults=faults):
                token = shopper(node, "retry")
                fake.inject(*faults)
                oid = place(node, token, "pm_card_visa", product=6)
                order = terminal(node, token, oid)
                self.assertEqual(order["state"], "Confirmed")
                row = fake.ledger_by_order()[oid]
                self.assertEqual((row["intents"], row["charged"]),
                                 (1, cents(order["totalAmount"])))
                keys = {c[2] for c in fake.calls("POST", "/v1/payment_intents")
                        if c[2] and c[2].endswith(f"-order-{oid}-charge")}
                self.assertEqual(len(keys), 1)

    def test_a_charge_answering_after_the_order_gave_up_is_refunded(self):
        # Amex answers after 7 s: every attempt (1.5 s each) times out or
        # finds the key in use, the order's 5 s payment deadline passes.
        fake.charge_delay_ms["pm_card_amex"] = 7000
        try:
            token = shopper(node, "late")
            oid = place(node, token, "pm_card_amex", product=7)
            order = terminal(node, token, oid)
            self.assertEqual((order["state"], order["reason"]), ("Cancelled", "payment_timeout"))
            wait_for(lambda: fake.ledger_by_order().get(oid, {}).get("refunded", 0) > 0,
                     timeout=60, what="the late charge refunded")
            row = fake.ledger_by_order()[oid]
            self.assertEqual(row["charged"], cents(order["totalAmount"]))
            self.assertEqual(row["refunded"], row["charged"])
        finally:
            fake.charge_delay_ms.clear()

    def test_webhooks_need_a_valid_signature_and_act_once(self):
        token = shopper(node, "hook")
        oid = place(node, token, "pm_card_visa", product=8)
        order = terminal(node, token, oid)
        self.assertEqual(order["state"], "Confirmed")
        refunded = event("charge.refunded", {"id": "ch_x", "object": "charge",
                                             "payment_intent": "pi_x", "amount_refunded": 100,
                                             "metadata": {"order_id": str(oid)}})
        data = json.dumps(refunded).encode()
        # Bad signatures: 400 and nothing changes.
        for header in (sign(data, "whsec_wrong"), sign(data, WEBHOOK_SECRET, int(time.time()) - 600),
                       "t=1,v1=zz", ""):
            status, body, _ = webhook(refunded, header)
            self.assertEqual(status, 400, header)
            self.assertEqual(body["code"], "invalid_argument")
        self.assertNotIn("refundedAmount", order_of(node, token, oid))
        status, body, _ = webhook(refunded)
        self.assertEqual((status, body["outcome"]), (200, "refund_recorded"))
        self.assertEqual(order_of(node, token, oid)["refundedAmount"], 1.0)
        status, body, _ = webhook(refunded)                    # delivered again
        self.assertEqual((status, body["outcome"]), (200, "duplicate"))
        # Events Emporium does not act on, and orders it does not know: 200.
        self.assertEqual(webhook(event("customer.created", {"id": "cus_1"}))[1]["outcome"],
                         "ignored")
        unknown = event("payment_intent.succeeded", {"id": "pi_y", "status": "succeeded",
                                                     "metadata": {"order_id": "987654321"}})
        self.assertEqual(webhook(unknown)[:2], (200, {"received": True, "outcome": "ignored"}))
        # Signed but not an event: 400.
        junk = b"[1,2,3]"
        status, _, _ = node.request("POST", "/api/payments/webhook", raw=junk,
                                    headers={"Stripe-Signature": sign(junk, WEBHOOK_SECRET)})
        self.assertEqual(status, 400)

    def test_a_succeeded_webhook_for_a_cancelled_order_refunds_it(self):
        token = shopper(node, "hook-late")
        oid = place(node, token, "pm_card_chargeDeclined", product=9)
        self.assertEqual(terminal(node, token, oid)["state"], "Cancelled")
        succeeded = event("payment_intent.succeeded",
                          {"id": "pi_z", "object": "payment_intent", "status": "succeeded",
                           "metadata": {"order_id": str(oid)}})
        status, body, _ = webhook(succeeded)
        self.assertEqual((status, body["outcome"]), (200, "refunding"))
        self.assertEqual(webhook(succeeded)[1]["outcome"], "duplicate")
        # The compensation asked Stripe again (the probe under the charge's key).
        wait_for(lambda: len([c for c in fake.calls("POST", "/v1/payment_intents")
                              if c[2] and c[2].endswith(f"-order-{oid}-charge")]) >= 2,
                 what="reconciliation call")
        self.assertEqual(fake.ledger_by_order()[oid]["charged"], 0)


class StripeTrustTests(unittest.TestCase):
    def test_a_wrong_ca_fails_payments_clearly_and_the_node_stays_up(self):
        other_ca_dir = tempfile.mkdtemp(prefix="emporium-other-ca-")
        self.addCleanup(shutil.rmtree, other_ca_dir, True)
        other_ca = make_tls(other_ca_dir)[0]
        f = own_fake()
        n = Node(extra_args=stripe_args(f, **{"--stripe-ca-file": other_ca,
                                              "--payment-timeout-ms": "2000"}),
                 env=stripe_env(f)).start()
        try:
            token = shopper(n, "wrong-ca")
            oid = place(n, token, "pm_card_visa", product=10)
            order = terminal(n, token, oid)
            self.assertEqual((order["state"], order["reason"]), ("Cancelled", "payment_timeout"))
            self.assertIn("certificate verify failed", n.log(tail=None))
            self.assertEqual(n.request("GET", "/health/live")[0], 200)
            self.assertNotIn(f.api_key, n.log(tail=None))
            self.assertEqual(f.calls(), [])  # no request got past the handshake
        finally:
            n.close()
            f.stop()

    def test_stripe_without_a_key_or_with_http_is_refused_at_start(self):
        for args, env in ((stripe_args(fake), {}),
                          (stripe_args(fake, **{"--stripe-api-base": "http://127.0.0.1:1"}),
                           stripe_env(fake))):
            n = Node(extra_args=args, env=env)
            try:
                n.start(wait=False)
                self.assertEqual(n.proc.wait(timeout=30), 2)
            finally:
                n.close()


class StripeNameTests(unittest.TestCase):
    """The API host named by a host name: looked up within the exchange's
    deadline (support/name_lookup.hpp), not by asio's resolver, which ran
    getaddrinfo unbounded and one lookup at a time."""

    def test_a_charge_through_an_api_host_named_by_name(self):
        f = own_fake()
        n = Node(extra_args=stripe_args(f, **{"--stripe-api-base":
                                              f"https://localhost:{f.port}"}),
                 env=stripe_env(f)).start()
        try:
            token = shopper(n, "by-name")
            oid = place(n, token, "pm_card_visa", product=11)
            self.assertEqual(terminal(n, token, oid)["state"], "Confirmed")
            self.assertEqual(f.ledger_by_order()[oid]["intents"], 1)
        finally:
            n.close()
            f.stop()

    @needs_silent_dns
    def test_a_nameserver_that_does_not_answer_fails_payments_clearly(self):
        f = own_fake()
        dns = SilentDns()
        n = Node(extra_args=stripe_args(f, **{"--stripe-api-base":
                                              f"https://api.stripe.test:{f.port}",
                                              "--payment-timeout-ms": "2500"}),
                 env=stripe_env(f))
        n.wrapper = dns.wrapper
        try:
            n.start()
            token = shopper(n, "silent-dns")
            oid = place(n, token, "pm_card_visa", product=12)
            order = terminal(n, token, oid)
            self.assertEqual((order["state"], order["reason"]), ("Cancelled", "payment_timeout"))
            self.assertIn("resolve: no answer within 1500 ms", n.log(tail=None))
            self.assertEqual(f.calls(), [])
            # A stop while the lookup still waits is not held by it (asio's
            # resolver thread held it until getaddrinfo gave up: 7 s here).
            started = time.monotonic()
            self.assertEqual(n.terminate(timeout=60), 0)
            self.assertLess(time.monotonic() - started, 5)
            self.assertNotIn('"exit_forced"', n.log(tail=None))
        finally:
            n.close()
            dns.close()
            f.stop()


class StripeCardFormTests(unittest.TestCase):
    """What the storefront needs to take a card with Stripe Elements: the
    publishable key from /api/payments/config, and a page whose policy lets
    Stripe.js, its frames and its API calls in (and nothing else changes)."""

    def test_without_a_publishable_key_the_storefront_offers_test_cards(self):
        status, body, _ = node.request("GET", "/api/payments/config")
        self.assertEqual(status, 200)
        self.assertEqual(body, {"provider": "stripe", "livemode": False, "publishableKey": None})

    def test_with_a_publishable_key_the_page_opens_to_stripe_only(self):
        static_dir = tempfile.mkdtemp(prefix="emporium-static-")
        self.addCleanup(shutil.rmtree, static_dir, True)
        os.makedirs(os.path.join(static_dir, "assets"))
        with open(os.path.join(static_dir, "index.html"), "w") as f:
            f.write("<!doctype html><title>shop</title>")
        with open(os.path.join(static_dir, "assets", "app.js"), "w") as f:
            f.write("console.log(1)")
        key = "pk_test_51EmporiumE2e0123456789"
        n = Node(extra_args=stripe_args(fake) + ["--stripe-publishable-key", key,
                                                 "--static-dir", static_dir],
                 env=stripe_env(fake)).start()
        self.addCleanup(n.close)
        status, body, _ = n.request("GET", "/api/payments/config")
        self.assertEqual((status, body),
                         (200, {"provider": "stripe", "livemode": False, "publishableKey": key}))

        def policies(path):
            status, _, lines = n.request("GET", path, all_headers=True)
            self.assertEqual(status, 200, path)
            return [v for k, v in lines if k == "content-security-policy"]

        for path in ("/", "/cart"):
            [policy] = policies(path)
            directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ")}
            self.assertEqual(directives["script-src"],
                             ["'self'", "https://js.stripe.com", "https://*.js.stripe.com"])
            self.assertEqual(directives["connect-src"], ["'self'", "https://api.stripe.com"])
            self.assertEqual(directives["frame-src"],
                             ["https://js.stripe.com", "https://*.js.stripe.com",
                              "https://hooks.stripe.com"])
            self.assertEqual(directives["frame-ancestors"], ["'none'"])
            self.assertEqual(directives["report-uri"], ["/api/csp-reports"])
            self.assertNotIn("unsafe", policy)
        # Files and JSON still load nothing as documents.
        for path in ("/assets/app.js", "/api/payments/config", "/api/products"):
            self.assertEqual(policies(path), ["default-src 'none'; frame-ancestors 'none'"], path)

    def test_a_publishable_key_of_the_other_mode_is_refused_at_start(self):
        n = Node(extra_args=stripe_args(fake) + ["--stripe-publishable-key", "pk_live_51Abc"],
                 env=stripe_env(fake))  # the fake's key is sk_test_
        try:
            n.start(wait=False)
            self.assertEqual(n.proc.wait(timeout=30), 2)
            self.assertIn("a card made in one mode cannot be charged in the other",
                          n.log(tail=None))
        finally:
            n.close()


class StripeAuthenticationTests(unittest.TestCase):
    """3-D Secure with the storefront's card form (a publishable key): the
    order waits in AuthenticationRequired with the intent's client secret
    for its owner, the buyer's browser authenticates (here: the fake, as
    Stripe.js would), and the check moves the order on."""

    @classmethod
    def setUpClass(cls):
        cls.fake = own_fake()
        cls.node = Node(extra_args=stripe_args(cls.fake) + [
            "--stripe-publishable-key", "pk_test_51EmporiumE2e3ds",
            "--payment-authentication-timeout-ms", "4000"], env=stripe_env(cls.fake)).start()

    @classmethod
    def tearDownClass(cls):
        cls.node.close()
        cls.fake.stop()

    def waiting_order(self, name):
        n = self.node
        token = shopper(n, name)
        oid = place(n, token, "pm_card_authenticationRequired", product=6)
        wait_for(lambda: order_of(n, token, oid)["state"] == "AuthenticationRequired",
                 what=f"order {oid} waiting for authentication")
        order = order_of(n, token, oid)
        secret = order["paymentAction"]["clientSecret"]
        self.assertEqual(order["paymentAction"]["type"], "authenticate")
        self.assertEqual(order["status"], "Pending")  # the seed's name
        with self.fake.lock:
            [pi] = [p for p in self.fake.intents.values()
                     if p["metadata"].get("order_id") == str(oid)]
        self.assertEqual(secret, pi["client_secret"])
        self.assertEqual(pi["status"], "requires_action")
        return token, oid, pi["id"]

    def check(self, token, oid):
        status, body, _ = self.node.request("POST", f"/api/orders/{oid}/payment/check", {},
                                            token=token)
        self.assertEqual(status, 200, body)
        return body

    def test_a_card_that_asks_for_3ds_is_confirmed_once_its_holder_passes(self):
        n = self.node
        before = stock(n, 6)
        token, oid, intent = self.waiting_order("3ds-pass")
        self.assertEqual(stock(n, 6), before - 1)  # held meanwhile
        # Asked before the holder acted: nothing changes, the secret stays.
        self.assertEqual(self.check(token, oid)["state"], "AuthenticationRequired")
        # Another user may neither check it nor see the secret.
        other = shopper(n, "3ds-other")
        self.assertEqual(n.request("POST", f"/api/orders/{oid}/payment/check", {},
                                   token=other)[0], 403)
        self.assertEqual(n.request("GET", f"/api/orders/{oid}", token=other)[0], 403)
        self.fake.authenticate(intent, passed=True)
        checked = self.check(token, oid)
        self.assertIn(checked["state"], ("PaymentAuthorized", "Confirmed"))
        self.assertNotIn("paymentAction", checked)
        order = terminal(n, token, oid)
        self.assertEqual(order["state"], "Confirmed")
        self.assertEqual([t["status"] for t in order["timeline"]],
                         ["Submitted", "StockReserved", "AuthenticationRequired",
                          "PaymentAuthorized", "Confirmed"])
        self.assertEqual(self.fake.ledger_by_order()[oid]["charged"],
                         cents(order["totalAmount"]))
        self.assertEqual(stock(n, 6), before - 1)

    def test_a_failed_3ds_cancels_voids_the_intent_and_returns_the_stock(self):
        n = self.node
        before = stock(n, 6)
        token, oid, intent = self.waiting_order("3ds-fail")
        self.fake.authenticate(intent, passed=False)
        order = self.check(token, oid)
        self.assertEqual((order["state"], order["reason"]), ("Cancelled", "authentication_failed"))
        wait_for(lambda: stock(n, 6) == before, what="stock back")
        wait_for(lambda: self.fake.intents[intent]["status"] == "canceled", what="intent canceled")
        self.assertEqual(self.fake.ledger_by_order().get(oid, {"charged": 0})["charged"], 0)

    def test_a_holder_who_never_authenticates_is_cancelled_at_the_deadline(self):
        n = self.node
        before = stock(n, 6)
        token, oid, intent = self.waiting_order("3ds-gone")
        order = terminal(n, token, oid, timeout=30)
        self.assertEqual((order["state"], order["reason"]), ("Cancelled", "payment_timeout"))
        self.assertNotIn("paymentAction", order)
        wait_for(lambda: stock(n, 6) == before, what="stock back")
        wait_for(lambda: self.fake.intents[intent]["status"] == "canceled", what="intent canceled")

    def test_the_webhook_of_a_passed_3ds_confirms_without_the_browser(self):
        n = self.node
        token, oid, intent = self.waiting_order("3ds-webhook")
        pi = self.fake.authenticate(intent, passed=True)
        data = json.dumps(event("payment_intent.succeeded", pi)).encode()
        status, body, _ = n.request("POST", "/api/payments/webhook", raw=data,
                                    headers={"Stripe-Signature": sign(data, WEBHOOK_SECRET),
                                             "Content-Type": "application/json"})
        self.assertEqual((status, body.get("outcome")), (200, "authorized"), body)
        self.assertEqual(terminal(n, token, oid)["state"], "Confirmed")


class StripeCrashTests(unittest.TestCase):
    def test_sigkill_during_a_hundred_charges(self):
        fake = own_fake()
        fake.latency_ms = 150
        n = Node(extra_args=stripe_args(fake, **{"--payment-timeout-ms": "30000"}),
                 env=stripe_env(fake)).start()
        placed = []  # (token, order id)
        lock = threading.Lock()
        try:
            tokens = [shopper(n, f"kill{i}") for i in range(25)]

            def buy(token):
                for _ in range(4):
                    try:
                        oid = place(n, token, "pm_card_visa", product=11 + len(placed) % 5)
                    except (AssertionError, OSError):
                        return  # the node died under us
                    with lock:
                        placed.append((token, oid))

            threads = [threading.Thread(daemon=True, target=buy, args=(t,)) for t in tokens]
            for t in threads:
                t.start()
            wait_for(lambda: len(placed) >= 60, timeout=60, what="orders placed")
            n.kill()
            for t in threads:
                t.join()
            fake.latency_ms = 0
            n.start()
            for token, oid in placed:
                terminal(n, token, oid, timeout=90)
            ledger = fake.ledger_by_order()
            confirmed = 0
            for token, oid in placed:
                order = order_of(n, token, oid)
                row = ledger.get(oid, {"charged": 0, "refunded": 0})
                net = row["charged"] - row["refunded"]
                if order["state"] == "Confirmed":
                    confirmed += 1
                    self.assertEqual(net, cents(order["totalAmount"]), (oid, row))
                else:
                    self.assertEqual(net, 0, (oid, order["reason"], row))
            print(f"\n  SIGKILL after {len(placed)} orders placed: {confirmed} confirmed, "
                  f"{len(placed) - confirmed} cancelled, {sum(r['intents'] for r in ledger.values())} "
                  f"intents at the fake", flush=True)
            self.assertGreater(confirmed, 0)
        finally:
            n.close()
            fake.stop()


if __name__ == "__main__":
    unittest.main()
