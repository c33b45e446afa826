#pragma once
// Maps control-protocol methods to the domain: checks the caller's role, calls the
// lifecycle, audits refusals, logs one line per request (ids and codes, never
// personal data). Plain C++: the control server hands it parsed requests.

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alerts/audit_log.h"
#include "alerts/key_ring.h"
#include "alerts/lifecycle.h"
#include "alerts/outbox.h"
#include "alerts/store.h"
#include "common/result.h"
#include "common/role.h"

namespace hpan::daemon {

struct Caller {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::string user;
  std::optional<Role> role;  // nullopt: no rule in control.roles matches this peer
};

struct MethodInfo {
  std::string_view name;
  Role needs;
  bool mutates;
  std::string_view summary;
};

// Counts requests by method and outcome, for the metrics endpoint.
struct RequestCounter {
  std::function<void(std::string_view method, std::string_view outcome)> count;
};

class Dispatcher {
 public:
  // `status` adds the daemon's own figures (uptime, queue) to the status method.
  // `after_change` runs after every successful mutating method (new deliveries may be due).
  Dispatcher(alerts::Store& store, alerts::AuditLog& audit, alerts::Lifecycle& lifecycle,
             alerts::KeyRing& keys, alerts::Outbox& outbox, alerts::Reminders& reminders,
             const alerts::Clock& clock, std::function<nlohmann::json()> status, std::function<void()> after_change);

  // Answers one request: the result object, or an error {code, message, field}.
  Result<nlohmann::json> call(const Caller& caller, const std::string& method,
                              const nlohmann::json& params);

  // Every method, its role and a one-line summary (docs/control-protocol.md).
  static const std::vector<MethodInfo>& methods();
  static const MethodInfo* find(std::string_view method);
  // Queries that read only the store (no audit record, no daemon state): hpand answers
  // them on its query thread, from a read-only connection of its own, so that they do
  // not wait behind deliveries on the event loop.
  static bool is_store_query(std::string_view method);

  void set_request_counter(RequestCounter counter) { counter_ = std::move(counter); }

 private:
  Result<nlohmann::json> route(const alerts::Actor& actor, const std::string& method,
                               const nlohmann::json& params);
  alerts::Store& store_;
  alerts::AuditLog& audit_;
  alerts::Lifecycle& lifecycle_;
  alerts::KeyRing& keys_;
  alerts::Outbox& outbox_;
  alerts::Reminders& reminders_;
  const alerts::Clock& clock_;
  std::function<nlohmann::json()> status_;
  std::function<void()> after_change_;
  RequestCounter counter_;
};

}  // namespace hpan::daemon
