#pragma once
// Time for the domain: injected so that rules are tested with a manual clock and a
// real hpand can run with an offset (HPAND_TEST_CLOCK_OFFSET, tests only).

#include <atomic>
#include <chrono>
#include <cstdint>

namespace hpan::alerts {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  // Whole Unix seconds, as stored in the database.
  std::int64_t now_unix() const {
    return std::chrono::duration_cast<std::chrono::seconds>(now().time_since_epoch()).count();
  }
};

// The system clock, shifted by a fixed offset (zero in production).
class SystemClock final : public Clock {
 public:
  explicit SystemClock(std::chrono::seconds offset = std::chrono::seconds{0}) : offset_(offset) {}
  TimePoint now() const override { return std::chrono::system_clock::now() + offset_; }

 private:
  std::chrono::seconds offset_;
};

// A clock that only moves when told to; for tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t unix_seconds) : now_(unix_seconds) {}
  TimePoint now() const override { return TimePoint{std::chrono::seconds{now_.load()}}; }
  void set(std::int64_t unix_seconds) { now_ = unix_seconds; }
  void advance(std::chrono::seconds by) { now_ += by.count(); }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace hpan::alerts
