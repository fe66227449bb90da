"""A cluster whose nodes each live in a network namespace of their own, so a
test can cut the network between them while every node stays alive, keeps
its clients and its files.

Each node has two links:
- a peer link, a veth pair whose root end is on a bridge the cluster
  creates: node i is 10.<net>.0.<i> there, and the nodes talk (the
  cluster protocol) only over it;
- a client link, a veth pair straight to the root namespace (10.<net>.<10+i>.2,
  the root end .1), where the tests' clients run.
A node has no default route, so cutting its peer link (or dropping what it
sends there) partitions it from its peers and from nothing else. The nodes
share one data directory, standing in for shared storage: a shard's lock and
epoch work across them as they would on a shared file system.

The subnet is drawn at random (EMPORIUM_TEST_NET=100..199 picks one: node
names, and so which node owns which shard, follow from it).

Needs root (CI runs as root). Everything made here is removed by close(),
and anything a killed earlier run left is removed by its name prefix first.
"""
import os
import random
import shutil
import subprocess
import tempfile

from harness import BINARY, Node

PREFIX = "empn"


def sh(*args, check=True):
    return subprocess.run(list(args), capture_output=True, text=True, check=check)


def namespaces_available():
    """None when this machine can make namespaces and veth pairs, else why not."""
    if os.geteuid() != 0:
        return "not root"
    name = f"{PREFIX}probe{os.getpid() % 10000}"
    try:
        sh("ip", "netns", "add", name)
        sh("ip", "netns", "del", name)
    except (OSError, subprocess.CalledProcessError) as e:
        return f"ip netns: {getattr(e, 'stderr', e)}"
    return None


def remove_leftovers():
    """Namespaces and links of earlier runs that died before their close()."""
    for line in sh("ip", "netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        if name.startswith(PREFIX):
            for pid in sh("ip", "netns", "pids", name, check=False).stdout.split():
                sh("kill", "-9", pid, check=False)
            sh("ip", "netns", "del", name, check=False)
    for line in sh("ip", "-o", "link", "show", check=False).stdout.splitlines():
        parts = line.split(":")
        if len(parts) > 1 and parts[1].strip().split("@")[0].startswith(PREFIX):
            sh("ip", "link", "del", parts[1].strip().split("@")[0], check=False)


class NetnsNode(Node):
    """A Node started inside its namespace, reached on its client link."""

    def __init__(self, cluster, index, data_dir, extra_args):
        self.ns = cluster.ns(index)
        self.peer_ip = cluster.peer_ip(index)
        super().__init__(data_dir, extra_args, log_name=f"node{index}.log")
        self.host = cluster.client_ip(index)
        self.port = 8080  # its own network: every node can use the same port

    def command(self):
        return ["ip", "netns", "exec", self.ns, BINARY, "--bind", "0.0.0.0",
                "--port", str(self.port), "--data-dir", self.data_dir] + self.extra_args

    def start(self, wait=True):
        self.port = 8080
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.command(), stdout=log,
                                         stderr=subprocess.STDOUT, env=self.env)
        if wait:
            self.wait_ready()
        return self


