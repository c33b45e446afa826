// Cases (DESIGN §2): rows, the lifecycle's review-case hooks, and the case operations
// of Lifecycle (case.open, case.reviewed, case.close, case.reassign, case.show, case.list).
#include "alerts/cases.h"

#include <algorithm>

#include "alerts/calendar.h"
#include "alerts/mutation.h"
#include "alerts/notice_row.h"
#include "alerts/params.h"

namespace hpan::alerts {

namespace {

std::string opt_time(const std::optional<std::int64_t>& t) { return t ? format_utc(*t) : ""; }

std::string period_text(CalendarPeriod p) {
  if (p.months == 0 && p.seconds == 0) return "";
  if (p.seconds == 0) return p.months % 12 == 0 ? std::to_string(p.months / 12) + "y" : std::to_string(p.months) + "mo";
  const std::int64_t days = p.seconds / 86400;
  std::string out = p.months ? std::to_string(p.months) + "mo" : "";
  return out + (days % 7 == 0 ? std::to_string(days / 7) + "w" : std::to_string(days) + "d");
}

// "14d", "4w", "3mo", "1y": whole days, weeks, months or years (1 day to 5 years).
std::optional<CalendarPeriod> parse_interval(std::string_view text) {
  std::size_t i = 0;
  std::int64_t n = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i < 4) n = n * 10 + (text[i++] - '0');
  if (i == 0 || n == 0) return std::nullopt;
  const std::string_view unit = text.substr(i);
  CalendarPeriod p;
  if (unit == "d") p.seconds = n * 86400;
  else if (unit == "w") p.seconds = n * 7 * 86400;
  else if (unit == "mo") p.months = static_cast<int>(n);
  else if (unit == "y") p.months = static_cast<int>(n * 12);
  else return std::nullopt;
  if (p.months > 60 || p.seconds > 5 * 366 * 86400) return std::nullopt;
  return p;
}

Result<std::string> allocate_case_id(sql::Database& db, int year) {
  return allocate_yearly_id(db, "case_sequence", "CASE", year);
}

constexpr const char* kCaseColumns =
    "id, kind, coalesce(notice_id, ''), owner_emails, owner_webhook, interval_months, interval_days,"
    " due_date, state, notes, handled_until, escalated, next_reminder_at, opened_at, opened_by,"
    " reviewed_at, closed_at, closed_by, close_reason, updated_at";

std::optional<std::int64_t> opt_int(const sql::Statement& s, int col) {
  if (s.column_is_null(col)) return std::nullopt;
  return s.column_int(col);
}

CaseRow read_case(const sql::Statement& s) {
  CaseRow r;
  r.id = s.column_text(0);
  r.kind = s.column_text(1);
  r.notice_id = s.column_text(2);
  r.owner = stored_contact(s.column_text(3), s.column_text(4));
  r.interval = CalendarPeriod{static_cast<int>(s.column_int(5)), s.column_int(6) * 86400};
  r.due_date = s.column_text(7);
  r.state = s.column_text(8);
  r.notes = s.column_text(9);
  r.handled_until = s.column_int(10);
  r.escalated = s.column_int(11) != 0;
  r.next_reminder_at = opt_int(s, 12);
  r.opened_at = s.column_int(13);
  r.opened_by = s.column_text(14);
  r.reviewed_at = opt_int(s, 15);
  r.closed_at = opt_int(s, 16);
  r.closed_by = s.column_text(17);
  r.close_reason = s.column_text(18);
  r.updated_at = s.column_int(19);
  return r;
}

Result<std::optional<CaseRow>> load_case_where(sql::Database& db, const char* where, const std::string& key) {
  HPAN_TRY_ASSIGN(s, db.prepare(std::string("SELECT ") + kCaseColumns + " FROM cases WHERE " + where));
  s->bind(1, key);
  HPAN_TRY_ASSIGN(has, s->step());
  std::optional<CaseRow> out;
  if (has) out = read_case(*s);
  s->reset();
  return out;
}

Result<CaseRow> require_case(sql::Database& db, const std::string& id) {
  HPAN_TRY_ASSIGN(row, load_case_where(db, "id = ?", id));
  if (!row) return make_error("not_found", "no case " + id, "id");
  return std::move(*row);
}

Status write_case(sql::Database& db, const CaseRow& r, bool insert) {
  HPAN_TRY_ASSIGN(s, db.prepare(
                         insert ? "INSERT INTO cases(kind, notice_id, owner_emails, owner_webhook, interval_months,"
                                  " interval_days, due_date, state, notes, handled_until, escalated, next_reminder_at,"
                                  " opened_at, opened_by, reviewed_at, closed_at, closed_by, close_reason, updated_at, id)"
                                  " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                                : "UPDATE cases SET kind=?, notice_id=?, owner_emails=?, owner_webhook=?,"
                                  " interval_months=?, interval_days=?, due_date=?, state=?, notes=?, handled_until=?,"
                                  " escalated=?, next_reminder_at=?, opened_at=?, opened_by=?, reviewed_at=?,"
                                  " closed_at=?, closed_by=?, close_reason=?, updated_at=? WHERE id=?"));
  s->bind(1, r.kind);
  if (r.notice_id.empty()) s->bind_null(2);
  else s->bind(2, r.notice_id);
  s->bind(3, r.owner.emails_joined()).bind(4, r.owner.webhook);
  s->bind(5, r.interval.months).bind(6, r.interval.seconds / 86400);
  s->bind(7, r.due_date).bind(8, r.state).bind(9, r.notes).bind(10, r.handled_until);
  s->bind(11, r.escalated ? 1 : 0);
  auto bind_opt = [&](int i, const std::optional<std::int64_t>& v) {
    if (v) s->bind(i, *v);
    else s->bind_null(i);
  };
  bind_opt(12, r.next_reminder_at);
  s->bind(13, r.opened_at).bind(14, r.opened_by);
  bind_opt(15, r.reviewed_at);
  bind_opt(16, r.closed_at);
  s->bind(17, r.closed_by).bind(18, r.close_reason).bind(19, r.updated_at).bind(20, r.id);
  return s->run();
}

Status add_event(sql::Database& db, const std::string& case_id, std::int64_t at, const std::string& by,
                 const std::string& event, const std::string& due, const std::string& note) {
  HPAN_TRY_ASSIGN(s, db.prepare(
                         "INSERT INTO case_events(case_id, at, by_user, event, due_date, note) VALUES(?,?,?,?,?,?)"));
  s->bind(1, case_id).bind(2, at).bind(3, by).bind(4, event).bind(5, due).bind(6, note);
  return s->run();
}

// A due date param: a London date from today on (or `after_today`: strictly later).
Result<std::string> param_due(const json& params, std::string_view key, std::int64_t now, bool after_today) {
  HPAN_TRY_ASSIGN(s, param_string(params, key, false, 10));
  if (s.empty()) return s;
  const auto d = parse_date(s);
  if (!d) return make_error("invalid_field", "expected a date YYYY-MM-DD", std::string(key));
  const auto today = london_date(now);
  if (after_today ? !(*d > today) : *d < today)
    return make_error("invalid_field", after_today ? "must be after today" : "must not be in the past",
                      std::string(key));
  if (*d > add_months(today, 120)) return make_error("invalid_field", "more than 10 years ahead", std::string(key));
  return s;
}

Result<Contact> param_owner(const json& params, bool required, const LifecycleSettings& settings) {
  HPAN_TRY_ASSIGN(text, param_string(params, "owner", required, 2000));
  HPAN_TRY_ASSIGN(owner, parse_contact(text, settings.allow_plain_http_to_loopback, "owner"));
  if (required && owner.empty()) return make_error("missing_field", "the case needs an owner (email and/or webhook)", "owner");
  return owner;
}

json events_of(sql::Database& db, const std::string& id, Status& st) {
  json out = json::array();
  auto s = db.prepare("SELECT at, by_user, event, due_date, note FROM case_events WHERE case_id = ? ORDER BY at, rowid");
  if (!s) {
    st = std::move(s).error();
    return out;
  }
  (*s)->bind(1, id);
  while (true) {
    auto has = (*s)->step();
    if (!has) {
      st = std::move(has).error();
      break;
    }
    if (!*has) break;
    out.push_back({{"at", format_utc((*s)->column_int(0))}, {"by", (*s)->column_text(1)},
                   {"event", (*s)->column_text(2)}, {"due_date", (*s)->column_text(3)},
                   {"note", (*s)->column_text(4)}});
  }
  return out;
}

}  // namespace

