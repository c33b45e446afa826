#include "alerts/reminders.h"

#include <algorithm>

#include "alerts/bodies.h"
#include "alerts/calendar.h"
#include "alerts/params.h"

namespace hpan::alerts {

using nlohmann::json;
namespace chr = std::chrono;

// ---- contacts ----

std::string Contact::emails_joined() const {
  std::string out;
  for (const auto& e : emails) out += (out.empty() ? "" : ", ") + e;
  return out;
}

json Contact::to_json() const { return json{{"emails", emails}, {"webhook", webhook}}; }

namespace {
// "a, b ,c" -> {"a", "b", "c"}: comma-separated items, trimmed, empty ones dropped.
std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
  }
  return out;
}
}  // namespace

Contact stored_contact(std::string_view emails_joined, std::string webhook) {
  return Contact{split_list(emails_joined), std::move(webhook)};
}

Result<Contact> parse_contact(const std::string& text, bool allow_plain_http_to_loopback,
                              const std::string& field) {
  Contact c;
  for (const std::string& item : split_list(text)) {
    if (item.find("://") != std::string::npos) {
      if (!c.webhook.empty()) return make_error("invalid_field", "at most one webhook URL", field);
      std::string why;
      if (!acceptable_webhook_url(item, allow_plain_http_to_loopback, why))
        return make_error("invalid_field", "webhook URL " + why, field);
      c.webhook = item;
    } else if (valid_email_address(item)) {
      if (std::find(c.emails.begin(), c.emails.end(), item) == c.emails.end()) c.emails.push_back(item);
    } else {
      return make_error("invalid_field", "\"" + item + "\" is neither an email address nor a URL", field);
    }
  }
  if (c.emails.size() > 20) return make_error("invalid_field", "at most 20 email addresses", field);
  return c;
}

// ---- rules ----

std::string ReminderRules::fingerprint() const {
  json j = {{"escalate_after", {escalate_after.months, escalate_after.seconds}},
            {"send_at", {send_hour, send_minute}},
            {"escalation", escalation}};
  for (const auto& l : lead_times) j["lead_times"].push_back({l.months, l.seconds});
  return j.dump();
}

namespace {

int days_between(chr::year_month_day from, chr::year_month_day to) {
  return static_cast<int>((chr::sys_days{to} - chr::sys_days{from}).count());
}

chr::year_month_day minus_period(chr::year_month_day date, CalendarPeriod p) {
  return add_days(add_months(date, -p.months), -static_cast<int>(p.seconds / 86400));
}

ReminderSlot make_slot(chr::year_month_day due, chr::year_month_day day, const ReminderRules& rules,
                       std::string name) {
  return ReminderSlot{std::move(name), london_time_to_unix(day, rules.send_hour, rules.send_minute),
                      days_between(due, day)};
}

// The lead-time and due-day slots, earliest first, one per day.
std::vector<ReminderSlot> lead_slots(chr::year_month_day due, const ReminderRules& rules) {
  std::vector<ReminderSlot> out;
  for (const auto& lead : rules.lead_times) {
    const auto day = minus_period(due, lead);
    const int before = days_between(day, due);
    if (before < 0) continue;
    out.push_back(make_slot(due, day, rules, before == 0 ? "due" : "lead-" + std::to_string(before) + "d"));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
  out.erase(std::unique(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.at == b.at; }),
            out.end());
  return out;
}

ReminderSlot overdue_slot(chr::year_month_day due, const ReminderRules& rules, int k) {
  return make_slot(due, add_days(due, k), rules, "overdue-" + std::to_string(k) + "d");
}

// The number of the last overdue slot at or before `t` (0 when none yet).
int overdue_index_at(chr::year_month_day due, const ReminderRules& rules, std::int64_t t) {
  int k = days_between(due, london_date(t));
  if (k < 1) return 0;
  if (overdue_slot(due, rules, k).at > t) --k;
  return std::max(k, 0);
}

}  // namespace

std::optional<ReminderSlot> next_main_slot(chr::year_month_day due, const ReminderRules& rules,
                                           std::int64_t after) {
  for (const auto& s : lead_slots(due, rules))
    if (s.at > after) return s;
  const int k = std::max(overdue_index_at(due, rules, after) + 1, 1);
  return overdue_slot(due, rules, k);
}

