"""Starts the real emporium binary on a free port and talks HTTP to it.

Used by every end-to-end test: real process, real sockets, 127.0.0.1 only.
"""
import atexit
import base64
import hashlib
import hmac
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

# Nodes started by the tests (many at once, in parallel test files) serve no
# metrics listener unless a test asks for one with --metrics-port: the
# default port (9464) would be taken by the first.
os.environ.setdefault("EMPORIUM_METRICS_PORT", "0")

BINARY = os.environ.get("EMPORIUM_TEST_BINARY", "build/test/emporium")
# With an image (scripts/image), every Node is a container of it instead of
# a process of BINARY: podman, host network, the data directory as /data.
IMAGE = os.environ.get("EMPORIUM_TEST_IMAGE")
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
JWT_SECRET = "e2e-secret-0123456789abcdef0123456789abcdef"
ADMIN_EMAIL = "admin@e2e.test"
ADMIN_PASSWORD = "admin-pass-1"


# Ports for nodes come from below the kernel's ephemeral range (32768 and
# up here): a port the kernel handed out for probing is free again the moment
# the probe closes, and any test's outgoing connection may take it as its
# local port before a slow starter (a container: ~1 s) binds it. CI saw
# "Address already in use" that way. Test processes run in parallel, so each
# port is also reserved for the life of the process that picked it, by an
# abstract unix socket named after it: the kernel drops it when the process
# ends, nothing is left on disk.
_reserved = []
atexit.register(lambda: [s.close() for s in _reserved])


def _reserve(port):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.bind(f"\0emporium-e2e-port-{port}")
    except OSError:
        s.close()
        return False
    _reserved.append(s)
    return True


def _bindable(port):
    with socket.socket() as s:
        try:
            s.bind(("0.0.0.0", port))
            return True
        except OSError:
            return False


def free_block(size=1, low=12000, high=32000):
    """A base port with `size` ports from it up free and reserved."""
    rng = random.Random()
    for _ in range(500):
        base = rng.randrange(low, high - size)
        if all(_bindable(p) for p in range(base, base + size)):
            mark = len(_reserved)
            if all(_reserve(p) for p in range(base, base + size)):
                return base
            for s in _reserved[mark:]:  # another process holds one of them
                s.close()
            del _reserved[mark:]
    raise RuntimeError(f"no free block of {size} ports in [{low}, {high})")


def free_port():
    return free_block(1)