json CaseRow::summary() const {
  json j = {{"id", id},
            {"kind", kind},
            {"state", state},
            {"due_date", due_date},
            {"interval", period_text(interval)},
            {"owner", owner.to_json()},
            {"next_reminder_at", opt_time(next_reminder_at)},
            {"opened_at", format_utc(opened_at)},
            {"opened_by", opened_by},
            {"reviewed_at", opt_time(reviewed_at)},
            {"closed_at", opt_time(closed_at)}};
  if (!notice_id.empty()) j["notice_id"] = notice_id;
  return j;
}

void set_case_due(CaseRow& row, const std::string& due_date, const ReminderRules& rules, std::int64_t now) {
  row.due_date = due_date;
  row.handled_until = now;
  row.escalated = false;
  row.next_reminder_at = next_reminder_time(*parse_date(due_date), rules, now, false);
}

Status open_review_case(sql::Database& db, const std::string& notice_id, const std::string& due_date,
                        const LifecycleSettings& settings, const Actor& actor, std::int64_t now) {
  CaseRow r;
  HPAN_TRY_ASSIGN(id, allocate_case_id(db, static_cast<int>(london_date(now).year())));
  r.id = id;
  r.kind = "hpan-review";
  r.notice_id = notice_id;
  r.owner = settings.review_case_owner;
  r.interval = settings.review_interval;
  r.state = "open";
  r.opened_at = now;
  r.opened_by = actor.user;
  r.updated_at = now;
  set_case_due(r, due_date, settings.reminders, now);
  HPAN_TRY(write_case(db, r, true));
  return add_event(db, r.id, now, actor.user, "opened", due_date, "");
}