std::optional<ReminderSlot> latest_main_slot(chr::year_month_day due, const ReminderRules& rules,
                                             std::int64_t after, std::int64_t now, int& missed) {
  missed = 0;
  if (now <= after) return std::nullopt;
  std::optional<ReminderSlot> latest;
  int count = 0;
  for (const auto& s : lead_slots(due, rules)) {
    if (s.at > after && s.at <= now) {
      latest = s;
      ++count;
    }
  }
  const int k_now = overdue_index_at(due, rules, now);
  if (k_now >= 1) {
    const int k_after = overdue_index_at(due, rules, after);
    if (k_now > k_after) {
      latest = overdue_slot(due, rules, k_now);
      count += k_now - k_after;
    }
  }
  if (latest) missed = count - 1;
  return latest;
}

std::optional<ReminderSlot> escalation_slot(chr::year_month_day due, const ReminderRules& rules) {
  if (!rules.escalation) return std::nullopt;
  const auto day = add_days(add_months(due, rules.escalate_after.months),
                            static_cast<int>(rules.escalate_after.seconds / 86400));
  return make_slot(due, day, rules, "escalation");
}

std::optional<std::int64_t> next_reminder_time(chr::year_month_day due, const ReminderRules& rules,
                                               std::int64_t handled_until, bool escalated) {
  std::optional<std::int64_t> next;
  if (auto s = next_main_slot(due, rules, handled_until)) next = s->at;
  if (!escalated) {
    if (auto e = escalation_slot(due, rules)) next = next ? std::min(*next, e->at) : e->at;
  }
  return next;
}

// ---- the store side ----

namespace {

struct DueCase {
  std::string id;
  std::string kind;
  std::string notice_id;
  std::string owner_emails;
  std::string owner_webhook;
  std::string due_date;
  std::int64_t handled_until = 0;
  bool escalated = false;
};

// The reminder's fields: the case reference, kind and due date only (no notes, no names).
json reminder_message(const DueCase& c, const ReminderSlot& slot, bool late, int missed) {
  std::string when;
  if (slot.name == "escalation")
    when = "overdue by " + std::to_string(slot.days_from_due) + " day(s): escalated";
  else if (slot.days_from_due < 0)
    when = "due in " + std::to_string(-slot.days_from_due) + " day(s)";
  else if (slot.days_from_due == 0)
    when = "due today";
  else
    when = "overdue by " + std::to_string(slot.days_from_due) + " day(s)";
  json m = {{"subject", std::string(slot.name == "escalation" ? "ESCALATION: " : "") + "HPAN case " + c.id +
                            " review " + when + (late ? " (late)" : "")},
            {"event", slot.name == "escalation" ? "case_escalation" : "case_reminder"},
            {"case_id", c.id},
            {"case_kind", c.kind},
            {"due_date", c.due_date},
            {"reminder", slot.name},
            {"days_from_due", slot.days_from_due},
            {"late", late}};
  if (missed > 0) m["missed_reminders"] = missed;
  if (!c.notice_id.empty()) m["notice_id"] = c.notice_id;
  m["action"] = c.kind == "hpan-review" ? "record the review: hpanctl notice review " + c.notice_id
                                        : "record the review: hpanctl case reviewed " + c.id;
  return m;
}

}  // namespace

