#pragma once
// When to try a failed delivery again (DESIGN §4): exponential backoff from `first`,
// doubling, capped at `max_interval`, with ±20% jitter from an injected source so tests
// decide it; a server's Retry-After is honoured (within the cap); after `give_up_after`
// from the delivery's creation the delivery is dead.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>

namespace hpan::daemon {

class RetryPolicy {
 public:
  // `jitter` returns a number in [0, 1); 0.5 means no jitter.
  RetryPolicy(std::int64_t first_s, std::int64_t max_interval_s, std::int64_t give_up_after_s,
              std::function<double()> jitter)
      : first_(first_s), max_(max_interval_s), give_up_(give_up_after_s), jitter_(std::move(jitter)) {}

  // The delay before attempt `attempts + 1`, after `attempts` failed ones (≥ 1).
  std::int64_t delay(int attempts, std::optional<std::int64_t> retry_after = std::nullopt) const {
    double d = static_cast<double>(first_) * std::pow(2.0, std::min(attempts - 1, 30));
    d = std::min(d, static_cast<double>(max_));
    d *= 0.8 + 0.4 * (jitter_ ? jitter_() : 0.5);
    auto out = static_cast<std::int64_t>(std::llround(d));
    if (retry_after) out = std::max(out, std::min(*retry_after, max_));
    return std::max<std::int64_t>(out, 1);
  }

  // When to try next, or nullopt when the delivery should be given up (dead).
  std::optional<std::int64_t> next_attempt(int attempts, std::int64_t created_at, std::int64_t now,
                                           std::optional<std::int64_t> retry_after = std::nullopt) const {
    const std::int64_t at = now + delay(attempts, retry_after);
    if (at - created_at > give_up_) return std::nullopt;
    return at;
  }

 private:
  std::int64_t first_;
  std::int64_t max_;
  std::int64_t give_up_;
  std::function<double()> jitter_;
};

}  // namespace hpan::daemon