Status move_review_case(sql::Database& db, const std::string& notice_id, const std::string& due_date,
                        const LifecycleSettings& settings, const Actor& actor, std::int64_t now) {
  HPAN_TRY_ASSIGN(row, load_case_where(db, "notice_id = ?", notice_id));
  if (!row) return open_review_case(db, notice_id, due_date, settings, actor, now);
  if (row->state != "open") {  // a notice is active again only after a restore; follow it
    row->state = "open";
    row->closed_at.reset();
  }
  set_case_due(*row, due_date, settings.reminders, now);
  row->reviewed_at = now;
  row->updated_at = now;
  HPAN_TRY(write_case(db, *row, false));
  return add_event(db, row->id, now, actor.user, "reviewed", due_date, "");
}

Status close_review_case(sql::Database& db, const std::string& notice_id, const std::string& reason,
                         const Actor& actor, std::int64_t now) {
  HPAN_TRY_ASSIGN(row, load_case_where(db, "notice_id = ?", notice_id));
  if (!row || row->state != "open") return {};
  row->state = "closed";
  row->closed_at = now;
  row->closed_by = actor.user;
  row->close_reason = reason;
  row->next_reminder_at.reset();
  row->updated_at = now;
  HPAN_TRY(write_case(db, *row, false));
  return add_event(db, row->id, now, actor.user, "closed", "", reason);
}

Result<json> Lifecycle::case_open(const Actor& actor, const json& params) {
  return mutate(actor, "case.open", [&](Mutation& m) -> Result<json> {
    HPAN_TRY(param_only(params, {"kind", "owner", "interval", "due_date", "notes"}));
    HPAN_TRY_ASSIGN(kind, param_string(params, "kind", true, 16));
    if (kind == "hpan-review")
      return make_error("invalid_field",
                        "an hpan-review case is opened by notice.issue and moved on by notice.review", "kind");
    if (std::find_if(std::begin(kCaseKinds), std::end(kCaseKinds), [&](const char* k) { return kind == k; }) ==
        std::end(kCaseKinds))
      return make_error("invalid_field", "expected exclusion, suspension, restriction, action-plan or follow-up",
                        "kind");
    HPAN_TRY_ASSIGN(owner, param_owner(params, true, settings_));
    HPAN_TRY_ASSIGN(interval_text, param_string(params, "interval", false, 8));
    HPAN_TRY_ASSIGN(due, param_due(params, "due_date", m.now, false));
    HPAN_TRY_ASSIGN(notes, param_string(params, "notes", false, 10000, true));
    CalendarPeriod interval;
    if (!interval_text.empty()) {
      auto p = parse_interval(interval_text);
      if (!p) return make_error("invalid_field", "expected an interval like 14d, 4w, 3mo or 1y (up to 5y)", "interval");
      interval = *p;
    } else if (auto it = settings_.case_intervals.find(kind); it != settings_.case_intervals.end()) {
      interval = it->second;
    }
    const auto today = london_date(m.now);
    if (due.empty()) {
      if (interval.months == 0 && interval.seconds == 0)
        return make_error("missing_field", "a " + kind + " case needs a due date or an interval", "due_date");
      due = format_date(add_period(today, interval));
    }
    CaseRow r;
    HPAN_TRY_ASSIGN(id, allocate_case_id(m.db, static_cast<int>(today.year())));
    r.id = id;
    r.kind = kind;
    r.owner = owner;
    r.interval = interval;
    r.state = "open";
    r.notes = notes;
    r.opened_at = m.now;
    r.opened_by = actor.user;
    r.updated_at = m.now;
    set_case_due(r, due, settings_.reminders, m.now);
    HPAN_TRY(write_case(m.db, r, true));
    HPAN_TRY(add_event(m.db, r.id, m.now, actor.user, "opened", due, ""));
    m.entry.object = {{"case_id", r.id}};
    m.entry.detail = {{"kind", kind}, {"due_date", due}};
    return r.summary();
  });
}

