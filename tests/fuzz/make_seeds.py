#!/usr/bin/env python3
"""Writes the seed corpora under tests/fuzz/corpus/: valid inputs for each
target (and the frames that used to kill a node), so the fuzzers start
from real traffic. Re-run after changing routes; the files are committed."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RS = "\x1e"
USER = "0123456789abcdef0123456789abcdef"


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def signalr():
    hs = json.dumps({"protocol": "json", "version": 1}) + RS
    join = json.dumps({"type": 1, "invocationId": "1", "target": "JoinGroup", "arguments": [USER]}) + RS
    msgs = {
        "session": [hs, join, '{"type":6}' + RS, json.dumps({"type": 1, "target": "LeaveGroup", "arguments": []}) + RS, '{"type":7}' + RS],
        "killer_protocol_number": ['{"protocol":1}' + RS],
        "killer_type_string": [hs, '{"type":"1"}' + RS],
        "killer_arguments_string": [hs, '{"type":1,"target":"JoinGroup","arguments":"x"}' + RS],
        "split_record": [hs[:7], hs[7:] + join],
        "many_records": [hs + '{"type":6}' + RS * 3 + join + join],
        "join_other_user": [hs, json.dumps({"type": 1, "invocationId": "9", "target": "JoinGroup", "arguments": ["someone-else"]}) + RS],
        "stream_invocation": [hs, json.dumps({"type": 4, "invocationId": "2", "target": "X", "arguments": []}) + RS],
        "messagepack": ['{"protocol":"messagepack","version":1}' + RS],
    }
    for name, parts in msgs.items():
        write("signalr", name, "\xff".join(parts).encode("latin-1", "replace") if False else b"\xff".join(p.encode() for p in parts))


def ws_messages():
    for name, text in {
        "resume": '{"resume":0}', "resume_typed": '{"type":"resume","seq":42}',
        "ping": '{"type":"ping"}', "unknown": '{"type":"subscribe"}', "array": "[1,2]",
        "negative": '{"resume":-1}', "float": '{"resume":1.5}',
    }.items():
        write("ws_messages", name, text)


def http_request():
    body = json.dumps({"productId": 1, "quantity": 2})
    reqs = {
        "get_products": "GET /api/products?pageSize=2&page=1&sortBy=price HTTP/1.1\r\nHost: x\r\n\r\n",
        "get_product": "GET /api/Products/1 HTTP/1.1\r\nHost: x\r\n\r\n",
        "categories": "GET /api/products/categories HTTP/1.1\r\nHost: x\r\n\r\n",
        "health": "GET /health/ready HTTP/1.1\r\nHost: x\r\n\r\n",
        "post_cart": f"POST /api/cart/add HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a.b.c\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}",
        "chunked_login": "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n2\r\n1}\r\n0\r\n\r\n",
        "query_escapes": "GET /api/products?search=k%C3%A9ttle+x&category=%4bitchen HTTP/1.1\r\nHost: x\r\n\r\n",
        "options": "OPTIONS /api/cart HTTP/1.1\r\nHost: x\r\nOrigin: http://a\r\n\r\n",
        "refresh_cookie": "POST /api/auth/refresh HTTP/1.1\r\nHost: x\r\nX-Session-Cookie: 1\r\nCookie: a=b; emporium_refresh=" + USER + ".c2VjcmV0; c=d\r\nContent-Length: 2\r\n\r\n{}",
        "idempotent_place": "POST /api/orders/place HTTP/1.1\r\nHost: x\r\nIdempotency-Key: k-1\r\nAuthorization: Bearer a.b.c\r\nContent-Length: 35\r\n\r\n{\"paymentMethodId\": \"pm_card_visa\"}",
        "proxied_cookie_login": "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.0.0.7\r\nX-Forwarded-Proto: https\r\nX-Session-Cookie: 1\r\nContent-Length: 44\r\n\r\n{\"email\": \"a@example.com\", \"password\": \"pw\"}",
        "ws_upgrade": "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    }
    for name, text in reqs.items():
        write("http_request", name, text)


def route_bodies():
    # Route order as add_all_routes registers them (POST/PUT only), one body each.
    bodies = [
        {"email": "new@example.com", "password": "Correct-Horse-9", "confirmPassword": "Correct-Horse-9", "firstName": "Ada", "lastName": "L"},
        {"email": "new@example.com", "password": "Correct-Horse-9"},
        {"accessToken": "a.b.c", "refreshToken": USER + ".secret"},
        {"refreshToken": USER + ".secret"},
        {"accessToken": "a.b.c"},
        {"name": "Teapot", "description": "Holds tea", "price": 19.99, "category": "Kitchen", "stockQuantity": 5},
        {"name": "Teapot", "description": "Holds tea", "price": 21.5, "category": "Kitchen"},
        {"stockQuantity": 12},
        {"quantity": 2},
        {"productId": 1, "quantity": 2},
        {"quantity": 3},
        {"paymentMethodId": "pm_card_visa"},
        {},
        {},
        {},
        {"id": "evt_1", "type": "payment_intent.succeeded",
         "data": {"object": {"id": "pi_1", "metadata": {"order_id": "1"}}}},
        {"csp-report": {"effective-directive": "script-src-elem", "blocked-uri": "https://x.test/a.js",
                        "document-uri": "http://127.0.0.1/cart", "line-number": 1}},
    ]
    for pick in range(3 * len(bodies)):
        write("route_bodies", f"route_{pick:02d}", bytes([pick]) + json.dumps(bodies[pick % len(bodies)]).encode())


def jwt():
    write("jwt", "three_parts", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln")
    write("jwt", "alg_none", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1In0.")
    write("jwt", "claims", USER + "\nuser@example.com")


def config():
    with open(os.path.join(HERE, "..", "..", "config", "emporium.example.conf"), "rb") as f:
        write("config", "example", f.read())
    write("config", "small", "port = 9000\nbind = 0.0.0.0 # comment\nseeds = a:1, b:2\n")


def snapshots():
    cart = {"v": 1, "l": [[1, 2, 2500, "Kettle"], [2, 1, 800, "Mug \u00e9"]]}
    stock = {"v": 1, "h": 40, "s": 3, "r": [[7, 2, 1700000000000]], "d": [[5, 1], [6, 2]],
             "a": [[901, -5], [902, 3]]}
    order = {"v": 1, "id": 13, "u": USER, "l": [[1, 2, 2500, "Kettle"]], "t": 5000, "pm": "pm_card_visa",
             "s": 4, "r": "", "p": "pi_1", "at": 1, "dl": 2, "c": 0, "tl": [[1, "", 1], [4, "", 2]]}
    write("snapshots", "cart", b"\x00" + json.dumps(cart).encode())
    write("snapshots", "stock", b"\x01" + json.dumps(stock).encode())
    write("snapshots", "order", b"\x02" + json.dumps(order).encode())
    waiting = dict(order, s=6, p="pi_1", pa="pi_1_secret_Ab9", tl=[[1, "", 1], [2, "", 2], [6, "", 3]])
    write("snapshots", "order_authenticating", b"\x02" + json.dumps(waiting).encode())
    event = {"type": "order.status", "orderId": 13, "status": "Confirmed", "reason": "", "at": 2,
             "totalAmount": 50.0}
    write("snapshots", "event", b"\x03" + json.dumps(event).encode())


def domain_rules():
    write("domain_rules", "mixed", bytes([20, 0, 5, 0, 3, 3, 4, 9, 3, 2, 5, 2, 9, 1, 6, 3, 7, 250, 11, 3, 11, 0]))
    write("domain_rules", "saga", bytes([5] + [11, 0, 11, 3, 11, 6, 11, 8, 11, 4]))
    write("domain_rules", "saga_authentication", bytes([5] + [11, 0, 11, 10, 11, 3, 11, 6]))


def manifest():
    sha = "ab" * 32
    files = [{"name": "emporium.db", "bytes": 4096, "sha256": sha, "schemaVersion": 5},
             {"name": "shard-0000.db", "bytes": 8192, "sha256": sha, "schemaVersion": 5},
             {"name": "shards", "bytes": 3, "sha256": sha, "schemaVersion": 0},
             {"name": "jwt.secret", "bytes": 64, "sha256": sha, "schemaVersion": 0}]
    doc = {"format": 1, "createdAt": "2026-11-30T20:00:00Z", "files": files}
    write("manifest", "backup", json.dumps(doc, indent=1))
    write("manifest", "path_in_name", json.dumps(dict(doc, files=[dict(files[0], name="../etc/passwd")])))
    write("manifest", "named_twice", json.dumps(dict(doc, files=[files[0], files[0]])))
    write("manifest", "no_global", json.dumps(dict(doc, files=files[1:])))
    # shard-03.moved, a relocation marker (persistence/shard_files.hpp)
    write("manifest", "marker_moved", "7 shard-03.r7.db\n")
    write("manifest", "marker_claim", "4 shard-03.db\n")
    write("manifest", "marker_newer_file", "7 shard-03.r8.db\n")


def traceparent():
    write("traceparent", "w3c_example", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    write("traceparent", "future_version", "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-x")
    write("traceparent", "zero_trace", "00-00000000000000000000000000000000-00f067aa0ba902b7-01")
    write("traceparent", "repeated", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01, "
          "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")


def csp_report():
    chrome = {"csp-report": {
        "document-uri": "http://127.0.0.1:8080/cart?x=1", "referrer": "",
        "violated-directive": "script-src-elem", "effective-directive": "script-src-elem",
        "original-policy": "default-src 'self'; report-uri /api/csp-reports", "disposition": "enforce",
        "blocked-uri": "https://cdn.example.test/skimmer.js", "line-number": 12, "column-number": 7,
        "source-file": "http://127.0.0.1:8080/assets/app.js", "status-code": 200, "script-sample": ""}}
    write("csp_report", "level2_chrome", json.dumps(chrome))
    write("csp_report", "level2_old_firefox", json.dumps({"csp-report": {
        "violated-directive": "script-src 'self'", "blocked-uri": "inline",
        "document-uri": "https://shop.example/#/x", "disposition": "report"}}))
    write("csp_report", "reporting_api", json.dumps([
        {"type": "csp-violation", "age": 3, "url": "https://shop.example/", "user_agent": "x",
         "body": {"documentURL": "https://shop.example/orders/7", "blockedURL": "eval",
                  "effectiveDirective": "script-src", "disposition": "enforce", "lineNumber": 3,
                  "sourceFile": "https://shop.example/assets/app.js", "sample": "x"}},
        {"type": "deprecation", "body": {"id": "x"}}]))


if __name__ == "__main__":
    for fn in (signalr, ws_messages, http_request, route_bodies, jwt, config, snapshots, domain_rules, manifest,
               traceparent, csp_report):
        fn()
    print("seeds written", file=sys.stderr)
