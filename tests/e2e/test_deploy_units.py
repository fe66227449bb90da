"""The systemd units in deploy/systemd: `systemd-analyze verify` finds
nothing to say about them (with the binary path pointed at the built one),
the hardening the README promises is in them, and every variable in the
environment examples is one the binary knows (from `emporium --help`).
The Kubernetes manifests in deploy/k8s hang together: the seeds name the
StatefulSet's pods through its headless Service, the budget keeps a
majority, the volume is ReadWriteMany, every variable is known. (No
Kubernetes runs here; pods.yaml runs under podman in test_containers.)"""
import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import BINARY, REPO

import yaml  # python3-yaml: scripts/install-deps deploy

UNITS = os.path.join(REPO, "deploy", "systemd")
ANALYZE = shutil.which("systemd-analyze")


class SystemdUnitTests(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="emporium-units-")
        binary = os.path.abspath(BINARY)
        for unit in glob.glob(os.path.join(UNITS, "*.service")) + \
                glob.glob(os.path.join(UNITS, "*.timer")):
            with open(unit) as f:
                text = f.read().replace("/usr/local/bin/emporium", binary)
            with open(os.path.join(self.dir, os.path.basename(unit)), "w") as f:
                f.write(text)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    @unittest.skipUnless(ANALYZE, "systemd-analyze missing (scripts/install-deps deploy)")
    def test_systemd_analyze_verify_is_silent(self):
        units = ["emporium@node1.service", "emporium-backup.service", "emporium-backup.timer"]
        res = subprocess.run([ANALYZE, "verify", "--man=no"] + [f"./{u}" for u in units],
                             cwd=self.dir, capture_output=True, text=True, timeout=60)
        self.assertEqual(res.returncode, 0, res.stderr)
        # Unknown keys and bad values are only warnings: none may appear.
        self.assertEqual(res.stderr.strip() + res.stdout.strip(), "")

    def test_the_node_unit_is_hardened_and_restarts(self):
        with open(os.path.join(UNITS, "emporium@.service")) as f:
            unit = f.read()
        for line in ("User=emporium", "NoNewPrivileges=yes", "ProtectSystem=strict",
                     "ReadWritePaths=/var/lib/emporium", "Restart=on-failure",
                     "RestartPreventExitStatus=2", "LimitNOFILE=65536", "UMask=0077",
                     "Environment=EMPORIUM_NODE_NAME=%i"):
            self.assertIn(line + "\n", unit)

    def test_environment_examples_name_only_known_variables(self):
        known = known_variables()
        self.assertIn("EMPORIUM_OTLP_ENDPOINT", known)
        examples = glob.glob(os.path.join(UNITS, "*.env.example"))
        self.assertEqual(len(examples), 2)
        for path in examples:
            with open(path) as f:
                for line in f:
                    line = line.strip()
                    if not line or line.startswith("#"):
                        continue
                    name = line.split("=", 1)[0]
                    self.assertIn(name, known, f"{os.path.basename(path)}: {name}")


def known_variables():
    help_text = subprocess.run([BINARY, "--help"], capture_output=True, text=True,
                               timeout=30).stdout
    return set(re.findall(r"env (EMPORIUM_[A-Z0-9_]+)", help_text))


