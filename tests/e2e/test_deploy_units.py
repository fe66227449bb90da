"""The systemd units in deploy/systemd: `systemd-analyze verify` finds
nothing to say about them (with the binary path pointed at the built one),
the hardening the README promises is in them, and every variable in the
environment examples is one the binary knows (from `emporium --help`)."""
import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import BINARY, REPO

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
        help_text = subprocess.run([BINARY, "--help"], capture_output=True, text=True,
                                   timeout=30).stdout
        known = set(re.findall(r"env (EMPORIUM_[A-Z0-9_]+)", help_text))
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


if __name__ == "__main__":
    unittest.main()
