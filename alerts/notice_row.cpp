#include "alerts/notice_row.h"

#include <cstdio>

#include "alerts/calendar.h"
#include "alerts/notice_content.h"
#include "crypto/encoding.h"
#include "crypto/notice_envelope.h"

namespace hpan::alerts {
namespace {

using nlohmann::json;

constexpr const char* kNoticeColumns =
    "id, state, content, created_at, created_by, created_uid, approved_at, approved_by,"
    " informed_at, representation_ends_at, issued_at, urgent, urgent_reason, next_review_due,"
    " last_reviewed_at, revoked_at, revocation_reason, withdrawn_at, withdrawal_reason,"
    " purge_after, purged_at, current_version, pending_action, updated_at";

std::optional<std::int64_t> opt_int(const sql::Statement& s, int i) {
  if (s.column_is_null(i)) return std::nullopt;
  return s.column_int(i);
}

void bind_opt(sql::Statement& s, int i, const std::optional<std::int64_t>& v) {
  if (v) s.bind(i, *v);
  else s.bind_null(i);
}

std::string date_or_empty(const std::optional<std::int64_t>& t) {
  return t ? format_utc(*t) : std::string();
}

}  // namespace

json NoticeRow::summary() const {
  return json{{"id", id},
              {"state", state},
              {"version", current_version},
              {"profession", content["practitioner"]["profession"]},
              {"regulator", content["practitioner"]["regulator"]},
              {"urgent", urgent},
              {"created_at", format_utc(created_at)},
              {"issued_at", date_or_empty(issued_at)},
              {"next_review_due", next_review_due},
              {"pending", pending_action.is_null() ? json("") : pending_action["kind"]}};
}

Result<std::optional<NoticeRow>> load_notice(sql::Database& db, const std::string& id) {
  HPAN_TRY_ASSIGN(s, db.prepare(std::string("SELECT ") + kNoticeColumns + " FROM notices WHERE id = ?"));
  s->bind(1, id);
  HPAN_TRY_ASSIGN(has, s->step());
  if (!has) return std::optional<NoticeRow>{};
  NoticeRow r;
  r.id = s->column_text(0);
  r.state = s->column_text(1);
  r.content = json::parse(s->column_text(2));
  r.created_at = s->column_int(3);
  r.created_by = s->column_text(4);
  r.created_uid = static_cast<std::uint32_t>(s->column_int(5));
  r.approved_at = opt_int(*s, 6);
  r.approved_by = s->column_text(7);
  r.informed_at = opt_int(*s, 8);
  r.representation_ends_at = opt_int(*s, 9);
  r.issued_at = opt_int(*s, 10);
  r.urgent = s->column_int(11) != 0;
  r.urgent_reason = s->column_text(12);
  r.next_review_due = s->column_text(13);
  r.last_reviewed_at = opt_int(*s, 14);
  r.revoked_at = opt_int(*s, 15);
  r.revocation_reason = s->column_text(16);
  r.withdrawn_at = opt_int(*s, 17);
  r.withdrawal_reason = s->column_text(18);
  r.purge_after = opt_int(*s, 19);
  r.purged_at = opt_int(*s, 20);
  r.current_version = static_cast<int>(s->column_int(21));
  auto pending = s->column_optional_text(22);
  r.pending_action = pending ? json::parse(*pending) : json();
  r.updated_at = s->column_int(23);
  s->reset();
  return std::optional<NoticeRow>(std::move(r));
}

Result<NoticeRow> require_notice(sql::Database& db, const std::string& id) {
  HPAN_TRY_ASSIGN(row, load_notice(db, id));
  if (!row) return make_error("not_found", "no notice " + id, "id");
  return std::move(*row);
}

Status insert_notice(sql::Database& db, const NoticeRow& row) {
  HPAN_TRY_ASSIGN(s, db.prepare(
                         "INSERT INTO notices(id, state, content, created_at, created_by,"
                         " created_uid, updated_at) VALUES(?,?,?,?,?,?,?)"));
  s->bind(1, row.id).bind(2, row.state).bind(3, row.content.dump()).bind(4, row.created_at);
  s->bind(5, row.created_by).bind(6, static_cast<std::int64_t>(row.created_uid));
  s->bind(7, row.updated_at);
  HPAN_TRY(s->run());
  return save_notice(db, row);
}

Status save_notice(sql::Database& db, const NoticeRow& r) {
  HPAN_TRY_ASSIGN(s, db.prepare(
                         "UPDATE notices SET state=?1, content=?2, approved_at=?3, approved_by=?4,"
                         " informed_at=?5, representation_ends_at=?6, issued_at=?7, urgent=?8,"
                         " urgent_reason=?9, next_review_due=?10, last_reviewed_at=?11,"
                         " revoked_at=?12, revocation_reason=?13, withdrawn_at=?14,"
                         " withdrawal_reason=?15, purge_after=?16, purged_at=?17,"
                         " current_version=?18, pending_action=?19, updated_at=?20,"
                         " subject_regulator=?21, subject_number=?22, subject_name_key=?23,"
                         " subject_dob=?24 WHERE id=?25"));
  const json& p = r.content["practitioner"];
  s->bind(1, r.state).bind(2, r.content.dump());
  bind_opt(*s, 3, r.approved_at);
  s->bind(4, r.approved_by);
  bind_opt(*s, 5, r.informed_at);
  bind_opt(*s, 6, r.representation_ends_at);
  bind_opt(*s, 7, r.issued_at);
  s->bind(8, r.urgent ? 1 : 0).bind(9, r.urgent_reason).bind(10, r.next_review_due);
  bind_opt(*s, 11, r.last_reviewed_at);
  bind_opt(*s, 12, r.revoked_at);
  s->bind(13, r.revocation_reason);
  bind_opt(*s, 14, r.withdrawn_at);
  s->bind(15, r.withdrawal_reason);
  bind_opt(*s, 16, r.purge_after);
  bind_opt(*s, 17, r.purged_at);
  s->bind(18, r.current_version);
  if (r.pending_action.is_null()) s->bind_null(19);
  else s->bind(19, r.pending_action.dump());
  s->bind(20, r.updated_at);
  s->bind(21, p["regulator"].get<std::string>());
  s->bind(22, p["registration_number"].get<std::string>());
  s->bind(23, name_key(p["full_name"].get<std::string>()));
  s->bind(24, p["date_of_birth"].get<std::string>());
  s->bind(25, r.id);
  return s->run();
}

Result<std::string> allocate_yearly_id(sql::Database& db, std::string_view sequence_table, std::string_view prefix,
                                       int year) {
  HPAN_TRY_ASSIGN(s, db.prepare("INSERT INTO " + std::string(sequence_table) +
                                "(year, last) VALUES(?1, 1) ON CONFLICT(year) DO UPDATE SET last = last + 1"
                                " RETURNING last"));
  s->bind(1, year);
  HPAN_TRY_ASSIGN(has, s->step());
  if (!has) return make_error("storage_error", std::string(prefix) + " id sequence returned nothing");
  const std::int64_t n = s->column_int(0);
  s->reset();
  if (n > 999999) return make_error("storage_error", std::string(prefix) + " id sequence exhausted for the year");
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.8s-%04d-%06lld", std::string(prefix).c_str(), year, static_cast<long long>(n));
  return std::string(buf);
}

Result<std::string> allocate_notice_id(sql::Database& db, int year) {
  return allocate_yearly_id(db, "notice_sequence", "HPAN", year);
}

std::string make_delivery_id(const std::string& notice_id, int version, const std::string& body_id,
                             const std::string& channel) {
  return notice_id + "-v" + std::to_string(version) + "-" + body_id + "-" + channel;
}

namespace {

// The payload of DESIGN §3 / docs/notice-format.md without body_id.
json payload_base(const NoticeRow& row, int version, const std::string& type, std::int64_t now) {
  json supersedes = json::array();
  for (int v = 1; v < version; ++v) supersedes.push_back(v);
  const json& c = row.content;
  return json{
      {"schema", std::string(crypto::kNoticeSchema)},
      {"type", type},
      {"notice_id", row.id},
      {"version", version},
      {"supersedes", supersedes},
      {"signed_at", format_utc(now)},
      {"urgent", row.urgent},
      {"urgent_reason", row.urgent_reason},
      {"practitioner", c["practitioner"]},
      {"concern", c["concern"]},
      {"requesting_body", c["requesting_body"]},
      {"requester", c["requester"]},
      {"contact", c["contact"]},
      {"dates",
       {{"approved", date_or_empty(row.approved_at)},
        {"practitioner_informed", date_or_empty(row.informed_at)},
        {"issued", date_or_empty(row.issued_at)},
        {"next_review_due", row.next_review_due},
        {"revoked", date_or_empty(row.revoked_at)}}},
      {"revocation_reason", row.revocation_reason},
  };
}

// Inserts the outbox rows for one body (one per channel it has).
Result<int> queue_for_body(sql::Database& db, const std::string& notice_id, int version,
                           const std::string& type, const std::string& body_id,
                           const std::string& webhook_url, const std::string& emails_json,
                           std::int64_t now) {
  int queued = 0;
  HPAN_TRY_ASSIGN(s, db.prepare(
                         "INSERT OR IGNORE INTO outbox(delivery_id, notice_id, version, body_id,"
                         " channel, address, message_type, state, next_attempt_at, created_at,"
                         " updated_at) VALUES(?,?,?,?,?,?,?,'pending',?,?,?)"));
  auto add = [&](const std::string& channel, const std::string& address) -> Status {
    s->reset();
    s->bind(1, make_delivery_id(notice_id, version, body_id, channel)).bind(2, notice_id);
    s->bind(3, version).bind(4, body_id).bind(5, channel).bind(6, address).bind(7, type);
    s->bind(8, now).bind(9, now).bind(10, now);
    HPAN_TRY(s->run());
    queued += db.changes();
    return {};
  };
  if (!webhook_url.empty()) HPAN_TRY(add("webhook", webhook_url));
  const auto emails = json::parse(emails_json);
  if (!emails.empty()) {
    std::string joined;
    for (const auto& e : emails) {
      if (!joined.empty()) joined += ", ";
      joined += e.get<std::string>();
    }
    HPAN_TRY(add("email", joined));
  }
  return queued;
}

// SQL selecting the recipients of a notice now (see DESIGN §2, Notice: recipients).
constexpr const char* kRecipientsSql =
    "SELECT id, webhook_url, emails FROM bodies WHERE state != 'removed' AND ("
    " receives = 'all' OR id = ?1 OR id = ?2"
    " OR (kind = 'regulator' AND regulator = ?3 AND ?3 != 'none')"
    " OR id IN (SELECT value FROM json_each(?4))"
    " OR (?5 AND id IN (SELECT body_id FROM outbox WHERE notice_id = ?6 AND state != 'cancelled')))"
    " ORDER BY id";

}  // namespace

Result<VersionInfo> create_version(sql::Database& db, NoticeRow& row, const std::string& type,
                                   const std::string& maker, const std::string& checker,
                                   std::int64_t now) {
  const int version = row.current_version + 1;
  const json base = payload_base(row, version, type, now);
  HPAN_TRY_ASSIGN(canonical, crypto::canonical_json(base));
  const std::string hash = crypto::hex_encode(crypto::sha256(canonical));
  {
    HPAN_TRY_ASSIGN(s, db.prepare(
                           "INSERT INTO notice_versions(notice_id, version, type, content,"
                           " content_hash, created_at, maker, checker) VALUES(?,?,?,?,?,?,?,?)"));
    s->bind(1, row.id).bind(2, version).bind(3, type).bind(4, canonical).bind(5, hash);
    s->bind(6, now).bind(7, maker).bind(8, checker);
    HPAN_TRY(s->run());
  }
  row.current_version = version;

  struct Target {
    std::string id, url, emails;
  };
  std::vector<Target> targets;
  {
    HPAN_TRY_ASSIGN(s, db.prepare(kRecipientsSql));
    const json& c = row.content;
    s->bind(1, c["requesting_body"]["id"].get<std::string>());
    s->bind(2, c["subject_body_id"].get<std::string>());
    s->bind(3, c["practitioner"]["regulator"].get<std::string>());
    s->bind(4, c["recipients"].dump());
    s->bind(5, type == "revoked" ? 1 : 0);
    s->bind(6, row.id);
    while (true) {
      HPAN_TRY_ASSIGN(has, s->step());
      if (!has) break;
      targets.push_back({s->column_text(0), s->column_text(1), s->column_text(2)});
    }
  }
  VersionInfo info{version, type, hash, now, maker, checker, 0};
  for (const auto& t : targets) {
    HPAN_TRY_ASSIGN(n, queue_for_body(db, row.id, version, type, t.id, t.url, t.emails, now));
    info.deliveries_queued += n;
  }
  return info;
}

Result<int> queue_active_notices_for_body(sql::Database& db, const std::string& body_id,
                                          std::int64_t now) {
  std::vector<std::string> ids;
  {
    HPAN_TRY_ASSIGN(s, db.prepare("SELECT id FROM notices WHERE state = 'active' ORDER BY id"));
    while (true) {
      HPAN_TRY_ASSIGN(has, s->step());
      if (!has) break;
      ids.push_back(s->column_text(0));
    }
  }
  int queued = 0;
  for (const auto& id : ids) {
    HPAN_TRY_ASSIGN(row, require_notice(db, id));
    HPAN_TRY_ASSIGN(s, db.prepare(std::string(kRecipientsSql)));
    const json& c = row.content;
    s->bind(1, c["requesting_body"]["id"].get<std::string>());
    s->bind(2, c["subject_body_id"].get<std::string>());
    s->bind(3, c["practitioner"]["regulator"].get<std::string>());
    s->bind(4, c["recipients"].dump());
    s->bind(5, 0);
    s->bind(6, row.id);
    std::optional<std::pair<std::string, std::string>> target;
    while (true) {
      HPAN_TRY_ASSIGN(has, s->step());
      if (!has) break;
      if (s->column_text(0) == body_id) target.emplace(s->column_text(1), s->column_text(2));
    }
    if (!target) continue;
    HPAN_TRY_ASSIGN(vs, db.prepare("SELECT type FROM notice_versions WHERE notice_id=? AND version=?"));
    vs->bind(1, row.id).bind(2, row.current_version);
    HPAN_TRY_ASSIGN(vhas, vs->step());
    const std::string type = vhas ? vs->column_text(0) : "issued";
    vs->reset();
    HPAN_TRY_ASSIGN(n, queue_for_body(db, row.id, row.current_version, type, body_id,
                                      target->first, target->second, now));
    queued += n;
  }
  return queued;
}

Result<json> load_version_payload(sql::Database& db, const std::string& notice_id, int version) {
  HPAN_TRY_ASSIGN(s, db.prepare("SELECT content FROM notice_versions WHERE notice_id=? AND version=?"));
  s->bind(1, notice_id).bind(2, version);
  HPAN_TRY_ASSIGN(has, s->step());
  if (!has) return make_error("not_found", "no version " + std::to_string(version) + " of " + notice_id);
  json j = json::parse(s->column_text(0));
  s->reset();
  return j;
}

}  // namespace hpan::alerts
