"""hpand killed with SIGKILL during a burst of changes: after restart the database passes
PRAGMA integrity_check, the audit log verifies, and every acknowledged change is there."""
import os
import random
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402


class CrashSafety(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.ensure_users()

    def test_sigkill_during_a_burst_loses_no_acknowledged_change(self):
        d = harness.Daemon(roles={"uid:0": "administrator"})
        self.addCleanup(d.cleanup)
        _, pub = harness.recipient_key(d.tmp, "k")
        with open(pub) as f:
            public_key = f.read()
        rng = random.Random(int(os.environ.get("HPAN_TEST_SEED", "6962")))
        acknowledged = set()
        rounds = 4
        for round_no in range(rounds):
            d.start()
            stop = threading.Event()

            def burst():
                # Several clients at once, each adding bodies as fast as answers come.
                def one(worker):
                    try:
                        with harness.Client(d.sock, timeout=5) as c:
                            for i in range(100000):
                                if stop.is_set():
                                    return
                                body_id = f"R{round_no}W{worker}N{i}"
                                c.call("body.add", {"id": body_id, "name": "Crash test body",
                                                    "kind": "trust", "public_key": public_key,
                                                    "emails": ["hpan@crash.example.nhs.uk"]})
                                acknowledged.add(body_id)
                    except (OSError, AssertionError, ValueError):
                        return  # the daemon died under us: expected
                threads = [threading.Thread(target=one, args=(w,)) for w in range(4)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(timeout=30)

            runner = threading.Thread(target=burst)
            runner.start()
            time.sleep(0.3 + rng.random() * 0.7)
            d.kill9()
            stop.set()
            runner.join(timeout=30)
            self.assertFalse(runner.is_alive())

        d.start()
        with harness.Client(d.sock) as c:
            verify = c.call("audit.verify")
            self.assertTrue(verify["ok"], verify)
            stored = {b["id"] for b in c.call("body.list")["bodies"]}
        self.assertGreater(len(acknowledged), 50, "the burst made too few changes to mean anything")
        missing = acknowledged - stored
        self.assertEqual(missing, set(), f"{len(missing)} acknowledged bodies lost")
        self.assertEqual(d.stop(), 0)
        with d.db() as db:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            audited = db.execute("SELECT count(*) FROM audit WHERE json_extract(record, '$.method')"
                                 " = 'body.add'").fetchone()[0]
        self.assertEqual(audited, len(stored))
        print(f"acknowledged {len(acknowledged)} changes over {rounds} SIGKILLs; "
              f"stored {len(stored)}; audit records {verify['records']}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
