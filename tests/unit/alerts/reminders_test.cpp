// Cases and their reminders: where each reminder falls (London time, DST), catch-up
// after downtime, escalation, idempotence, the lifecycle's review cases, and refusals.
#include "alerts/reminders.h"

#include "alerts/calendar.h"
#include "alerts/cases.h"
#include "tests/unit/alerts/lifecycle_fixture.h"

namespace hpan::alerts::testing {
namespace {

using nlohmann::json;
using std::chrono::day;
using std::chrono::month;
using std::chrono::year;
using std::chrono::year_month_day;

std::int64_t utc(const std::string& rfc3339) {
  // "YYYY-MM-DDTHH:MMZ"
  const auto d = parse_date(rfc3339.substr(0, 10));
  const int h = std::stoi(rfc3339.substr(11, 2));
  const int m = std::stoi(rfc3339.substr(14, 2));
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::sys_days{*d}.time_since_epoch()).count() +
         h * 3600 + m * 60;
}

year_month_day date(const std::string& s) { return *parse_date(s); }

ReminderRules rules(bool escalation = true) {
  ReminderRules r;
  r.escalation = escalation;
  return r;  // 14d, 3d, 0d; escalate after 7d; 09:00 London
}

TEST(ReminderSlots, FallAtTheSendTimeInLondonAcrossTheClockChange) {
  // 2027-04-10 is in BST; 14 days before (27 March) is still GMT (BST starts 28 March).
  const auto due = date("2027-04-10");
  auto s = next_main_slot(due, rules(), utc("2027-03-01T00:00Z"));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->name, "lead-14d");
  EXPECT_EQ(s->at, utc("2027-03-27T09:00Z"));  // 09:00 GMT
  s = next_main_slot(due, rules(), s->at);
  EXPECT_EQ(s->name, "lead-3d");
  EXPECT_EQ(s->at, utc("2027-04-07T08:00Z"));  // 09:00 BST
  s = next_main_slot(due, rules(), s->at);
  EXPECT_EQ(s->name, "due");
  EXPECT_EQ(s->days_from_due, 0);
  s = next_main_slot(due, rules(), s->at);
  EXPECT_EQ(s->name, "overdue-1d");
  EXPECT_EQ(s->at, utc("2027-04-11T08:00Z"));
  // Daily while overdue, on and on.
  s = next_main_slot(due, rules(), utc("2027-05-01T08:00Z"));
  EXPECT_EQ(s->name, "overdue-22d");
  EXPECT_EQ(s->at, utc("2027-05-02T08:00Z"));
}

TEST(ReminderSlots, TheDueDayOfTheAutumnChangeIsAtNineLondonTime) {
  const auto due = date("2026-10-25");  // BST ends 01:00 UTC that day
  int missed = 0;
  auto s = latest_main_slot(due, rules(), utc("2026-10-24T12:00Z"), utc("2026-10-25T09:30Z"), missed);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->name, "due");
  EXPECT_EQ(s->at, utc("2026-10-25T09:00Z"));  // 09:00 GMT
  EXPECT_EQ(missed, 0);
}

TEST(ReminderSlots, AfterDowntimeOnlyTheLatestGoesOutAndCountsTheRest) {
  const auto due = date("2026-12-20");
  int missed = 0;
  // Handled up to 30 days before; now 5 days overdue: lead-14d, lead-3d, due and
  // overdue-1d..5d fell due (8 slots): one goes out, standing for 7.
  auto s = latest_main_slot(due, rules(), utc("2026-11-20T10:00Z"), utc("2026-12-25T10:00Z"), missed);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->name, "overdue-5d");
  EXPECT_EQ(missed, 7);
  // Nothing between two checks on the same morning after the slot.
  EXPECT_FALSE(latest_main_slot(due, rules(), utc("2026-12-25T10:00Z"), utc("2026-12-25T11:00Z"), missed));
}

TEST(ReminderSlots, EscalationOnlyWhenAContactIsConfigured) {
  const auto due = date("2026-12-20");
  auto e = escalation_slot(due, rules(true));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->at, utc("2026-12-27T09:00Z"));
  EXPECT_EQ(e->days_from_due, 7);
  EXPECT_FALSE(escalation_slot(due, rules(false)));
}

