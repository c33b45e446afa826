"""The whole lifecycle of one notice through the real hpanctl against a real hpand,
with two real administrators (maker and checker), then the outbox rows, the audit
records, `audit verify`, and tampering detection."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402


class Lifecycle(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.uids = harness.ensure_users()

    def setUp(self):
        u = self.uids
        self.d = harness.Daemon(roles={
            f"uid:{u['alice']}": "administrator",
            f"uid:{u['bob']}": "administrator",
            f"uid:{u['olivia']}": "operator",
            f"uid:{u['victor']}": "viewer",
            "uid:0": "operator",
        })
        self.addCleanup(self.d.cleanup)
        self.d.start()

    def ctl_json(self, user, *args, expect=0):
        p = self.d.ctl("--json", *args, user=user)
        self.assertEqual(p.returncode, expect, f"hpanctl {args} as {user}: {p.stdout} {p.stderr}")
        return json.loads(p.stdout) if p.stdout.strip() else None

    def add_bodies(self):
        for body_id, receives in (("RQ1", "selected"), ("NAT", "all"), ("OTH", "selected")):
            _, pub = harness.recipient_key(self.d.tmp, body_id)
            self.ctl_json("olivia", "body", "add", "--id", body_id, "--name", f"Body {body_id}",
                          "--kind", "trust", "--receives", receives, "--public-key", pub,
                          "--webhook-url", f"http://127.0.0.1:1/{body_id.lower()}",
                          "--email", f"hpan@{body_id.lower()}.example.nhs.uk")

    def test_whole_lifecycle_with_maker_and_checker(self):
        self.add_bodies()
        content = os.path.join(self.d.tmp, "content.json")
        with open(content, "w") as f:
            json.dump(harness.sample_content(), f)
        os.chmod(content, 0o644)

        # A viewer cannot create; an operator cannot either.
        self.ctl_json("victor", "notice", "create", "--file", content, expect=6)
        self.ctl_json("olivia", "notice", "create", "--file", content, expect=6)
        created = self.ctl_json("alice", "notice", "create", "--file", content)
        nid = created["id"]
        self.assertRegex(nid, r"^HPAN-\d{4}-\d{6}$")
        self.assertEqual(created["state"], "draft")

        # The maker cannot check her own draft.
        err = self.ctl_json("alice", "notice", "approve", nid, expect=5)
        self.assertEqual(err["error"]["code"], "maker_checker")
        self.ctl_json("bob", "notice", "approve", nid)
        # Issue before the practitioner is informed needs urgency and a reason.
        self.ctl_json("alice", "notice", "issue", nid, expect=5)
        issued = self.ctl_json("alice", "notice", "issue", nid, "--urgent", "--reason", "imminent risk")
        self.assertEqual(issued["notice"]["state"], "active")
        self.assertEqual(issued["version"]["deliveries_queued"], 4)  # RQ1 webhook+email, NAT both
        self.ctl_json("alice", "notice", "inform", nid)

        # Review: continue.
        self.ctl_json("bob", "notice", "review", nid, "--outcome", "continue")

        # Update: proposed by alice, approved by bob → version 2 to the same bodies + OTH.
        changes = os.path.join(self.d.tmp, "changes.json")
        with open(changes, "w") as f:
            json.dump({"recipients": ["OTH"]}, f)
        os.chmod(changes, 0o644)
        self.ctl_json("alice", "notice", "update", nid, "--file", changes)
        self.ctl_json("alice", "notice", "approve", nid, expect=5)
        v2 = self.ctl_json("bob", "notice", "approve", nid)
        self.assertEqual(v2["version"]["version"], 2)
        self.assertEqual(v2["version"]["deliveries_queued"], 6)

        # Revoke: proposed by bob, approved by alice.
        self.ctl_json("bob", "notice", "revoke", nid, "--reason", "interim suspension by the regulator")
        self.ctl_json("bob", "notice", "approve", nid, expect=5)
        v3 = self.ctl_json("alice", "notice", "approve", nid)
        self.assertEqual(v3["notice"]["state"], "revoked")
        self.assertEqual(v3["version"]["type"], "revoked")

        # Outbox: one row per (version, body, channel); the receivers are down (closed
        # loopback ports), so nothing is delivered.
        with self.d.db() as db:
            rows = db.execute("SELECT version, body_id, channel, message_type FROM outbox"
                              " WHERE notice_id = ? ORDER BY version, body_id, channel", (nid,)).fetchall()
        self.assertEqual(len(rows), 4 + 6 + 6)
        self.assertEqual({r[3] for r in rows if r[0] == 3}, {"revoked"})
        self.assertIn((3, "OTH", "webhook", "revoked"), rows)

        # History and audit: who did what, in order; no personal data in the audit log.
        hist = self.ctl_json("alice", "notice", "history", nid)
        methods = [a["method"] for a in hist["audit"] if a["outcome"] == "ok"]
        self.assertEqual(methods, ["notice.create", "notice.approve", "notice.issue", "notice.inform",
                                   "notice.review", "notice.update", "notice.approve",
                                   "notice.revoke", "notice.approve"])
        users = [a["actor"]["user"] for a in hist["audit"] if a["outcome"] == "ok"]
        self.assertEqual(users[:2], ["hpantalice", "hpantbob"])
        refused = [a for a in hist["audit"] if a["outcome"] == "refused"]
        self.assertGreaterEqual(len(refused), 3)
        with self.d.db() as db:
            leaked = db.execute("SELECT count(*) FROM audit WHERE record LIKE '%Test Example%'"
                                " OR record LIKE '%0000001%'").fetchone()[0]
        self.assertEqual(leaked, 0)

        verify = self.ctl_json("victor", "audit", "verify")
        self.assertTrue(verify["ok"], verify)
        proof = self.ctl_json("victor", "audit", "proof", "3")
        self.assertEqual(proof["index"], 3)
        self.assertTrue(proof["proof"])

        # Pre-employment check and subject access.
        check = self.ctl_json("victor", "check", "--regulator", "GMC", "--number", "0000001")
        self.assertFalse(check["subject_of_active_notice"])  # revoked
        sar = self.ctl_json("alice", "sar", "--regulator", "GMC", "--number", "0000001")
        self.assertEqual(len(sar["notices"]), 1)
        self.ctl_json("victor", "sar", "--regulator", "GMC", "--number", "0000001", expect=6)

        # Logs hold ids, never the practitioner's name or number.
        log = self.d.read_log()
        self.assertIn(nid, log)
        self.assertNotIn("Test Example", log)
        self.assertNotIn("0000001", log)

    def test_audit_export_verifies_independently_and_survives_key_rotation(self):
        """An outside auditor recomputes the RFC 6962 root from the exported records and
        checks the signed checkpoints with PyNaCl; rotation keeps old checkpoints valid."""
        import base64
        import hashlib
        import nacl.signing
        self.add_bodies()
        rotated = self.ctl_json("alice", "keys", "rotate")
        self.assertNotEqual(rotated["kid"], rotated["previous_kid"])
        self.ctl_json("olivia", "body", "suspend", "RQ1")
        self.assertTrue(self.ctl_json("victor", "audit", "verify")["ok"])
        out = os.path.join(self.d.tmp, "export")
        self.ctl_json(None, "audit", "export", out)
        with open(os.path.join(out, "records.jsonl"), "rb") as f:
            records = f.read().splitlines()
        with open(os.path.join(out, "keyset.json")) as f:
            keyset = json.load(f)
        with open(os.path.join(out, "origin.txt")) as f:
            origin = f.read().strip()
        self.assertEqual(len(keyset["keys"]), 2)

        def mth(leaves):
            if len(leaves) == 1:
                return leaves[0]
            k = 1
            while k * 2 < len(leaves):
                k *= 2
            return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()

        leaves = [hashlib.sha256(b"\x00" + r).digest() for r in records]
        keys = {}
        for k in keyset["keys"]:
            pk = base64.b64decode(k["public_key"])
            khash = hashlib.sha256(origin.encode() + b"\n\x01" + pk).digest()[:4]
            keys[khash] = nacl.signing.VerifyKey(pk)
        checked, signers = 0, set()
        with open(os.path.join(out, "checkpoints.txt"), "rb") as f:
            lines = f.read().split(b"\n")
        # Each note: origin, size, root, blank, signature line; then a blank line between notes.
        while len(lines) >= 5 and lines[0]:
            o, size, root, blank, sigline = lines[:5]
            lines = lines[6:]
            self.assertEqual(blank, b"")
            self.assertEqual(o.decode(), origin)
            self.assertEqual(base64.b64decode(root), mth(leaves[:int(size)]))
            name, blob = sigline.decode().removeprefix("\u2014 ").split(" ")
            self.assertEqual(name, origin)
            blob = base64.b64decode(blob)
            keys[blob[:4]].verify(o + b"\n" + size + b"\n" + root + b"\n", blob[4:])
            signers.add(blob[:4])
            checked += 1
        self.assertGreater(checked, 3)
        self.assertEqual(len(signers), 2, "checkpoints before and after rotation")

    def test_every_command_prints_for_people_without_json(self):
        """The same flow with human-readable output: each command exits 0 and prints
        what a person would look for."""
        self.add_bodies()
        content = os.path.join(self.d.tmp, "content.json")
        with open(content, "w") as f:
            json.dump(harness.sample_content(), f)
        os.chmod(content, 0o644)

        def human(user, *args, expect_text=""):
            p = self.d.ctl(*args, user=user)
            self.assertEqual(p.returncode, 0, f"{args}: {p.stdout} {p.stderr}")
            self.assertIn(expect_text, p.stdout, args)
            return p.stdout

        out = human("alice", "notice", "create", "--file", content, expect_text="state:")
        nid = out.split("id:", 1)[1].split()[0]
        human("bob", "notice", "approve", nid, expect_text="approved")
        human("alice", "notice", "issue", nid, "--urgent", "--reason", "risk", expect_text="delivered version 1")
        human("alice", "notice", "inform", nid, expect_text="active")
        human("bob", "notice", "review", nid, "--outcome", "continue", expect_text="next_review_due")
        human("bob", "notice", "revoke", nid, "--reason", "done", expect_text="pending:")
        human("alice", "notice", "approve", nid, expect_text="delivered version 2 (revoked)")
        human("alice", "notice", "show", nid, expect_text="Dr Test Example")
        human("alice", "notice", "history", nid, expect_text="notice.approve")
        human("victor", "notice", "list", expect_text=nid)
        human("victor", "body", "list", expect_text="RQ1")
        human("victor", "body", "show", "RQ1", expect_text="fingerprint")
        human("victor", "deliveries", "list", expect_text=f"{nid}-v1-NAT-webhook")
        human("victor", "deliveries", "show", f"{nid}-v1-NAT-webhook", expect_text="ATTEMPT")
        human("victor", "check", "--regulator", "GMC", "--number", "0000001", expect_text="no active notice")
        human("alice", "sar", "--name", "Dr Test Example", "--dob", "1970-01-31", expect_text="1 notice(s)")
        human("victor", "status", expect_text="audit_size")
        human("victor", "audit", "verify", expect_text="audit log verified")
        human("victor", "audit", "proof", "1", expect_text="proof:")
        human("victor", "keys", "export", expect_text="hpan.keyset/1")
        for args in (["--help"], ["notice", "--help"], ["notice", "issue", "--help"], ["deliveries", "retry", "--help"]):
            self.assertEqual(self.d.ctl(*args).returncode, 0, args)
        self.assertEqual(self.d.ctl("notice", "frobnicate").returncode, 2)

    def test_unknown_peer_is_refused_and_audited(self):
        p = self.d.ctl("--json", "status", user="mallory")
        self.assertEqual(p.returncode, 6, p.stdout + p.stderr)
        with self.d.db() as db:
            refused = db.execute("SELECT record FROM audit WHERE json_extract(record, '$.method')"
                                 " = 'control.refused'").fetchall()
        self.assertEqual(len(refused), 1)
        self.assertEqual(json.loads(refused[0][0])["actor"]["uid"], self.uids["mallory"])

    def test_tampering_with_an_audit_record_is_detected_and_named(self):
        self.add_bodies()
        self.assertEqual(self.d.stop(), 0)
        with self.d.db() as db:
            n = db.execute("SELECT count(*) FROM audit").fetchone()[0]
            self.assertGreaterEqual(n, 3)
            rec = json.loads(db.execute("SELECT record FROM audit WHERE seq = 2").fetchone()[0])
            rec["outcome"] = "refused"
            db.execute("UPDATE audit SET record = ? WHERE seq = 2",
                       (json.dumps(rec, sort_keys=True, separators=(",", ":")),))
        self.d.start()
        p = self.d.ctl("--json", "audit", "verify", user="victor")
        self.assertEqual(p.returncode, 8, p.stdout + p.stderr)
        report = json.loads(p.stdout)
        self.assertFalse(report["ok"])
        self.assertEqual(report["first_bad_record"], 2)

    def test_bad_input_gets_an_error_naming_the_field_and_changes_nothing(self):
        self.add_bodies()
        content = harness.sample_content()
        content["practitioner"]["date_of_birth"] = "1970-02-30"
        path = os.path.join(self.d.tmp, "bad.json")
        with open(path, "w") as f:
            json.dump(content, f)
        os.chmod(path, 0o644)
        err = self.ctl_json("alice", "notice", "create", "--file", path, expect=3)
        self.assertEqual(err["error"]["field"], "practitioner.date_of_birth")
        with open(path, "w") as f:
            f.write('{"practitioner": \n  {"full_name": }')
        p = self.d.ctl("notice", "create", "--file", path, user="alice")
        self.assertEqual(p.returncode, 2)
        self.assertIn("bad.json:2", p.stderr)
        with self.d.db() as db:
            self.assertEqual(db.execute("SELECT count(*) FROM notices").fetchone()[0], 0)
        # Unknown notice, unknown method.
        self.ctl_json("alice", "notice", "show", "HPAN-2026-999999", expect=4)
        p = self.d.ctl("call", "notice.explode", "{}", user="alice")
        self.assertEqual(p.returncode, 3)
        self.assertIn("unknown_method", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
