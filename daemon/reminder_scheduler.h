#pragma once
// The reminder scheduler (DESIGN §2) on the Asio loop: one wall-clock timer for the
// earliest reminder due over all open cases, re-armed after each run and whenever a
// case changes. The timer is a timerfd on CLOCK_REALTIME with an absolute expiry and
// TFD_TIMER_CANCEL_ON_SET, so a change of the system clock wakes it at once and the
// next time is recomputed: no polling loop. Times are stored in UTC; due dates are
// London calendar dates (alerts/reminders.h places each reminder).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "alerts/clock.h"
#include "alerts/reminders.h"

namespace boost::asio {
class io_context;
}

namespace hpan::daemon {

class ReminderScheduler {
 public:
  // `clock_offset`: the domain clock's offset from the system clock (tests only), so the
  // timer is armed at the right system time. `after_queue` runs when reminders were
  // queued (the delivery engine then looks at the outbox).
  ReminderScheduler(boost::asio::io_context& io, alerts::Reminders& reminders, const alerts::Clock& clock,
                    std::chrono::seconds clock_offset, std::function<void()> after_queue);
  ~ReminderScheduler();
  ReminderScheduler(const ReminderScheduler&) = delete;
  ReminderScheduler& operator=(const ReminderScheduler&) = delete;

  // Applies the rules, queues what fell due while hpand was down (marked late), arms.
  Status start();
  // Cases or rules changed: run and re-arm.
  void poke();
  void stop();
  // When the timer is next due (Unix seconds, domain clock), for status and metrics.
  std::optional<std::int64_t> next_at() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace hpan::daemon