Result<int> Reminders::reschedule(std::optional<std::int64_t> handled_after, std::optional<std::int64_t> restart_at,
                                  std::int64_t now) {
  struct OpenCase {
    std::string id;
    std::string due_date;
    std::int64_t handled_until = 0;
    bool escalated = false;
  };
  std::vector<OpenCase> rows;
  {
    HPAN_TRY_ASSIGN(s, store_.db().prepare(
                           std::string("SELECT id, due_date, handled_until, escalated FROM cases WHERE state = 'open'") +
                           (handled_after ? " AND handled_until > ?" : "")));
    if (handled_after) s->bind(1, *handled_after);
    while (true) {
      HPAN_TRY_ASSIGN(has, s->step());
      if (!has) break;
      rows.push_back(OpenCase{s->column_text(0), s->column_text(1), s->column_int(2), s->column_int(3) != 0});
    }
  }
  HPAN_TRY_ASSIGN(u, store_.db().prepare("UPDATE cases SET handled_until = ?, next_reminder_at = ? WHERE id = ?"));
  int rescheduled = 0;
  for (const auto& c : rows) {
    const std::int64_t handled = restart_at.value_or(c.handled_until);
    const auto date = parse_date(c.due_date);
    const auto next = date ? next_reminder_time(*date, rules_, handled, c.escalated) : std::nullopt;
    u->reset();
    u->bind(1, handled);
    if (next) u->bind(2, *next);
    else u->bind_null(2);
    u->bind(3, c.id);
    HPAN_TRY(u->run());
    if (!date) {
      // As in queue_due: one damaged row must not stop every other case (nor hpand's
      // start); this case's reminders stop, and the audit log says why.
      HPAN_TRY(audit_.append(AuditEntry{Actor::daemon(), "reminder.reschedule", json{{"case_id", c.id}},
                                        "invalid_case", json{{"problem", "malformed due date; reminders stopped"}}},
                             now));
      continue;
    }
    ++rescheduled;
  }
  return rescheduled;
}

Result<int> Reminders::apply_rules() {
  const std::string fp = rules_.fingerprint();
  HPAN_TRY_ASSIGN(stored, store_.get_meta("reminder_rules"));
  if (stored == fp) return 0;
  const std::int64_t now = clock_.now_unix();
  HPAN_TRY_ASSIGN(tx, sql::Transaction::begin(store_.db()));
  AuditBatch batch = audit_.begin_batch();
  HPAN_TRY_ASSIGN(updated, reschedule(std::nullopt, std::nullopt, now));
  HPAN_TRY(store_.set_meta("reminder_rules", fp));
  HPAN_TRY(batch.checkpoint(now));
  HPAN_TRY(tx.commit());
  batch.commit();
  return updated;
}

