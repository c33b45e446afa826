"""The disk filling up, for real: hpand's state folder on a small tmpfs. Changes are
refused with a clear storage error once it is full, every change acknowledged before
stays, hpand keeps answering, and when space returns (the tmpfs grows) changes are
accepted again and the audit log verifies."""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402


class DiskFull(unittest.TestCase):
    def test_a_full_disk_refuses_changes_loses_nothing_and_recovers(self):
        harness.ensure_users()
        d = harness.Daemon(roles={"uid:0": "administrator"})
        self.addCleanup(d.cleanup)
        os.makedirs(d.state, exist_ok=True)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1536k,mode=0700", "tmpfs", d.state]).returncode != 0:
            self.skipTest("cannot mount a tmpfs here")
        self.addCleanup(lambda: subprocess.run(["umount", "-l", d.state]))
        d.start()
        _, pub = harness.recipient_key(d.tmp, "KEY")
        with open(pub) as f:
            pk = f.read()
        acknowledged, refusal = [], None
        with harness.Client(d.sock) as c:
            for i in range(5000):
                answer = c.request("body.add", {"id": f"B{i:04d}", "name": "Body " + "x" * 150 + str(i),
                                                "kind": "trust", "receives": "all", "public_key": pk,
                                                "webhook_url": f"http://127.0.0.1:1/{'y' * 200}{i}"})
                if "error" in answer:
                    refusal = answer["error"]
                    break
                acknowledged.append(f"B{i:04d}")
            self.assertIsNotNone(refusal, "the tmpfs never filled")
            self.assertEqual(refusal["code"], "storage_full", refusal)
            self.assertIn("full", refusal["message"].lower())
            # Still answering, and still refusing, while full.
            self.assertIn("uptime_seconds", c.call("status"))
            again = c.request("body.add", {"id": "AFTER", "name": "After", "kind": "trust", "receives": "all",
                                           "public_key": pk, "webhook_url": "http://127.0.0.1:1/after"})
            self.assertEqual(again.get("error", {}).get("code"), "storage_full", again)
        # hpanctl says so with its storage exit code.
        p = d.ctl("body", "add", "--id", "CTL1", "--name", "C", "--kind", "trust", "--receives", "all",
                  "--public-key", pub, "--webhook-url", "http://127.0.0.1:1/c")
        self.assertEqual(p.returncode, 9, p.stdout + p.stderr)
        # Space returns.
        subprocess.run(["mount", "-o", "remount,size=64m", d.state], check=True)
        with harness.Client(d.sock) as c:
            c.call("body.add", {"id": "AFTER", "name": "After", "kind": "trust", "receives": "all",
                                "public_key": pk, "webhook_url": "http://127.0.0.1:1/after"})
            listed = {b["id"] for b in c.call("body.list")["bodies"]}
            self.assertTrue(c.call("audit.verify")["ok"])
        self.assertTrue(set(acknowledged) <= listed, set(acknowledged) - listed)
        self.assertIn("AFTER", listed)
        # And after a restart, from the disk.
        self.assertEqual(d.stop(), 0)
        d.start()
        with harness.Client(d.sock) as c:
            self.assertTrue(set(acknowledged) | {"AFTER"} <= {b["id"] for b in c.call("body.list")["bodies"]})
            self.assertTrue(c.call("audit.verify")["ok"])
        with d.db() as db:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        print(f"state on a 1.5 MiB tmpfs: {len(acknowledged)} bodies acknowledged before it filled, "
              f"then refused with storage_full; all kept; accepted again after it grew", file=sys.stderr)
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