Result<json> Lifecycle::case_reviewed(const Actor& actor, const json& params) {
  return mutate(actor, "case.reviewed", [&](Mutation& m) -> Result<json> {
    HPAN_TRY(param_only(params, {"id", "next_due", "note"}));
    HPAN_TRY_ASSIGN(id, param_string(params, "id", true, 32));
    HPAN_TRY_ASSIGN(next_due, param_due(params, "next_due", m.now, true));
    HPAN_TRY_ASSIGN(note, param_string(params, "note", false, 10000, true));
    m.entry.object = {{"case_id", id}};
    HPAN_TRY_ASSIGN(row, require_case(m.db, id));
    if (row.state != "open") return make_error("invalid_state", "case " + id + " is closed", "id");
    if (row.kind == "hpan-review")
      return make_error("invalid_field", "record the review of notice " + row.notice_id + " with notice.review", "id");
    if (next_due.empty()) {
      if (row.interval.months == 0 && row.interval.seconds == 0)
        return make_error("missing_field", "this case has no interval: give the next due date", "next_due");
      next_due = format_date(add_period(london_date(m.now), row.interval));
    }
    set_case_due(row, next_due, settings_.reminders, m.now);
    row.reviewed_at = m.now;
    row.updated_at = m.now;
    HPAN_TRY(write_case(m.db, row, false));
    HPAN_TRY(add_event(m.db, id, m.now, actor.user, "reviewed", next_due, note));
    m.entry.detail = {{"next_due", next_due}};
    return row.summary();
  });
}

Result<json> Lifecycle::case_close(const Actor& actor, const json& params) {
  return mutate(actor, "case.close", [&](Mutation& m) -> Result<json> {
    HPAN_TRY(param_only(params, {"id", "reason"}));
    HPAN_TRY_ASSIGN(id, param_string(params, "id", true, 32));
    HPAN_TRY_ASSIGN(reason, param_string(params, "reason", true, 1000, true));
    m.entry.object = {{"case_id", id}};
    HPAN_TRY_ASSIGN(row, require_case(m.db, id));
    if (row.state != "open") return make_error("invalid_state", "case " + id + " is already closed", "id");
    if (row.kind == "hpan-review")
      return make_error("invalid_field",
                        "the review case of notice " + row.notice_id + " closes when the notice is revoked", "id");
    row.state = "closed";
    row.closed_at = m.now;
    row.closed_by = actor.user;
    row.close_reason = reason;
    row.next_reminder_at.reset();
    row.updated_at = m.now;
    HPAN_TRY(write_case(m.db, row, false));
    HPAN_TRY(add_event(m.db, id, m.now, actor.user, "closed", "", reason));
    return row.summary();
  });
}

Result<json> Lifecycle::case_reassign(const Actor& actor, const json& params) {
  return mutate(actor, "case.reassign", [&](Mutation& m) -> Result<json> {
    HPAN_TRY(param_only(params, {"id", "owner"}));
    HPAN_TRY_ASSIGN(id, param_string(params, "id", true, 32));
    HPAN_TRY_ASSIGN(owner, param_owner(params, true, settings_));
    m.entry.object = {{"case_id", id}};
    HPAN_TRY_ASSIGN(row, require_case(m.db, id));
    if (row.state != "open") return make_error("invalid_state", "case " + id + " is closed", "id");
    row.owner = owner;
    row.updated_at = m.now;
    HPAN_TRY(write_case(m.db, row, false));
    HPAN_TRY(add_event(m.db, id, m.now, actor.user, "reassigned", row.due_date, ""));
    return row.summary();
  });
}

