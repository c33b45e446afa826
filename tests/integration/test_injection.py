"""Hostile values in every user-supplied field, end to end (issue 7): a real hpand, a real
SMTP server (aiosmtpd) and the project's webhook receiver, all on loopback.

Every text field of every control method that stores or sends something (and the lookups
of notice.check/sar, and the ids of the read-only methods) gets: CRLF + "Bcc:" header
injection, bare LF and CR, NUL and other C0 controls, TAB, DEL, ESC sequences, the C1
controls U+0085 and U+009B, the separators U+2028 and U+2029, raw bytes that are not UTF-8
(invalid bytes, an overlong LF, an encoded surrogate, raw CR/ESC/NUL inside a JSON string)
and a lone surrogate escape, a value one character over the field's documented limit and
one of 1 MiB (the test raises control.max_request_size to 4 MiB so that the field's own
check answers). So do request ids, method names and parameter names.

Each request is either refused with an error that names the field, and the store is
unchanged, or accepted, which only newlines and tabs in free text may be; accepted notices
are then approved and issued so their content is really delivered. At the end of each test:
every email has only hpand's own headers and envelope recipients, and no email, webhook or
audit record holds personal data or an injection marker in clear (the sealed attachment is
opened to show the data was there); hpand's journal-format log is one well-formed line per
event with no control characters, no separators and no personal data. Markers carry `_` or
`-`, which base64 never does, so a marker cannot appear by chance in a sealed attachment."""
import base64
import collections
import datetime
import email
import email.policy
import json
import os
import re
import subprocess
import sys
import time
import unittest
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
import receivers  # noqa: E402

EVIL = "x@evil.example"  # ".example" never occurs in base64
INJ = "Inj_header_Qz"
MIB = 1 << 20
PLACEHOLDER = "@@raw-value@@"

# Personal data (and other free text) with a marker each; none may leave hpand in clear.
SECRETS = {
    "full_name": "Dr Pd_fullname_Qz", "other_name": "Pd_othername_Qz", "number": "PD-REG-4471-QZ",
    "dob": "1931-02-27", "address": "1 Pd_address_Qz Street, Testtown",
    "description": "Pd_description_Qz: a fictional concern.", "rb_name": "Pd_rbname_Qz Trust",
    "requester": "Pd_requester_Qz", "contact": "Pd_contact_Qz", "contact_email": "pd_contact_qz@rq1.example.nhs.uk",
    "phone": "Pd_phone_Qz", "pi_reason": "Pd_pireason_Qz", "urgent": "Pd_urgent_Qz", "revoke": "Pd_revoke_Qz",
    "reject": "Pd_reject_Qz", "withdraw": "Pd_withdraw_Qz", "review": "Pd_review_Qz", "notes": "Pd_notes_Qz",
    "note": "Pd_note_Qz", "close": "Pd_close_Qz", "suspend": "Pd_suspend_Qz", "body_name": "Pd_bodyname_Qz",
    "region": "Pd_region_Qz", "check_name": "Pd_checkname_Qz", "check_number": "PD-CHK-5512-QZ",
    "check_dob": "1932-03-28",
}
SECRET_MARKERS = [re.search(r"[A-Za-z]+[_-][A-Za-z0-9_-]+|\d{4}-\d\d-\d\d", v).group(0) for v in SECRETS.values()]
INJ_MARKERS = [INJ, "evil.example", "Inj_"]

OWNER = "owner_qz@case.example.nhs.uk"
OWNER2 = "owner2_qz@case.example.nhs.uk"
DUTY = "duty@issuer.example.nhs.uk"
MAIL_TO = ["hpan@mail.example.nhs.uk", "duty@mail.example.nhs.uk"]
LEGIT_RECIPIENTS = {OWNER, OWNER2, DUTY, *MAIL_TO, "sweep@sweep.example.nhs.uk"}
MAIL_HEADERS = {"from", "to", "subject", "date", "message-id", "mime-version", "content-type",
                "content-transfer-encoding", "x-hpan-delivery-id", "x-hpan-notice"}
