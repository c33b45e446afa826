#include "alerts/outbox.h"

#include "alerts/calendar.h"
#include "alerts/notice_row.h"
#include "alerts/params.h"

namespace hpan::alerts {

using nlohmann::json;

Result<int> Outbox::requeue_in_flight(std::int64_t now) {
  HPAN_TRY_ASSIGN(s, store_.db().prepare(
                         "UPDATE outbox SET state = 'pending', updated_at = ?, next_attempt_at = ?"
                         " WHERE state = 'in_flight'"));
  s->bind(1, now).bind(2, now);
  HPAN_TRY(s->run());
  return store_.db().changes();
}

Result<std::vector<OutboundDelivery>> Outbox::claim_rows(std::int64_t now, int limit, const Accept& accept) {
  std::vector<OutboundDelivery> out;
  {
    HPAN_TRY_ASSIGN(s, store_.db().prepare(
                           "SELECT o.delivery_id, coalesce(o.notice_id, ''), coalesce(o.version, 0),"
                           " coalesce(o.body_id, ''), o.channel, o.address, o.message_type, o.attempts,"
                           " o.created_at, coalesce(b.public_key, ''), coalesce(b.webhook_secret, ''), o.message"
                           " FROM outbox o INDEXED BY outbox_ready LEFT JOIN bodies b ON b.id = o.body_id"
                           " WHERE o.state IN ('pending','failed') AND o.next_attempt_at <= ?"
                           " AND (o.body_id IS NULL OR b.state = 'active')"
                           " ORDER BY o.next_attempt_at, o.rowid"));
    s->bind(1, now);
    // In due order; rows `accept` turns down (their host is busy) stay pending. The scan
    // stops once `limit` are taken, so it reads past only the rows it turns down.
    while (static_cast<int>(out.size()) < limit) {
      HPAN_TRY_ASSIGN(has, s->step());
      if (!has) break;
      OutboundDelivery d;
      d.delivery_id = s->column_text(0);
      d.notice_id = s->column_text(1);
      d.version = static_cast<int>(s->column_int(2));
      d.body_id = s->column_text(3);
      d.channel = s->column_text(4);
      d.address = s->column_text(5);
      d.message_type = s->column_text(6);
      d.attempts = static_cast<int>(s->column_int(7)) + 1;
      d.created_at = s->column_int(8);
      d.body_public_key = s->column_text(9);
      d.webhook_secret = s->column_text(10);
      d.message = s->column_text(11);
      if (accept && !accept(d.channel, d.address)) continue;
      out.push_back(std::move(d));
    }
    s->reset();
  }
  HPAN_TRY_ASSIGN(u, store_.db().prepare(
                         "UPDATE outbox SET state = 'in_flight', attempts = ?, updated_at = ? WHERE delivery_id = ?"));
  for (const auto& d : out) {
    u->reset();
    u->bind(1, d.attempts).bind(2, now).bind(3, d.delivery_id);
    HPAN_TRY(u->run());
  }
  return out;
}

Result<std::optional<std::int64_t>> Outbox::next_due(const Accept& accept) {
  HPAN_TRY_ASSIGN(s, store_.db().prepare(
                         "SELECT o.next_attempt_at, o.channel, o.address FROM outbox o INDEXED BY outbox_ready"
                         " LEFT JOIN bodies b ON b.id = o.body_id"
                         " WHERE o.state IN ('pending','failed') AND (o.body_id IS NULL OR b.state = 'active')"
                         " ORDER BY o.next_attempt_at"));
  std::optional<std::int64_t> out;
  while (true) {
    HPAN_TRY_ASSIGN(has, s->step());
    if (!has) break;
    if (accept && !accept(s->column_text(1), s->column_text(2))) continue;
    out = s->column_int(0);
    break;
  }
  s->reset();
  return out;
}

Result<std::vector<OutboundDelivery>> Outbox::settle(const std::vector<AttemptResult>& results, std::int64_t now,
                                                     int limit, const Accept& accept) {
  HPAN_TRY_ASSIGN(tx, sql::Transaction::begin(store_.db()));
  AuditBatch batch = audit_.begin_batch();
  if (!results.empty()) HPAN_TRY(record_rows(results, now, batch));
  std::vector<OutboundDelivery> claimed;
  if (limit > 0) {
    HPAN_TRY_ASSIGN(c, claim_rows(now, limit, accept));
    claimed = std::move(c);
  }
  HPAN_TRY(tx.commit());
  batch.commit();
  return claimed;
}

Status Outbox::record_rows(const std::vector<AttemptResult>& results, std::int64_t now, AuditBatch& batch) {
  HPAN_TRY_ASSIGN(u, store_.db().prepare(
                         "UPDATE outbox SET state = ?, next_attempt_at = coalesce(?, next_attempt_at),"
                         " last_error = ?, updated_at = ?,"
                         " delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END"
                         " WHERE delivery_id = ? AND state = 'in_flight'"));
  HPAN_TRY_ASSIGN(a, store_.db().prepare(
                         "INSERT OR REPLACE INTO delivery_attempts(delivery_id, attempt, at, outcome, detail)"
                         " VALUES(?,?,?,?,?)"));
  for (const auto& r : results) {
    const std::string state = r.outcome == "delivered" ? "delivered" : r.outcome == "dead" ? "dead" : "failed";
    u->reset();
    u->bind(1, state);
    if (r.next_attempt_at) u->bind(2, *r.next_attempt_at);
    else u->bind_null(2);
    u->bind(3, r.outcome == "delivered" ? std::string() : r.detail).bind(4, now).bind(5, state).bind(6, now);
    u->bind(7, r.delivery_id);
    HPAN_TRY(u->run());
    if (store_.db().changes() == 0) continue;  // cancelled meanwhile (body removed)
    a->reset();
    a->bind(1, r.delivery_id).bind(2, r.attempt).bind(3, now).bind(4, r.outcome).bind(5, r.detail);
    HPAN_TRY(a->run());
    if (r.outcome == "dead") HPAN_TRY(escalate(r, now));
    HPAN_TRY(audit_.append(AuditEntry{Actor::daemon(), "delivery.attempt",
                                      json{{"delivery_id", r.delivery_id}},
                                      r.outcome == "delivered" ? "ok" : r.outcome,
                                      json{{"attempt", r.attempt}, {"detail", r.detail}}},
                           now));
  }
  return batch.checkpoint(now);
}

Status Outbox::escalate(const AttemptResult& dead, std::int64_t now) {
  if (escalation_.empty()) return {};
  HPAN_TRY_ASSIGN(s, store_.db().prepare(
                         "SELECT notice_id, version, body_id, channel, attempts FROM outbox"
                         " WHERE delivery_id = ? AND notice_id IS NOT NULL"));
  s->bind(1, dead.delivery_id);
  HPAN_TRY_ASSIGN(has, s->step());
  if (!has) return {};  // only notice deliveries are escalated, never escalations themselves
  // Ids and the transport's error only: no personal data.
  const json message = {{"subject", "HPAN delivery " + dead.delivery_id + " failed for good"},
                        {"event", "delivery_dead"},
                        {"delivery_id", dead.delivery_id},
                        {"notice_id", s->column_text(0)},
                        {"version", s->column_int(1)},
                        {"body_id", s->column_text(2)},
                        {"channel", s->column_text(3)},
                        {"attempts", s->column_int(4)},
                        {"last_error", dead.detail},
                        {"action", "check the body's endpoint, then: hpanctl deliveries retry " + dead.delivery_id}};
  s->reset();
  HPAN_TRY_ASSIGN(q, store_.db().prepare(
                         "INSERT OR IGNORE INTO outbox(delivery_id, channel, address, message_type, message,"
                         " state, next_attempt_at, created_at, updated_at)"
                         " VALUES(?, ?, ?, 'escalation', ?, 'pending', ?, ?, ?)"));
  auto queue = [&](const std::string& channel, const std::string& address) -> Status {
    q->reset();
    q->bind(1, "escalation-" + dead.delivery_id + (channel == "email" ? "" : "-" + channel));
    q->bind(2, channel).bind(3, address);
    q->bind(4, message.dump()).bind(5, now).bind(6, now).bind(7, now);
    return q->run();
  };
  if (!escalation_.emails.empty()) HPAN_TRY(queue("email", escalation_.emails_joined()));
  if (!escalation_.webhook.empty()) HPAN_TRY(queue("webhook", escalation_.webhook));
  return {};
}

Result<json> Outbox::payload(const std::string& notice_id, int version) {
  return load_version_payload(store_.db(), notice_id, version);
}

namespace {
json row_json(const sql::Statement& s) {
  return json{{"delivery_id", s.column_text(0)}, {"notice_id", s.column_text(1)},
              {"version", s.column_int(2)},      {"body_id", s.column_text(3)},
              {"channel", s.column_text(4)},     {"message_type", s.column_text(5)},
              {"state", s.column_text(6)},       {"attempts", s.column_int(7)},
              {"next_attempt_at", format_utc(s.column_int(8))},
              {"last_error", s.column_text(9)},  {"created_at", format_utc(s.column_int(10))},
              {"delivered_at", s.column_is_null(11) ? "" : format_utc(s.column_int(11))}};
}
constexpr const char* kColumns =
    "delivery_id, notice_id, version, body_id, channel, message_type, state, attempts,"
    " next_attempt_at, last_error, created_at, delivered_at";
}  // namespace

Result<json> Outbox::list(const json& params) {
  HPAN_TRY(param_only(params, {"state", "notice_id", "body_id", "limit"}));
  HPAN_TRY_ASSIGN(state, param_string(params, "state", false, 16));
  HPAN_TRY_ASSIGN(notice, param_string(params, "notice_id", false, 32));
  HPAN_TRY_ASSIGN(body, param_string(params, "body_id", false, 16));
  HPAN_TRY_ASSIGN(limit, param_int(params, "limit", 1000, 1, 100000));
  static const std::vector<std::string> states = {"pending", "in_flight", "delivered", "failed", "dead", "cancelled"};
  if (!state.empty() && std::find(states.begin(), states.end(), state) == states.end())
    return make_error("invalid_field", "expected pending, in_flight, delivered, failed, dead or cancelled", "state");
  HPAN_TRY_ASSIGN(s, store_.db().prepare(std::string("SELECT ") + kColumns +
                                         " FROM outbox WHERE (?1 = '' OR state = ?1) AND (?2 = '' OR notice_id = ?2)"
                                         " AND (?3 = '' OR body_id = ?3) ORDER BY created_at, rowid LIMIT ?4"));
  s->bind(1, state).bind(2, notice).bind(3, body).bind(4, limit);
  json out = json::array();
  while (true) {
    HPAN_TRY_ASSIGN(has, s->step());
    if (!has) break;
    out.push_back(row_json(*s));
  }
  return json{{"deliveries", out}};
}

Result<json> Outbox::show(const json& params) {
  HPAN_TRY(param_only(params, {"id"}));
  HPAN_TRY_ASSIGN(id, param_string(params, "id", true, 128));
  json row;
  {
    HPAN_TRY_ASSIGN(s, store_.db().prepare(std::string("SELECT ") + kColumns + " FROM outbox WHERE delivery_id = ?"));
    s->bind(1, id);
    HPAN_TRY_ASSIGN(has, s->step());
    if (!has) return make_error("not_found", "no delivery " + id, "id");
    row = row_json(*s);
    s->reset();
  }
  HPAN_TRY_ASSIGN(a, store_.db().prepare(
                         "SELECT attempt, at, outcome, detail FROM delivery_attempts WHERE delivery_id = ? ORDER BY attempt"));
  a->bind(1, id);
  json attempts = json::array();
  while (true) {
    HPAN_TRY_ASSIGN(has, a->step());
    if (!has) break;
    attempts.push_back({{"attempt", a->column_int(0)}, {"at", format_utc(a->column_int(1))},
                        {"outcome", a->column_text(2)}, {"detail", a->column_text(3)}});
  }
  row["attempt_log"] = attempts;
  return row;
}

Result<json> Outbox::retry(const Actor& actor, const json& params, std::int64_t now) {
  HPAN_TRY(param_only(params, {"id", "all_dead"}));
  HPAN_TRY_ASSIGN(id, param_string(params, "id", false, 128));
  HPAN_TRY_ASSIGN(all_dead, param_bool(params, "all_dead"));
  if (id.empty() == !all_dead)
    return make_error("missing_field", "give a delivery id, or all_dead", "id");
  HPAN_TRY_ASSIGN(tx, sql::Transaction::begin(store_.db()));
  AuditBatch batch = audit_.begin_batch();
  HPAN_TRY_ASSIGN(s, store_.db().prepare(
                         "UPDATE outbox SET state = 'pending', next_attempt_at = ?1, updated_at = ?1,"
                         " created_at = ?1 WHERE state IN ('dead','failed') AND (?2 = '' OR delivery_id = ?2)"));
  s->bind(1, now).bind(2, id);
  HPAN_TRY(s->run());
  const int n = store_.db().changes();
  if (!id.empty() && n == 0) return make_error("not_found", "no dead or failed delivery " + id, "id");
  HPAN_TRY(audit_.append(AuditEntry{actor, "delivery.retry", json{{"delivery_id", id.empty() ? "*" : id}}, "ok",
                                    json{{"requeued", n}}},
                         now));
  HPAN_TRY(batch.checkpoint(now));
  HPAN_TRY(tx.commit());
  batch.commit();
  return json{{"requeued", n}};
}

Result<json> Outbox::counts() {
  HPAN_TRY_ASSIGN(s, store_.db().prepare("SELECT channel, state, count(*), min(next_attempt_at) FROM outbox GROUP BY channel, state"));
  json out = json::array();
  while (true) {
    HPAN_TRY_ASSIGN(has, s->step());
    if (!has) break;
    out.push_back({{"channel", s->column_text(0)}, {"state", s->column_text(1)}, {"count", s->column_int(2)},
                   {"oldest_next_attempt", s->column_int(3)}});
  }
  return out;
}

}  // namespace hpan::alerts
