// Read-only notice operations of Lifecycle: show, list, history, check, subject access.
#include "alerts/calendar.h"
#include "alerts/lifecycle.h"
#include "alerts/notice_content.h"
#include "alerts/notice_row.h"
#include "alerts/params.h"

namespace hpan::alerts {

using nlohmann::json;

namespace {

std::string opt_time(const std::optional<std::int64_t>& t) { return t ? format_utc(*t) : ""; }

json full_notice(const NoticeRow& r) {
  json j = r.summary();
  j["content"] = r.content;
  j["created_by"] = r.created_by;
  j["approved_at"] = opt_time(r.approved_at);
  j["approved_by"] = r.approved_by;
  j["informed_at"] = opt_time(r.informed_at);
  j["representation_ends_at"] = opt_time(r.representation_ends_at);
  j["urgent_reason"] = r.urgent_reason;
  j["last_reviewed_at"] = opt_time(r.last_reviewed_at);
  j["revoked_at"] = opt_time(r.revoked_at);
  j["revocation_reason"] = r.revocation_reason;
  j["withdrawn_at"] = opt_time(r.withdrawn_at);
  j["withdrawal_reason"] = r.withdrawal_reason;
  j["purge_after"] = opt_time(r.purge_after);
  j["purged_at"] = opt_time(r.purged_at);
  j["pending_action"] = r.pending_action;
  return j;
}

Result<json> versions_of(sql::Database& db, const std::string& id) {
  HPAN_TRY_ASSIGN(s, db.prepare(
                         "SELECT v.version, v.type, v.content_hash, v.created_at, v.maker, v.checker,"
                         " (SELECT count(*) FROM outbox o WHERE o.notice_id = v.notice_id AND"
                         "  o.version = v.version),"
                         " (SELECT count(*) FROM outbox o WHERE o.notice_id = v.notice_id AND"
                         "  o.version = v.version AND o.state = 'delivered')"
                         " FROM notice_versions v WHERE v.notice_id = ? ORDER BY v.version"));
  s->bind(1, id);
  json out = json::array();
  while (true) {
    HPAN_TRY_ASSIGN(has, s->step());
    if (!has) break;
    out.push_back({{"version", s->column_int(0)},
                   {"type", s->column_text(1)},
                   {"content_hash", s->column_text(2)},
                   {"created_at", format_utc(s->column_int(3))},
                   {"maker", s->column_text(4)},
                   {"checker", s->column_text(5)},
                   {"deliveries", s->column_int(6)},
                   {"delivered", s->column_int(7)}});
  }
  return out;
}

Result<json> reviews_of(sql::Database& db, const std::string& id) {
  HPAN_TRY_ASSIGN(s, db.prepare(
                         "SELECT at, by_user, outcome, next_due FROM reviews WHERE notice_id = ?"
                         " ORDER BY at, rowid"));
  s->bind(1, id);
  json out = json::array();
  while (true) {
    HPAN_TRY_ASSIGN(has, s->step());
    if (!has) break;
    out.push_back({{"at", format_utc(s->column_int(0))},
                   {"by", s->column_text(1)},
                   {"outcome", s->column_text(2)},
                   {"next_due", s->column_text(3)}});
  }
  return out;
}

Result<json> audit_of(sql::Database& db, const std::string& id) {
  HPAN_TRY_ASSIGN(s, db.prepare(
                         "SELECT seq, record FROM audit WHERE"
                         " json_extract(record, '$.object.notice_id') = ?1"
                         " OR EXISTS (SELECT 1 FROM json_each(record, '$.object.notice_ids')"
                         "            WHERE value = ?1)"
                         " ORDER BY seq"));
  s->bind(1, id);
  json out = json::array();
  while (true) {
    HPAN_TRY_ASSIGN(has, s->step());
    if (!has) break;
    json rec = json::parse(s->column_text(1));
    rec["seq"] = s->column_int(0);
    out.push_back(std::move(rec));
  }
  return out;
}

// The notices about one person: by regulator and registration number, or by name
// and date of birth. `states` empty = every state.
Result<std::vector<std::string>> find_subject(sql::Database& db, const json& params,
                                              bool active_only) {
  HPAN_TRY(param_only(params, {"regulator", "number", "name", "date_of_birth"}));
  HPAN_TRY_ASSIGN(regulator, param_string(params, "regulator", false, 8));
  HPAN_TRY_ASSIGN(number, param_string(params, "number", false, 32));
  HPAN_TRY_ASSIGN(name, param_string(params, "name", false, 200));
  HPAN_TRY_ASSIGN(dob, param_string(params, "date_of_birth", false, 10));
  const std::string state_clause = active_only ? " AND state = 'active'" : " AND state != 'purged'";
  sql::Statement* s = nullptr;
  if (!number.empty()) {
    if (regulator.empty())
      return make_error("missing_field", "a registration number needs its regulator", "regulator");
    HPAN_TRY_ASSIGN(st, db.prepare("SELECT id FROM notices WHERE subject_regulator = ? AND"
                                   " upper(subject_number) = upper(?)" + state_clause + " ORDER BY id"));
    st->bind(1, regulator).bind(2, number);
    s = st;
  } else if (!name.empty()) {
    if (dob.empty())
      return make_error("missing_field", "a name needs the date of birth", "date_of_birth");
    if (!parse_date(dob))
      return make_error("invalid_field", "expected a date YYYY-MM-DD", "date_of_birth");
    HPAN_TRY_ASSIGN(st, db.prepare("SELECT id FROM notices WHERE subject_name_key = ? AND"
                                   " subject_dob = ?" + state_clause + " ORDER BY id"));
    st->bind(1, name_key(name)).bind(2, dob);
    s = st;
  } else {
    return make_error("missing_field", "give regulator and number, or name and date_of_birth",
                      "number");
  }
  std::vector<std::string> ids;
  while (true) {
    HPAN_TRY_ASSIGN(has, s->step());
    if (!has) break;
    ids.push_back(s->column_text(0));
  }
  return ids;
}

}  // namespace

Result<json> Lifecycle::show(const json& params) {
  HPAN_TRY(param_only(params, {"id"}));
  HPAN_TRY_ASSIGN(id, param_string(params, "id", true, 32));
  HPAN_TRY_ASSIGN(row, require_notice(store_.db(), id));
  json j = full_notice(row);
  HPAN_TRY_ASSIGN(versions, versions_of(store_.db(), id));
  j["versions"] = versions;
  return j;
}

Result<json> Lifecycle::list(const json& params) {
  HPAN_TRY(param_only(params, {"state", "limit"}));
  HPAN_TRY_ASSIGN(state, param_string(params, "state", false, 16));
  HPAN_TRY_ASSIGN(limit, param_int(params, "limit", 1000, 1, 100000));
  static const std::vector<std::string> states = {"draft",   "approved",  "notified", "active",
                                                  "revoked", "withdrawn", "purged"};
  if (!state.empty() && std::find(states.begin(), states.end(), state) == states.end())
    return make_error("invalid_field",
                      "expected draft, approved, notified, active, revoked, withdrawn or purged",
                      "state");
  HPAN_TRY_ASSIGN(s, store_.db().prepare("SELECT id FROM notices WHERE ?1 = '' OR state = ?1"
                                         " ORDER BY id LIMIT ?2"));
  s->bind(1, state).bind(2, limit);
  std::vector<std::string> ids;
  while (true) {
    HPAN_TRY_ASSIGN(has, s->step());
    if (!has) break;
    ids.push_back(s->column_text(0));
  }
  json out = json::array();
  for (const auto& id : ids) {
    HPAN_TRY_ASSIGN(row, require_notice(store_.db(), id));
    out.push_back(row.summary());
  }
  return json{{"notices", out}};
}

Result<json> Lifecycle::history(const json& params) {
  HPAN_TRY(param_only(params, {"id"}));
  HPAN_TRY_ASSIGN(id, param_string(params, "id", true, 32));
  HPAN_TRY_ASSIGN(row, require_notice(store_.db(), id));
  HPAN_TRY_ASSIGN(versions, versions_of(store_.db(), id));
  HPAN_TRY_ASSIGN(reviews, reviews_of(store_.db(), id));
  HPAN_TRY_ASSIGN(audit, audit_of(store_.db(), id));
  return json{{"notice", row.summary()}, {"versions", versions}, {"reviews", reviews},
              {"audit", audit}};
}

Result<json> Lifecycle::check(const json& params) {
  HPAN_TRY_ASSIGN(ids, find_subject(store_.db(), params, true));
  json notices = json::array();
  for (const auto& id : ids) {
    HPAN_TRY_ASSIGN(row, require_notice(store_.db(), id));
    notices.push_back({{"id", row.id},
                       {"issued_at", opt_time(row.issued_at)},
                       {"requesting_body", row.content["requesting_body"]["id"]},
                       {"contact", row.content["contact"]}});
  }
  return json{{"subject_of_active_notice", !ids.empty()}, {"notices", notices}};
}

Result<json> Lifecycle::subject_access(const json& params) {
  HPAN_TRY_ASSIGN(ids, find_subject(store_.db(), params, false));
  json notices = json::array();
  for (const auto& id : ids) {
    HPAN_TRY_ASSIGN(row, require_notice(store_.db(), id));
    json j = full_notice(row);
    HPAN_TRY_ASSIGN(versions, versions_of(store_.db(), id));
    HPAN_TRY_ASSIGN(reviews, reviews_of(store_.db(), id));
    j["versions"] = versions;
    j["reviews"] = reviews;
    notices.push_back(std::move(j));
  }
  return json{{"notices", notices}};
}

}  // namespace hpan::alerts