Result<int> Reminders::queue_due(std::int64_t started_at) {
  const std::int64_t now = clock_.now_unix();
  int queued = 0;
  // In batches, so one transaction never grows without bound.
  while (true) {
    std::vector<DueCase> due;
    HPAN_TRY_ASSIGN(tx, sql::Transaction::begin(store_.db()));
    AuditBatch batch = audit_.begin_batch();
    {
      HPAN_TRY_ASSIGN(s, store_.db().prepare(
                             "SELECT id, kind, coalesce(notice_id, ''), owner_emails, owner_webhook, due_date,"
                             " handled_until, escalated FROM cases"
                             " WHERE state = 'open' AND next_reminder_at <= ? ORDER BY next_reminder_at LIMIT 500"));
      s->bind(1, now);
      while (true) {
        HPAN_TRY_ASSIGN(has, s->step());
        if (!has) break;
        due.push_back(DueCase{s->column_text(0), s->column_text(1), s->column_text(2), s->column_text(3),
                              s->column_text(4), s->column_text(5), s->column_int(6), s->column_int(7) != 0});
      }
    }
    if (due.empty()) break;
    HPAN_TRY_ASSIGN(ins_rem, store_.db().prepare(
                                 "INSERT OR IGNORE INTO reminders(case_id, due_date, slot, slot_at, queued_at, late,"
                                 " missed, deliveries) VALUES(?,?,?,?,?,?,?,?)"));
    HPAN_TRY_ASSIGN(ins_out, store_.db().prepare(
                                 "INSERT OR IGNORE INTO outbox(delivery_id, channel, address, message_type, message,"
                                 " state, next_attempt_at, created_at, updated_at)"
                                 " VALUES(?, ?, ?, 'reminder', ?, 'pending', ?, ?, ?)"));
    HPAN_TRY_ASSIGN(upd, store_.db().prepare(
                             "UPDATE cases SET handled_until = ?, escalated = ?, next_reminder_at = ?, updated_at = ?"
                             " WHERE id = ?"));
    for (const auto& c : due) {
      const auto date = parse_date(c.due_date);
      if (!date) {
        // One damaged row must not stop every other case's reminders: this case's stop,
        // and the audit log says why.
        upd->reset();
        upd->bind(1, c.handled_until).bind(2, c.escalated ? 1 : 0).bind_null(3).bind(4, now).bind(5, c.id);
        HPAN_TRY(upd->run());
        HPAN_TRY(audit_.append(AuditEntry{Actor::daemon(), "reminder.queue", json{{"case_id", c.id}}, "invalid_case",
                                          json{{"problem", "malformed due date; reminders stopped"}}},
                               now));
        continue;
      }
      auto queue = [&](const ReminderSlot& slot, const Contact& to, int missed) -> Status {
        const bool late = slot.at < started_at || now - slot.at > kLateAfterSeconds;
        const json message = reminder_message(c, slot, late, missed);
        const std::string base = c.id + "-" + c.due_date + "-" + slot.name;
        int deliveries = 0;
        auto row = [&](const std::string& channel, const std::string& address) -> Status {
          ins_out->reset();
          ins_out->bind(1, base + "-" + channel).bind(2, channel).bind(3, address).bind(4, message.dump());
          ins_out->bind(5, now).bind(6, now).bind(7, now);
          HPAN_TRY(ins_out->run());
          deliveries += store_.db().changes();
          return {};
        };
        ins_rem->reset();
        ins_rem->bind(1, c.id).bind(2, c.due_date).bind(3, slot.name).bind(4, slot.at).bind(5, now);
        ins_rem->bind(6, late ? 1 : 0).bind(7, missed);
        ins_rem->bind(8, static_cast<int>((to.emails.empty() ? 0 : 1) + (to.webhook.empty() ? 0 : 1)));
        HPAN_TRY(ins_rem->run());
        if (store_.db().changes() == 0) return {};  // already queued: one per case, due date and slot
        if (!to.emails.empty()) HPAN_TRY(row("email", to.emails_joined()));
        if (!to.webhook.empty()) HPAN_TRY(row("webhook", to.webhook));
        ++queued;
        HPAN_TRY(audit_.append(AuditEntry{Actor::daemon(), "reminder.queue", json{{"case_id", c.id}},
                                        to.empty() ? "no_contact" : "ok",
                                        json{{"due_date", c.due_date}, {"slot", slot.name}, {"late", late},
                                             {"missed", missed}, {"deliveries", deliveries}}},
                             now));
        return {};
      };
      const Contact owner = stored_contact(c.owner_emails, c.owner_webhook);  // checked when stored
      int missed = 0;
      if (auto slot = latest_main_slot(*date, rules_, c.handled_until, now, missed))
        HPAN_TRY(queue(*slot, owner, missed));
      bool escalated = c.escalated;
      if (!escalated) {
        if (auto e = escalation_slot(*date, rules_); e && e->at <= now) {
          HPAN_TRY(queue(*e, escalation_, 0));
          escalated = true;
        }
      }
      const std::int64_t handled = std::max(c.handled_until, now);
      const auto next = next_reminder_time(*date, rules_, handled, escalated);
      upd->reset();
      upd->bind(1, handled).bind(2, escalated ? 1 : 0);
      if (next) upd->bind(3, *next);
      else upd->bind_null(3);
      upd->bind(4, now).bind(5, c.id);
      HPAN_TRY(upd->run());
    }
    HPAN_TRY(batch.checkpoint(now));
    HPAN_TRY(tx.commit());
    batch.commit();
  }
  return queued;
}

Result<int> Reminders::recover_clock() {
  const std::int64_t now = clock_.now_unix();
  HPAN_TRY_ASSIGN(tx, sql::Transaction::begin(store_.db()));
  AuditBatch batch = audit_.begin_batch();
  HPAN_TRY_ASSIGN(reset, reschedule(now + kClockSlackSeconds, now, now));
  HPAN_TRY(batch.checkpoint(now));
  HPAN_TRY(tx.commit());
  batch.commit();
  return reset;
}

Result<std::optional<std::int64_t>> Reminders::next_at() {
  HPAN_TRY_ASSIGN(s, store_.db().prepare("SELECT min(next_reminder_at) FROM cases WHERE state = 'open'"));
  HPAN_TRY_ASSIGN(has, s->step());
  std::optional<std::int64_t> out;
  if (has && !s->column_is_null(0)) out = s->column_int(0);
  s->reset();
  return out;
}

