"""The container image for real: scripts/image builds it (from scratch, no
base image), podman runs it with the test machines' settings from
tests/container/ (vfs storage, runc, cgroupfs, no default ulimits).

- the contract suite (test_contract) against one container: host network,
  the data directory as /data;
- a 3-node cluster of containers through scripts/cluster (EMPORIUM_IMAGE):
  the cluster script's own checks, killing one container and starting it
  again included;
- the data survives removing and recreating a container;
- the image's user, entrypoint, volume and health check.
The image holds this build's (sanitizer) binary and exactly its libraries;
scripts/image without EMPORIUM_IMAGE_BINARY puts in the Release build."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import harness
from harness import BINARY, Node, wait_for
import test_cluster_script as cluster_script

ROOT = harness.REPO
TAG = "localhost/emporium:e2e"
CONTAINER_ENV = {"CONTAINERS_CONF": os.path.join(ROOT, "tests", "container", "containers.conf"),
                 "CONTAINERS_STORAGE_CONF": os.path.join(ROOT, "tests", "container",
                                                         "storage.conf")}


def setUpModule():
    os.environ.update(CONTAINER_ENV)
    result = subprocess.run([os.path.join(ROOT, "scripts", "image"), TAG],
                            env=dict(os.environ, EMPORIUM_IMAGE_BINARY=os.path.abspath(BINARY)),
                            capture_output=True, text=True, timeout=1200)
    if result.returncode != 0:
        raise RuntimeError("scripts/image failed:\n" + result.stdout + result.stderr)
    print("\n  " + result.stdout.strip().splitlines()[-1], file=sys.stderr, flush=True)
    harness.IMAGE = TAG  # every Node of this module is a container


def tearDownModule():
    harness.IMAGE = None
    podman("rmi", "-f", TAG, check=False)
    podman("image", "prune", "-f", check=False)


def podman(*args, check=True):
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=check,
                          timeout=300)


class ImageTests(unittest.TestCase):
    def test_image_is_from_scratch_and_runs_as_its_own_user(self):
        info = json.loads(podman("image", "inspect", TAG).stdout)[0]
        config = info["Config"]
        self.assertEqual(config["User"], "10001:10001")
        self.assertEqual(config["Entrypoint"], ["/usr/local/bin/emporium", "--bind", "0.0.0.0",
                                                "--data-dir", "/data"])
        self.assertIn("/data", config["Volumes"])
        self.assertEqual(info["Healthcheck"]["Test"],
                         ["CMD", "/usr/local/bin/emporium", "healthcheck"])
        self.assertEqual(len(info["RootFS"]["Layers"]), 1)  # one layer: no base image
        # No shell or tools in it: only the binary, its libraries and data.
        files = podman("run", "--rm", "--entrypoint", "/usr/local/bin/emporium", TAG,
                       "--help").stdout
        self.assertIn("--payment-provider", files)
        self.assertNotEqual(podman("run", "--rm", "--entrypoint", "/bin/sh", TAG, "-c", "true",
                                   check=False).returncode, 0)

    def test_health_check_follows_readiness(self):
        node = Node().start()
        try:
            result = podman("healthcheck", "run", node.container, check=False)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            # The probe inside the image fails against a port nothing serves.
            probe = podman("exec", node.container, "/usr/local/bin/emporium", "healthcheck",
                           "--url", "http://127.0.0.1:1/health/ready", "--timeout-ms", "500",
                           check=False)
            self.assertEqual(probe.returncode, 1)
            self.assertIn("healthcheck", probe.stderr)
        finally:
            node.close()

    def test_data_survives_removing_and_recreating_the_container(self):
        data = tempfile.mkdtemp(prefix="emporium-container-data-")
        try:
            first = Node(data_dir=data).start()
            login = first.new_user(f"keep-{time.time_ns()}@example.com")
            token = login["token"]
            self.assertEqual(first.request("POST", "/api/cart/add",
                                           {"productId": 3, "quantity": 2}, token=token)[0], 200)
            self.assertEqual(first.terminate(), 0)  # SIGTERM through podman: a clean stop
            first.close()
            self.assertNotEqual(podman("container", "exists", first.container,
                                       check=False).returncode, 0)
            second = Node(data_dir=data).start()  # a new container on the same volume
            try:
                status, cart, _ = second.request("GET", "/api/cart", token=token)
                self.assertEqual(status, 200)
                self.assertEqual([(i["productId"], i["quantity"]) for i in cart["items"]], [(3, 2)])
            finally:
                second.close()
        finally:
            shutil.rmtree(data, ignore_errors=True)

    def test_contract_suite_against_one_container(self):
        result = subprocess.run([sys.executable, "-m", "unittest", "test_contract"],
                                cwd=os.path.dirname(os.path.abspath(__file__)),
                                env=dict(os.environ, EMPORIUM_TEST_IMAGE=TAG),
                                capture_output=True, text=True, timeout=900)
        self.assertEqual(result.returncode, 0, result.stderr[-6000:])
        self.assertIn("OK", result.stderr)


class KubePlayTests(unittest.TestCase):
    """deploy/k8s/pods.yaml under `podman kube play`: the cluster forms,
    orders flow, `podman kube down` stops every node cleanly."""

    def test_pods_form_a_cluster_take_orders_and_stop_cleanly(self):
        work = tempfile.mkdtemp(prefix="emporium-kube-")
        data, tls = os.path.join(work, "data"), os.path.join(work, "tls")
        os.makedirs(data)
        subprocess.run([os.path.join(ROOT, "scripts", "cluster-certs"), tls, "node"], check=True,
                       capture_output=True)
        for d in (data, tls):
            for dirpath, _, files in os.walk(d):
                os.chown(dirpath, 10001, 10001)
                for f in files:
                    os.chown(os.path.join(dirpath, f), 10001, 10001)
        base = harness.free_block(12)
        with open(os.path.join(ROOT, "deploy", "k8s", "pods.yaml")) as f:
            text = f.read()
        ports = {}
        for i in (1, 2, 3):  # the manifest's ports moved onto a free block
            ports[f"808{i}"] = str(base + i)
            ports[f"710{i}"] = str(base + 3 + i)
            ports[f"946{4 + i}"] = str(base + 6 + i)
        for old, new in ports.items():
            text = text.replace(old, new)
        # The image holds the sanitizer build: its leak report at exit (CAF's
        # known leaks, suppressed in the other runs through a file the pods
        # do not have) would turn a clean stop into exit 1.
        text = text.replace("      env:\n", "      env:\n        - {name: ASAN_OPTIONS, value: detect_leaks=0}\n")
        text = (text.replace("/var/lib/emporium-kube", data)
                .replace("/etc/emporium-kube/tls", tls)
                .replace("localhost/emporium:latest", TAG))
        manifest = os.path.join(work, "pods.yaml")
        with open(manifest, "w") as f:
            f.write(text)
        try:
            played = podman("kube", "play", manifest, check=False)
            self.assertEqual(played.returncode, 0, played.stdout + played.stderr)
            logs = {i: podman("inspect", f"emporium-node{i}-emporium", "--format",
                              "{{.HostConfig.LogConfig.Path}}").stdout.strip() for i in (1, 2, 3)}
            http = [Node(data_dir=work) for _ in range(3)]  # clients only: never started
            for i, n in enumerate(http, start=1):
                n.port = base + i

            def formed(n):
                try:
                    status, body, _ = n.request("GET", "/health/ready", timeout=3)
                    return status == 200 and body["checks"]["cluster"]["liveMembers"] == 3
                except OSError:
                    return False
            for n in http:
                wait_for(lambda: formed(n), timeout=120, what=f"node on {n.port} in the cluster")
            token = http[0].new_user(f"kube-{time.time_ns()}@example.com")["token"]
            self.assertEqual(http[1].request("POST", "/api/cart/add",
                                             {"productId": 4, "quantity": 1}, token=token)[0], 200)
            status, placed, _ = http[2].request("POST", "/api/orders/place",
                                                {"paymentMethodId": "pm_card_visa"}, token=token)
            self.assertEqual(status, 200, placed)
            wait_for(lambda: http[0].request("GET", f"/api/orders/{placed['orderId']}",
                                             token=token)[1]["state"] == "Confirmed",
                     timeout=60, what="order confirmed")
            # podman 4.3's `kube down` kills the containers (exit 137, no
            # grace period): stop the pods first (SIGTERM, as Kubernetes
            # does), then take them down.
            since = str(int(time.time()) - 1)
            stop = podman("pod", "stop", "-t", "45", "emporium-node1", "emporium-node2",
                          "emporium-node3", check=False)
            self.assertEqual(stop.returncode, 0, stop.stdout + stop.stderr)
            text = {}
            for i, path in logs.items():  # read before kube down deletes them
                with open(path, errors="replace") as f:
                    text[i] = f.read()
            down = podman("kube", "down", manifest, check=False)
            self.assertEqual(down.returncode, 0, down.stdout + down.stderr)
            died = podman("events", "--since", since, "--stream=false", "--filter", "event=died",
                          "--format", "{{.Name}} {{.ContainerExitCode}}").stdout.split("\n")
            exits = dict(line.split() for line in died if line.startswith("emporium-node"))
            self.assertEqual(exits, {f"emporium-node{i}-emporium": "0" for i in (1, 2, 3)},
                             "\n".join(t[-3000:] for t in text.values()))
            for i in (1, 2, 3):
                self.assertIn("stopped cleanly", text[i], f"node{i}")
            self.assertEqual(podman("pod", "exists", "emporium-node1", check=False).returncode, 1)
        finally:
            podman("kube", "down", manifest, check=False)
            shutil.rmtree(work, ignore_errors=True)


class ContainerClusterTests(cluster_script.ClusterScriptTests):
    """scripts/cluster's own test, every node a container of the image."""

    def setUp(self):
        super().setUp()
        self.env["EMPORIUM_IMAGE"] = TAG


if __name__ == "__main__":
    unittest.main()