class KubernetesManifestTests(unittest.TestCase):
    def setUp(self):
        self.docs = {}
        k8s = os.path.join(REPO, "deploy", "k8s")
        for path in sorted(glob.glob(os.path.join(k8s, "*.yaml"))):
            with open(path) as f:
                for doc in yaml.safe_load_all(f):
                    if doc:
                        self.docs.setdefault(doc["kind"], []).append(doc)

    def one(self, kind):
        self.assertEqual(len(self.docs.get(kind, [])), 1, kind)
        return self.docs[kind][0]

    def test_statefulset_services_and_seeds_agree(self):
        sts = self.one("StatefulSet")
        services = {s["metadata"]["name"]: s for s in self.docs["Service"]}
        headless = services[sts["spec"]["serviceName"]]
        self.assertEqual(headless["spec"]["clusterIP"], "None")
        self.assertTrue(any(s["spec"].get("clusterIP") != "None" for s in services.values()))
        # The HTTP Service keeps a client on one pod: per-client limits are
        # counted by each node.
        http = [s for s in services.values() if s["spec"].get("clusterIP") != "None"]
        self.assertEqual([s["spec"].get("sessionAffinity") for s in http], ["ClientIP"])
        replicas = sts["spec"]["replicas"]
        config = next(c for c in self.docs["ConfigMap"]
                      if c["metadata"]["name"] == "emporium")["data"]
        port = config["EMPORIUM_NODE_PORT"]
        expected = [f"{sts['metadata']['name']}-{i}.{headless['metadata']['name']}:{port}"
                    for i in range(replicas)]
        self.assertEqual(config["EMPORIUM_SEEDS"].split(","), expected)
        pod = sts["spec"]["template"]["spec"]
        container = pod["containers"][0]
        env = {e["name"]: e for e in container["env"]}
        self.assertEqual(env["EMPORIUM_NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"],
                         "metadata.name")
        self.assertEqual(container["readinessProbe"]["httpGet"]["path"], "/health/ready")
        self.assertEqual(container["livenessProbe"]["httpGet"]["path"], "/health/live")
        self.assertIn("requests", container["resources"])
        refs = {next(iter(r.values()))["name"] for r in container["envFrom"]}
        self.assertEqual(refs, {"emporium", "emporium-secrets"})
        self.assertGreaterEqual(pod["terminationGracePeriodSeconds"], 40)
        self.assertEqual(pod["securityContext"]["runAsUser"], 10001)  # the image's user

    def test_budget_keeps_a_majority_and_the_volume_is_shared(self):
        sts = self.one("StatefulSet")
        pdb = self.one("PodDisruptionBudget")
        self.assertGreater(pdb["spec"]["minAvailable"] * 2, sts["spec"]["replicas"])
        pvc = self.one("PersistentVolumeClaim")
        self.assertEqual(pvc["spec"]["accessModes"], ["ReadWriteMany"])
        claims = [v["persistentVolumeClaim"]["claimName"]
                  for v in sts["spec"]["template"]["spec"]["volumes"]
                  if "persistentVolumeClaim" in v]
        self.assertEqual(claims, [pvc["metadata"]["name"]])

    def test_every_variable_is_known(self):
        known = known_variables()
        names = set(next(c for c in self.docs["ConfigMap"])["data"])
        for secret in self.docs["Secret"]:
            names |= set(secret["stringData"])
        for pod in self.docs["Pod"] + [self.one("StatefulSet")["spec"]["template"]]:
            names |= {e["name"] for e in pod["spec"]["containers"][0]["env"]}
        self.assertGreater(len(names), 15)
        self.assertEqual(names - known, set())

    def test_pods_yaml_is_the_same_node_three_times(self):
        pods = self.docs["Pod"]
        self.assertEqual(len(pods), 3)
        ports = []
        for i, pod in enumerate(pods, start=1):
            env = {e["name"]: e["value"] for e in pod["spec"]["containers"][0]["env"]}
            self.assertEqual(env["EMPORIUM_NODE_NAME"], f"node{i}")
            ports.append(env["EMPORIUM_NODE_PORT"])
            published = {p["hostPort"] for p in pod["spec"]["containers"][0]["ports"]}
            self.assertIn(int(env["EMPORIUM_PORT"]), published)
            self.assertIn(int(env["EMPORIUM_NODE_PORT"]), published)
        seeds = [s.rsplit(":", 1)[1] for s in env["EMPORIUM_SEEDS"].split(",")]
        self.assertEqual(seeds, ports)


if __name__ == "__main__":
    unittest.main()