Result<json> Reminders::upcoming(const json& params) {
  HPAN_TRY(param_only(params, {"days", "limit"}));
  HPAN_TRY_ASSIGN(days, param_int(params, "days", 14, 0, 366));
  HPAN_TRY_ASSIGN(limit, param_int(params, "limit", 1000, 1, 100000));
  const std::int64_t now = clock_.now_unix();
  const std::int64_t until = now + days * 86400;
  HPAN_TRY_ASSIGN(s, store_.db().prepare(
                         "SELECT id, kind, coalesce(notice_id, ''), owner_emails, owner_webhook, due_date,"
                         " handled_until, escalated FROM cases"
                         " WHERE state = 'open' AND next_reminder_at <= ? ORDER BY next_reminder_at LIMIT ?"));
  s->bind(1, until).bind(2, limit);
  json out = json::array();
  while (true) {
    HPAN_TRY_ASSIGN(has, s->step());
    if (!has) break;
    const DueCase c{s->column_text(0), s->column_text(1), s->column_text(2), s->column_text(3),
                    s->column_text(4), s->column_text(5), s->column_int(6), s->column_int(7) != 0};
    const auto date = parse_date(c.due_date);
    if (!date) {
      // Damaged outside hpand: shown, so that someone sets a due date (its reminders stop
      // when the scheduler reaches it).
      out.push_back(json{{"at", format_utc(now)}, {"case_id", c.id}, {"case_kind", c.kind},
                         {"notice_id", c.notice_id}, {"due_date", ""}, {"reminder", "none"}, {"late", false},
                         {"repeats", ""}, {"to", json::array()},
                         {"problem", "the due date cannot be read: set one with hpanctl case reviewed --next-due"}});
      continue;
    }
    auto add = [&](const ReminderSlot& slot, bool overdue_now, bool daily = false) {
      std::vector<std::string> to;
      if (slot.name == "escalation") {
        for (const auto& e : escalation_.emails) to.push_back(e);
        if (!escalation_.webhook.empty()) to.push_back(escalation_.webhook);
      } else {
        if (!c.owner_emails.empty()) to.push_back(c.owner_emails);
        if (!c.owner_webhook.empty()) to.push_back(c.owner_webhook);
      }
      out.push_back(json{{"at", format_utc(std::max(slot.at, now))},
                         {"case_id", c.id},
                         {"case_kind", c.kind},
                         {"notice_id", c.notice_id},
                         {"due_date", c.due_date},
                         {"reminder", slot.name},
                         {"late", overdue_now},
                         {"repeats", daily ? "daily" : ""},
                         {"to", to}});
    };
    // What falls due now (catch-up) is sent at once; then each slot in the window.
    std::int64_t after = c.handled_until;
    int missed = 0;
    if (auto s0 = latest_main_slot(*date, rules_, after, now, missed)) {
      add(*s0, true);
      after = now;
    }
    after = std::max(after, now);
    // Lead-time and due-day slots one by one; the daily overdue ones as one entry.
    for (int guard = 0; guard < 64; ++guard) {
      auto slot = next_main_slot(*date, rules_, after);
      if (!slot || slot->at > until) break;
      const bool overdue = slot->days_from_due > 0;
      add(*slot, false, overdue);
      if (overdue) break;
      after = slot->at;
    }
    if (!c.escalated) {
      if (auto e = escalation_slot(*date, rules_); e && e->at <= until) add(*e, e->at < now);
    }
  }
  std::sort(out.begin(), out.end(), [](const json& a, const json& b) {
    return std::tie(a["at"].get_ref<const std::string&>(), a["case_id"].get_ref<const std::string&>()) <
           std::tie(b["at"].get_ref<const std::string&>(), b["case_id"].get_ref<const std::string&>());
  });
  const bool truncated = out.size() > static_cast<std::size_t>(limit);
  if (truncated) out.erase(out.begin() + limit, out.end());
  return json{{"from", format_utc(now)}, {"until", format_utc(until)}, {"reminders", out}, {"truncated", truncated}};
}

}  // namespace hpan::alerts
