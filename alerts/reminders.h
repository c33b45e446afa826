#pragma once
// Case-review reminders (DESIGN §2): when each reminder of a case falls due, and the
// scheduler's store side, which queues due reminders through the outbox.
//
// A case with due date D has two tracks of reminder slots, each at `send_at` London
// time on its day:
//   main:       lead-<N>d on D-N for each lead time N>0, `due` on D (lead time 0d),
//               then overdue-<k>d on D+k for k = 1, 2, ... while the case stays open;
//   escalation: one slot on D+escalate_after, to the escalation contact.
// A case remembers up to when its main track is handled. When several main slots fell
// due at once (hpand was down) only the latest goes out, marked late, with the count of
// those it stands for: never a burst of one per missed day.

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alerts/audit_log.h"
#include "alerts/clock.h"
#include "alerts/period.h"
#include "alerts/store.h"
#include "common/result.h"

namespace hpan::alerts {

// Where a case's reminders (or an escalation) go: email addresses and/or a webhook.
struct Contact {
  std::vector<std::string> emails;
  std::string webhook;

  bool empty() const { return emails.empty() && webhook.empty(); }
  std::string emails_joined() const;  // "a@x, b@y"
  nlohmann::json to_json() const;
};

// A contact as stored: emails as written by Contact::emails_joined (already checked).
Contact stored_contact(std::string_view emails_joined, std::string webhook);

// Parses "ops@example.nhs.uk, https://hooks.example/x": comma-separated email
// addresses and at most one webhook URL (https, or http to loopback when allowed).
// Errors name `field`.
Result<Contact> parse_contact(const std::string& text, bool allow_plain_http_to_loopback,
                              const std::string& field);

struct ReminderRules {
  std::vector<CalendarPeriod> lead_times{{0, 14 * 86400}, {0, 3 * 86400}, {0, 0}};
  CalendarPeriod escalate_after{0, 7 * 86400};
  int send_hour = 9;
  int send_minute = 0;
  bool escalation = false;  // an escalation contact is configured

  // Changes when any rule changes: stored cases' next reminder times are then recomputed.
  std::string fingerprint() const;
};

struct ReminderSlot {
  std::string name;      // lead-14d | due | overdue-3d | escalation
  std::int64_t at = 0;   // Unix time it falls due
  int days_from_due = 0;  // negative before the due date
};

// The first main-track slot strictly after `after`.
std::optional<ReminderSlot> next_main_slot(std::chrono::year_month_day due, const ReminderRules& rules,
                                           std::int64_t after);
// The latest main-track slot in (after, now], and how many slots in that range it
// stands for besides itself (`missed`).
std::optional<ReminderSlot> latest_main_slot(std::chrono::year_month_day due, const ReminderRules& rules,
                                             std::int64_t after, std::int64_t now, int& missed);
// The escalation slot (only when rules.escalation).
std::optional<ReminderSlot> escalation_slot(std::chrono::year_month_day due, const ReminderRules& rules);
// The next time anything is due for a case in this state, if anything ever is.
std::optional<std::int64_t> next_reminder_time(std::chrono::year_month_day due, const ReminderRules& rules,
                                               std::int64_t handled_until, bool escalated);

// Slots a reminder that goes out later than this after its time is marked late.
inline constexpr std::int64_t kLateAfterSeconds = 300;
// How far ahead of the clock a case's handled time may be before it counts as the clock
// having been set back.
inline constexpr std::int64_t kClockSlackSeconds = 3600;

// The scheduler's store side. Every queued reminder is written in one transaction
// with its `reminders` row, its outbox rows and its audit record.
class Reminders {
 public:
  Reminders(Store& store, AuditLog& audit, const Clock& clock) : store_(store), audit_(audit), clock_(clock) {}

  void set_rules(ReminderRules rules, Contact escalation) {
    rules_ = std::move(rules);
    escalation_ = std::move(escalation);
    rules_.escalation = !escalation_.empty();
  }
  const ReminderRules& rules() const { return rules_; }

  // Recomputes every open case's next reminder time when the rules differ from those
  // last applied (kept in the store). Returns how many cases were updated. A case whose
  // due date is malformed does not make it fail: it is skipped as queue_due skips it.
  Result<int> apply_rules();
  // Queues every reminder due now. A slot that fell due before `started_at` (while
  // hpand was down) or more than kLateAfterSeconds ago is marked late. Returns the
  // number of reminders queued.
  Result<int> queue_due(std::int64_t started_at);
  // After the system clock was set back (or hpand once ran with a clock ahead): cases
  // whose reminders were handled up to a time more than kClockSlackSeconds ahead of now
  // start again from now, so they are not silent until the clock catches up. Returns
  // how many cases were reset. Run at start and when the clock changes. A case whose due
  // date is malformed is skipped as queue_due skips it (and not counted).
  Result<int> recover_clock();
  // The earliest time a reminder falls due, over all open cases.
  Result<std::optional<std::int64_t>> next_at();
  // reminders.upcoming: what will go out in the next `days` days.
  Result<nlohmann::json> upcoming(const nlohmann::json& params);

 private:
  // The loop behind apply_rules and recover_clock, run in the caller's transaction:
  // recomputes next_reminder_at of the open cases handled up to a time after
  // `handled_after` (every open case when nullopt), from `restart_at` when given (which
  // then becomes their handled_until) or else from their handled_until. A case whose due
  // date does not parse is skipped as queue_due skips it: its reminders stop
  // (next_reminder_at NULL) and the audit log names it, in the caller's `AuditBatch`.
  // Returns how many cases were rescheduled, skipped ones not counted.
  Result<int> reschedule(std::optional<std::int64_t> handled_after, std::optional<std::int64_t> restart_at,
                         std::int64_t now);

  Store& store_;
  AuditLog& audit_;
  const Clock& clock_;
  ReminderRules rules_;
  Contact escalation_;
};

}  // namespace hpan::alerts
