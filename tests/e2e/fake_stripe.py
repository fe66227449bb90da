"""A Stripe-shaped HTTPS server for the payment tests (standard library only).

It enforces what Stripe enforces on the calls Emporium makes: the Bearer
secret key, form-encoded bodies, integer amounts, idempotency keys (same key
and same parameters: the stored answer, marked Idempotent-Replayed; same key
and other parameters: 400 idempotency_error; same key while the first request
still runs: 409 idempotency_key_in_use). It knows Stripe's test payment
methods, and faults can be injected: latency, 5xx, 429, dropped connections.

Its ledger is what Stripe would hold: every PaymentIntent with its status,
amount captured and amount refunded. Faults are consumed one per API request
in arrival order; an injected fault happens before the API runs (as a load
balancer's would), so nothing is stored for it.

    fake = FakeStripe().start()           # https://127.0.0.1:<port>
    fake.ca_file, fake.url, fake.api_key
    fake.inject("503", "503")             # the next two API requests fail
    fake.ledger_by_order()                # {order_id: {"charged", "refunded"}}
"""
import hashlib
import hmac
import http.server
import json
import os
import ssl
import subprocess
import threading
import time
import urllib.parse
import secrets as _secrets
import shutil
import tempfile

API_KEY = "sk_test_emporium_fake_0123456789"

# Stripe's test payment methods and what confirming them does.
DECLINES = {
    "pm_card_chargeDeclined": ("card_declined", "generic_decline"),
    "pm_card_chargeDeclinedInsufficientFunds": ("card_declined", "insufficient_funds"),
    "pm_card_chargeDeclinedExpiredCard": ("expired_card", "expired_card"),
    "pm_card_chargeDeclinedIncorrectCvc": ("incorrect_cvc", "incorrect_cvc"),
}
SUCCEEDS = {"pm_card_visa", "pm_card_mastercard", "pm_card_amex"}
REQUIRES_ACTION = {"pm_card_authenticationRequired"}
CANCELABLE = {"requires_payment_method", "requires_capture", "requires_confirmation",
              "requires_action", "processing"}


def make_tls(directory, host="127.0.0.1"):
    """A CA and a server certificate for `host` (IP and DNS SANs), made with
    openssl. Returns (ca_file, cert_file, key_file)."""
    os.makedirs(directory, exist_ok=True)
    ca_key, ca_crt = os.path.join(directory, "ca.key"), os.path.join(directory, "ca.crt")
    key, csr, crt = (os.path.join(directory, n) for n in ("server.key", "server.csr", "server.crt"))
    run = lambda *a: subprocess.run(a, check=True, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", ca_key, "-out", ca_crt, "-days", "30",
        "-subj", "/CN=Fake Stripe test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", key, "-out", csr, "-subj", "/CN=" + host)
    ext = os.path.join(directory, "server.ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\n"
                f"subjectAltName=IP:{host},DNS:localhost\n")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key,
        "-set_serial", "0x" + _secrets.token_hex(16), "-days", "30", "-extfile", ext,
        "-out", crt)
    return ca_crt, crt, key


def stripe_error(status, type_, code=None, message="", **extra):
    err = {"type": type_, "message": message or type_}
    if code:
        err["code"] = code
    err.update(extra)
    return status, {"error": err}


class _Drop(Exception):
    """Close the connection without an answer."""


