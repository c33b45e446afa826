#pragma once
// The notice lifecycle of DESIGN §2 and the body registry, as operations that each
// run in one store transaction together with their audit records and outbox rows.
// Each takes the acting peer and the request's params (JSON, as on the control
// socket) and returns the result object, or an error naming the offending field.
//
//   draft ─approve (another administrator)─▶ approved ─inform─▶ notified ─issue─▶ active
//   approved ─issue urgent+reason─▶ active
//   active ─update─▶ pending ─approve (another)─▶ active, version N+1 (delivered)
//   active ─revoke─▶ pending ─approve (another)─▶ revoked, version N+1 (delivered)
//   active ─review continue─▶ active (next review due moves on)
//   draft|approved|notified ─withdraw─▶ withdrawn
//   revoked|withdrawn ─retention ends─▶ purged

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "alerts/actor.h"
#include "alerts/audit_log.h"
#include "alerts/clock.h"
#include "alerts/period.h"
#include "alerts/reminders.h"
#include "alerts/store.h"
#include "common/result.h"

namespace hpan::alerts {

struct LifecycleSettings {
  CalendarPeriod representation_period{0, 14 * 86400};
  CalendarPeriod review_interval{6, 0};
  CalendarPeriod retention{72, 0};
  bool allow_plain_http_to_loopback = false;
  // Cases (DESIGN §2): default review interval by case kind ("follow-up" has none),
  // the owner of the review case every issued notice gets, and the reminder rules
  // that place each case's next reminder.
  std::map<std::string, CalendarPeriod> case_intervals{
      {"exclusion", {0, 28 * 86400}}, {"suspension", {0, 28 * 86400}},
      {"restriction", {0, 28 * 86400}}, {"action-plan", {3, 0}}};
  Contact review_case_owner;
  ReminderRules reminders;
};

class Lifecycle {
 public:
  Lifecycle(Store& store, AuditLog& audit, const Clock& clock, LifecycleSettings settings);

  void set_settings(const LifecycleSettings& settings) { settings_ = settings; }
  const LifecycleSettings& settings() const noexcept { return settings_; }

  // Notices (administrator).
  Result<nlohmann::json> create(const Actor& actor, const nlohmann::json& params);
  Result<nlohmann::json> update(const Actor& actor, const nlohmann::json& params);
  Result<nlohmann::json> approve(const Actor& actor, const nlohmann::json& params);
  Result<nlohmann::json> reject(const Actor& actor, const nlohmann::json& params);
  Result<nlohmann::json> inform(const Actor& actor, const nlohmann::json& params);
  Result<nlohmann::json> issue(const Actor& actor, const nlohmann::json& params);
  Result<nlohmann::json> review(const Actor& actor, const nlohmann::json& params);
  Result<nlohmann::json> revoke(const Actor& actor, const nlohmann::json& params);
  Result<nlohmann::json> withdraw(const Actor& actor, const nlohmann::json& params);
  // Purges every revoked or withdrawn notice whose retention has ended.
  Result<nlohmann::json> purge_due(const Actor& actor);

  // Notice queries.
  Result<nlohmann::json> show(const nlohmann::json& params);
  Result<nlohmann::json> list(const nlohmann::json& params);
  Result<nlohmann::json> history(const nlohmann::json& params);
  // "Is this person the subject of an active notice?" (pre-employment check).
  Result<nlohmann::json> check(const nlohmann::json& params);
  // Subject access: every notice about the person, any state, with its history.
  Result<nlohmann::json> subject_access(const nlohmann::json& params);

  // Bodies (operator).
  Result<nlohmann::json> body_add(const Actor& actor, const nlohmann::json& params);
  Result<nlohmann::json> body_set_state(const Actor& actor, const nlohmann::json& params,
                                        std::string_view method);
  Result<nlohmann::json> body_show(const nlohmann::json& params);
  Result<nlohmann::json> body_list(const nlohmann::json& params);

  // Cases (operator; list viewer). HPAN review cases are opened, moved on and closed
  // by notice.issue, notice.review and the approved revocation.
  Result<nlohmann::json> case_open(const Actor& actor, const nlohmann::json& params);
  Result<nlohmann::json> case_reviewed(const Actor& actor, const nlohmann::json& params);
  Result<nlohmann::json> case_close(const Actor& actor, const nlohmann::json& params);
  Result<nlohmann::json> case_reassign(const Actor& actor, const nlohmann::json& params);
  Result<nlohmann::json> case_show(const nlohmann::json& params);
  Result<nlohmann::json> case_list(const nlohmann::json& params);
  // Opens the missing review case of every active notice (after an upgrade).
  Result<int> backfill_review_cases();

  // Writes an audit record for a refused or failed request (own transaction). Best
  // effort: a failure here is logged by the caller, never hides the original error.
  Status audit_failure(const Actor& actor, std::string_view method, const nlohmann::json& object,
                       const Error& error);
  // Writes one audit record in its own transaction (e.g. keys.rotate, start-up).
  Status audit_event(const Actor& actor, std::string_view method, const nlohmann::json& object,
                     const nlohmann::json& detail);

 private:
  struct Mutation;
  template <class F>
  Result<nlohmann::json> mutate(const Actor& actor, std::string_view method, F&& body);

  Store& store_;
  AuditLog& audit_;
  const Clock& clock_;
  LifecycleSettings settings_;
};

}  // namespace hpan::alerts