class NetnsCluster:
    """Three nodes (index 1..3), each in its own namespace, one data directory."""

    def __init__(self, n=3, extra_args=()):
        remove_leftovers()
        self.tag = f"{random.randrange(16 ** 4):04x}"
        self.net = int(os.environ.get("EMPORIUM_TEST_NET", "0")) or random.randrange(100, 200)
        self.n = n
        self.data_dir = tempfile.mkdtemp(prefix="emporium-netns-")
        self.bridge = f"{PREFIX}{self.tag}br"
        self.made = False
        self.nodes = []
        seeds = ",".join(f"{self.peer_ip(i)}:7000" for i in range(1, n + 1))
        self.setup()
        for i in range(1, n + 1):
            self.nodes.append(NetnsNode(
                self, i, self.data_dir,
                ["--node-port", "7000", "--node-name", self.peer_ip(i), "--seeds", seeds,
                 "--cluster-tls", "off", "--heartbeat-ms", "500", "--peer-timeout-ms", "2000"]
                + list(extra_args)))

    # -- names ------------------------------------------------------------
    def ns(self, i):
        return f"{PREFIX}{self.tag}n{i}"

    def peer_link(self, i):
        return f"{PREFIX}{self.tag}p{i}"  # root end, on the bridge

    def client_link(self, i):
        return f"{PREFIX}{self.tag}c{i}"  # root end

    def peer_ip(self, i):
        return f"10.{self.net}.0.{i}"

    def client_ip(self, i):
        return f"10.{self.net}.{10 + i}.2"

    # -- the network --------------------------------------------------------
    def setup(self):
        self.made = True
        sh("ip", "link", "add", self.bridge, "type", "bridge")
        sh("ip", "link", "set", self.bridge, "up")
        for i in range(1, self.n + 1):
            ns = self.ns(i)
            sh("ip", "netns", "add", ns)
            sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
            sh("ip", "link", "add", self.peer_link(i), "type", "veth", "peer", "name", "peer0",
               "netns", ns)
            sh("ip", "link", "set", self.peer_link(i), "master", self.bridge)
            sh("ip", "link", "set", self.peer_link(i), "up")
            sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{self.peer_ip(i)}/24",
               "dev", "peer0")
            sh("ip", "netns", "exec", ns, "ip", "link", "set", "peer0", "up")
            sh("ip", "link", "add", self.client_link(i), "type", "veth", "peer", "name",
               "client0", "netns", ns)
            sh("ip", "addr", "add", f"10.{self.net}.{10 + i}.1/24", "dev", self.client_link(i))
            sh("ip", "link", "set", self.client_link(i), "up")
            sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{self.client_ip(i)}/24",
               "dev", "client0")
            sh("ip", "netns", "exec", ns, "ip", "link", "set", "client0", "up")

    def isolate(self, i):
        """Node i can reach neither peer (nor they it); its clients still can."""
        sh("ip", "link", "set", self.peer_link(i), "down")

    def reconnect(self, i):
        sh("ip", "link", "set", self.peer_link(i), "up")

    def mute(self, i):
        """One way: node i still hears its peers, but nothing it sends reaches them."""
        sh("ip", "netns", "exec", self.ns(i), "iptables", "-A", "OUTPUT", "-o", "peer0",
           "-j", "DROP")

    def unmute(self, i):
        sh("ip", "netns", "exec", self.ns(i), "iptables", "-F", "OUTPUT")

    def cut_pair(self, i, j):
        """Nodes i and j no longer reach each other; both still reach the rest."""
        for a, b in ((i, j), (j, i)):
            sh("ip", "netns", "exec", self.ns(a), "iptables", "-A", "OUTPUT", "-d",
               self.peer_ip(b), "-j", "DROP")
            sh("ip", "netns", "exec", self.ns(a), "iptables", "-A", "INPUT", "-s",
               self.peer_ip(b), "-j", "DROP")

    def mend_pair(self, i, j):
        for a in (i, j):
            sh("ip", "netns", "exec", self.ns(a), "iptables", "-F", "OUTPUT")
            sh("ip", "netns", "exec", self.ns(a), "iptables", "-F", "INPUT")

    # -- nodes --------------------------------------------------------------
    def __getitem__(self, i):
        return self.nodes[i - 1]

    def start(self):
        for node in self.nodes:
            node.start(wait=False)
        return self

    def health(self, i):
        status, body, _ = self[i].request("GET", "/health/ready", timeout=5)
        return body["checks"]["cluster"] if body and "checks" in body else None

    def close(self):
        for node in self.nodes:
            node.close()
        keep = os.environ.get("EMPORIUM_TEST_KEEP_LOGS")
        if keep:
            target = tempfile.mkdtemp(prefix="netns-", dir=keep)
            for node in self.nodes:
                if os.path.exists(node.log_path):
                    shutil.copy(node.log_path, target)
        if self.made:
            for i in range(1, self.n + 1):
                sh("ip", "netns", "del", self.ns(i), check=False)
                sh("ip", "link", "del", self.client_link(i), check=False)
                sh("ip", "link", "del", self.peer_link(i), check=False)
            sh("ip", "link", "del", self.bridge, check=False)
        shutil.rmtree(self.data_dir, ignore_errors=True)
