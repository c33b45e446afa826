#pragma once
// Cases as stored (table `cases`): their rows, and the hooks by which the notice
// lifecycle opens, moves on and closes a notice's review case. Callers own the
// transaction.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "alerts/actor.h"
#include "alerts/lifecycle.h"
#include "alerts/store.h"
#include "common/result.h"

namespace hpan::alerts {

inline constexpr const char* kCaseKinds[] = {"hpan-review", "exclusion", "suspension",
                                             "restriction", "action-plan", "follow-up"};

struct CaseRow {
  std::string id;
  std::string kind;
  std::string notice_id;  // hpan-review only
  Contact owner;
  CalendarPeriod interval;  // zero: due dates are set by hand
  std::string due_date;     // London date
  std::string state;        // open | closed
  std::string notes;        // may hold personal data: only in case.show
  std::int64_t handled_until = 0;
  bool escalated = false;
  std::optional<std::int64_t> next_reminder_at;
  std::int64_t opened_at = 0;
  std::string opened_by;
  std::optional<std::int64_t> reviewed_at;
  std::optional<std::int64_t> closed_at;
  std::string closed_by;
  std::string close_reason;
  std::int64_t updated_at = 0;

  // Without notes: for lists and results.
  nlohmann::json summary() const;
};

// Sets a new due date: the reminder track starts again from `now`.
void set_case_due(CaseRow& row, const std::string& due_date, const ReminderRules& rules, std::int64_t now);

// Hooks for the notice lifecycle. `due_date` is the notice's next review date.
Status open_review_case(sql::Database& db, const std::string& notice_id, const std::string& due_date,
                        const LifecycleSettings& settings, const Actor& actor, std::int64_t now);
// Moves the review case on to `due_date` (opening it when missing).
Status move_review_case(sql::Database& db, const std::string& notice_id, const std::string& due_date,
                        const LifecycleSettings& settings, const Actor& actor, std::int64_t now);
Status close_review_case(sql::Database& db, const std::string& notice_id, const std::string& reason,
                         const Actor& actor, std::int64_t now);

}  // namespace hpan::alerts