class FakeStripe:
    def __init__(self, api_key=API_KEY):
        self.api_key = api_key
        # Its certificates live in a directory of its own, removed by stop().
        self._directory = tempfile.mkdtemp(prefix="emporium-fake-stripe-")
        self.ca_file, self._crt, self._key = make_tls(os.path.join(self._directory, "fake-stripe-tls"))
        self.lock = threading.Lock()
        self.intents = {}      # id -> intent object
        self.refunds = []      # refund objects
        self.keys = {}         # idempotency key -> {"fp", "done", "status", "body"}
        self.faults = []       # "503", "500", "429", "drop", "delay:<ms>"
        self.latency_ms = 0    # every API request
        self.charge_delay_ms = {}  # payment_method -> extra ms before a confirm answers
        self.requests = []     # (method, path, idempotency key, status)
        self.server = None

    # -- control ------------------------------------------------------------
    def start(self):
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                fake._serve(self, "GET")

            def do_POST(self):
                fake._serve(self, "POST")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self._crt, self._key)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        shutil.rmtree(self._directory, ignore_errors=True)

    def inject(self, *faults):
        with self.lock:
            self.faults.extend(faults)

    def calls(self, method=None, path_prefix=""):
        with self.lock:
            return [r for r in self.requests
                    if (method is None or r[0] == method) and r[1].startswith(path_prefix)]

    def ledger_by_order(self):
        """Per order id: money captured and refunded over all its intents."""
        out = {}
        with self.lock:
            for pi in self.intents.values():
                order = int(pi["metadata"].get("order_id", "0"))
                row = out.setdefault(order, {"charged": 0, "refunded": 0, "intents": 0})
                row["intents"] += 1
                row["charged"] += pi["amount_received"]
                row["refunded"] += pi["_refunded"]
        return out

    # -- serving ------------------------------------------------------------
    def _serve(self, h, method):
        try:
            length = int(h.headers.get("Content-Length") or 0)
            body = h.rfile.read(length) if length else b""
            status, payload, extra_headers = self._api(h, method, body)
        except _Drop:
            h.close_connection = True
            try:
                h.connection.shutdown(2)
            except OSError:
                pass
            return
        data = json.dumps(payload).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.send_header("Request-Id", "req_" + _secrets.token_hex(8))
        for k, v in extra_headers:
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def authenticate(self, intent_id, passed=True):
        """The card holder's 3-D Secure, as Stripe.js's handleNextAction runs
        it in the buyer's browser: the intent waiting for it succeeds (and
        captures) or goes back to requires_payment_method with Stripe's
        payment_intent_authentication_failure. Returns the intent."""
        with self.lock:
            pi = self.intents.get(intent_id)
            if pi is None or pi["status"] != "requires_action":
                return None
            pi.pop("next_action", None)
            if passed:
                pi["status"] = "succeeded"
                pi["amount_received"] = pi["amount"]
                pi["latest_charge"] = "ch_" + _secrets.token_hex(12)
            else:
                pi["status"] = "requires_payment_method"
                pi["last_payment_error"] = {
                    "type": "invalid_request_error",
                    "code": "payment_intent_authentication_failure",
                    "message": "The provided PaymentMethod has failed authentication."}
            return self._public(pi)

    def _api(self, h, method, body):
        path = urllib.parse.urlsplit(h.path).path
        if method == "POST" and path == "/_test/authenticate":
            # Not Stripe's: the browser tests' stand-in for the 3-D Secure
            # page (hooks.stripe.com) reports the holder's answer here.
            q = dict(urllib.parse.parse_qsl(body.decode(errors="replace")))
            pi = self.authenticate(q.get("intent", ""), q.get("outcome") == "passed")
            return (200, pi, []) if pi else (*stripe_error(400, "invalid_request_error"), [])
        key = h.headers.get("Idempotency-Key")
        with self.lock:
            fault = self.faults.pop(0) if self.faults else None
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        if fault is not None:
            self._log(method, path, key, fault)
            if fault == "drop":
                raise _Drop()
            if fault.startswith("delay:"):
                time.sleep(int(fault[6:]) / 1000)
            else:
                code = int(fault)
                return (*stripe_error(code, "api_error" if code >= 500 else "rate_limit_error"),
                        [])
        auth = h.headers.get("Authorization", "")
        if auth != "Bearer " + self.api_key:
            self._log(method, path, key, 401)
            return (*stripe_error(401, "invalid_request_error",
                                  message="Invalid API Key provided"), [])
        if method == "POST":
            ctype = h.headers.get("Content-Type", "")
            if body and not ctype.startswith("application/x-www-form-urlencoded"):
                self._log(method, path, key, 400)
                return (*stripe_error(400, "invalid_request_error",
                                      message="bodies must be form-encoded"), [])
            try:
                params = urllib.parse.parse_qsl(body.decode(), keep_blank_values=True,
                                                strict_parsing=bool(body))
            except (ValueError, UnicodeDecodeError):
                self._log(method, path, key, 400)
                return (*stripe_error(400, "invalid_request_error",
                                      message="malformed form body"), [])
        else:
            params = []
        if method == "POST" and key:
            fp = hashlib.sha256((path + "?" + "&".join(
                f"{k}={v}" for k, v in sorted(params))).encode()).hexdigest()
            with self.lock:
                known = self.keys.get(key)
                if known is None:
                    self.keys[key] = {"fp": fp, "done": False}
                elif known["fp"] != fp:
                    self._log_locked(method, path, key, 400)
                    return (*stripe_error(
                        400, "idempotency_error",
                        message="Keys for idempotent requests can only be used with the same "
                                "parameters they were first used with."), [])
                elif not known["done"]:
                    self._log_locked(method, path, key, 409)
                    return (*stripe_error(409, "idempotency_error", "idempotency_key_in_use"), [])
                else:
                    self._log_locked(method, path, key, known["status"])
                    return known["status"], known["body"], [("Idempotent-Replayed", "true")]
            try:
                status, payload = self._route(method, path, dict(params), params)
            except Exception:
                with self.lock:
                    del self.keys[key]
                raise
            with self.lock:
                self.keys[key].update(done=True, status=status, body=payload)
                self._log_locked(method, path, key, status)
            return status, payload, []
        status, payload = self._route(method, path, dict(params), params)
        self._log(method, path, key, status)
        return status, payload, []

    def _log(self, method, path, key, status):
        with self.lock:
            self._log_locked(method, path, key, status)

    def _log_locked(self, method, path, key, status):
        self.requests.append((method, path, key, status))

    def _route(self, method, path, p, pairs):
        parts = path.strip("/").split("/")
        if method == "POST" and parts == ["v1", "payment_intents"]:
            return self._create_intent(p, pairs)
        if len(parts) == 3 and parts[:2] == ["v1", "payment_intents"] and method == "GET":
            with self.lock:
                pi = self.intents.get(parts[2])
                if pi is None:
                    return stripe_error(404, "invalid_request_error", "resource_missing")
                return 200, self._public(pi)
        if len(parts) == 4 and parts[:2] == ["v1", "payment_intents"] and parts[3] == "cancel" \
                and method == "POST":
            return self._cancel(parts[2])
        if method == "POST" and parts == ["v1", "refunds"]:
            return self._refund(p)
        return stripe_error(404, "invalid_request_error", "resource_missing",
                            message="Unrecognized request URL")

    @staticmethod
    def _public(pi):
        return {k: v for k, v in pi.items() if not k.startswith("_")}

    def _create_intent(self, p, pairs):
        amount = p.get("amount", "")
        if not amount.isdigit() or int(amount) < 1:
            return stripe_error(400, "invalid_request_error", "parameter_invalid_integer",
                                param="amount", message="Invalid integer: " + amount)
        currency = p.get("currency", "")
        if len(currency) != 3 or not currency.isalpha() or not currency.islower():
            return stripe_error(400, "invalid_request_error", "parameter_invalid",
                                param="currency")
        pm = p.get("payment_method", "")
        if not pm.startswith("pm_"):
            return stripe_error(400, "invalid_request_error", "resource_missing",
                                param="payment_method",
                                message=f"No such PaymentMethod: '{pm}'")
        metadata = {k[9:-1]: v for k, v in pairs if k.startswith("metadata[") and k.endswith("]")}
        confirm = p.get("confirm") == "true"
        delay = self.charge_delay_ms.get(pm, 0) if confirm else 0
        if delay:
            time.sleep(delay / 1000)
        pi = {"id": "pi_" + _secrets.token_hex(12), "object": "payment_intent",
              "amount": int(amount), "amount_received": 0, "currency": currency,
              "payment_method": pm, "metadata": metadata, "status": "requires_confirmation",
              "last_payment_error": None, "latest_charge": None, "_refunded": 0}
        pi["client_secret"] = pi["id"] + "_secret_" + _secrets.token_hex(12)
        status, answer = 200, None
        if confirm:
            if pm in SUCCEEDS:
                pi["status"] = "succeeded"
                pi["amount_received"] = int(amount)
                pi["latest_charge"] = "ch_" + _secrets.token_hex(12)
            elif pm in REQUIRES_ACTION:
                pi["status"] = "requires_action"
                pi["next_action"] = {"type": "use_stripe_sdk"}
            elif pm in DECLINES or pm.startswith("pm_card_"):
                code, decline = DECLINES.get(pm, ("card_declined", "generic_decline"))
                pi["status"] = "requires_payment_method"
                pi["last_payment_error"] = {"type": "card_error", "code": code,
                                            "decline_code": decline}
                status = 402
            else:
                return stripe_error(400, "invalid_request_error", "resource_missing",
                                    param="payment_method",
                                    message=f"No such PaymentMethod: '{pm}'")
        with self.lock:
            self.intents[pi["id"]] = pi
            public = self._public(pi)
        if status == 402:
            err = pi["last_payment_error"]
            return stripe_error(402, "card_error", err["code"], decline_code=err["decline_code"],
                                message="Your card was declined.", payment_intent=public)
        return status, public

    def _cancel(self, intent_id):
        with self.lock:
            pi = self.intents.get(intent_id)
            if pi is None:
                return stripe_error(404, "invalid_request_error", "resource_missing")
            if pi["status"] not in CANCELABLE:
                return stripe_error(
                    400, "invalid_request_error", "payment_intent_unexpected_state",
                    message=f"You cannot cancel this PaymentIntent because it has a status of "
                            f"{pi['status']}.")
            pi["status"] = "canceled"
            return 200, self._public(pi)

    def _refund(self, p):
        with self.lock:
            pi = self.intents.get(p.get("payment_intent", ""))
            if pi is None:
                return stripe_error(400, "invalid_request_error", "resource_missing",
                                    param="payment_intent")
            if pi["status"] != "succeeded":
                return stripe_error(400, "invalid_request_error",
                                    "payment_intent_unexpected_state")
            if pi["_refunded"] >= pi["amount_received"]:
                return stripe_error(400, "invalid_request_error", "charge_already_refunded")
            amount = pi["amount_received"] - pi["_refunded"]
            pi["_refunded"] += amount
            refund = {"id": "re_" + _secrets.token_hex(12), "object": "refund",
                      "amount": amount, "payment_intent": pi["id"], "status": "succeeded"}
            self.refunds.append(refund)
            return 200, refund


# -- webhook events (what Stripe would POST to the shop) -----------------------
def event(kind, obj, event_id=None):
    return {"id": event_id or "evt_" + _secrets.token_hex(12), "object": "event",
            "type": kind, "created": int(time.time()), "data": {"object": obj}}


def sign(payload, secret, t=None):
    t = int(time.time()) if t is None else t
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


if __name__ == "__main__":
    # For tests in other languages (the storefront's browser tests): prints
    # where it listens as one JSON line, serves until its stdin closes, then
    # removes its certificates.
    import sys
    fake = FakeStripe().start()
    print(json.dumps({"url": fake.url, "ca_file": fake.ca_file, "api_key": fake.api_key}),
          flush=True)
    sys.stdin.read()
    fake.stop()
