#pragma once
// A notice as stored (table `notices`), its versions and its outbox rows.
// Used by the lifecycle within an open transaction.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alerts/actor.h"
#include "alerts/store.h"
#include "common/result.h"

namespace hpan::alerts {

struct NoticeRow {
  std::string id;
  std::string state;
  nlohmann::json content;
  std::int64_t created_at = 0;
  std::string created_by;
  std::uint32_t created_uid = 0;
  std::optional<std::int64_t> approved_at;
  std::string approved_by;
  std::optional<std::int64_t> informed_at;
  std::optional<std::int64_t> representation_ends_at;
  std::optional<std::int64_t> issued_at;
  bool urgent = false;
  std::string urgent_reason;
  std::string next_review_due;  // London date, "" when none
  std::optional<std::int64_t> last_reviewed_at;
  std::optional<std::int64_t> revoked_at;
  std::string revocation_reason;
  std::optional<std::int64_t> withdrawn_at;
  std::string withdrawal_reason;
  std::optional<std::int64_t> purge_after;
  std::optional<std::int64_t> purged_at;
  int current_version = 0;
  nlohmann::json pending_action;  // null, or {"kind","by","uid","at",...}
  std::int64_t updated_at = 0;

  // Summary without personal data (for lists and results).
  nlohmann::json summary() const;
};

Result<std::optional<NoticeRow>> load_notice(sql::Database& db, const std::string& id);
// Loads or fails with "not_found" naming the field "id".
Result<NoticeRow> require_notice(sql::Database& db, const std::string& id);
Status insert_notice(sql::Database& db, const NoticeRow& row);
// Writes every mutable column (and the look-up columns derived from the content).
Status save_notice(sql::Database& db, const NoticeRow& row);
// Allocates the next id "<prefix>-<year>-NNNNNN" from a sequence table (year, last).
Result<std::string> allocate_yearly_id(sql::Database& db, std::string_view sequence_table, std::string_view prefix,
                                       int year);
// Allocates the next id "HPAN-<year>-NNNNNN" (never reused).
Result<std::string> allocate_notice_id(sql::Database& db, int year);

struct VersionInfo {
  int version = 0;
  std::string type;
  std::string content_hash;
  std::int64_t created_at = 0;
  std::string maker;
  std::string checker;
  int deliveries_queued = 0;
};

// Records version row.current_version+1 of `type` (issued|updated|revoked) with the
// payload base snapshot, bumps row.current_version (caller saves the row), and queues
// one outbox row per (recipient body, channel). Revocations also go to every body
// that was queued any earlier version.
Result<VersionInfo> create_version(sql::Database& db, NoticeRow& row, const std::string& type,
                                   const std::string& maker, const std::string& checker,
                                   std::int64_t now);

// Queues the current version of every active notice that `body_id` should receive.
// Returns how many deliveries were queued.
Result<int> queue_active_notices_for_body(sql::Database& db, const std::string& body_id,
                                          std::int64_t now);

// The payload base (everything but body_id) of a stored version.
Result<nlohmann::json> load_version_payload(sql::Database& db, const std::string& notice_id,
                                            int version);

// "HPAN-2026-000001-v2-RJ1-webhook"
std::string make_delivery_id(const std::string& notice_id, int version, const std::string& body_id,
                             const std::string& channel);

}  // namespace hpan::alerts