class Node:
    """One emporium process with its own data directory."""

    def __init__(self, data_dir=None, extra_args=(), env=None, log_name="node.log"):
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="emporium-e2e-")
        self.host = "127.0.0.1"
        self.port = free_port()
        self.extra_args = list(extra_args)
        self.env = dict(os.environ, **(env or {}))
        self.env.setdefault("EMPORIUM_JWT_SECRET", JWT_SECRET)
        self.env.setdefault("EMPORIUM_ADMIN_EMAIL", ADMIN_EMAIL)
        self.env.setdefault("EMPORIUM_ADMIN_PASSWORD", ADMIN_PASSWORD)
        # Tests sign up many users from 127.0.0.1; test_abuse checks the limit itself.
        self.env.setdefault("EMPORIUM_REGISTRATIONS_PER_MINUTE_IP", "100000")
        # ... and as many at once as they like; test_abuse checks that limit too.
        self.env.setdefault("EMPORIUM_PASSWORD_CHECKS_PER_CLIENT", "100000")
        # The tests send from 127.0.0.1 as fast as they can; test_abuse sets
        # a request limit where it checks one.
        self.env.setdefault("EMPORIUM_REQUESTS_PER_SECOND_CLIENT", "0")
        self.proc = None
        self.log_path = os.path.join(self.data_dir, log_name)
        # Words run before the binary, which they exec (SilentDns.wrapper).
        self.wrapper = []

    def command(self):
        if not IMAGE:
            return self.wrapper + [BINARY, "--port", str(self.port), "--data-dir",
                                   self.data_dir] + self.extra_args
        # The image runs as uid 10001 and makes /data owner-only. Attached,
        # so this process lives as long as the container and SIGTERM reaches
        # the node (podman proxies signals; SIGKILL goes through podman kill).
        os.chown(self.data_dir, 10001, 10001)
        self.container = f"emporium-e2e-{self.port}"
        subprocess.run(["podman", "rm", "-f", self.container], capture_output=True)
        env = [x for k, v in self.env.items() if k.startswith("EMPORIUM_")
               and k not in ("EMPORIUM_TEST_BINARY", "EMPORIUM_TEST_IMAGE")
               for x in ("-e", f"{k}={v}")]
        # Host files the flags name (a static directory, certificates) are
        # mounted at the same path, read-only (and a directory opened to the
        # image's user, which a test's mkdtemp made owner-only).
        named = [a for a in self.extra_args if os.path.isabs(a) and os.path.exists(a)]
        for a in named:
            if os.path.isdir(a):
                os.chmod(a, 0o755)
        mounts = [x for a in named for x in ("-v", f"{a}:{a}:ro")]
        # The sanitizers' settings too, with their suppression files.
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in self.env:
                env += ["-e", f"{k}={self.env[k]}"]
        tests_dir = os.path.join(REPO, "tests")
        mounts += ["-v", f"{tests_dir}:{tests_dir}:ro"]
        return (["podman", "run", "--rm", "--name", self.container, "--network", "host",
                 "-v", f"{self.data_dir}:/data"] + mounts + env +
                # The port as a variable: the image's health check reads it.
                ["-e", f"EMPORIUM_PORT={self.port}", IMAGE] + self.extra_args)

    def start(self, wait=True):
        self.port = free_port() if self.proc is not None else self.port
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                         env=self.env)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"node exited with {self.proc.returncode}: {self.log()}")
            try:
                status, _, _ = self.request("GET", "/health/ready")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("node did not become ready: " + self.log())

    def log(self, tail=4000):
        """The end of the node's log (all of it with tail=None)."""
        with open(self.log_path, "rb") as f:
            text = f.read().decode(errors="replace")
        return text if tail is None else text[-tail:]

    def kill(self):
        if IMAGE:
            subprocess.run(["podman", "kill", "-s", "KILL", self.container], capture_output=True)
        else:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def terminate(self, timeout=60):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def close(self):
        if IMAGE and self.proc:
            subprocess.run(["podman", "rm", "-f", self.container], capture_output=True)
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    # -- HTTP -------------------------------------------------------------
    def request(self, method, path, body=None, token=None, headers=None, raw=None,
                timeout=30, source=None, all_headers=False):
        """`source`: a local address such as 127.0.0.2, so one node sees
        several clients. The headers come as a dict of lower-cased names, or
        with `all_headers` as every (name, value) line, repeated ones kept."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout,
                                          source_address=(source, 0) if source else None)
        try:
            h = dict(headers or {})
            if token:
                h["Authorization"] = "Bearer " + token
            data = raw
            if body is not None:
                data = json.dumps(body).encode()
                h.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=data, headers=h)
            res = conn.getresponse()
            payload = res.read()
            try:
                parsed = json.loads(payload) if payload else None
            except ValueError:
                parsed = payload.decode(errors="replace")
            lines = [(k.lower(), v) for k, v in res.getheaders()]
            return res.status, parsed, lines if all_headers else dict(lines)
        finally:
            conn.close()

    def register(self, email, password="secret-pass"):
        status, body, _ = self.request("POST", "/api/auth/register",
                                       {"email": email, "password": password})
        assert status == 200, (status, body)
        return body

    def login(self, email, password="secret-pass"):
        status, body, _ = self.request("POST", "/api/auth/login",
                                       {"email": email, "password": password})
        assert status == 200, (status, body)
        return body

    def new_user(self, email):
        self.register(email)
        return self.login(email)

    def admin_token(self):
        return self.login(ADMIN_EMAIL, ADMIN_PASSWORD)["token"]


def make_certs(directory, *names):
    """The cluster CA and node certificates, as scripts/cluster-certs makes them."""
    subprocess.run([os.path.join(REPO, "scripts", "cluster-certs"), directory, *names],
                   check=True, stdout=subprocess.DEVNULL)


def tls_args(directory, name):
    return ["--cluster-ca", os.path.join(directory, "ca.crt"),
            "--cluster-cert", os.path.join(directory, f"{name}.crt"),
            "--cluster-key", os.path.join(directory, f"{name}.key")]


class Cluster:
    """N emporium processes sharing one data directory, each knowing all.
    Nodes talk TLS with certificates from one CA in <data>/tls, as
    scripts/cluster sets them up; tls=False runs them with --cluster-tls off."""

    def __init__(self, n, extra_args=(), tls=True, other_seeds=()):
        """`other_seeds`: members listed before the n nodes that never start
        (each "host:port"); they count towards the cluster's size."""
        self.data_dir = tempfile.mkdtemp(prefix="emporium-cluster-")
        self.node_ports = [free_port() for _ in range(n)]
        self.tls_dir = os.path.join(self.data_dir, "tls")
        if tls:
            make_certs(self.tls_dir, *[f"node{i + 1}" for i in range(n)])
        seeds = ",".join(list(other_seeds) + [f"127.0.0.1:{p}" for p in self.node_ports])
        self.nodes = [
            Node(self.data_dir, ["--node-port", str(p), "--seeds", seeds,
                                 "--heartbeat-ms", "500", "--peer-timeout-ms", "2000"]
                 + (tls_args(self.tls_dir, f"node{i + 1}") if tls else ["--cluster-tls", "off"])
                 + list(extra_args), log_name=f"node{i + 1}.log")
            for i, p in enumerate(self.node_ports)]

    def __getitem__(self, i):
        return self.nodes[i]

    def start(self, order=None):
        for i in order if order is not None else range(len(self.nodes)):
            self.nodes[i].start(wait=False)
        return self

    def cluster_health(self, i, timeout=30):
        status, body, _ = self.nodes[i].request("GET", "/health/ready", timeout=timeout)
        return body["checks"]["cluster"] if body and "checks" in body else None

    def wait_formed(self, members=None, live=None, timeout=60):
        """Until every listed node sees `live` members and has opened its shards."""
        members = list(range(len(self.nodes))) if members is None else members
        live = len(members) if live is None else live
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                views = [self.cluster_health(i) for i in members]
                if all(v and v["liveMembers"] == live and v["quorum"] and
                       v["readyShards"] == v["ownedShards"] for v in views) and \
                        sum(v["ownedShards"] for v in views) == 12:
                    return views
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("cluster did not form:\n" + "\n".join(
            self.membership_story(i) for i in members))

    def membership_story(self, i, lines=25):
        """Node i's view and its last log lines other than requests: what a
        failed formation needs (a request log hides them in 600 chars)."""
        try:
            view = self.cluster_health(i, timeout=3)
        except OSError as e:
            view = f"unreachable ({e})"
        quiet = ('"msg":"request"', '"msg":"slow_request"', '"msg":"retention_swept"')
        events = [compact_log_line(line) for line in self.nodes[i].log(tail=None).splitlines()
                  if not any(q in line for q in quiet)]
        return (f"--- node{i + 1} (node port {self.node_ports[i]}): {view}\n"
                + "\n".join(events[-lines:]))

    def close(self):
        for n in self.nodes:
            n.close()
        keep = os.environ.get("EMPORIUM_TEST_KEEP_LOGS")  # a directory, for diagnosis
        if keep:
            target = tempfile.mkdtemp(prefix="cluster-", dir=keep)
            for n in self.nodes:
                if os.path.exists(n.log_path):
                    shutil.copy(n.log_path, target)
        shutil.rmtree(self.data_dir, ignore_errors=True)


