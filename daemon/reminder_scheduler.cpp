#include "daemon/reminder_scheduler.h"
#include "daemon/logging.h"

#include <spdlog/spdlog.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>

namespace hpan::daemon {

namespace asio = boost::asio;

struct ReminderScheduler::Impl : std::enable_shared_from_this<Impl> {
  asio::io_context& io;
  alerts::Reminders& reminders;
  const alerts::Clock& clock;
  std::chrono::seconds offset;
  std::function<void()> after_queue;
  std::shared_ptr<spdlog::logger> log = logger("reminders");
  asio::posix::stream_descriptor timer{io};
  std::array<char, 8> expirations{};
  std::int64_t started_at = 0;
  std::optional<std::int64_t> armed_for;
  bool run_posted = false;
  bool stopped = false;

  Impl(asio::io_context& i, alerts::Reminders& r, const alerts::Clock& c, std::chrono::seconds o,
       std::function<void()> a)
      : io(i), reminders(r), clock(c), offset(o), after_queue(std::move(a)) {}

  Status open_timer() {
    const int fd = ::timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0) return make_error("system_error", std::string("timerfd_create: ") + std::strerror(errno));
    timer.assign(fd);
    return {};
  }

  void recover_clock() {
    auto reset = reminders.recover_clock();
    if (!reset) log->error("recomputing reminders after a clock change failed: {}", reset.error().message);
    else if (*reset > 0) log->warn("{} case(s) were handled up to a time ahead of the clock; rescheduled from now", *reset);
  }

  // Queues what is due, then arms the timer for the next reminder.
  void run() {
    run_posted = false;
    if (stopped) return;
    auto queued = reminders.queue_due(started_at);
    if (!queued) {
      log->error("queueing reminders failed: {}; retrying in 60 s", queued.error().message);
      arm(clock.now_unix() + 60);
      return;
    }
    if (*queued > 0) {
      log->info("queued {} reminder(s)", *queued);
      if (after_queue) after_queue();
    }
    auto next = reminders.next_at();
    if (!next) {
      log->error("finding the next reminder failed: {}; retrying in 60 s", next.error().message);
      arm(clock.now_unix() + 60);
      return;
    }
    arm(*next);
  }

  void post_run() {
    if (run_posted || stopped) return;
    run_posted = true;
    asio::post(io, [self = shared_from_this()] { self->run(); });
  }

  // Arms the timerfd at domain time `at` (or disarms it), then waits for it.
  void arm(std::optional<std::int64_t> at) {
    armed_for = at;
    itimerspec spec{};
    if (at) {
      // The domain clock is the system clock plus `offset`.
      const std::int64_t system_at = *at - offset.count();
      spec.it_value.tv_sec = std::max<std::int64_t>(system_at, 1);
    }
    if (::timerfd_settime(timer.native_handle(), TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &spec, nullptr) != 0) {
      if (errno == ECANCELED) {  // the clock was set just now
        post_run();
        return;
      }
      log->error("timerfd_settime: {}", std::strerror(errno));
    }
    if (at) log->debug("next reminder check at {}", alerts::format_utc(*at));
    wait();
  }

  bool waiting = false;
  void wait() {
    if (waiting || stopped) return;
    waiting = true;
    timer.async_read_some(asio::buffer(expirations),
                          [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                            self->waiting = false;
                            if (self->stopped) return;
                            // ECANCELED (which Asio also calls operation_aborted): the
                            // system clock was set; the next time is recomputed below.
                            if (ec.value() == ECANCELED) {
                              self->log->info("system clock changed: recomputing reminders");
                              self->recover_clock();
                            }
                            else if (ec) {
                              // A fresh timerfd, once; if even that fails, reminders stop (logged).
                              self->log->error("reminder timer failed: {}; making a new one", ec.message());
                              boost::system::error_code ignored;
                              self->timer.close(ignored);
                              if (auto st = self->open_timer(); !st) {
                                self->log->critical("no reminder timer: {}; reminders stopped", st.error().message);
                                return;
                              }
                            }
                            self->post_run();
                          });
  }
};

ReminderScheduler::ReminderScheduler(asio::io_context& io, alerts::Reminders& reminders, const alerts::Clock& clock,
                                     std::chrono::seconds clock_offset, std::function<void()> after_queue)
    : impl_(std::make_shared<Impl>(io, reminders, clock, clock_offset, std::move(after_queue))) {}

ReminderScheduler::~ReminderScheduler() { stop(); }

Status ReminderScheduler::start() {
  HPAN_TRY(impl_->open_timer());
  impl_->started_at = impl_->clock.now_unix();
  HPAN_TRY_ASSIGN(updated, impl_->reminders.apply_rules());
  if (updated > 0) impl_->log->info("reminder rules changed: {} open case(s) rescheduled", updated);
  impl_->recover_clock();
  impl_->run();
  return {};
}

void ReminderScheduler::poke() { impl_->post_run(); }

void ReminderScheduler::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  boost::system::error_code ec;
  impl_->timer.cancel(ec);
  impl_->timer.close(ec);
}

std::optional<std::int64_t> ReminderScheduler::next_at() const { return impl_->armed_for; }

}  // namespace hpan::daemon