TEST(Contacts, ParseEmailsAndOneWebhookAndNameTheFieldWhenWrong) {
  auto c = parse_contact("a@x.nhs.uk, https://hooks.example/c ,b@y.nhs.uk", false, "owner");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->emails, (std::vector<std::string>{"a@x.nhs.uk", "b@y.nhs.uk"}));
  EXPECT_EQ(c->webhook, "https://hooks.example/c");
  for (const char* bad : {"not an address", "https://a.example/x, https://b.example/y", "http://hooks.example/c",
                          "a@x.nhs.uk\r\nBcc: evil@example.com"}) {
    auto r = parse_contact(bad, false, "owner");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().field, "owner") << bad;
  }
  EXPECT_TRUE(parse_contact("http://127.0.0.1:8080/c", true, "owner").ok());
}

class Cases_ : public LifecycleTest {
 protected:
  void SetUp() override {
    LifecycleTest::SetUp();
    settings_.reminders.escalation = true;
    SetUp2();
    started_ = clock_.now_unix();
  }
  void TearDown() override {
    reminders_.reset();
    LifecycleTest::TearDown();
  }
  // After reopen(): the daemon's objects again, as after a restart.
  void SetUp2() {
    lifecycle_->set_settings(settings_);
    reminders_ = std::make_unique<Reminders>(*store_, *audit_, clock_);
    reminders_->set_rules(settings_.reminders, Contact{{"duty@issuer.example.nhs.uk"}, ""});
    ASSERT_TRUE(reminders_->apply_rules().ok());
  }

  std::string open_case(json params) {
    auto r = lifecycle_->case_open(operator_, params);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().field + ": " + r.error().message);
    return r.ok() ? (*r)["id"].get<std::string>() : "";
  }
  int queue() {
    auto r = reminders_->queue_due(started_);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : -1;
  }
  std::vector<json> reminder_messages(const std::string& case_id) {
    std::vector<json> out;
    auto s = store_->db().prepare(
        "SELECT message, channel, address, delivery_id FROM outbox WHERE message_type = 'reminder'"
        " AND json_extract(message, '$.case_id') = ? ORDER BY rowid");
    (*s)->bind(1, case_id);
    while (*(*s)->step()) {
      json m = json::parse((*s)->column_text(0));
      m["_channel"] = (*s)->column_text(1);
      m["_address"] = (*s)->column_text(2);
      m["_delivery_id"] = (*s)->column_text(3);
      out.push_back(m);
    }
    return out;
  }

  LifecycleSettings settings_;
  std::unique_ptr<Reminders> reminders_;
  std::int64_t started_ = 0;
};