Result<json> Lifecycle::case_show(const json& params) {
  HPAN_TRY(param_only(params, {"id"}));
  HPAN_TRY_ASSIGN(id, param_string(params, "id", true, 32));
  auto& db = store_.db();
  HPAN_TRY_ASSIGN(row, require_case(db, id));
  json j = row.summary();
  j["notes"] = row.notes;
  j["close_reason"] = row.close_reason;
  j["closed_by"] = row.closed_by;
  Status st;
  j["events"] = events_of(db, id, st);
  HPAN_TRY(st);
  HPAN_TRY_ASSIGN(s, db.prepare(
                         "SELECT due_date, slot, slot_at, queued_at, late, missed, deliveries FROM reminders"
                         " WHERE case_id = ? ORDER BY queued_at, slot_at, slot = 'escalation'"));
  s->bind(1, id);
  json reminders = json::array();
  while (true) {
    HPAN_TRY_ASSIGN(has, s->step());
    if (!has) break;
    reminders.push_back({{"due_date", s->column_text(0)}, {"reminder", s->column_text(1)},
                         {"falls_due_at", format_utc(s->column_int(2))}, {"queued_at", format_utc(s->column_int(3))},
                         {"late", s->column_int(4) != 0}, {"missed", s->column_int(5)},
                         {"deliveries", s->column_int(6)}});
  }
  j["reminders"] = reminders;
  return j;
}

Result<json> Lifecycle::case_list(const json& params) {
  HPAN_TRY(param_only(params, {"state", "kind", "overdue", "limit"}));
  HPAN_TRY_ASSIGN(state, param_string(params, "state", false, 16));
  HPAN_TRY_ASSIGN(kind, param_string(params, "kind", false, 16));
  HPAN_TRY_ASSIGN(overdue, param_bool(params, "overdue"));
  HPAN_TRY_ASSIGN(limit, param_int(params, "limit", 1000, 1, 100000));
  if (!state.empty() && state != "open" && state != "closed")
    return make_error("invalid_field", "expected open or closed", "state");
  if (!kind.empty() && std::find_if(std::begin(kCaseKinds), std::end(kCaseKinds),
                                    [&](const char* k) { return kind == k; }) == std::end(kCaseKinds))
    return make_error("invalid_field",
                      "expected hpan-review, exclusion, suspension, restriction, action-plan or follow-up", "kind");
  const std::string today = format_date(london_date(clock_.now_unix()));
  HPAN_TRY_ASSIGN(s, store_.db().prepare(std::string("SELECT ") + kCaseColumns +
                                         " FROM cases WHERE (?1 = '' OR state = ?1) AND (?2 = '' OR kind = ?2)"
                                         " AND (?3 = 0 OR (state = 'open' AND due_date < ?4))"
                                         " ORDER BY state DESC, due_date, id LIMIT ?5"));
  s->bind(1, state).bind(2, kind).bind(3, overdue ? 1 : 0).bind(4, today).bind(5, limit);
  json out = json::array();
  while (true) {
    HPAN_TRY_ASSIGN(has, s->step());
    if (!has) break;
    const CaseRow r = read_case(*s);
    json j = r.summary();
    j["overdue"] = r.state == "open" && r.due_date < today;
    out.push_back(std::move(j));
  }
  return json{{"cases", out}};
}

Result<int> Lifecycle::backfill_review_cases() {
  {
    HPAN_TRY_ASSIGN(s, store_.db().prepare(
                           "SELECT count(*) FROM notices n WHERE n.state = 'active' AND NOT EXISTS"
                           " (SELECT 1 FROM cases c WHERE c.notice_id = n.id AND c.state = 'open')"));
    HPAN_TRY_ASSIGN(has, s->step());
    if (!has || s->column_int(0) == 0) return 0;
  }
  int opened = 0;
  auto r = mutate(Actor::daemon(), "case.backfill", [&](Mutation& m) -> Result<json> {
    std::vector<std::pair<std::string, std::string>> missing;
    {
      HPAN_TRY_ASSIGN(s, m.db.prepare(
                             "SELECT n.id, coalesce(n.next_review_due, '') FROM notices n WHERE n.state = 'active'"
                             " AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.notice_id = n.id AND c.state = 'open')"));
      while (true) {
        HPAN_TRY_ASSIGN(has, s->step());
        if (!has) break;
        missing.emplace_back(s->column_text(0), s->column_text(1));
      }
    }
    for (const auto& [notice, due] : missing) {
      const std::string d = due.empty() ? format_date(add_period(london_date(m.now), settings_.review_interval)) : due;
      HPAN_TRY(move_review_case(m.db, notice, d, settings_, Actor::daemon(), m.now));
    }
    opened = static_cast<int>(missing.size());
    m.entry.detail = {{"opened", opened}};
    return json::object();
  });
  if (!r) return std::move(r).error();
  return opened;
}

}  // namespace hpan::alerts
