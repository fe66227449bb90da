"""A minimal WebSocket client (RFC 6455) over the standard library, enough
to drive Emporium's /ws and /notificationHub in end-to-end tests."""
import base64
import json
import os
import select
import socket
import struct


class WebSocket:
    def __init__(self, port, path, timeout=10, source=None):
        """`source`: a local address such as 127.0.0.2 (another client)."""
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            head += chunk
        self.status = int(head.split(b" ")[1]) if head else 0
        self.buffer = head.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in head else b""

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def send(self, text):
        self.send_frame(0x1, text.encode())

    @staticmethod
    def frame(opcode, payload, fin=True):
        """One masked client frame (any opcode, any bytes)."""
        mask = os.urandom(4)
        header = bytes([(0x80 if fin else 0) | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        if n:
            m = int.from_bytes(mask * (n // 4 + 1), "big") >> (8 * (4 - n % 4) if n % 4 else 0)
            masked = (int.from_bytes(payload, "big") ^ (m & ((1 << (8 * n)) - 1))).to_bytes(n, "big")
        else:
            masked = b""
        return header + mask + masked

    def send_frame(self, opcode, payload, fin=True):
        self.sock.sendall(self.frame(opcode, payload, fin))

    def send_raw(self, data):
        self.sock.sendall(data)

    def drain(self):
        """Messages already received, without waiting: a list of (opcode,
        payload); raises ConnectionError once the server closed."""
        out = []
        while True:
            ready, _, _ = select.select([self.sock], [], [], 0)
            if not ready:
                break
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        while len(self.buffer) >= 2:
            b0, b1 = self.buffer[0], self.buffer[1]
            n, at = b1 & 0x7F, 2
            if n == 126:
                if len(self.buffer) < 4:
                    break
                n, at = struct.unpack(">H", self.buffer[2:4])[0], 4
            elif n == 127:
                if len(self.buffer) < 10:
                    break
                n, at = struct.unpack(">Q", self.buffer[2:10])[0], 10
            if len(self.buffer) < at + n:
                break
            op, data = b0 & 0x0F, self.buffer[at:at + n]
            self.buffer = self.buffer[at + n:]
            if op == 0x8:
                raise ConnectionError("closed by server", data)
            if op == 0x9:
                self.sock.sendall(bytes([0x8A, 0x80]) + os.urandom(4))
                continue
            out.append((op, data))
        return out

    def recv(self):
        """The next text message (answers pings); raises on close/timeout."""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            data = self._read(n)
            op = b0 & 0x0F
            if op == 0x9:  # ping
                self.sock.sendall(bytes([0x8A, 0x80]) + os.urandom(4))
                continue
            if op == 0x8:
                raise ConnectionError("closed by server", data)
            if op == 0x1:
                return data.decode()

    def recv_json(self):
        return json.loads(self.recv())

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
