"""Delivery against real receivers on loopback: an HTTPS webhook receiver and an SMTP
server (aiosmtpd) with STARTTLS, both using a CA made by the test. Every body receives
every message; signatures verify with PyNaCl and the npm standardwebhooks package; the
sealed notices open with hpan-verify; retries follow the backoff; permanent failures go
dead and come back with `deliveries retry`; SIGKILL mid fan-out loses nothing."""
import base64
import email
import email.policy
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

import nacl.signing

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
import receivers  # noqa: E402

NODE_MODULES = os.environ.get("HPAN_NODE_MODULES", "")


wait_for = harness.wait_for


class Delivery(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.uids = harness.ensure_users()

    def start(self, delivery_yaml, **kw):
        self.d = harness.Daemon(roles={"uid:0": "administrator", f"uid:{self.uids['alice']}": "administrator"},
                                delivery=delivery_yaml, **kw)
        self.addCleanup(self.d.cleanup)
        self.d.start()
        self.c = harness.Client(self.d.sock)
        self.addCleanup(lambda: self.c and self.c.s.close())

    def add_body(self, body_id, webhook=None, emails=(), receives="all", secret=None):
        key, pub = harness.recipient_key(self.d.tmp, body_id)
        with open(pub) as f:
            params = {"id": body_id, "name": f"Body {body_id}", "kind": "trust", "receives": receives,
                      "public_key": f.read(), "emails": list(emails)}
        if webhook:
            params["webhook_url"] = webhook
        if secret:
            params["webhook_secret"] = secret
        self.c.call("body.add", params)
        return key

    def issue(self, requesting="RQ1"):
        """Creates as root, approves as alice (a second administrator), issues urgently."""
        nid = self.c.call("notice.create", {"content": harness.sample_content(requesting_body=requesting)})["id"]
        p = self.d.ctl("notice", "approve", nid, user="alice")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.c.call("notice.issue", {"id": nid, "urgent": True, "reason": "imminent risk"})
        return nid

    def deliveries(self, **filters):
        return self.c.call("deliveries.list", filters)["deliveries"]

    def keyset_file(self):
        path = os.path.join(self.d.tmp, "issuer.keyset")
        with open(path, "w") as f:
            json.dump(self.c.call("keys.export")["keyset"], f)
        return path

    def hpan_verify(self, key, sealed_or_hook, *extra):
        path = os.path.join(self.d.tmp, "received.hpan")
        with open(path, "w") as f:
            f.write(sealed_or_hook)
        p = subprocess.run([harness.BIN["HPAN_VERIFY"], "--json", "--key", key, "--keyset", self.keyset_file(),
                            *extra, path], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)["payload"]

    def test_every_body_receives_every_message_over_https_and_starttls(self):
        tmp = tempfile.mkdtemp(prefix="hpan-ca-")
        ca, cert, key = receivers.make_test_ca(tmp)
        web = receivers.WebhookReceiver(tls=(cert, key), ca=ca)
        smtp = receivers.SmtpReceiver(tls=(cert, key), require_starttls=True)
        self.addCleanup(web.stop)
        self.addCleanup(smtp.stop)
        self.start(f"delivery:\n  tls: {{ca_file: {ca}}}\n  retry: {{first: 1s}}\n"
                   f"  smtp: {{url: \"smtp://127.0.0.1:{smtp.port}\", from: hpan@issuer.example.nhs.uk}}\n")
        secret = base64.b64encode(os.urandom(32)).decode()
        keys = {
            "RQ1": self.add_body("RQ1", webhook=web.url("/rq1"), receives="selected", secret=secret),
            "NAT": self.add_body("NAT", webhook=web.url("/nat")),
            "MAIL": self.add_body("MAIL", emails=["hpan@mail.example.nhs.uk", "duty@mail.example.nhs.uk"]),
        }
        nid = self.issue()
        wait_for(lambda: len(self.deliveries(state="delivered")) == 3, what="3 deliveries")

        # Webhooks: one request per body, Standard Webhooks headers, v1a verifies with the
        # issuer's key (PyNaCl), v1 with the shared secret (npm standardwebhooks).
        keyset = self.c.call("keys.export")["keyset"]
        issuer = nacl.signing.VerifyKey(base64.b64decode(keyset["keys"][0]["public_key"]))
        for path, body_id in (("/rq1", "RQ1"), ("/nat", "NAT")):
            got = web.received(path)
            self.assertEqual(len(got), 1, path)
            h, body = got[0]["headers"], got[0]["body"]
            self.assertEqual(h["webhook-id"], f"{nid}-v1-{body_id}-webhook")
            self.assertLess(abs(int(h["webhook-timestamp"]) - time.time()), 120)
            sigs = dict(s.split(",", 1) for s in h["webhook-signature"].split(" "))
            issuer.verify(f"{h['webhook-id']}.{h['webhook-timestamp']}.{body}".encode(), base64.b64decode(sigs["v1a"]))
            self.assertEqual("v1" in sigs, body_id == "RQ1")
            hook = json.loads(body)
            self.assertEqual((hook["type"], hook["notice_id"], hook["version"], hook["body_id"]),
                             ("hpan.notice.issued", nid, 1, body_id))
            self.assertNotIn("Test Example", body)
            payload = self.hpan_verify(keys[body_id], body)
            self.assertEqual(payload["practitioner"]["full_name"], "Dr Test Example")
            self.assertEqual(payload["body_id"], body_id)
        self.assertTrue(os.path.isdir(os.path.join(NODE_MODULES, "standardwebhooks")),
                        "npm standardwebhooks is missing: scripts/test installs it")
        got = web.received("/rq1")[0]
        p = subprocess.run(["node", os.path.join(os.path.dirname(__file__), "verify_standardwebhooks.js")],
                           input=json.dumps([{"secret": secret, "headers": got["headers"], "body": got["body"]}]),
                           capture_output=True, text=True, timeout=30, env=dict(os.environ, NODE_PATH=NODE_MODULES))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("1 verified", p.stdout)

        # Email: one message to both addresses, over STARTTLS, no personal data in clear.
        self.assertEqual(len(smtp.messages), 1)
        m = smtp.messages[0]
        self.assertTrue(m["tls"])
        self.assertEqual(sorted(m["to"]), ["duty@mail.example.nhs.uk", "hpan@mail.example.nhs.uk"])
        msg = email.message_from_string(m["data"], policy=email.policy.default)
        self.assertEqual(msg["Message-ID"], f"<{nid}-v1-MAIL-email@hpand.invalid>")
        self.assertNotIn("Test Example", m["data"])
        self.assertNotIn("0000001", m["data"])
        attachment = next(p for p in msg.iter_attachments())
        self.assertEqual(attachment.get_filename(), f"{nid}-v1.hpan")
        content = attachment.get_content()
        payload = self.hpan_verify(keys["MAIL"], content.decode() if isinstance(content, bytes) else content)
        self.assertEqual(payload["notice_id"], nid)

        # Revocation reaches every body that received version 1.
        self.c.call("notice.revoke", {"id": nid, "reason": "regulator suspended registration"})
        p = self.d.ctl("notice", "approve", nid, user="alice")
        self.assertEqual(p.returncode, 0, p.stderr)
        wait_for(lambda: len(self.deliveries(state="delivered")) == 6, what="6 deliveries")
        self.assertEqual(json.loads(web.received("/nat")[1]["body"])["type"], "hpan.notice.revoked")
        self.assertEqual(len(smtp.messages), 2)
        with self.d.db() as db:
            attempts = db.execute("SELECT count(*) FROM audit WHERE json_extract(record,'$.method')"
                                  " = 'delivery.attempt'").fetchone()[0]
        self.assertEqual(attempts, 6)
        self.assertTrue(self.c.call("audit.verify")["ok"])

    def test_retries_follow_the_backoff_and_permanent_failures_go_dead(self):
        web = receivers.WebhookReceiver()
        smtp = receivers.SmtpReceiver()
        self.addCleanup(web.stop)
        self.addCleanup(smtp.stop)
        self.start("delivery:\n  allow_plain_http_to_loopback: true\n  timeout: 2s\n"
                   "  retry: {first: 1s, max_interval: 4s, give_up_after: 1h}\n"
                   f"  smtp: {{url: \"smtp://127.0.0.1:{smtp.port}\", starttls: none}}\n"
                   "reminders: {escalation_contact: duty@issuer.example.nhs.uk}\n")
        for path, answers in {"/busy": ["busy", "busy", "ok"], "/gone": ["gone", "ok"], "/limit": ["slow429", "ok"],
                              "/hang": ["hang", "ok"], "/drop": ["close", "ok"]}.items():
            web.answer(path, answers)
        for name in ("busy", "gone", "limit", "hang", "drop"):
            self.add_body(name.upper(), webhook=web.url("/" + name))
        self.add_body("RQ1", webhook=web.url("/rq1"), receives="selected")
        nid = self.issue()
        delivered = lambda: [d for d in self.deliveries(state="delivered", notice_id=nid)]  # noqa: E731
        wait_for(lambda: len(delivered()) == 5, timeout=40, what="5 deliveries")
        times = [r["at"] for r in web.received("/busy")]
        self.assertEqual(len(times), 3)
        # 1 s then 2 s, each within the ±20% jitter (and the loop's scheduling).
        self.assertGreaterEqual(times[1] - times[0], 0.7)
        self.assertGreaterEqual(times[2] - times[1], 1.5)
        limit = [r["at"] for r in web.received("/limit")]
        self.assertGreaterEqual(limit[1] - limit[0], 1.8, "Retry-After: 2 was not honoured")
        self.assertEqual(len(web.received("/hang")), 2)
        self.assertEqual(len(web.received("/drop")), 2)
        # 410 is permanent: dead after one attempt, with the reason.
        gone = self.c.call("deliveries.show", {"id": f"{nid}-v1-GONE-webhook"})
        self.assertEqual(gone["state"], "dead")
        self.assertEqual(len(gone["attempt_log"]), 1)
        self.assertIn("410", gone["attempt_log"][0]["detail"])
        self.assertEqual(len(web.received("/gone")), 1)
        self.assertIn("is dead", self.d.read_log())
        # The escalation contact is told, with ids only.
        wait_for(lambda: smtp.messages, what="the escalation email")
        esc = smtp.messages[0]
        self.assertEqual(esc["to"], ["duty@issuer.example.nhs.uk"])
        self.assertIn(f"{nid}-v1-GONE-webhook", esc["data"])
        self.assertIn("HTTP 410", esc["data"])
        self.assertNotIn("Test Example", esc["data"])
        self.assertNotIn("0000001", esc["data"])
        # An operator brings it back; it is delivered with the same webhook-id.
        p = self.d.ctl("--json", "deliveries", "retry", "--all-dead")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["requeued"], 1)
        wait_for(lambda: len(delivered()) == 6, what="the retried delivery")
        ids = {r["headers"]["webhook-id"] for r in web.received("/gone")}
        self.assertEqual(ids, {f"{nid}-v1-GONE-webhook"})
        busy = self.c.call("deliveries.show", {"id": f"{nid}-v1-BUSY-webhook"})
        self.assertEqual([a["outcome"] for a in busy["attempt_log"]], ["retry", "retry", "delivered"])
        self.assertIn("503", busy["attempt_log"][0]["detail"])

    def test_a_hung_host_holds_up_no_other_host_and_a_receiver_that_comes_back_gets_its_backlog(self):
        # Three hosts on loopback: one that accepts and never answers (for 12 s), one that
        # answers at once, one with nothing listening yet. concurrency 8, per_host 2.
        hung = receivers.WebhookReceiver(address="127.0.0.2", hang_seconds=12)
        good = receivers.WebhookReceiver(address="127.0.0.3")
        self.addCleanup(hung.stop)
        self.addCleanup(good.stop)
        down_port = receivers.free_port()
        self.start("delivery:\n  allow_plain_http_to_loopback: true\n  concurrency: 8\n  per_host: 2\n"
                   "  timeout: 30s\n  retry: {first: 1s, max_interval: 2s, give_up_after: 1h}\n"
                   "  smtp: {url: \"smtp://127.0.0.1:1\", starttls: none}\n")
        # Recipients are queued in body id order: the hung host's first (A..), then the
        # down one's (D..), then the good one's (G..).
        for i in range(12):
            hung.answer(f"/A{i:02d}", ["hang"])
            self.add_body(f"A{i:02d}", webhook=hung.url(f"/A{i:02d}"))
            self.add_body(f"G{i:02d}", webhook=good.url(f"/G{i:02d}"))
        for i in range(6):
            self.add_body(f"D{i:02d}", webhook=f"http://127.0.0.4:{down_port}/D{i:02d}")
        self.add_body("RQ1", webhook=good.url("/rq1"), receives="selected")
        t0 = time.monotonic()
        nid = self.issue()

        def state_of(prefix):
            return [d["state"] for d in self.deliveries(notice_id=nid) if d["body_id"].startswith(prefix)]

        # The good host's 12 arrive while the hung host holds its 2 connections.
        wait_for(lambda: state_of("G") == ["delivered"] * 12, timeout=8,
                 what="the good host's deliveries while another host hangs")
        good_s = time.monotonic() - t0
        self.assertLessEqual(len(hung.received()), 2, "more connections to the hung host than per_host")
        self.assertGreaterEqual(len(hung.received()), 1)
        # Claimed for it: what it holds, and as many again built and waiting (not in curl).
        self.assertLessEqual(state_of("A").count("in_flight"), 4)
        # The down host's deliveries are refused and retried on the backoff, not dead.
        wait_for(lambda: all(d["attempts"] >= 2 for d in self.deliveries(notice_id=nid)
                             if d["body_id"].startswith("D")), timeout=10, what="retries to the down host")
        self.assertEqual(set(state_of("D")) - {"failed", "in_flight", "pending"}, set())

        # The down receiver comes up on its address: it gets its backlog.
        back = receivers.WebhookReceiver(address="127.0.0.4", port=down_port)
        self.addCleanup(back.stop)
        wait_for(lambda: state_of("D") == ["delivered"] * 6, timeout=15, what="the backlog of the receiver that came back")
        self.assertEqual(sorted(r["path"] for r in back.received()), [f"/D{i:02d}" for i in range(6)])

        # The hung host recovers: every one of its bodies ends with its notice, each with
        # its own delivery id (the request cut by the hang is sent again with the same id).
        for i in range(12):
            hung.answer(f"/A{i:02d}", ["ok"])
        wait_for(lambda: state_of("A") == ["delivered"] * 12, timeout=60, what="the hung host's deliveries")
        by_path = {}
        for r in hung.received():
            by_path.setdefault(r["path"], set()).add(r["headers"]["webhook-id"])
        self.assertEqual(sorted(by_path), [f"/A{i:02d}" for i in range(12)])
        for path, ids in by_path.items():
            self.assertEqual(ids, {f"{nid}-v1-{path[1:]}-webhook"})
        self.assertTrue(self.c.call("audit.verify")["ok"])
        print(f"good host done in {good_s:.1f} s while the hung host held {len(by_path)} bodies", file=sys.stderr)

    def test_a_suspended_body_gets_nothing_until_resumed(self):
        web = receivers.WebhookReceiver()
        self.addCleanup(web.stop)
        self.start("delivery:\n  allow_plain_http_to_loopback: true\n  smtp: {url: \"smtp://127.0.0.1:1\", starttls: none}\n")
        self.add_body("RQ1", webhook=web.url("/rq1"))
        self.add_body("SUS", webhook=web.url("/sus"))
        self.c.call("body.suspend", {"id": "SUS"})
        self.issue()
        wait_for(lambda: len(web.received("/rq1")) == 1, what="RQ1's delivery")
        time.sleep(1.0)
        self.assertEqual(web.received("/sus"), [])
        self.c.call("body.resume", {"id": "SUS"})
        wait_for(lambda: len(web.received("/sus")) == 1, what="the resumed body's delivery")

    def test_tls_verification_is_always_on(self):
        """An HTTPS receiver whose CA hpand was not given is not trusted: nothing is
        delivered, the attempt says why, and the receiver never sees the notice."""
        tmp = tempfile.mkdtemp(prefix="hpan-ca-")
        ca, cert, key = receivers.make_test_ca(tmp)
        web = receivers.WebhookReceiver(tls=(cert, key), ca=ca)
        self.addCleanup(web.stop)
        self.start("delivery:\n  retry: {first: 1s}\n  smtp: {url: \"smtp://127.0.0.1:1\", starttls: none}\n")
        self.add_body("RQ1", webhook=web.url("/rq1"))
        nid = self.issue()
        did = f"{nid}-v1-RQ1-webhook"
        wait_for(lambda: self.c.call("deliveries.show", {"id": did})["attempt_log"], what="an attempt")
        d = self.c.call("deliveries.show", {"id": did})
        self.assertEqual(d["state"], "failed")
        self.assertRegex(d["attempt_log"][0]["detail"].lower(), "certificate|ssl|tls")
        self.assertEqual(web.received(), [])

    def test_plain_smtp_is_refused_when_starttls_is_required(self):
        smtp = receivers.SmtpReceiver()  # offers no STARTTLS
        self.addCleanup(smtp.stop)
        self.start(f"delivery:\n  retry: {{first: 1s}}\n  smtp: {{url: \"smtp://127.0.0.1:{smtp.port}\"}}\n")
        self.add_body("RQ1", emails=["hpan@rq1.example.nhs.uk"])
        nid = self.issue()
        wait_for(lambda: self.c.call("deliveries.show", {"id": f"{nid}-v1-RQ1-email"})["attempt_log"],
                 what="an attempt")
        d = self.c.call("deliveries.show", {"id": f"{nid}-v1-RQ1-email"})
        self.assertNotEqual(d["state"], "delivered")
        self.assertIn("STARTTLS", d["attempt_log"][0]["detail"])
        self.assertEqual(smtp.messages, [])

    def test_smtp_faults_a_refused_recipient_is_dead_a_dropped_connection_is_retried(self):
        smtp = receivers.SmtpReceiver()
        self.addCleanup(smtp.stop)
        smtp.refuse.add("nobody@gone.example.nhs.uk")
        smtp.drop_once.add("hpan@flaky.example.nhs.uk")
        self.start("delivery:\n  retry: {first: 1s, max_interval: 2s, give_up_after: 1h}\n"
                   f"  smtp: {{url: \"smtp://127.0.0.1:{smtp.port}\", starttls: none}}\n")
        self.add_body("RQ1", emails=["hpan@rq1.example.nhs.uk"], receives="selected")
        self.add_body("GONE", emails=["nobody@gone.example.nhs.uk"])
        self.add_body("FLAKY", emails=["hpan@flaky.example.nhs.uk"])
        nid = self.issue()
        show = lambda b: self.c.call("deliveries.show", {"id": f"{nid}-v1-{b}-email"})  # noqa: E731
        wait_for(lambda: show("FLAKY")["state"] == "delivered", timeout=30, what="the retried email")
        wait_for(lambda: show("GONE")["state"] == "dead", timeout=30, what="the refused email")
        flaky, gone = show("FLAKY"), show("GONE")
        self.assertEqual(smtp.dropped, 1)
        self.assertEqual(len(flaky["attempt_log"]), 2)
        self.assertEqual(flaky["attempt_log"][0]["outcome"], "retry")
        self.assertEqual(len(gone["attempt_log"]), 1)
        self.assertIn("550", gone["attempt_log"][0]["detail"])
        # Each accepted message once; the flaky body's second try carries the same Message-ID.
        to_flaky = [m for m in smtp.messages if m["to"] == ["hpan@flaky.example.nhs.uk"]]
        self.assertEqual(len(to_flaky), 1)
        self.assertIn(f"<{nid}-v1-FLAKY-email@hpand.invalid>", to_flaky[0]["data"])
        self.assertEqual([m for m in smtp.messages if "gone.example" in "".join(m["to"])], [])

    def test_sigkill_mid_fan_out_loses_nothing_and_repeats_only_the_same_ids(self):
        web = receivers.WebhookReceiver()
        self.addCleanup(web.stop)
        self.start("delivery:\n  allow_plain_http_to_loopback: true\n  concurrency: 8\n  per_host: 4\n"
                   "  smtp: {url: \"smtp://127.0.0.1:1\", starttls: none}\n")
        n = 300
        for i in range(n):
            self.add_body(f"B{i}", webhook=web.url(f"/b{i}"))
        self.add_body("RQ1", webhook=web.url("/rq1"), receives="selected")
        nid = self.issue()
        wait_for(lambda: len(web.received()) >= 20, what="the fan-out to start")
        self.d.kill9()
        self.c.s.close()
        self.c = None
        self.d.start()
        self.c = harness.Client(self.d.sock)
        wait_for(lambda: len(self.deliveries(state="delivered")) == n + 1, timeout=60, what="every delivery")
        by_path = {}
        for r in web.received():
            by_path.setdefault(r["path"], set()).add(r["headers"]["webhook-id"])
        self.assertEqual(len(by_path), n + 1, "a body received nothing")
        for path, ids in by_path.items():
            self.assertEqual(len(ids), 1, f"{path} got different delivery ids: {ids}")
        dupes = len(web.received()) - (n + 1)
        self.assertTrue(self.c.call("audit.verify")["ok"])
        print(f"fan-out of {n + 1}: killed after {20}+ deliveries; {dupes} repeated with the same id")


if __name__ == "__main__":
    unittest.main(verbosity=2)
