"""Case-review reminders with a real hpand and a real SMTP server (aiosmtpd) on loopback.

hpand is restarted with HPAND_TEST_CLOCK_OFFSET so that its clock stands just before
each reminder: the 14-day lead time, the due day (after a downtime that swallowed the
3-day reminder), several days overdue (one late reminder, not one per missed day), and
the escalation. Times are checked against Python's own Europe/London rules (zoneinfo),
independent of hpand's calendar code."""
import datetime
import email
import email.policy
import json
import os
import sys
import time
import unittest
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
import receivers  # noqa: E402

LONDON = ZoneInfo("Europe/London")
OWNER = "mhd@trust.example.nhs.uk"
DUTY = "duty@issuer.example.nhs.uk"
NOTES = "Dr Zebedee Secretname, GMC 7654321, excluded pending investigation"


wait_for = harness.wait_for


def london_at(day, hour=9, minute=0):
    """Unix time of a London wall-clock time on a date."""
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON).timestamp()


class Reminders(unittest.TestCase):
    def setUp(self):
        self.smtp = receivers.SmtpReceiver()
        self.addCleanup(self.smtp.stop)
        self.d = harness.Daemon(
            roles={"uid:0": "administrator"},
            delivery=("delivery:\n  retry: {first: 1s, max_interval: 2s, give_up_after: 1h}\n"
                      f"  smtp: {{url: \"smtp://127.0.0.1:{self.smtp.port}\", starttls: none,"
                      " from: hpan@issuer.example.nhs.uk}\n"
                      f"reminders: {{escalation_contact: {DUTY}, send_at: \"09:00\"}}\n"))
        self.addCleanup(self.d.cleanup)

    def start_at(self, unix_time):
        """Starts hpand with its clock at `unix_time` (None: the real time)."""
        offset = 0 if unix_time is None else int(round(unix_time - time.time()))
        self.d.env["HPAND_TEST_CLOCK_OFFSET"] = str(offset)
        self.d.start()

    def ctl_json(self, *args):
        r = self.d.ctl("--json", *args)
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        return json.loads(r.stdout)

    def mails(self):
        out = []
        for m in self.smtp.messages:
            msg = email.message_from_string(m["data"], policy=email.policy.default)
            out.append({"to": m["to"], "subject": str(msg["Subject"]), "id": str(msg["X-HPAN-Delivery-Id"]),
                        "body": msg.get_content(), "raw": m["data"]})
        return out

    def wait_mails(self, n, what):
        wait_for(lambda: len(self.smtp.messages) >= n, timeout=20, what=what)
        time.sleep(1.0)  # nothing more should follow
        got = self.mails()
        self.assertEqual(len(got), n, [m["subject"] for m in got])
        return got

    def test_lead_times_due_day_overdue_and_escalation_with_catch_up(self):
        self.start_at(None)
        today = datetime.datetime.now(LONDON).date()
        due = today + datetime.timedelta(days=30)
        case = self.ctl_json("case", "open", "exclusion", "--owner", OWNER, "--due", due.isoformat(),
                             "--notes", NOTES)
        cid = case["id"]
        self.assertEqual(case["due_date"], due.isoformat())

        # What will go out, at 09:00 London time (GMT or BST as Python's tz database says).
        up = self.ctl_json("reminders", "upcoming", "--days", "45")["reminders"]
        mine = [(r["reminder"], r["at"]) for r in up if r["case_id"] == cid]
        def utc(t):
            return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.assertEqual(mine[:3], [("lead-14d", utc(london_at(due - datetime.timedelta(days=14)))),
                                    ("lead-3d", utc(london_at(due - datetime.timedelta(days=3)))),
                                    ("due", utc(london_at(due)))])
        self.assertIn(("escalation", utc(london_at(due + datetime.timedelta(days=7)))), mine)
        human = self.d.ctl("reminders", "upcoming", "--days", "45", check=True).stdout
        self.assertIn(cid, human)
        self.assertIn("lead-14d", human)
        self.assertEqual(self.d.stop(), 0)

        # 1. Three seconds before the 14-day reminder: it goes out on time, not late.
        self.start_at(london_at(due - datetime.timedelta(days=14)) - 3)
        got = self.wait_mails(1, "the 14-day reminder")
        self.assertEqual(got[0]["to"], [OWNER])
        self.assertEqual(got[0]["id"], f"{cid}-{due.isoformat()}-lead-14d-email")
        self.assertIn(cid, got[0]["subject"])
        self.assertIn("due in 14 day(s)", got[0]["subject"])
        self.assertNotIn("late", got[0]["subject"])
        self.assertIn(f"due_date: {due.isoformat()}", got[0]["body"])
        self.assertEqual(self.d.stop(), 0)

        # 2. Down through the 3-day reminder; started just before 09:00 on the due day: the
        #    missed one goes out at once, marked late, then the due-day one on time.
        self.start_at(london_at(due) - 3)
        got = self.wait_mails(3, "the late 3-day and the due-day reminders")
        self.assertIn("due in 3 day(s) (late)", got[1]["subject"])
        self.assertIn("late: true", got[1]["body"])
        self.assertIn("due today", got[2]["subject"])
        self.assertNotIn("late", got[2]["subject"])
        self.assertEqual(self.d.stop(), 0)

        # 3. Down for three days: one late reminder standing for the two it replaces.
        self.start_at(london_at(due + datetime.timedelta(days=3), 10, 0))
        got = self.wait_mails(4, "one overdue reminder")
        self.assertIn("overdue by 3 day(s) (late)", got[3]["subject"])
        self.assertIn("missed_reminders: 2", got[3]["body"])
        self.assertEqual(self.d.stop(), 0)

        # 4. Just before 09:00 on day 7: the catch-up for day 6 (late), then at 09:00 the
        #    owner's day-7 reminder and the escalation to the duty contact.
        self.start_at(london_at(due + datetime.timedelta(days=7)) - 3)
        got = self.wait_mails(7, "day 7 and the escalation")
        subjects = [m["subject"] for m in got[4:]]
        self.assertIn("overdue by 6 day(s) (late)", subjects[0])
        esc = [m for m in got[4:] if m["to"] == [DUTY]]
        self.assertEqual(len(esc), 1, subjects)
        self.assertTrue(esc[0]["subject"].startswith("ESCALATION: HPAN case " + cid), esc[0]["subject"])
        self.assertIn("event: case_escalation", esc[0]["body"])
        own = [m for m in got[4:] if m["to"] == [OWNER]]
        self.assertEqual(len(own), 2)
        self.assertIn("overdue by 7 day(s)", own[1]["subject"])
        self.assertEqual(self.d.stop(), 0)

        # 5. A restart at the same moment sends nothing again (one per case, due date, slot).
        self.start_at(london_at(due + datetime.timedelta(days=7), 9, 1))
        time.sleep(2)
        self.assertEqual(len(self.smtp.messages), 7)

        # The case shows every reminder; a review moves the due date on and the
        # reminders start again from the new date.
        shown = self.ctl_json("case", "show", cid)
        self.assertEqual([r["reminder"] for r in shown["reminders"]],
                         ["lead-14d", "lead-3d", "due", "overdue-3d", "overdue-6d", "overdue-7d", "escalation"])
        self.assertEqual([r["late"] for r in shown["reminders"]], [False, True, False, True, True, False, False])
        reviewed = self.ctl_json("case", "reviewed", cid, "--note", "reviewed with HR")
        next_due = datetime.date.fromisoformat(reviewed["due_date"])
        self.assertEqual(next_due, (datetime.datetime.fromtimestamp(
            london_at(due + datetime.timedelta(days=7), 9, 1), LONDON).date() + datetime.timedelta(days=28)))
        up = self.ctl_json("reminders", "upcoming", "--days", "60")["reminders"]
        self.assertEqual([r["reminder"] for r in up if r["case_id"] == cid][:3], ["lead-14d", "lead-3d", "due"])
        self.assertEqual(self.ctl_json("case", "list", "--overdue")["cases"], [])
        self.assertTrue(self.ctl_json("audit", "verify")["ok"])

        # Every reminder is delivered once and carries no personal data.
        deliveries = self.ctl_json("deliveries", "list")["deliveries"]
        reminders = [d for d in deliveries if d["message_type"] == "reminder"]
        self.assertEqual(len(reminders), 7)
        self.assertTrue(all(d["state"] == "delivered" for d in reminders), reminders)
        everything = "".join(m["raw"] for m in self.mails()) + self.d.read_log()
        for secret in ("Zebedee", "Secretname", "7654321", "investigation"):
            self.assertNotIn(secret, everything)

    def test_case_commands_refuse_bad_input_naming_the_field(self):
        self.start_at(None)
        for args, field in [(("case", "open", "holiday", "--owner", OWNER), "kind"),
                            (("case", "open", "exclusion", "--owner", "not-an-address"), "owner"),
                            (("case", "open", "exclusion", "--owner", OWNER, "--interval", "soon"), "interval"),
                            (("case", "open", "follow-up", "--owner", OWNER), "due_date"),
                            (("case", "open", "exclusion", "--owner", OWNER, "--due", "2020-01-01"), "due_date")]:
            r = self.d.ctl("--json", *args)
            self.assertEqual(r.returncode, 3, (args, r.stdout, r.stderr))
            self.assertEqual(json.loads(r.stdout)["error"]["field"], field, args)
        r = self.d.ctl("case", "show", "CASE-2026-999999")
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertIn("no case CASE-2026-999999", r.stderr)
        r = self.d.ctl("reminders", "upcoming", "--days", "1000")
        self.assertEqual(r.returncode, 2, r.stderr)  # refused by hpanctl itself
        self.assertEqual(self.ctl_json("case", "list")["cases"], [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
