#include "alerts/lifecycle.h"

#include "alerts/mutation.h"

#include "alerts/bodies.h"
#include "alerts/cases.h"
#include "alerts/calendar.h"
#include "alerts/notice_content.h"
#include "alerts/notice_row.h"
#include "alerts/params.h"
#include "crypto/encoding.h"

namespace hpan::alerts {

using nlohmann::json;

namespace {

// The maker-checker rule: the checker must be another administrator than the maker.
Status require_second_person(const Actor& checker, std::uint32_t maker_uid,
                             const std::string& maker_name, std::string_view what) {
  if (!checker.system && checker.uid == maker_uid)
    return make_error("maker_checker",
                      std::string(what) + " needs a second administrator: " + maker_name +
                          " made the change and cannot also check it",
                      "actor");
  return {};
}

Status require_state(const NoticeRow& row, std::initializer_list<std::string_view> allowed,
                     std::string_view action) {
  for (auto s : allowed)
    if (row.state == s) return {};
  std::string list;
  for (auto s : allowed) list += (list.empty() ? "" : ", ") + std::string(s);
  return make_error("invalid_state",
                    "cannot " + std::string(action) + " notice " + row.id + " in state " +
                        row.state + " (needs " + list + ")",
                    "id");
}

// Every body a notice names must be registered and not removed.
Status check_named_bodies(sql::Database& db, const json& content) {
  auto check = [&](const std::string& id, const std::string& field) -> Status {
    if (id.empty()) return {};
    HPAN_TRY_ASSIGN(b, find_body(db, id));
    if (!b || b->state == "removed")
      return make_error("invalid_field", "no registered body " + id, field);
    return {};
  };
  HPAN_TRY(check(content["requesting_body"]["id"].get<std::string>(), "requesting_body.id"));
  HPAN_TRY(check(content["subject_body_id"].get<std::string>(), "subject_body_id"));
  const auto& r = content["recipients"];
  for (std::size_t i = 0; i < r.size(); ++i)
    HPAN_TRY(check(r[i].get<std::string>(), "recipients[" + std::to_string(i) + "]"));
  return {};
}

// Fills requesting_body.name from the registered body when the request left it out.
Status fill_requesting_body_name(sql::Database& db, json& content) {
  if (!content["requesting_body"]["name"].get<std::string>().empty()) return {};
  HPAN_TRY_ASSIGN(b, find_body(db, content["requesting_body"]["id"].get<std::string>()));
  if (b) content["requesting_body"]["name"] = b->name;
  return {};
}

json version_json(const VersionInfo& v) {
  return json{{"version", v.version},           {"type", v.type},
              {"content_hash", v.content_hash}, {"deliveries_queued", v.deliveries_queued},
              {"maker", v.maker},               {"checker", v.checker}};
}

Result<std::string> param_id(const json& params) {
  HPAN_TRY_ASSIGN(id, param_string(params, "id", true, 32));
  return id;
}

// A London date param ("YYYY-MM-DD"), or "" when absent.
Result<std::string> param_date(const json& params, std::string_view key) {
  HPAN_TRY_ASSIGN(s, param_string(params, key, false, 10));
  if (!s.empty() && !parse_date(s))
    return make_error("invalid_field", "expected a date YYYY-MM-DD", std::string(key));
  return s;
}

}  // namespace

Lifecycle::Lifecycle(Store& store, AuditLog& audit, const Clock& clock, LifecycleSettings settings)
    : store_(store), audit_(audit), clock_(clock), settings_(settings) {}

Result<json> Lifecycle::create(const Actor& actor, const json& params) {
  return mutate(actor, "notice.create", [&](Mutation& m) -> Result<json> {
    HPAN_TRY(param_only(params, {"content"}));
    auto it = params.find("content");
    if (it == params.end()) return make_error("missing_field", "is required", "content");
    HPAN_TRY_ASSIGN(content, normalise_content(*it));
    HPAN_TRY(check_named_bodies(m.db, content));
    HPAN_TRY(fill_requesting_body_name(m.db, content));
    const int year = static_cast<int>(london_date(m.now).year());
    HPAN_TRY_ASSIGN(id, allocate_notice_id(m.db, year));
    NoticeRow row;
    row.id = id;
    row.state = "draft";
    row.content = std::move(content);
    row.created_at = m.now;
    row.created_by = actor.user;
    row.created_uid = actor.uid;
    row.updated_at = m.now;
    HPAN_TRY(insert_notice(m.db, row));
    m.entry.object = {{"notice_id", id}};
    return row.summary();
  });
}

Result<json> Lifecycle::update(const Actor& actor, const json& params) {
  return mutate(actor, "notice.update", [&](Mutation& m) -> Result<json> {
    HPAN_TRY(param_only(params, {"id", "content"}));
    HPAN_TRY_ASSIGN(id, param_id(params));
    m.entry.object = {{"notice_id", id}};
    auto it = params.find("content");
    if (it == params.end()) return make_error("missing_field", "is required", "content");
    HPAN_TRY_ASSIGN(row, require_notice(m.db, id));
    HPAN_TRY(require_state(row, {"draft", "approved", "notified", "active"}, "update"));
    HPAN_TRY_ASSIGN(merged, merge_content(row.content, *it));
    HPAN_TRY(check_named_bodies(m.db, merged));
    HPAN_TRY(fill_requesting_body_name(m.db, merged));
    json result;
    if (row.state == "active") {
      if (!row.pending_action.is_null())
        return make_error("pending_change",
                          "notice " + id + " already has a " +
                              row.pending_action["kind"].get<std::string>() +
                              " awaiting approval; approve or reject it first",
                          "id");
      row.pending_action = {{"kind", "update"},      {"by", actor.user}, {"uid", actor.uid},
                            {"at", format_utc(m.now)}, {"content", merged}};
      m.entry.detail = {{"pending", "update"}};
    } else {
      // Editing before issue sends the notice back to draft: it needs approval again.
      if (row.state != "draft") m.entry.detail = {{"approval_cleared", true}};
      row.state = "draft";
      row.approved_at.reset();
      row.approved_by.clear();
      row.content = std::move(merged);
    }
    row.updated_at = m.now;
    HPAN_TRY(save_notice(m.db, row));
    result = row.summary();
    return result;
  });
}

Result<json> Lifecycle::approve(const Actor& actor, const json& params) {
  return mutate(actor, "notice.approve", [&](Mutation& m) -> Result<json> {
    HPAN_TRY(param_only(params, {"id"}));
    HPAN_TRY_ASSIGN(id, param_id(params));
    m.entry.object = {{"notice_id", id}};
    HPAN_TRY_ASSIGN(row, require_notice(m.db, id));
    json result;
    if (row.state == "draft") {
      HPAN_TRY(require_second_person(actor, row.created_uid, row.created_by, "approval"));
      HPAN_TRY(check_ready_for_approval(row.content));
      HPAN_TRY(check_named_bodies(m.db, row.content));
      row.state = "approved";
      row.approved_at = m.now;
      row.approved_by = actor.user;
      m.entry.detail = {{"approved", "draft"}};
    } else if (row.state == "active" && !row.pending_action.is_null()) {
      const json pending = row.pending_action;
      const std::string kind = pending["kind"].get<std::string>();
      HPAN_TRY(require_second_person(actor, pending["uid"].get<std::uint32_t>(),
                                     pending["by"].get<std::string>(), kind));
      const std::string maker = pending["by"].get<std::string>();
      row.pending_action = json();
      if (kind == "update") {
        row.content = pending["content"];
        HPAN_TRY(check_named_bodies(m.db, row.content));
        HPAN_TRY_ASSIGN(v, create_version(m.db, row, "updated", maker, actor.user, m.now));
        m.entry.object["version"] = v.version;
        m.entry.detail = {{"approved", "update"}, {"content_hash", v.content_hash},
                          {"deliveries_queued", v.deliveries_queued}};
        result["version"] = version_json(v);
      } else {
        row.state = "revoked";
        row.revoked_at = m.now;
        row.revocation_reason = pending["reason"].get<std::string>();
        row.next_review_due.clear();
        row.purge_after = add_period(m.now, settings_.retention);
        HPAN_TRY_ASSIGN(v, create_version(m.db, row, "revoked", maker, actor.user, m.now));
        HPAN_TRY(close_review_case(m.db, row.id, "notice revoked", actor, m.now));
        m.entry.object["version"] = v.version;
        m.entry.detail = {{"approved", "revoke"}, {"content_hash", v.content_hash},
                          {"deliveries_queued", v.deliveries_queued}};
        result["version"] = version_json(v);
      }
    } else {
      return make_error("invalid_state",
                        "notice " + id + " in state " + row.state + " has nothing awaiting approval",
                        "id");
    }
    row.updated_at = m.now;
    HPAN_TRY(save_notice(m.db, row));
    result["notice"] = row.summary();
    return result;
  });
}

Result<json> Lifecycle::reject(const Actor& actor, const json& params) {
  return mutate(actor, "notice.reject", [&](Mutation& m) -> Result<json> {
    HPAN_TRY(param_only(params, {"id", "reason"}));
    HPAN_TRY_ASSIGN(id, param_id(params));
    HPAN_TRY_ASSIGN(reason, param_string(params, "reason", true, 1000, true));
    m.entry.object = {{"notice_id", id}};
    HPAN_TRY_ASSIGN(row, require_notice(m.db, id));
    if (row.pending_action.is_null())
      return make_error("invalid_state", "notice " + id + " has no change awaiting approval", "id");
    m.entry.detail = {{"rejected", row.pending_action["kind"]}};
    row.pending_action = json();
    row.updated_at = m.now;
    HPAN_TRY(save_notice(m.db, row));
    return row.summary();
  });
}

Result<json> Lifecycle::inform(const Actor& actor, const json& params) {
  return mutate(actor, "notice.inform", [&](Mutation& m) -> Result<json> {
    HPAN_TRY(param_only(params, {"id", "informed_on"}));
    HPAN_TRY_ASSIGN(id, param_id(params));
    HPAN_TRY_ASSIGN(on, param_date(params, "informed_on"));
    m.entry.object = {{"notice_id", id}};
    HPAN_TRY_ASSIGN(row, require_notice(m.db, id));
    HPAN_TRY(require_state(row, {"approved", "active"}, "record the practitioner informed of"));
    if (row.state == "active" && row.informed_at)
      return make_error("invalid_state", "the practitioner was already recorded as informed", "id");
    std::int64_t informed = m.now;
    if (!on.empty()) {
      informed = london_time_to_unix(*parse_date(on), 0, 0);
      if (informed > m.now)
        return make_error("invalid_field", "must not be in the future", "informed_on");
    }
    row.informed_at = informed;
    if (row.state == "approved") {
      row.state = "notified";
      row.representation_ends_at = add_period(informed, settings_.representation_period);
    }
    row.updated_at = m.now;
    HPAN_TRY(save_notice(m.db, row));
    json result = row.summary();
    if (row.representation_ends_at)
      result["representation_ends_at"] = format_utc(*row.representation_ends_at);
    return result;
  });
}

Result<json> Lifecycle::issue(const Actor& actor, const json& params) {
  return mutate(actor, "notice.issue", [&](Mutation& m) -> Result<json> {
    HPAN_TRY(param_only(params, {"id", "urgent", "reason"}));
    HPAN_TRY_ASSIGN(id, param_id(params));
    HPAN_TRY_ASSIGN(urgent, param_bool(params, "urgent"));
    HPAN_TRY_ASSIGN(reason, param_string(params, "reason", false, 1000, true));
    m.entry.object = {{"notice_id", id}};
    HPAN_TRY_ASSIGN(row, require_notice(m.db, id));
    HPAN_TRY(require_state(row, {"approved", "notified"}, "issue"));
    if (row.state == "approved") {
      if (!urgent)
        return make_error("not_informed",
                          "the practitioner has not been informed; record it with notice.inform, "
                          "or issue urgently with a reason",
                          "urgent");
      if (reason.empty())
        return make_error("missing_field", "an urgent issue needs a recorded reason", "reason");
      row.urgent = true;
      row.urgent_reason = reason;
    } else if (urgent) {
      if (reason.empty())
        return make_error("missing_field", "an urgent issue needs a recorded reason", "reason");
      row.urgent = true;
      row.urgent_reason = reason;
    } else if (row.representation_ends_at && m.now < *row.representation_ends_at) {
      return make_error("representation_period",
                        "the practitioner's representation period ends at " +
                            format_utc(*row.representation_ends_at) +
                            "; issue after it, or urgently with a reason",
                        "id");
    }
    row.state = "active";
    row.issued_at = m.now;
    row.next_review_due = format_date(add_period(london_date(m.now), settings_.review_interval));
    HPAN_TRY_ASSIGN(v, create_version(m.db, row, "issued", row.created_by, actor.user, m.now));
    row.updated_at = m.now;
    HPAN_TRY(save_notice(m.db, row));
    HPAN_TRY(open_review_case(m.db, row.id, row.next_review_due, settings_, actor, m.now));
    m.entry.object["version"] = v.version;
    m.entry.detail = {{"urgent", row.urgent}, {"content_hash", v.content_hash},
                      {"deliveries_queued", v.deliveries_queued}};
    return json{{"notice", row.summary()}, {"version", version_json(v)}};
  });
}

Result<json> Lifecycle::review(const Actor& actor, const json& params) {
  return mutate(actor, "notice.review", [&](Mutation& m) -> Result<json> {
    HPAN_TRY(param_only(params, {"id", "outcome", "next_due", "reason", "changes"}));
    HPAN_TRY_ASSIGN(id, param_id(params));
    HPAN_TRY_ASSIGN(outcome, param_string(params, "outcome", true, 16));
    HPAN_TRY_ASSIGN(next_due, param_date(params, "next_due"));
    m.entry.object = {{"notice_id", id}};
    HPAN_TRY_ASSIGN(row, require_notice(m.db, id));
    HPAN_TRY(require_state(row, {"active"}, "review"));
    if (outcome != "continue" && outcome != "update" && outcome != "revoke")
      return make_error("invalid_field", "expected continue, update or revoke", "outcome");
    const auto today = london_date(m.now);
    if (!next_due.empty() && !(*parse_date(next_due) > today))
      return make_error("invalid_field", "must be after today", "next_due");
    if (next_due.empty()) next_due = format_date(add_period(today, settings_.review_interval));
    if (outcome != "continue" && !row.pending_action.is_null())
      return make_error("pending_change", "a change already awaits approval", "id");
    if (outcome == "update") {
      auto it = params.find("changes");
      if (it == params.end()) return make_error("missing_field", "an update review needs the changes", "changes");
      HPAN_TRY_ASSIGN(merged, merge_content(row.content, *it));
      HPAN_TRY(check_named_bodies(m.db, merged));
      row.pending_action = {{"kind", "update"},      {"by", actor.user}, {"uid", actor.uid},
                            {"at", format_utc(m.now)}, {"content", merged}};
    } else if (outcome == "revoke") {
      HPAN_TRY_ASSIGN(reason, param_string(params, "reason", true, 1000, true));
      row.pending_action = {{"kind", "revoke"},      {"by", actor.user}, {"uid", actor.uid},
                            {"at", format_utc(m.now)}, {"reason", reason}};
    }
    row.next_review_due = next_due;
    row.last_reviewed_at = m.now;
    row.updated_at = m.now;
    HPAN_TRY(save_notice(m.db, row));
    HPAN_TRY_ASSIGN(s, m.db.prepare(
                           "INSERT INTO reviews(notice_id, at, by_user, outcome, next_due)"
                           " VALUES(?,?,?,?,?)"));
    s->bind(1, id).bind(2, m.now).bind(3, actor.user).bind(4, outcome).bind(5, next_due);
    HPAN_TRY(s->run());
    HPAN_TRY(move_review_case(m.db, id, next_due, settings_, actor, m.now));
    m.entry.detail = {{"outcome", outcome}, {"next_due", next_due}};
    return row.summary();
  });
}

Result<json> Lifecycle::revoke(const Actor& actor, const json& params) {
  return mutate(actor, "notice.revoke", [&](Mutation& m) -> Result<json> {
    HPAN_TRY(param_only(params, {"id", "reason"}));
    HPAN_TRY_ASSIGN(id, param_id(params));
    HPAN_TRY_ASSIGN(reason, param_string(params, "reason", true, 1000, true));
    m.entry.object = {{"notice_id", id}};
    HPAN_TRY_ASSIGN(row, require_notice(m.db, id));
    HPAN_TRY(require_state(row, {"active"}, "revoke"));
    if (!row.pending_action.is_null())
      return make_error("pending_change", "a change already awaits approval", "id");
    row.pending_action = {{"kind", "revoke"},      {"by", actor.user}, {"uid", actor.uid},
                          {"at", format_utc(m.now)}, {"reason", reason}};
    row.updated_at = m.now;
    HPAN_TRY(save_notice(m.db, row));
    m.entry.detail = {{"pending", "revoke"}};
    return row.summary();
  });
}

Result<json> Lifecycle::withdraw(const Actor& actor, const json& params) {
  return mutate(actor, "notice.withdraw", [&](Mutation& m) -> Result<json> {
    HPAN_TRY(param_only(params, {"id", "reason"}));
    HPAN_TRY_ASSIGN(id, param_id(params));
    HPAN_TRY_ASSIGN(reason, param_string(params, "reason", true, 1000, true));
    m.entry.object = {{"notice_id", id}};
    HPAN_TRY_ASSIGN(row, require_notice(m.db, id));
    HPAN_TRY(require_state(row, {"draft", "approved", "notified"}, "withdraw"));
    row.state = "withdrawn";
    row.withdrawn_at = m.now;
    row.withdrawal_reason = reason;
    row.purge_after = add_period(m.now, settings_.retention);
    row.updated_at = m.now;
    HPAN_TRY(save_notice(m.db, row));
    return row.summary();
  });
}

Result<json> Lifecycle::purge_due(const Actor& actor) {
  return mutate(actor, "notice.purge", [&](Mutation& m) -> Result<json> {
    std::vector<std::string> ids;
    {
      HPAN_TRY_ASSIGN(s, m.db.prepare(
                             "SELECT id FROM notices WHERE state IN ('revoked','withdrawn')"
                             " AND purge_after IS NOT NULL AND purge_after <= ? ORDER BY id"));
      s->bind(1, m.now);
      while (true) {
        HPAN_TRY_ASSIGN(has, s->step());
        if (!has) break;
        ids.push_back(s->column_text(0));
      }
    }
    for (const auto& id : ids) {
      HPAN_TRY_ASSIGN(row, require_notice(m.db, id));
      row.content = purge_personal_data(row.content);
      row.state = "purged";
      row.purged_at = m.now;
      row.pending_action = json();
      row.revocation_reason.clear();
      row.withdrawal_reason.clear();
      row.urgent_reason.clear();
      row.updated_at = m.now;
      HPAN_TRY(save_notice(m.db, row));
      // Versions keep their hash, type and dates; the personal payload goes.
      HPAN_TRY_ASSIGN(s, m.db.prepare(
                             "UPDATE notice_versions SET content = json_object('purged', json('true'))"
                             " WHERE notice_id = ?"));
      s->bind(1, id);
      HPAN_TRY(s->run());
    }
    // Closed cases: their notes, events' notes and close reason go after the same
    // retention period; ids, kinds, dates and the reminders sent remain.
    std::vector<std::string> cases;
    {
      HPAN_TRY_ASSIGN(s, m.db.prepare(
                             "SELECT c.id, c.closed_at FROM cases c WHERE c.state = 'closed' AND c.closed_at IS NOT NULL"
                             " AND (c.notes <> '' OR c.close_reason <> '' OR EXISTS"
                             " (SELECT 1 FROM case_events e WHERE e.case_id = c.id AND e.note <> '')) ORDER BY c.id"));
      while (true) {
        HPAN_TRY_ASSIGN(has, s->step());
        if (!has) break;
        if (add_period(s->column_int(1), settings_.retention) <= m.now) cases.push_back(s->column_text(0));
      }
    }
    for (const auto& id : cases) {
      HPAN_TRY_ASSIGN(u, m.db.prepare("UPDATE cases SET notes = '', close_reason = '', updated_at = ?1 WHERE id = ?2"));
      u->bind(1, m.now).bind(2, id);
      HPAN_TRY(u->run());
      HPAN_TRY_ASSIGN(e, m.db.prepare("UPDATE case_events SET note = '' WHERE case_id = ?"));
      e->bind(1, id);
      HPAN_TRY(e->run());
    }
    m.entry.object = {{"notice_ids", ids}};
    m.entry.detail = {{"purged", ids.size()}, {"case_notes_purged", cases.size()}};
    return json{{"purged", ids}, {"case_notes_purged", cases}};
  });
}

Status Lifecycle::audit_failure(const Actor& actor, std::string_view method, const json& object,
                                const Error& error) {
  return audit_event(actor, method, object,
                     json{{"outcome", "refused"}, {"code", error.code}, {"field", error.field}});
}

Status Lifecycle::audit_event(const Actor& actor, std::string_view method, const json& object,
                              const json& detail) {
  const std::int64_t now = clock_.now_unix();
  HPAN_TRY_ASSIGN(tx, sql::Transaction::begin(store_.db()));
  AuditBatch batch = audit_.begin_batch();
  std::string outcome = "ok";
  json d = detail;
  if (d.is_object() && d.contains("outcome")) {
    outcome = d["outcome"].get<std::string>();
    d.erase("outcome");
  }
  HPAN_TRY(audit_.append(AuditEntry{actor, std::string(method), object, outcome, d}, now));
  HPAN_TRY(batch.checkpoint(now));
  HPAN_TRY(tx.commit());
  batch.commit();
  return {};
}

// ---- bodies ----

Result<json> Lifecycle::body_add(const Actor& actor, const json& params) {
  return mutate(actor, "body.add", [&](Mutation& m) -> Result<json> {
    HPAN_TRY_ASSIGN(nb, validate_new_body(params, settings_.allow_plain_http_to_loopback));
    m.entry.object = {{"body_id", nb.body.id}};
    HPAN_TRY_ASSIGN(existing, find_body(m.db, nb.body.id));
    if (existing)
      return make_error("exists",
                        "body " + nb.body.id + " is already registered (state " +
                            existing->state + ")",
                        "id");
    nb.body.added_at = m.now;
    nb.body.updated_at = m.now;
    HPAN_TRY(insert_body(m.db, nb));
    HPAN_TRY_ASSIGN(queued, queue_active_notices_for_body(m.db, nb.body.id, m.now));
    m.entry.detail = {{"fingerprint", nb.body.fingerprint},
                      {"receives", nb.body.receives},
                      {"deliveries_queued", queued}};
    json result = nb.body.to_json();
    result["deliveries_queued"] = queued;
    return result;
  });
}

Result<json> Lifecycle::body_set_state(const Actor& actor, const json& params,
                                       std::string_view method) {
  return mutate(actor, method, [&](Mutation& m) -> Result<json> {
    HPAN_TRY(param_only(params, {"id", "reason"}));
    HPAN_TRY_ASSIGN(id, param_string(params, "id", true, 16));
    HPAN_TRY_ASSIGN(reason, param_string(params, "reason", false, 1000, true));
    m.entry.object = {{"body_id", id}};
    HPAN_TRY_ASSIGN(body, find_body(m.db, id));
    if (!body) return make_error("not_found", "no body " + id, "id");
    std::string target;
    std::vector<std::string> from;
    if (method == "body.suspend") {
      target = "suspended";
      from = {"active"};
    } else if (method == "body.resume") {
      target = "active";
      from = {"suspended"};
    } else {
      target = "removed";
      from = {"active", "suspended"};
    }
    if (std::find(from.begin(), from.end(), body->state) == from.end())
      return make_error("invalid_state", "body " + id + " is " + body->state, "id");
    HPAN_TRY(set_body_state(m.db, id, target, m.now));
    m.entry.detail = {{"from", body->state}, {"to", target}};
    json result = {{"id", id}, {"state", target}};
    if (target == "removed") {
      HPAN_TRY_ASSIGN(s, m.db.prepare(
                             "UPDATE outbox SET state = 'cancelled', updated_at = ?,"
                             " last_error = 'body removed' WHERE body_id = ?"
                             " AND state IN ('pending','in_flight','failed')"));
      s->bind(1, m.now).bind(2, id);
      HPAN_TRY(s->run());
      const int cancelled = m.db.changes();
      m.entry.detail["deliveries_cancelled"] = cancelled;
      result["deliveries_cancelled"] = cancelled;
    }
    return result;
  });
}

Result<json> Lifecycle::body_show(const json& params) {
  HPAN_TRY(param_only(params, {"id"}));
  HPAN_TRY_ASSIGN(id, param_string(params, "id", true, 16));
  HPAN_TRY_ASSIGN(body, find_body(store_.db(), id));
  if (!body) return make_error("not_found", "no body " + id, "id");
  json j = body->to_json();
  HPAN_TRY_ASSIGN(s, store_.db().prepare(
                         "SELECT state, count(*) FROM outbox WHERE body_id = ? GROUP BY state"));
  s->bind(1, id);
  json counts = json::object();
  while (true) {
    HPAN_TRY_ASSIGN(has, s->step());
    if (!has) break;
    counts[s->column_text(0)] = s->column_int(1);
  }
  j["deliveries"] = counts;
  return j;
}

Result<json> Lifecycle::body_list(const json& params) {
  HPAN_TRY(param_only(params, {"state"}));
  HPAN_TRY_ASSIGN(state, param_string(params, "state", false, 16));
  if (!state.empty() && state != "active" && state != "suspended" && state != "removed")
    return make_error("invalid_field", "expected active, suspended or removed", "state");
  HPAN_TRY_ASSIGN(bodies, list_bodies(store_.db(), state));
  json out = json::array();
  for (const auto& b : bodies) out.push_back(b.to_json());
  return json{{"bodies", out}};
}

}  // namespace hpan::alerts