PART_HEADERS = {"content-type", "content-transfer-encoding", "content-disposition"}
ERROR_CODES = {"invalid_field", "missing_field", "parse_error", "invalid_request", "not_found"}
# What a log line, an error's field name or a header may never hold.
FORBIDDEN_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
JOURNAL_LINE = re.compile(r"^<[0-7]>[a-z_]+: \S")

# One field: where it sits in the params, the name an error must give, its documented
# limit (characters; None: a choice or format check refuses anything longer), whether it
# is free text that may hold newlines and tabs, and the valid value hostile ones extend.
Field = collections.namedtuple("Field", "path name limit multiline prefix")


def hostile_values(f):
    """(label, value or None, raw JSON string text or None) for one field."""
    p = f.prefix
    yield "crlf-bcc", f"{p}\r\nBcc: {EVIL}\r\nX-Injected: {INJ}", None
    yield "lf-bcc", f"{p}\nBcc: {EVIL}", None
    yield "cr", f"{p}\rBcc: {EVIL}", None
    yield "nul", f"{p}\x00{INJ}", None
    yield "c0", f"{p}\x01\x07\x08\x0b\x0c\x1f{INJ}", None
    yield "tab", f"{p}\t{INJ}", None
    yield "del", f"{p}\x7f{INJ}", None
    yield "esc", f"{p}\x1b[2J\x1b]0;{INJ}\x07", None
    yield "nel-u0085", f"{p}\u0085Bcc: {EVIL}", None
    yield "csi-u009b", f"{p}\u009b31m{INJ}", None
    yield "line-sep-u2028", f"{p}\u2028Bcc: {EVIL}", None
    yield "para-sep-u2029", f"{p}\u2029{INJ}", None
    if f.limit is not None:
        yield "limit+1", (p + "x" * f.limit)[: f.limit + 1] if len(p) <= f.limit else p, None
    yield "1MiB", p + "y" * MIB, None
    enc = json.dumps(p)[1:-1].encode()
    for label, raw in (("raw-invalid-utf8", b"\xff\xfe" + INJ.encode()), ("raw-overlong-lf", b"\xc0\x8aBcc: x"),
                       ("raw-encoded-surrogate", b"\xed\xa0\x80"), ("raw-cr", b"\rBcc: x"),
                       ("raw-esc", b"\x1b[31m"), ("raw-nul", b"\x00"), ("lone-surrogate-escape", b"\\ud800")):
        yield label, None, enc + raw


def must_refuse(f, value):
    if value is None:
        return True  # not valid JSON text
    if FORBIDDEN_CHARS.search(value.replace("\n", "").replace("\t", "") if f.multiline else value):
        return True
    return f.limit is not None and len(value) > f.limit


def set_path(params, path, value):
    obj = params
    for k in path[:-1]:
        obj = obj[k]
    obj[path[-1]] = value


def snapshot(d):
    """What a control request may change, without what deliveries and the reminder
    scheduler change on their own (states, attempts, scheduler columns)."""
    queries = {
        "notices": "SELECT * FROM notices ORDER BY id",
        "versions": "SELECT * FROM notice_versions ORDER BY notice_id, version",
        "bodies": "SELECT * FROM bodies ORDER BY id",
        "reviews": "SELECT * FROM reviews ORDER BY rowid",
        "cases": "SELECT id, kind, notice_id, owner_emails, owner_webhook, interval_months, interval_days,"
                 " due_date, state, notes, opened_at, opened_by, reviewed_at, closed_at, closed_by, close_reason"
                 " FROM cases ORDER BY id",
        "case_events": "SELECT * FROM case_events ORDER BY rowid",
        "notice_deliveries": "SELECT delivery_id, address FROM outbox WHERE notice_id IS NOT NULL"
                             " ORDER BY delivery_id",
        "sequences": "SELECT 'notice', * FROM notice_sequence UNION ALL SELECT 'case', * FROM case_sequence",
    }
    with d.db() as db:
        return {k: db.execute(q).fetchall() for k, q in queries.items()}


