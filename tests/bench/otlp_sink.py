#!/usr/bin/env python3
"""A collector for benchmarks: accepts OTLP/HTTP JSON on POST /v1/traces,
counts the spans and writes the running total to a file. It counts span
ids in the bytes instead of parsing the JSON: the sink shares the machine
with the node, and a parser in Python would take CPU the node's figures
would be charged for. (The e2e tests parse and check every span.)
    otlp_sink.py <port> <count-file>"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, count_file = int(sys.argv[1]), sys.argv[2]
total = 0


class Sink(BaseHTTPRequestHandler):
    def do_POST(self):
        global total
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        total += body.count(b'"spanId"')
        with open(count_file, "w") as f:
            f.write(str(total))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", port), Sink).serve_forever()
