#pragma once
// Internal to alerts/: how a Lifecycle operation runs. One transaction holds the
// change, its audit record and its checkpoint; a refusal is audited on its own.

#include "alerts/lifecycle.h"

namespace hpan::alerts {

using nlohmann::json;

// The state one mutating operation works on: the open transaction's database, the
// time, and the audit record that will be appended when it succeeds.
struct Lifecycle::Mutation {
  sql::Database& db;
  std::int64_t now;
  AuditEntry entry;
};

template <class F>
Result<json> Lifecycle::mutate(const Actor& actor, std::string_view method, F&& body) {
  const std::int64_t now = clock_.now_unix();
  json object = json::object();
  Result<json> result = [&]() -> Result<json> {
    HPAN_TRY_ASSIGN(tx, sql::Transaction::begin(store_.db()));
    AuditBatch batch = audit_.begin_batch();
    Mutation m{store_.db(), now, AuditEntry{actor, std::string(method), json::object(), "ok", json::object()}};
    Result<json> r = body(m);
    object = m.entry.object;
    if (!r) return r;
    HPAN_TRY(audit_.append(m.entry, now));
    HPAN_TRY(batch.checkpoint(now));
    HPAN_TRY(tx.commit());
    batch.commit();
    return r;
  }();
  if (!result && result.error().code.rfind("storage_", 0) != 0) {
    // An id that matched nothing is only the caller's text (it could be a person's
    // name typed in the wrong place): the audit log records that it was unknown.
    if (result.error().code == "not_found" && object.is_object())
      for (auto& [key, value] : object.items())
        if (value.is_string()) value = "?";
    (void)audit_failure(actor, method, object, result.error());
  }
  return result;
}

}  // namespace hpan::alerts