class Injection(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.started = time.monotonic()
        cls.uids = harness.ensure_users()
        cls.smtp = receivers.SmtpReceiver()
        cls.web = receivers.WebhookReceiver()
        cls.web.answer("/gone", ["gone"])  # a body whose deliveries die: escalation emails
        today = datetime.datetime.now(ZoneInfo("Europe/London")).date()
        cls.today = today.isoformat()
        cls.later = (today + datetime.timedelta(days=10)).isoformat()
        cls.d = harness.Daemon(
            roles={"uid:0": "administrator", f"uid:{cls.uids['alice']}": "administrator"},
            control={"max_request_size": "4MiB"},
            env={"JOURNAL_STREAM": "8:12345"},  # hpand logs as under systemd: "<6>control: ..."
            delivery=("delivery:\n  allow_plain_http_to_loopback: true\n"
                      "  retry: {first: 1s, max_interval: 2s, give_up_after: 1h}\n"
                      f"  smtp: {{url: \"smtp://127.0.0.1:{cls.smtp.port}\", starttls: none,"
                      " from: hpan@issuer.example.nhs.uk}\n"
                      f"reminders: {{escalation_contact: {DUTY}, send_at: \"00:00\"}}\n"))
        cls.d.start()
        cls.c = harness.Client(cls.d.sock, timeout=30)
        cls.failures = []
        cls.sent = 0
        cls.accepted = 0
        cls.targets = {}
        cls.seq = 0
        cls.mail_key, cls.mail_pub = harness.recipient_key(cls.d.tmp, "MAIL")
        with open(cls.mail_pub) as f:
            cls.pub_text = f.read()
        cls.pub_b64 = cls.pub_text.splitlines()[1]
        cls.c.call("body.add", {"id": "RQ1", "name": "Requesting", "kind": "trust", "receives": "selected",
                                "public_key": cls.pub_text, "webhook_url": cls.web.url("/rq1")})
        cls.c.call("body.add", {"id": "MAIL", "name": "Mail body", "kind": "trust", "receives": "all",
                                "public_key": cls.pub_text, "emails": MAIL_TO})
        cls.c.call("body.add", {"id": "HOOK", "name": "Hook body", "kind": "trust", "receives": "all",
                                "public_key": cls.pub_text, "webhook_url": cls.web.url("/hook")})
        cls.c.call("body.add", {"id": "GONE", "name": "Gone body", "kind": "trust", "receives": "all",
                                "public_key": cls.pub_text, "webhook_url": cls.web.url("/gone")})
        cls.baseline = cls.issue_new()
        harness.wait_for(lambda: cls.smtp.messages and cls.web.received("/hook"), what="the baseline deliveries")

    @classmethod
    def tearDownClass(cls):
        print(f"{cls.sent} requests ({cls.accepted} hostile values accepted and followed through);"
              f" {len(cls.smtp.messages)} emails and {len(cls.web.received())} webhook requests checked;"
              f" {time.monotonic() - cls.started:.1f} s", file=sys.stderr)
        cls.c.s.close()
        cls.d.cleanup()
        cls.smtp.stop()
        cls.web.stop()

    # ---- requests and targets ----

    @classmethod
    def call(cls, method, params):
        return cls.c.call(method, params)

    @classmethod
    def approve_as_alice(cls, nid):
        p = cls.d.ctl("notice", "approve", nid, user="alice")
        assert p.returncode == 0, p.stderr

    @staticmethod
    def content(**practitioner):
        s = SECRETS
        return {
            "practitioner": {"full_name": s["full_name"], "other_names": [s["other_name"]], "profession": "doctor",
                             "regulator": "GMC", "registration_number": s["number"], "date_of_birth": s["dob"],
                             "addresses": [s["address"]], **practitioner},
            "concern": {"categories": ["clinical"], "description": s["description"] + "\nSecond line."},
            "requesting_body": {"id": "RQ1", "name": s["rb_name"]},
            "requester": {"name": s["requester"], "role": "executive_board_member"},
            "contact": {"name": s["contact"], "email": s["contact_email"], "phone": s["phone"]},
            "criteria": {"significant_risk": True, "may_work_elsewhere": True, "pressing_need": True},
            "public_interest": {"outweighs_adverse_effect": True, "reason": s["pi_reason"]},
            "recipients": ["RQ1"],
            "subject_body_id": "",
        }

    @classmethod
    def issue_new(cls, nid=None):
        """Creates (unless given a draft), approves as alice and issues urgently: delivered."""
        if nid is None:
            nid = cls.call("notice.create", {"content": cls.content()})["id"]
        cls.approve_as_alice(nid)
        cls.call("notice.issue", {"id": nid, "urgent": True, "reason": SECRETS["urgent"]})
        return nid

    def new_body(self):
        self.__class__.seq += 1
        bid = f"Z{self.seq:04d}"
        self.call("body.add", {"id": bid, "name": SECRETS["body_name"], "kind": "trust", "receives": "selected",
                               "public_key": self.pub_b64, "webhook_url": self.web.url("/sweep")})
        return bid

    def make(self, kind):
        if kind == "draft":
            return self.call("notice.create", {"content": self.content()})["id"]
        if kind == "approved":
            nid = self.make("draft")
            self.approve_as_alice(nid)
            return nid
        if kind == "active":
            return self.issue_new()
        if kind == "pending_revoke":
            nid = self.issue_new()
            self.call("notice.revoke", {"id": nid, "reason": SECRETS["revoke"]})
            return nid
        if kind == "body":
            return self.new_body()
        if kind == "suspended_body":
            bid = self.new_body()
            self.call("body.suspend", {"id": bid})
            return bid
        if kind == "case":
            return self.call("case.open", {"kind": "exclusion", "owner": OWNER, "notes": SECRETS["notes"]})["id"]
        if kind == "dead_delivery":
            did = f"{self.baseline}-v1-GONE-webhook"
            harness.wait_for(lambda: self.call("deliveries.show", {"id": did})["state"] == "dead",
                             what="the dead delivery")
            return did
        raise ValueError(kind)

    def target(self, kind):
        if kind not in self.targets:
            self.targets[kind] = self.make(kind)
        return self.targets[kind]

    def spend(self, kind):
        self.targets.pop(kind, None)

    def send(self, method, params, raw=None):
        """Sends one request (with `raw` JSON string text in place of the placeholder)."""
        self.__class__.sent += 1
        line = json.dumps({"id": self.sent, "method": method, "params": params}, ensure_ascii=False).encode()
        if raw is not None:
            needle = json.dumps(PLACEHOLDER).encode()
            assert line.count(needle) == 1
            line = line.replace(needle, b'"' + raw + b'"')
        self.c.send_raw(line + b"\n")
        return self.c.read_line()

    # ---- the sweep ----

    def sweep(self, method, base, fields, spends=None, after_accept=None, sanity=True):
        """For each field and each hostile value: refused naming the field with the store
        unchanged, or (free text with newlines/tabs only) accepted and followed through."""
        if sanity:  # the unmodified request is accepted, so refusals below are the field's
            answer = self.send(method, base())
            self.assertIn("result", answer, (method, answer))
            if after_accept:
                after_accept(answer["result"])
            if spends:
                self.spend(spends)
        for f in fields:
            for label, value, raw in hostile_values(f):
                params = base()
                set_path(params, f.path, PLACEHOLDER if raw is not None else value)
                before = snapshot(self.d)
                answer = self.send(method, params, raw)
                what = f"{method} {f.name} {label}"
                if "error" in answer:
                    err = answer["error"]
                    if err.get("code") not in ERROR_CODES:
                        self.failures.append(f"{what}: refused with {err}, not a field error")
                    elif err.get("field") != f.name and f.name not in err.get("message", ""):
                        self.failures.append(f"{what}: the error does not name the field: {err}")
                    if snapshot(self.d) != before:
                        self.failures.append(f"{what}: refused, but the store changed")
                    continue
                if must_refuse(f, value):
                    self.failures.append(f"{what}: accepted a value it must refuse ({value[:60]!r})")
                self.__class__.accepted += 1
                if after_accept:
                    after_accept(answer["result"])
                if spends:
                    self.spend(spends)

    def text(self, path, name, limit, multiline=False, prefix="Inj_value_Qz"):
        return Field(path, name, limit, multiline, prefix)

    # ---- what left hpand ----

    def settle(self):
        """Waits until every delivery has been delivered or has died (the body answering 410)."""
        def quiet():
            with self.d.db() as db:
                return db.execute("SELECT count(*) FROM outbox WHERE state IN ('pending','in_flight','failed')"
                                  ).fetchone()[0] == 0
        harness.wait_for(quiet, timeout=60, what="deliveries to settle")
        time.sleep(0.5)

    def check_outputs(self):
        self.settle()
        problems = list(self.failures)
        self.failures.clear()
        problems += self.email_problems() + self.webhook_problems() + self.log_problems() + self.audit_problems()
        if problems:
            print("\n".join(p[:300] for p in problems), file=sys.stderr)
        self.assertEqual(problems, [], f"{len(problems)} problem(s):\n" + "\n".join(p[:300] for p in problems[:80]))

    def email_problems(self):
        out = []
        self.assertGreater(len(self.smtp.messages), 0)
        for i, m in enumerate(self.smtp.messages):
            where = f"email {i}"
            for r in m["to"]:
                if r not in LEGIT_RECIPIENTS:
                    out.append(f"{where}: envelope recipient {r!r}")
            msg = email.message_from_string(m["data"], policy=email.policy.default)
            for name, value in msg.items():
                if name.lower() not in MAIL_HEADERS:
                    out.append(f"{where}: header {name!r}: {str(value)[:80]!r}")
                if FORBIDDEN_CHARS.search(str(value)):
                    out.append(f"{where}: control character in header {name}")
            for a in msg.get_all("To", []):
                for addr in str(a).split(","):
                    if addr.strip() not in LEGIT_RECIPIENTS:
                        out.append(f"{where}: To {addr!r}")
            for part in msg.walk():
                for name in part.keys():
                    if part is not msg and name.lower() not in PART_HEADERS:
                        out.append(f"{where}: part header {name!r}")
                if part.get_content_maintype() == "text":
                    body = part.get_content()
                    if FORBIDDEN_CHARS.search(body.replace("\n", "").replace("\t", "").replace("\r", "")):
                        out.append(f"{where}: control character in a text part")
            for marker in SECRET_MARKERS + INJ_MARKERS:
                if marker in m["data"]:
                    out.append(f"{where}: {marker!r} in clear")
        return out

    def webhook_problems(self):
        out = []
        for r in self.web.received():
            if r["path"] == "/_control":
                continue
            text = json.dumps(r["headers"]) + r["body"]
            for marker in SECRET_MARKERS + INJ_MARKERS:
                if marker in text:
                    out.append(f"webhook {r['path']}: {marker!r} in clear")
        return out

    def log_problems(self):
        out = []
        with open(self.d.log_path, "rb") as f:
            data = f.read()
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        requests = 0
        for n, raw in enumerate(lines, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                out.append(f"log line {n}: not UTF-8: {raw[:120]!r}")
                continue
            if len(raw) > 4096:
                out.append(f"log line {n}: {len(raw)} bytes long")
            if not JOURNAL_LINE.match(line):
                out.append(f"log line {n}: not a journal line: {line[:120]!r}")
            if FORBIDDEN_CHARS.search(line):
                out.append(f"log line {n}: control character or separator: {line[:120]!r}")
            for marker in SECRET_MARKERS:
                if marker in line:
                    out.append(f"log line {n}: personal data {marker!r}: {line[:120]!r}")
            requests += "request method=" in line
        if requests < self.sent // 2:
            out.append(f"only {requests} request lines logged for {self.sent} requests")
        return out

    def audit_problems(self):
        out = []
        with self.d.db() as db:
            for seq, record in db.execute("SELECT seq, record FROM audit"):
                for marker in SECRET_MARKERS:
                    if marker in record:
                        out.append(f"audit record {seq}: personal data {marker!r}")
                if len(record) > 8192:
                    out.append(f"audit record {seq}: {len(record)} bytes")
        return out

    # ---- the tests ----

    def test_baseline_personal_data_travels_only_sealed(self):
        """The markers really are delivered: the sealed attachment opens to them."""
        m = next(m for m in self.smtp.messages if m["to"] == MAIL_TO)
        msg = email.message_from_string(m["data"], policy=email.policy.default)
        attachment = next(p for p in msg.iter_attachments())
        sealed = attachment.get_content()
        path = os.path.join(self.d.tmp, "got.hpan")
        with open(path, "wb" if isinstance(sealed, bytes) else "w") as f:
            f.write(sealed)
        keyset = os.path.join(self.d.tmp, "issuer.keyset")
        with open(keyset, "w") as f:
            json.dump(self.call("keys.export", {})["keyset"], f)
        p = subprocess.run([harness.BIN["HPAN_VERIFY"], "--json", "--key", self.mail_key, "--keyset", keyset, path],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        payload = json.loads(p.stdout)["payload"]
        self.assertEqual(payload["practitioner"]["full_name"], SECRETS["full_name"])
        self.assertEqual(payload["urgent_reason"], SECRETS["urgent"])
        self.assertTrue(any(r["path"] == "/gone" for r in self.web.received()))
        self.check_outputs()

    def test_body_fields(self):
        def body_params():
            self.__class__.seq += 1
            return {"id": f"S{self.seq:04d}", "name": SECRETS["body_name"], "kind": "trust",
                    "region": SECRETS["region"], "webhook_url": self.web.url("/sweep"),
                    "emails": ["sweep@sweep.example.nhs.uk"], "public_key": self.pub_b64, "receives": "selected"}
        t = self.text
        self.sweep("body.add", body_params, [
            t(("id",), "id", 16, prefix="S9"),
            t(("name",), "name", 200, prefix=SECRETS["body_name"]),
            t(("kind",), "kind", 32, prefix="trust"),
            t(("region",), "region", 64, prefix=SECRETS["region"]),
            t(("regulator",), "regulator", 8, prefix="GMC"),
            t(("webhook_url",), "webhook_url", 2048, prefix=self.web.url("/Inj_url_Qz")),
            t(("webhook_secret",), "webhook_secret", 200,
              prefix="whsec_" + base64.b64encode(b"\x07" * 32).decode()),
            t(("emails", 0), "emails[0]", 254, prefix="inj_mail_qz@sweep.example.nhs.uk"),
            t(("public_key",), "public_key", 4096, prefix=self.pub_b64),
            t(("receives",), "receives", 16, prefix="selected"),
        ])
        for method, kind in (("body.suspend", "body"), ("body.resume", "suspended_body"), ("body.remove", "body")):
            self.sweep(method, lambda kind=kind: {"id": self.target(kind), "reason": SECRETS["suspend"]}, [
                t(("id",), "id", 16, prefix="Z0001"),
                t(("reason",), "reason", 1000, True, SECRETS["suspend"]),
            ], spends=kind)
        self.check_outputs()

    def test_notice_fields(self):
        t = self.text
        s = SECRETS
        content = [
            t(("content", "practitioner", "full_name"), "practitioner.full_name", 200, prefix=s["full_name"]),
            t(("content", "practitioner", "other_names", 0), "practitioner.other_names[0]", 200,
              prefix=s["other_name"]),
            t(("content", "practitioner", "profession"), "practitioner.profession", 64, prefix="doctor"),
            t(("content", "practitioner", "regulator"), "practitioner.regulator", 64, prefix="GMC"),
            t(("content", "practitioner", "registration_number"), "practitioner.registration_number", 32,
              prefix=s["number"]),
            t(("content", "practitioner", "date_of_birth"), "practitioner.date_of_birth", 10, prefix=s["dob"]),
            t(("content", "practitioner", "addresses", 0), "practitioner.addresses[0]", 500, prefix=s["address"]),
            t(("content", "concern", "categories", 0), "concern.categories[0]", 32, prefix="clinical"),
            t(("content", "concern", "description"), "concern.description", 4000, True, s["description"]),
            t(("content", "requesting_body", "id"), "requesting_body.id", 16, prefix="RQ1"),
            t(("content", "requesting_body", "name"), "requesting_body.name", 200, prefix=s["rb_name"]),
            t(("content", "requester", "name"), "requester.name", 200, prefix=s["requester"]),
            t(("content", "requester", "role"), "requester.role", 64, prefix="executive_board_member"),
            t(("content", "contact", "name"), "contact.name", 200, prefix=s["contact"]),
            t(("content", "contact", "email"), "contact.email", 254, prefix=s["contact_email"]),
            t(("content", "contact", "phone"), "contact.phone", 32, prefix=s["phone"]),
            t(("content", "public_interest", "reason"), "public_interest.reason", 4000, True, s["pi_reason"]),
            t(("content", "recipients", 0), "recipients[0]", 16, prefix="RQ1"),
            t(("content", "subject_body_id"), "subject_body_id", 16, prefix="RQ1"),
        ]
        notice_id = lambda kind: t(("id",), "id", 32, prefix="HPAN-2026-000001")  # noqa: E731
        # Accepted drafts are approved and issued, so what was accepted is delivered.
        self.sweep("notice.create", lambda: {"content": self.content()}, content,
                   after_accept=lambda r: self.issue_new(r["id"]))
        self.sweep("notice.update", lambda: {"id": self.target("draft"), "content": {
            "practitioner": {"full_name": s["full_name"]}, "concern": {"description": s["description"]}}}, [
            notice_id("draft"),
            t(("content", "practitioner", "full_name"), "practitioner.full_name", 200, prefix=s["full_name"]),
            t(("content", "concern", "description"), "concern.description", 4000, True, s["description"]),
        ], spends="draft", after_accept=lambda r: self.issue_new(r["id"]))
        self.sweep("notice.approve", lambda: {"id": self.target("draft")}, [notice_id("draft")], sanity=False)
        self.sweep("notice.inform", lambda: {"id": self.target("approved"), "informed_on": self.today}, [
            notice_id("approved"), t(("informed_on",), "informed_on", 10, prefix=self.today)], spends="approved")
        self.sweep("notice.issue", lambda: {"id": self.target("approved"), "urgent": True, "reason": s["urgent"]}, [
            notice_id("approved"), t(("reason",), "reason", 1000, True, s["urgent"])], spends="approved")
        self.sweep("notice.review", lambda: {"id": self.target("active"), "outcome": "continue",
                                             "next_due": self.later}, [
            notice_id("active"), t(("outcome",), "outcome", 16, prefix="continue"),
            t(("next_due",), "next_due", 10, prefix=self.later)])
        revoke_and_approve = lambda r: self.approve_as_alice(r["id"])  # noqa: E731
        self.sweep("notice.review", lambda: {"id": self.target("active"), "outcome": "revoke",
                                             "reason": s["review"]}, [
            t(("reason",), "reason", 1000, True, s["review"])], spends="active", after_accept=revoke_and_approve)
        self.sweep("notice.review", lambda: {"id": self.target("active"), "outcome": "update", "changes": {
            "practitioner": {"full_name": s["full_name"]}}}, [
            t(("changes", "practitioner", "full_name"), "practitioner.full_name", 200, prefix=s["full_name"])],
            spends="active", after_accept=revoke_and_approve)
        self.sweep("notice.revoke", lambda: {"id": self.target("active"), "reason": s["revoke"]}, [
            notice_id("active"), t(("reason",), "reason", 1000, True, s["revoke"])],
            spends="active", after_accept=revoke_and_approve)
        self.sweep("notice.reject", lambda: {"id": self.target("pending_revoke"), "reason": s["reject"]}, [
            notice_id("pending_revoke"), t(("reason",), "reason", 1000, True, s["reject"])],
            spends="pending_revoke")
        self.sweep("notice.withdraw", lambda: {"id": self.target("draft"), "reason": s["withdraw"]}, [
            notice_id("draft"), t(("reason",), "reason", 1000, True, s["withdraw"])], spends="draft")
        self.check_outputs()

    def test_case_fields(self):
        t = self.text
        s = SECRETS
        # Due today with reminders sent at 00:00: each accepted case's reminder goes out at once.
        self.sweep("case.open", lambda: {"kind": "exclusion", "owner": OWNER, "interval": "4w",
                                         "due_date": self.today, "notes": s["notes"]}, [
            t(("kind",), "kind", 16, prefix="exclusion"),
            t(("owner",), "owner", 2000, prefix=OWNER),
            t(("interval",), "interval", 8, prefix="4w"),
            t(("due_date",), "due_date", 10, prefix=self.today),
            t(("notes",), "notes", 10000, True, s["notes"]),
        ])
        case_id = t(("id",), "id", 32, prefix="CASE-2026-000001")
        self.sweep("case.reviewed", lambda: {"id": self.target("case"), "next_due": self.later, "note": s["note"]}, [
            case_id, t(("next_due",), "next_due", 10, prefix=self.later),
            t(("note",), "note", 10000, True, s["note"])])
        self.sweep("case.reassign", lambda: {"id": self.target("case"), "owner": OWNER2}, [
            case_id, t(("owner",), "owner", 2000, prefix=OWNER2)])
        self.sweep("case.close", lambda: {"id": self.target("case"), "reason": s["close"]}, [
            case_id, t(("reason",), "reason", 1000, True, s["close"])], spends="case")
        self.check_outputs()

    def test_delivery_lookup_and_read_only_fields(self):
        t = self.text
        s = SECRETS
        self.sweep("deliveries.retry", lambda: {"id": self.target("dead_delivery")}, [
            t(("id",), "id", 128, prefix="HPAN-2026-000001-v1-GONE-webhook")])
        for method in ("notice.check", "notice.sar"):
            self.sweep(method, lambda: {"regulator": "GMC", "number": s["check_number"]}, [
                t(("regulator",), "regulator", 8, prefix="GMC"),
                t(("number",), "number", 32, prefix=s["check_number"])])
            self.sweep(method, lambda: {"name": s["check_name"], "date_of_birth": s["check_dob"]}, [
                t(("name",), "name", 200, prefix=s["check_name"]),
                t(("date_of_birth",), "date_of_birth", 10, prefix=s["check_dob"])])
        for method, limit in (("notice.show", 32), ("notice.history", 32), ("body.show", 16), ("case.show", 32),
                              ("deliveries.show", 128)):
            self.sweep(method, lambda: {"id": "Inj_id_Qz"}, [t(("id",), "id", limit, prefix="Inj_id_Qz")],
                       sanity=False)
        self.check_outputs()

    def test_request_ids_method_names_and_parameter_names(self):
        hostile = [v for _, v, raw in hostile_values(Field(None, None, None, False, "Inj_name_Qz")) if raw is None]
        for value in hostile:
            # A method name nobody knows: refused; the request id is echoed back as it came.
            a = self.send(value, {})
            self.assertEqual(a.get("error", {}).get("code"), "unknown_method")
            self.c.send_raw(json.dumps({"id": value, "method": "status"}).encode() + b"\n")
            a = self.c.read_line()
            self.assertEqual(a.get("id"), value)
            self.assertIn("result", a)
            # Unknown parameter names, at the top of params and inside a notice's content.
            for method, params in (("notice.show", {"id": "HPAN-2026-000001", value: 1}),
                                   ("case.open", {"kind": "exclusion", "owner": OWNER, value: "x"}),
                                   ("body.add", {"id": "U1", value: 1}),
                                   ("notice.create", {"content": {"practitioner": {value: 1}}}),
                                   ("request", None)):
                before = snapshot(self.d)
                if params is None:  # an unknown member of the request itself
                    self.c.send_raw(json.dumps({"id": 1, "method": "status", value: 1}).encode() + b"\n")
                    a = self.c.read_line()
                else:
                    a = self.send(method, params)
                err = a.get("error", {})
                self.assertIn(err.get("code"), ("invalid_field", "invalid_request"), (method, a))
                field = err.get("field", "")
                if FORBIDDEN_CHARS.search(field) or len(field) > 200:
                    self.failures.append(f"{method}: unknown parameter named raw in the error: {field[:80]!r}")
                if snapshot(self.d) != before:
                    self.failures.append(f"{method}: refused, but the store changed")
        # Raw bytes that are not UTF-8 in a method name and in a parameter name.
        for raw in (b'{"id":1,"method":"notice.sh\xffow","params":{}}',
                    b'{"id":1,"method":"status","params":{"k\xc0\x8a":1}}',
                    b'{"id":1,"method":"status\x1b[2J","params":{}}',
                    b'{"id":"\xed\xa0\x80","method":"status"}'):
            self.c.send_raw(raw + b"\n")
            self.assertEqual(self.c.read_line()["error"]["code"], "parse_error")
        self.check_outputs()


if __name__ == "__main__":
    unittest.main(verbosity=2)
