"""hpan-keygen as a user runs it: files and modes, refusal to overwrite, --force, keysets."""
import json
import os
import stat
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

KEYGEN = harness.BIN["HPAN_KEYGEN"]


def keygen(*args):
    return subprocess.run([KEYGEN, *args], capture_output=True, text=True, timeout=30)


class Keygen(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.path = os.path.join(self.tmp.name, "issuer.key")

    def test_writes_the_secret_0600_and_the_public_key_beside_it(self):
        p = keygen("--json", "signing", "--out", self.path)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertRegex(out["kid"], r"^[0-9a-f]{16}$")
        self.assertEqual(stat.S_IMODE(os.stat(self.path).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(self.path + ".pub").st_mode), 0o640)
        with open(self.path + ".pub") as f:
            self.assertEqual(f.readline(), "hpan-signing-public-key/1\n")

    def test_refuses_to_overwrite_without_force(self):
        self.assertEqual(keygen("recipient", "--out", self.path).returncode, 0)
        with open(self.path) as f:
            before = f.read()
        p = keygen("recipient", "--out", self.path)
        self.assertEqual(p.returncode, 1)
        self.assertIn("--force", p.stderr)
        with open(self.path) as f:
            self.assertEqual(f.read(), before)
        self.assertEqual(keygen("recipient", "--out", self.path, "--force").returncode, 0)
        with open(self.path) as f:
            self.assertNotEqual(f.read(), before)

    def test_builds_a_keyset_and_refuses_the_wrong_key_type(self):
        a, b = self.path, os.path.join(self.tmp.name, "next.key")
        ka = json.loads(keygen("--json", "signing", "--out", a).stdout)["kid"]
        kb = json.loads(keygen("--json", "signing", "--out", b).stdout)["kid"]
        ks = os.path.join(self.tmp.name, "issuer.keyset")
        p = keygen("keyset", "--add", a + ".pub", "--add", b + ".pub", "--current", ka, "--out", ks)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(ks) as f:
            keyset = json.load(f)
        self.assertEqual(keyset["current"], ka)
        self.assertEqual({k["kid"] for k in keyset["keys"]}, {ka, kb})
        r = os.path.join(self.tmp.name, "body.key")
        keygen("recipient", "--out", r)
        p = keygen("keyset", "--add", r + ".pub", "--out", os.path.join(self.tmp.name, "x.keyset"))
        self.assertEqual(p.returncode, 1)
        self.assertIn("hpan-signing-public-key/1", p.stderr)

    def test_usage_errors_exit_2(self):
        self.assertEqual(keygen("signing").returncode, 2)
        self.assertEqual(keygen("frobnicate").returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
