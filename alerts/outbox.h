#pragma once
// The outbox as the delivery engine sees it: claim due deliveries, record each attempt
// (with its audit record, in batches), list, show and retry. Plain SQL on the store.

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "alerts/audit_log.h"
#include "alerts/delivery_message.h"
#include "alerts/reminders.h"
#include "alerts/store.h"
#include "common/result.h"

namespace hpan::alerts {

// What one attempt came to.
struct AttemptResult {
  std::string delivery_id;
  int attempt = 0;
  std::string outcome;  // delivered | retry | dead
  std::string detail;   // HTTP status, SMTP reply or error; no personal data
  std::optional<std::int64_t> next_attempt_at;  // for retry
};

class Outbox {
 public:
  Outbox(Store& store, AuditLog& audit) : store_(store), audit_(audit) {}

  // Where a dead notice delivery is escalated; an empty contact turns escalation off.
  void set_escalation(Contact contact) { escalation_ = std::move(contact); }

  // After a crash or stop: deliveries left in flight go back to pending (they are sent
  // again with the same delivery id; receivers de-duplicate on it).
  Result<int> requeue_in_flight(std::int64_t now);
  // Says whether a delivery, by its channel and address, may be taken now (false: leave
  // it pending, e.g. its host has as many transfers as it may); called in due order.
  using Accept = std::function<bool(const std::string& channel, const std::string& address)>;
  // What the engine does each time transfers finish, in one transaction (one commit, one
  // fsync):
  //  - records `results` with their audit records; a notice delivery that goes dead
  //    queues an escalation message when escalation is set;
  //  - marks up to `limit` due deliveries (pending or failed, body active, and accepted
  //    when `accept` is given) in flight and returns them, oldest first.
  Result<std::vector<OutboundDelivery>> settle(const std::vector<AttemptResult>& results, std::int64_t now,
                                               int limit, const Accept& accept);
  // The earliest next attempt among deliveries that could be sent (and that `accept`
  // takes, when given), if any.
  Result<std::optional<std::int64_t>> next_due(const Accept& accept = {});
  // The payload base of a version (cached by the engine).
  Result<nlohmann::json> payload(const std::string& notice_id, int version);

  // hpanctl deliveries list | show | retry
  Result<nlohmann::json> list(const nlohmann::json& params);
  Result<nlohmann::json> show(const nlohmann::json& params);
  Result<nlohmann::json> retry(const Actor& actor, const nlohmann::json& params, std::int64_t now);
  // Counts by channel and state, for metrics and status.
  Result<nlohmann::json> counts();

 private:
  Result<std::vector<OutboundDelivery>> claim_rows(std::int64_t now, int limit, const Accept& accept);
  Status record_rows(const std::vector<AttemptResult>& results, std::int64_t now, AuditBatch& batch);
  Status escalate(const AttemptResult& dead, std::int64_t now);
  Store& store_;
  AuditLog& audit_;
  Contact escalation_;
};

}  // namespace hpan::alerts
