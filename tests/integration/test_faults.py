"""Faults that can be provoked for real: twenty fan-outs to 1,000 bodies, each cut by a
SIGKILL of hpand at a random moment and a restart. Every body ends with every notice,
nothing is lost, a repeat only ever carries the same delivery id, and the audit log
verifies after every restart. Prints the counts."""
import json
import os
import random
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
import receivers  # noqa: E402

wait_for = harness.wait_for


class Faults(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.uids = harness.ensure_users()

    def test_twenty_sigkills_during_a_fan_out_to_1000_bodies(self):
        n, kills = 1000, 20
        rng = random.Random(int(os.environ.get("HPAN_FAULT_SEED", "20261128")))
        web = receivers.WebhookReceiver()
        self.addCleanup(web.stop)
        d = harness.Daemon(roles={"uid:0": "administrator", f"uid:{self.uids['alice']}": "administrator"},
                           delivery="delivery:\n  allow_plain_http_to_loopback: true\n  concurrency: 16\n"
                                    "  per_host: 8\n  smtp: {url: \"smtp://127.0.0.1:1\", starttls: none}\n")
        self.addCleanup(d.cleanup)
        d.start()
        _, pub = harness.recipient_key(d.tmp, "KEY")
        with open(pub) as f:
            pk = f.read()
        with harness.Client(d.sock) as c:
            for start in range(0, n, 100):  # pipelined, 100 at a time
                for i in range(start, min(start + 100, n)):
                    c.send_raw(json.dumps({"id": i, "method": "body.add", "params": {
                        "id": f"B{i:04d}", "name": f"Body {i}", "kind": "trust", "receives": "all",
                        "public_key": pk, "webhook_url": web.url(f"/b{i:04d}")}}).encode() + b"\n")
                for i in range(start, min(start + 100, n)):
                    self.assertIn("result", c.read_line())
        # Twenty rounds: issue a notice to all 1,000 bodies, kill hpand at a random moment
        # of its fan-out (while earlier ones may still be going), restart, verify the audit.
        nids = []

        def delivered():
            with d.db() as db:
                return db.execute("SELECT count(*) FROM outbox WHERE state = 'delivered'").fetchone()[0]

        mid_fan_out = 0
        for k in range(kills):
            with harness.Client(d.sock) as c:
                nid = c.call("notice.create", {"content": harness.sample_content(requesting_body="B0000",
                                                                                 number=f"{k:07d}")})["id"]
            self.assertEqual(d.ctl("notice", "approve", nid, user="alice").returncode, 0)
            with harness.Client(d.sock) as c:
                c.call("notice.issue", {"id": nid, "urgent": True, "reason": "risk"})
            nids.append(nid)
            time.sleep(rng.uniform(0.0, 0.6))
            if delivered() < n * len(nids):
                mid_fan_out += 1
            d.kill9()
            d.start()
            with harness.Client(d.sock) as c:
                self.assertTrue(c.call("audit.verify")["ok"], f"audit after kill {k + 1}")
        wait_for(lambda: delivered() == n * kills, timeout=240, what="every delivery")
        got = {}
        for r in web.received():
            got.setdefault((r["path"], r["headers"]["webhook-id"].split("-v1-")[0]), []).append(
                r["headers"]["webhook-id"])
        self.assertEqual(len(got), n * kills, "a body is missing a notice")
        for (path, nid), ids in got.items():
            self.assertEqual(set(ids), {f"{nid}-v1-B{path[2:]}-webhook"}, path)
        received = sum(len(ids) for ids in got.values())
        with d.db() as db:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        with harness.Client(d.sock) as c:
            self.assertTrue(c.call("audit.verify")["ok"])
        self.assertGreaterEqual(mid_fan_out, kills // 2, "the kills should land during fan-outs")
        print(f"{kills} fan-outs to {n} bodies, a SIGKILL in each ({mid_fan_out} with deliveries still pending): "
              f"{received} requests received for {n * kills} deliveries, {received - n * kills} repeats, all with "
              "the same delivery id; 0 lost; audit verified after every restart", file=sys.stderr)
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
