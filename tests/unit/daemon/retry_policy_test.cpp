#include "daemon/retry_policy.h"

#include <gtest/gtest.h>

namespace hpan::daemon {
namespace {

TEST(RetryPolicy, DoublesFromTheFirstDelayUpToTheCap) {
  RetryPolicy p(10, 3600, 72 * 3600, [] { return 0.5; });  // no jitter
  EXPECT_EQ(p.delay(1), 10);
  EXPECT_EQ(p.delay(2), 20);
  EXPECT_EQ(p.delay(3), 40);
  EXPECT_EQ(p.delay(9), 2560);
  EXPECT_EQ(p.delay(10), 3600);
  EXPECT_EQ(p.delay(400), 3600);
}

TEST(RetryPolicy, JitterStaysWithinTwentyPercent) {
  RetryPolicy low(10, 3600, 72 * 3600, [] { return 0.0; });
  RetryPolicy high(10, 3600, 72 * 3600, [] { return 0.999999; });
  EXPECT_EQ(low.delay(4), 64);
  EXPECT_EQ(high.delay(4), 96);
}

TEST(RetryPolicy, HonoursRetryAfterWithinTheCap) {
  RetryPolicy p(10, 3600, 72 * 3600, [] { return 0.5; });
  EXPECT_EQ(p.delay(1, 120), 120);
  EXPECT_EQ(p.delay(1, 5), 10);
  EXPECT_EQ(p.delay(1, 999999), 3600);
}

TEST(RetryPolicy, GivesUpAfterTheLimitFromCreation) {
  RetryPolicy p(10, 3600, 72 * 3600, [] { return 0.5; });
  const std::int64_t created = 1000;
  EXPECT_EQ(p.next_attempt(1, created, created + 5), created + 15);
  EXPECT_FALSE(p.next_attempt(50, created, created + 72 * 3600 - 10).has_value());
}

}  // namespace
}  // namespace hpan::daemon