class SilentPort:
    """A port on 127.0.0.1 that answers no SYN: a listener whose accept
    queue is full, so the kernel drops further SYNs. That is how a peer that
    went away behind a port mapping, or behind a firewall that drops, looks
    to a dialer: no refusal comes, and a blocking connect(2) waits for the
    kernel's retries, about two minutes."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(0)
        self.address = "127.0.0.1:%d" % self.listener.getsockname()[1]
        self.fillers = []
        for _ in range(3):
            c = socket.socket()
            c.setblocking(False)
            try:
                c.connect(self.listener.getsockname())
            except BlockingIOError:
                pass
            self.fillers.append(c)

    def close(self):
        for c in self.fillers:
            c.close()
        self.listener.close()


class SilentDns:
    """A nameserver that never answers: a UDP socket on port 53 of a
    loopback address that reads nothing, named by a resolv.conf of its own.
    `wrapper` runs a process in a mount namespace where that file is
    /etc/resolv.conf (root only; the machine's file is not touched), so its
    lookups of any name not in /etc/hosts wait for the resolver's timeouts:
    about 10 s with glibc's defaults (5 s, 2 tries)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for last in range(53, 254):
            try:
                self.sock.bind((f"127.0.83.{last}", 53))
                break
            except OSError:
                continue
        else:
            raise RuntimeError("no loopback address with port 53 free")
        self.dir = tempfile.mkdtemp(prefix="emporium-dns-")
        self.resolv_conf = os.path.join(self.dir, "resolv.conf")
        with open(self.resolv_conf, "w") as f:
            f.write(f"nameserver {self.sock.getsockname()[0]}\n")
        self.wrapper = ["unshare", "--mount", "--", "sh", "-c",
                        'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"', "sh",
                        self.resolv_conf]

    def close(self):
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    @staticmethod
    def usable():
        """Whether this machine lets a process mount a resolv.conf of its
        own (root, mount namespaces allowed, an /etc/resolv.conf to cover)."""
        if os.geteuid() != 0 or not shutil.which("unshare") or \
                not os.path.exists("/etc/resolv.conf"):
            return False
        probe = subprocess.run(["unshare", "--mount", "--", "sh", "-c",
                                "mount --bind /etc/resolv.conf /etc/resolv.conf"],
                               capture_output=True, timeout=30)
        return probe.returncode == 0


def needs_silent_dns(test):
    """Skips `test` (a class or a method) where SilentDns cannot work: a run
    against the container image (the node has its container's resolver),
    or a machine without root and mount namespaces."""
    if IMAGE:
        return unittest.skip("the node runs in a container, with its own resolver")(test)
    return unittest.skipUnless(SilentDns.usable(), "needs root and a mount namespace "
                               "for a resolv.conf of its own")(test)


def compact_log_line(line, limit=200):
    """A JSON log line as `time level msg key=value ...`: a CI log keeps only
    a part of a failure's output, and three nodes' stories must fit in it."""
    try:
        fields = json.loads(line)
    except ValueError:
        return line[:limit]
    if not isinstance(fields, dict):
        return line[:limit]
    head = [fields.pop("ts", "")[11:23], fields.pop("level", ""), fields.pop("msg", "")]
    fields.pop("node", None)
    return " ".join(head + [f"{k}={v}" for k, v in fields.items()])[:limit]


def current_shard_files(data_dir):
    """The file holding each shard now: `shard-NN.db`, or the one its
    relocation marker `shard-NN.moved` names (persistence/shard_files.hpp)."""
    import glob
    import re
    shards = set()
    for path in glob.glob(os.path.join(data_dir, "shard-*")):
        m = re.match(r"shard-(\d+)\.(db|r\d+\.db|moved)$", os.path.basename(path))
        if m:
            shards.add(m.group(1))
    files = []
    for shard in sorted(shards):
        marker = os.path.join(data_dir, f"shard-{shard}.moved")
        if os.path.exists(marker):
            with open(marker) as f:
                files.append(os.path.join(data_dir, f.read().split()[1]))
        else:
            files.append(os.path.join(data_dir, f"shard-{shard}.db"))
    return files


def entity_state(data_dir, kind, entity_id):
    """An entity's persisted snapshot, from whichever shard file holds it."""
    import sqlite3
    for path in current_shard_files(data_dir):
        db = sqlite3.connect(path)
        try:
            # A cart's latest snapshot may still be in the log (entity_store.hpp).
            row = db.execute("SELECT state FROM entity_log WHERE kind=? AND id=? "
                             "ORDER BY seq DESC LIMIT 1", (kind, str(entity_id))).fetchone() \
                or db.execute("SELECT state FROM entities WHERE kind=? AND id=?",
                              (kind, str(entity_id))).fetchone()
        finally:
            db.close()
        if row:
            return json.loads(row[0])
    return None


def orders_charged_twice(data_dir):
    """(order, successful charges) for every order the ledger charged more than once."""
    import sqlite3
    db = sqlite3.connect(os.path.join(data_dir, "emporium.db"))
    try:
        return db.execute("SELECT order_id, COUNT(*) FROM payments WHERE status='succeeded' "
                          "GROUP BY order_id HAVING COUNT(*) > 1").fetchall()
    finally:
        db.close()


def writer_epochs(data_dir):
    """{shard file: [(epoch, node, pid, opened_ns, last_write_ns)]} from each
    shard's ownership epochs (persistence/fencing.hpp)."""
    import sqlite3
    epochs = {}
    for path in current_shard_files(data_dir):
        db = sqlite3.connect(path)
        try:
            epochs[os.path.basename(path)] = db.execute(
                "SELECT epoch, node, pid, opened_ns, last_write_ns FROM shard_epochs "
                "ORDER BY epoch").fetchall()
        finally:
            db.close()
    return epochs


def write_locked_files(data_dir, node_name):
    """The current shard files whose latest epoch is `node_name`'s and whose
    SQLite write lock someone holds right now (a frozen node: mid-write)."""
    import sqlite3
    locked = []
    for path in current_shard_files(data_dir):
        db = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            row = db.execute("SELECT node FROM shard_epochs ORDER BY epoch DESC LIMIT 1").fetchone()
            if not row or row[0] != node_name:
                continue
            try:
                db.execute("BEGIN IMMEDIATE")
                db.execute("ROLLBACK")
            except sqlite3.OperationalError:
                locked.append(path)
        finally:
            db.close()
    return locked


def overlapping_writers(data_dir):
    """Every pair of epochs of one shard file whose writes interleaved: an
    older epoch that wrote after a newer one was opened. Empty when no two
    nodes ever wrote the same shard at once."""
    found = []
    for name, rows in writer_epochs(data_dir).items():
        for i, older in enumerate(rows):
            for newer in rows[i + 1:]:
                if older[4] > newer[3]:
                    found.append((name, older, newer))
    return found


def snapshot_keys():
    """{(entity, field): key} from persistence/snapshot_keys.def, the one table of
    snapshot key names the node's encoder, decoder and SQL use too."""
    import re
    path = os.path.join(os.path.dirname(__file__), "..", "..", "persistence", "snapshot_keys.def")
    with open(path) as f:
        return {(m[0], m[1]): m[2]
                for m in re.findall(r'^SNAPSHOT_KEY\((\w+), (\w+), "(\w+)"\)', f.read(), re.M)}


def big_stock_products(node, n):
    """The n products with the most stock, as (id, stock): loads that add a
    unit at a time must not run into a scarce product's limit (the demo
    catalog has products with 2 or 3 units)."""
    status, body, _ = node.request(
        "GET", f"/api/products?sortBy=stockQuantity&sortOrder=desc&pageSize={n}")
    assert status == 200, body
    return [(p["id"], p["stockQuantity"]) for p in body]


def units_accounted(data_dir, product_id):
    """On hand plus sold for a product's stock record: constant while stock is conserved."""
    state = entity_state(data_dir, 2, product_id)
    keys = snapshot_keys()
    return state[keys[("stock", "on_hand")]] + state[keys[("stock", "sold")]]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(payload, secret=JWT_SECRET, header=None):
    header = header or {"alg": "HS256", "typ": "JWT"}
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(payload).encode())
    sig = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(sig)


def wait_for(predicate, timeout=15, what="condition"):
    """Polls until predicate() is truthy and returns that value; fails the
    test after `timeout` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} not met in {timeout} s")


def raw_exchange(port, data, timeout=5):
    """Sends raw bytes and returns everything the server answers until close."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            return b""
        chunks = []
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except (socket.timeout, ConnectionResetError):
            pass  # a reset is how a refused or dropped connection may end
        return b"".join(chunks)
