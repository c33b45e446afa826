"""Bad input at the control socket from many clients at once, and peers with no role.

A real hpand with a store holding a notice, bodies and a case. Forty clients at once send
truncated, oversized, non-UTF-8, deeply nested and wrongly typed requests (for every
method hpand documents); each complete line gets an error, hpand keeps serving, and no
table but the audit log changes (where refusals are recorded). A uid with no role is
refused every method, and each refusal is audited with its uid."""
import json
import os
import re
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

SOURCE = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))


def documented_methods():
    with open(os.path.join(SOURCE, "docs", "control-protocol.md")) as f:
        return re.findall(r"^### ([a-z]+(?:\.[a-z_]+)?) \(", f.read(), re.M)


def snapshot(d):
    """Every table but the audit log and checkpoints, as rows."""
    out = {}
    with d.db() as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for t in tables:
            if t in ("audit", "checkpoints"):
                continue
            out[t] = db.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
    return out


class BadInput(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.uids = harness.ensure_users()
        cls.d = harness.Daemon(roles={"uid:0": "administrator", f"uid:{cls.uids['alice']}": "administrator"})
        cls.d.start()
        with harness.Client(cls.d.sock) as c:
            _, pub = harness.recipient_key(cls.d.tmp, "RQ1")
            with open(pub) as f:
                c.call("body.add", {"id": "RQ1", "name": "Requesting", "kind": "trust", "receives": "all",
                                    "public_key": f.read(), "webhook_url": "http://127.0.0.1:1/x"})
            cls.nid = c.call("notice.create", {"content": harness.sample_content()})["id"]
            c.call("case.open", {"kind": "exclusion", "owner": "mhd@trust.example.nhs.uk"})
        cls.methods = documented_methods()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def test_a_storm_of_bad_requests_from_many_clients_changes_nothing(self):
        self.assertGreater(len(self.methods), 30)
        before = snapshot(self.d)
        nested = b'{"id":1,"method":"status","params":' + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"}\n"
        wrong = [7, "x" * 5000, [], True, {"id": {"$ne": 1}}, {"id": "HPAN-\r\n-x"}, {"id": 1.5},
                 {"kind": "\u0000", "owner": "a@b\r\nBcc: c@d"}]
        lines = [b"{not json\n", b"[1,2,3]\n", b'{"id":4,"method":"st\xff\xfeatus"}\n', nested,
                 b'{"id":5,"method":"status","params":{"pad":"' + b"x" * (1 << 20) + b'"}}\n',
                 b'{"id":6,"method":"notice.create","params":{"content":"\xc3\x28"}}\n']
        for m in self.methods:
            if m in ("status",):
                continue
            for p in wrong:
                lines.append(json.dumps({"id": 7, "method": m, "params": p}).encode() + b"\n")
        answers, failures = [], []

        def client(n):
            try:
                with harness.Client(self.d.sock, timeout=30) as c:
                    for i, raw in enumerate(lines):
                        if (i + n) % 3:
                            continue  # each client a third of the lines, in its own order
                        c.send_raw(raw)
                        a = c.read_line()
                        if "error" not in a:
                            # Only read-only methods may answer wrong params with a result.
                            method = json.loads(raw).get("method", "") if raw.startswith(b'{"id": 7') else ""
                            if method.split(".")[-1] not in ("list", "export", "verify", "upcoming", "show",
                                                             "history", "check", "sar", "proof"):
                                failures.append((raw[:80], a))
                        answers.append(a)
                    # A truncated line, then the connection closes.
                    c.send_raw(b'{"id":1,"method":"notice.iss')
            except Exception as e:  # noqa: BLE001 - reported below
                failures.append(("client", n, repr(e)))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=240)
        self.assertEqual(failures, [])
        self.assertGreater(len(answers), 40 * len(lines) // 3 - 40)
        with harness.Client(self.d.sock) as c:
            self.assertEqual(c.call("status")["version"], "0.1.0")
            self.assertTrue(c.call("audit.verify")["ok"])
        after = snapshot(self.d)
        self.assertEqual(before, after)
        print(f"{len(answers)} bad requests from 40 clients answered; store unchanged", file=sys.stderr)

    def test_a_peer_with_no_role_is_refused_every_method_and_each_refusal_is_audited(self):
        script = ("import json,socket,sys\n"
                  "s=socket.socket(socket.AF_UNIX,socket.SOCK_STREAM);s.connect(sys.argv[1]);f=s.makefile('rb')\n"
                  "for i,m in enumerate(json.loads(sys.argv[2])):\n"
                  "  s.sendall(json.dumps({'id':i,'method':m,'params':{'id':'X'}}).encode()+b'\\n')\n"
                  "  print(f.readline().decode().strip())\n")
        p = subprocess.run(["setpriv", "--reuid", "hpantmallory", "--regid", harness.ADMIN_GROUP, "--init-groups",
                            "--", "/usr/bin/python3", "-c", script, self.d.sock, json.dumps(self.methods)],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        answers = [json.loads(line) for line in p.stdout.splitlines()]
        self.assertEqual(len(answers), len(self.methods))
        for m, a in zip(self.methods, answers):
            self.assertEqual(a.get("error", {}).get("code"), "forbidden", (m, a))
        with self.d.db() as db:
            refused = [json.loads(r[0]) for r in db.execute(
                "SELECT record FROM audit WHERE json_extract(record, '$.method') = 'control.refused'"
                " AND json_extract(record, '$.actor.uid') = ?", (self.uids["mallory"],))]
        self.assertEqual(sorted(r["object"]["method"] for r in refused), sorted(self.methods))


if __name__ == "__main__":
    unittest.main(verbosity=2)