TEST_F(Cases_, OpenRefusesBadFieldsNamingEachAndWritesNothing) {
  struct Bad {
    json params;
    std::string field;
  } cases[] = {
      {{{"kind", "exclusion"}}, "owner"},
      {{{"kind", "holiday"}, {"owner", "a@x.nhs.uk"}}, "kind"},
      {{{"kind", "hpan-review"}, {"owner", "a@x.nhs.uk"}}, "kind"},
      {{{"kind", "exclusion"}, {"owner", "nobody"}}, "owner"},
      {{{"kind", "exclusion"}, {"owner", "a@x.nhs.uk"}, {"interval", "fortnight"}}, "interval"},
      {{{"kind", "exclusion"}, {"owner", "a@x.nhs.uk"}, {"due_date", "2026-11-23"}}, "due_date"},
      {{{"kind", "exclusion"}, {"owner", "a@x.nhs.uk"}, {"due_date", "2026-02-30"}}, "due_date"},
      {{{"kind", "follow-up"}, {"owner", "a@x.nhs.uk"}}, "due_date"},
      {{{"kind", "exclusion"}, {"owner", "a@x.nhs.uk"}, {"colour", "red"}}, "colour"},
      {{{"kind", 7}, {"owner", "a@x.nhs.uk"}}, "kind"},
  };
  for (const auto& c : cases) {
    auto r = lifecycle_->case_open(operator_, c.params);
    ASSERT_FALSE(r.ok()) << c.params.dump();
    EXPECT_EQ(r.error().field, c.field) << c.params.dump() << ": " << r.error().message;
  }
  EXPECT_EQ(count("SELECT count(*) FROM cases"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM case_events"), 0);
}

TEST_F(Cases_, DefaultIntervalByKindSetsTheFirstDueDate) {
  const std::string id = open_case({{"kind", "exclusion"}, {"owner", "mhd@trust.example.nhs.uk"}});
  auto c = lifecycle_->case_show({{"id", id}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)["due_date"], "2026-12-22");  // 24 Nov + 4 weeks
  EXPECT_EQ((*c)["interval"], "4w");
  EXPECT_EQ(id.rfind("CASE-2026-", 0), 0u);
}

TEST_F(Cases_, RemindersGoOutAtEachLeadTimeThenDailyWhileOverdueThenEscalate) {
  const std::string id = open_case({{"kind", "suspension"}, {"owner", "mhd@trust.example.nhs.uk, https://hooks.example/c"},
                                    {"due_date", "2026-12-20"}, {"notes", "Dr Secret Practitioner, GMC 7654321"}});
  EXPECT_EQ(queue(), 0);  // nothing due yet
  struct Step {
    std::string at;
    int queued;
    std::string reminder;
  } steps[] = {
      {"2026-12-06T08:59Z", 0, ""},          {"2026-12-06T09:00Z", 1, "lead-14d"},
      {"2026-12-17T09:00Z", 1, "lead-3d"},   {"2026-12-20T09:00Z", 1, "due"},
      {"2026-12-21T09:00Z", 1, "overdue-1d"}, {"2026-12-21T15:00Z", 0, ""},
      {"2026-12-22T09:01Z", 1, "overdue-2d"},
  };
  for (const auto& st : steps) {
    clock_.set(utc(st.at));
    EXPECT_EQ(queue(), st.queued) << st.at;
    if (!st.reminder.empty()) {
      auto msgs = reminder_messages(id);
      ASSERT_GE(msgs.size(), 2u);
      EXPECT_EQ(msgs.back()["reminder"], st.reminder) << st.at;
      EXPECT_EQ(msgs.back()["late"], false) << st.at;
    }
  }
  // Each reminder went to both channels of the owner, with ids that name the slot.
  auto msgs = reminder_messages(id);
  ASSERT_EQ(msgs.size(), 10u);  // 5 reminders x 2 channels
  EXPECT_EQ(msgs[0]["_delivery_id"], id + "-2026-12-20-lead-14d-email");
  EXPECT_EQ(msgs[1]["_delivery_id"], id + "-2026-12-20-lead-14d-webhook");
  EXPECT_EQ(msgs[0]["_address"], "mhd@trust.example.nhs.uk");
  // Day 7 (checked once, at the time): the owner's overdue-7d stands for days 3 to 6,
  // and the escalation goes to the escalation contact.
  clock_.set(utc("2026-12-27T09:00Z"));
  EXPECT_EQ(queue(), 2);
  msgs = reminder_messages(id);
  ASSERT_EQ(msgs.size(), 13u);
  EXPECT_EQ(msgs[10]["reminder"], "overdue-7d");
  EXPECT_EQ(msgs[10]["missed_reminders"], 4);
  EXPECT_EQ(msgs[12]["reminder"], "escalation");
  EXPECT_EQ(msgs[12]["event"], "case_escalation");
  EXPECT_EQ(msgs[12]["_address"], "duty@issuer.example.nhs.uk");
  // Escalated once per due date; the owner's daily reminders go on.
  clock_.set(utc("2026-12-28T09:00Z"));
  EXPECT_EQ(queue(), 1);
  EXPECT_EQ(reminder_messages(id).back()["reminder"], "overdue-8d");
  // Reference, kind and due date only: never the notes.
  for (const auto& m : reminder_messages(id)) {
    const std::string text = m.dump();
    EXPECT_EQ(text.find("Secret"), std::string::npos) << text;
    EXPECT_EQ(text.find("7654321"), std::string::npos) << text;
    EXPECT_EQ(m["case_id"], id);
    EXPECT_EQ(m["due_date"], "2026-12-20");
  }
  EXPECT_EQ(count("SELECT count(*) FROM audit WHERE record LIKE '%Secret%'"), 0);
}

TEST_F(Cases_, AfterDowntimeEachCaseGetsOneLateReminderNotOnePerMissedDay) {
  const std::string a = open_case({{"kind", "exclusion"}, {"owner", "a@trust.example.nhs.uk"}, {"due_date", "2026-12-20"}});
  const std::string b = open_case({{"kind", "action-plan"}, {"owner", "b@trust.example.nhs.uk"}, {"due_date", "2027-01-10"}});
  // hpand is down from 24 Nov to 24 Dec 12:00, then starts.
  clock_.set(utc("2026-12-24T12:00Z"));
  started_ = clock_.now_unix();
  // a: overdue-4d, late, standing for 6 more (escalation falls on 27 Dec);
  // b: nothing yet (its 14-day reminder is on 27 Dec).
  EXPECT_EQ(queue(), 1);
  auto ma = reminder_messages(a);
  ASSERT_EQ(ma.size(), 1u);
  EXPECT_EQ(ma[0]["reminder"], "overdue-4d");
  EXPECT_EQ(ma[0]["late"], true);
  EXPECT_EQ(ma[0]["missed_reminders"], 6);
  EXPECT_NE(ma[0]["subject"].get<std::string>().find("(late)"), std::string::npos);
  EXPECT_TRUE(reminder_messages(b).empty());
  // Running again (or a restart) at the same moment sends nothing more.
  EXPECT_EQ(queue(), 0);
  reopen();
  SetUp2();
  EXPECT_EQ(queue(), 0);
  EXPECT_EQ(reminder_messages(a).size(), 1u);
}

TEST_F(Cases_, EachReviewCaseFollowsItsNoticeThroughIssueReviewAndRevocation) {
  add_body("RQ1", "selected", true, true);
  const std::string notice = issue_urgent();
  EXPECT_EQ(count("SELECT count(*) FROM cases WHERE kind = 'hpan-review' AND notice_id = ? AND state = 'open'"
                  " AND due_date = '2027-05-24'", notice), 1);  // 6 months after issue
  auto list = lifecycle_->case_list({{"kind", "hpan-review"}});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ((*list)["cases"].size(), 1u);
  const std::string case_id = (*list)["cases"][0]["id"];
  // The case is moved on by the notice's review, not by hand.
  auto by_hand = lifecycle_->case_reviewed(operator_, {{"id", case_id}});
  ASSERT_FALSE(by_hand.ok());
  EXPECT_EQ(by_hand.error().field, "id");
  ASSERT_TRUE(lifecycle_->review(alice_, {{"id", notice}, {"outcome", "continue"}, {"next_due", "2027-02-01"}}).ok());
  EXPECT_EQ(count("SELECT count(*) FROM cases WHERE id = ? AND due_date = '2027-02-01' AND escalated = 0", case_id), 1);
  // Approved revocation closes it; no reminders after that.
  ASSERT_TRUE(lifecycle_->revoke(alice_, {{"id", notice}, {"reason", "concern resolved"}}).ok());
  EXPECT_EQ(count("SELECT count(*) FROM cases WHERE id = ? AND state = 'open'", case_id), 1);
  ASSERT_TRUE(lifecycle_->approve(bob_, {{"id", notice}}).ok());
  EXPECT_EQ(count("SELECT count(*) FROM cases WHERE id = ? AND state = 'closed'", case_id), 1);
  clock_.set(utc("2027-03-01T12:00Z"));
  EXPECT_EQ(queue(), 0);
}

TEST_F(Cases_, ReviewedMovesTheDueDateOnAndClosedStopsReminders) {
  const std::string id = open_case({{"kind", "exclusion"}, {"owner", "a@trust.example.nhs.uk"}, {"due_date", "2026-12-01"}});
  clock_.set(utc("2026-12-03T10:00Z"));
  EXPECT_EQ(queue(), 1);  // overdue-2d
  auto r = lifecycle_->case_reviewed(operator_, {{"id", id}, {"note", "reviewed with HR"}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)["due_date"], "2026-12-31");  // today + 4 weeks
  EXPECT_EQ(queue(), 0);
  clock_.set(utc("2026-12-17T09:00Z"));
  EXPECT_EQ(queue(), 1);
  EXPECT_EQ(reminder_messages(id).back()["reminder"], "lead-14d");
  EXPECT_EQ(reminder_messages(id).back()["due_date"], "2026-12-31");
  ASSERT_TRUE(lifecycle_->case_close(operator_, {{"id", id}, {"reason", "exclusion ended"}}).ok());
  clock_.set(utc("2027-01-10T09:00Z"));
  EXPECT_EQ(queue(), 0);
  auto again = lifecycle_->case_reviewed(operator_, {{"id", id}});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "invalid_state");
  auto shown = lifecycle_->case_show({{"id", id}});
  ASSERT_TRUE(shown.ok());
  EXPECT_EQ((*shown)["events"].size(), 3u);  // opened, reviewed, closed
  EXPECT_EQ((*shown)["reminders"].size(), 2u);
}

TEST_F(Cases_, UpcomingListsWhatWillGoOutInTheWindow) {
  open_case({{"kind", "exclusion"}, {"owner", "a@trust.example.nhs.uk"}, {"due_date", "2026-12-20"}});
  auto r = reminders_->upcoming({{"days", 30}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::vector<std::string> names;
  for (const auto& m : (*r)["reminders"]) names.push_back(m["reminder"]);
  // 24 Nov + 30 days = 24 Dec 12:00: lead-14d, lead-3d, due, overdue from 21 Dec; escalation (27 Dec) not yet.
  // Daily overdue reminders are one entry that repeats.
  EXPECT_EQ(names, (std::vector<std::string>{"lead-14d", "lead-3d", "due", "overdue-1d"}));
  EXPECT_EQ((*r)["reminders"][3]["repeats"], "daily");
  EXPECT_EQ((*r)["reminders"][0]["at"], "2026-12-06T09:00:00Z");
  EXPECT_EQ((*r)["reminders"][0]["to"][0], "a@trust.example.nhs.uk");
  auto none = reminders_->upcoming({{"days", 5}});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE((*none)["reminders"].empty());
  auto bad = reminders_->upcoming({{"days", 999}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "days");
}

TEST_F(Cases_, ChangedRulesRescheduleOpenCases) {
  const std::string id = open_case({{"kind", "exclusion"}, {"owner", "a@trust.example.nhs.uk"}, {"due_date", "2026-12-20"}});
  EXPECT_EQ(count("SELECT count(*) FROM cases WHERE id = ? AND next_reminder_at = 1796547600", id), 1);  // 6 Dec 09:00Z
  ReminderRules r = settings_.reminders;
  r.send_hour = 7;
  r.send_minute = 30;
  reminders_->set_rules(r, Contact{{"duty@issuer.example.nhs.uk"}, ""});
  auto n = reminders_->apply_rules();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(count("SELECT count(*) FROM cases WHERE id = ? AND next_reminder_at = 1796542200", id), 1);  // 07:30Z
  auto again = reminders_->apply_rules();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);  // unchanged rules: nothing to do
}

}  // namespace
}  // namespace hpan::alerts::testing

namespace hpan::alerts::testing {
namespace {

TEST_F(Cases_, AClockSetBackDoesNotSilenceCasesUntilItCatchesUp) {
  const std::string id = open_case({{"kind", "exclusion"}, {"owner", "a@trust.example.nhs.uk"}, {"due_date", "2026-12-20"}});
  // hpand once ran with its clock a year ahead: it sent the overdue reminder and escalation.
  clock_.set(utc("2027-12-01T10:00Z"));
  EXPECT_EQ(queue(), 2);
  // The clock is put right: without recovery the case would wait until December 2027.
  clock_.set(utc("2026-11-25T10:00Z"));
  auto reset = reminders_->recover_clock();
  ASSERT_TRUE(reset.ok());
  EXPECT_EQ(*reset, 1);
  EXPECT_EQ(count("SELECT count(*) FROM cases WHERE id = ? AND next_reminder_at = 1796547600", id), 1);  // 6 Dec 09:00
  clock_.set(utc("2026-12-06T09:00Z"));
  EXPECT_EQ(queue(), 1);
  EXPECT_EQ(reminder_messages(id).back()["reminder"], "lead-14d");
  auto again = reminders_->recover_clock();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
}

TEST_F(Cases_, ADamagedCaseStopsOnlyItsOwnReminders) {
  const std::string bad = open_case({{"kind", "exclusion"}, {"owner", "a@trust.example.nhs.uk"}, {"due_date", "2026-12-20"}});
  const std::string good = open_case({{"kind", "exclusion"}, {"owner", "b@trust.example.nhs.uk"}, {"due_date", "2026-12-20"}});
  ASSERT_TRUE(store_->db().exec("UPDATE cases SET due_date = 'garbage' WHERE id = '" + bad + "'").ok());
  clock_.set(utc("2026-12-06T09:00Z"));
  // Before it is noticed, `reminders upcoming` lists the damaged case as a problem and
  // the other case's reminders as usual.
  auto listed = reminders_->upcoming({{"days", 30}});
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  std::vector<std::string> entries;
  for (const auto& e : (*listed)["reminders"])
    entries.push_back(e["case_id"].get<std::string>() + " " + e["reminder"].get<std::string>());
  EXPECT_NE(std::find(entries.begin(), entries.end(), bad + " none"), entries.end());
  EXPECT_NE(std::find(entries.begin(), entries.end(), good + " lead-14d"), entries.end());
  EXPECT_EQ(queue(), 1);
  EXPECT_EQ(reminder_messages(good).size(), 1u);
  EXPECT_EQ(count("SELECT count(*) FROM cases WHERE id = ? AND next_reminder_at IS NULL", bad), 1);
  EXPECT_EQ(count("SELECT count(*) FROM audit WHERE record LIKE '%invalid_case%' AND record LIKE ?", "%" + bad + "%"), 1);
}

TEST_F(Cases_, ChangedRulesRescheduleTheOtherCasesPastADamagedOne) {
  const std::string bad = open_case({{"kind", "exclusion"}, {"owner", "a@trust.example.nhs.uk"}, {"due_date", "2026-12-20"}});
  const std::string good = open_case({{"kind", "exclusion"}, {"owner", "b@trust.example.nhs.uk"}, {"due_date", "2026-12-20"}});
  ASSERT_TRUE(store_->db().exec("UPDATE cases SET due_date = 'garbage' WHERE id = '" + bad + "'").ok());
  ReminderRules r = settings_.reminders;
  r.send_hour = 7;
  r.send_minute = 30;
  reminders_->set_rules(r, Contact{{"duty@issuer.example.nhs.uk"}, ""});
  // One damaged row must not stop hpand from starting after a rule change.
  auto n = reminders_->apply_rules();
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 1);  // the damaged case is not counted as rescheduled
  EXPECT_EQ(count("SELECT count(*) FROM cases WHERE id = ? AND next_reminder_at = 1796542200", good), 1);  // 07:30Z
  // The damaged case's reminders stop, and the audit log says so, naming only the case.
  EXPECT_EQ(count("SELECT count(*) FROM cases WHERE id = ? AND next_reminder_at IS NULL", bad), 1);
  EXPECT_EQ(count("SELECT count(*) FROM audit WHERE record LIKE '%invalid_case%' AND record LIKE ?", "%" + bad + "%"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM audit WHERE record LIKE '%invalid_case%'"
                  " AND (record LIKE '%garbage%' OR record LIKE '%trust.example%')"), 0);
  // The new rules were recorded as applied: nothing again, and no second audit record.
  auto again = reminders_->apply_rules();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
  EXPECT_EQ(count("SELECT count(*) FROM audit WHERE record LIKE '%invalid_case%'"), 1);
  clock_.set(utc("2026-12-06T07:30Z"));
  EXPECT_EQ(queue(), 1);
  EXPECT_EQ(reminder_messages(good).size(), 1u);
  EXPECT_TRUE(reminder_messages(bad).empty());
  // Recording the review with a new due date starts its reminders again.
  ASSERT_TRUE(lifecycle_->case_reviewed(operator_, {{"id", bad}, {"next_due", "2027-01-10"}}).ok());
  EXPECT_EQ(count("SELECT count(*) FROM cases WHERE id = ? AND next_reminder_at IS NOT NULL", bad), 1);
}

TEST_F(Cases_, AClockSetBackResetsTheOtherCasesPastADamagedOne) {
  const std::string bad = open_case({{"kind", "exclusion"}, {"owner", "a@trust.example.nhs.uk"}, {"due_date", "2026-12-20"}});
  const std::string good = open_case({{"kind", "exclusion"}, {"owner", "b@trust.example.nhs.uk"}, {"due_date", "2026-12-20"}});
  // A year ahead: each case's overdue reminder and escalation went out.
  clock_.set(utc("2027-12-01T10:00Z"));
  EXPECT_EQ(queue(), 4);
  ASSERT_TRUE(store_->db().exec("UPDATE cases SET due_date = 'garbage' WHERE id = '" + bad + "'").ok());
  clock_.set(utc("2026-11-25T10:00Z"));
  auto reset = reminders_->recover_clock();
  ASSERT_TRUE(reset.ok()) << reset.error().message;
  EXPECT_EQ(*reset, 1);  // the damaged case is not counted as rescheduled
  EXPECT_EQ(count("SELECT count(*) FROM cases WHERE id = ? AND next_reminder_at = 1796547600", good), 1);  // 6 Dec 09:00
  // The damaged case is stopped and audited once; its handled time comes back to now,
  // so the next start does not pick it up (and audit it) again.
  EXPECT_EQ(count("SELECT count(*) FROM cases WHERE id = ? AND next_reminder_at IS NULL AND handled_until = 1795600800",
                  bad), 1);
  EXPECT_EQ(count("SELECT count(*) FROM audit WHERE record LIKE '%invalid_case%' AND record LIKE ?", "%" + bad + "%"), 1);
  auto again = reminders_->recover_clock();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
  EXPECT_EQ(count("SELECT count(*) FROM audit WHERE record LIKE '%invalid_case%'"), 1);
}

TEST_F(Cases_, NotesOfAClosedCaseArePurgedAfterTheRetentionPeriod) {
  const std::string id = open_case({{"kind", "exclusion"}, {"owner", "a@trust.example.nhs.uk"}, {"notes", "Dr Secret"}});
  ASSERT_TRUE(lifecycle_->case_reviewed(operator_, {{"id", id}, {"note", "met Dr Secret"}}).ok());
  ASSERT_TRUE(lifecycle_->case_close(operator_, {{"id", id}, {"reason", "Dr Secret returned to work"}}).ok());
  clock_.advance(std::chrono::seconds(5 * 365 * kDay));
  ASSERT_TRUE(lifecycle_->purge_due(Actor::daemon()).ok());
  EXPECT_EQ(count("SELECT count(*) FROM cases WHERE notes LIKE '%Secret%'"), 1);  // not yet: 6 years
  clock_.advance(std::chrono::seconds(400 * kDay));
  auto r = lifecycle_->purge_due(Actor::daemon());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["case_notes_purged"], json::array({id}));
  EXPECT_EQ(count("SELECT count(*) FROM cases WHERE notes LIKE '%Secret%' OR close_reason LIKE '%Secret%'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM case_events WHERE note LIKE '%Secret%'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM case_events WHERE case_id = ?", id), 3);  // the events themselves stay
}

TEST_F(Cases_, AnUpgradedStoreGetsTheReviewCaseOfEachActiveNotice) {
  add_body("RQ1", "selected", true, true);
  const std::string notice = issue_urgent();
  // Back to schema 2: as written by the previous hpand, without cases.
  ASSERT_TRUE(store_->db()
                  .exec("DROP INDEX outbox_ready; DROP TABLE reminders; DROP TABLE case_events; DROP TABLE cases;"
                        " DROP TABLE case_sequence;"
                        " PRAGMA user_version = 2")
                  .ok());
  ASSERT_NO_FATAL_FAILURE(reopen());
  SetUp2();
  EXPECT_EQ(store_->schema_version(), kSchemaVersion);
  EXPECT_EQ(count("SELECT count(*) FROM cases"), 0);
  auto opened = lifecycle_->backfill_review_cases();
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(*opened, 1);
  EXPECT_EQ(count("SELECT count(*) FROM cases WHERE notice_id = ? AND due_date = '2027-05-24'", notice), 1);
  auto again = lifecycle_->backfill_review_cases();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
}

}  // namespace
}  // namespace hpan::alerts::testing
