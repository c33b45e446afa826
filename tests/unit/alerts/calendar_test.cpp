#include "alerts/calendar.h"

#include <gtest/gtest.h>

namespace hpan::alerts {
namespace {

using namespace std::chrono;

// 2026: BST from 29 March 01:00 UTC to 25 October 01:00 UTC.
constexpr std::int64_t k2026_03_29_0059 = 1774745940;  // 00:59:00 UTC
constexpr std::int64_t k2026_10_25_0059 = 1792889940;  // 00:59:00 UTC

TEST(Calendar, FormatsUtcTimestamps) {
  EXPECT_EQ(format_utc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_utc(1795521600), "2026-11-24T12:00:00Z");
}

TEST(Calendar, LondonIsOnSummerTimeBetweenTheLastSundaysOfMarchAndOctober) {
  EXPECT_EQ(london_offset_seconds(k2026_03_29_0059), 0);
  EXPECT_EQ(london_offset_seconds(k2026_03_29_0059 + 60), 3600);
  EXPECT_EQ(london_offset_seconds(k2026_10_25_0059), 3600);
  EXPECT_EQ(london_offset_seconds(k2026_10_25_0059 + 60), 0);
}

TEST(Calendar, TheLondonDateRollsOverAtLocalMidnight) {
  // 2026-06-30T23:30:00Z is 00:30 on 1 July in London.
  EXPECT_EQ(format_date(london_date(1782862200)), "2026-07-01");
  // 2026-12-31T23:30:00Z is still 31 December in London (GMT).
  EXPECT_EQ(format_date(london_date(1798759800)), "2026-12-31");
}

TEST(Calendar, LondonWallTimeConvertsToUtc) {
  // 09:00 on 1 July 2026 (BST) is 08:00 UTC; on 1 December (GMT) it is 09:00 UTC.
  EXPECT_EQ(format_utc(london_time_to_unix(year{2026} / July / 1, 9, 0)), "2026-07-01T08:00:00Z");
  EXPECT_EQ(format_utc(london_time_to_unix(year{2026} / December / 1, 9, 0)), "2026-12-01T09:00:00Z");
}

TEST(Calendar, AddingMonthsClampsToTheEndOfTheMonth) {
  EXPECT_EQ(format_date(add_months(year{2027} / January / 31, 1)), "2027-02-28");
  EXPECT_EQ(format_date(add_months(year{2028} / January / 31, 1)), "2028-02-29");
  EXPECT_EQ(format_date(add_months(year{2026} / November / 24, 6)), "2027-05-24");
  EXPECT_EQ(format_date(add_days(year{2026} / December / 31, 1)), "2027-01-01");
}

TEST(Calendar, ParsesOnlyRealDates) {
  EXPECT_TRUE(parse_date("2024-02-29"));
  EXPECT_FALSE(parse_date("2023-02-29"));
  EXPECT_FALSE(parse_date("2023-13-01"));
  EXPECT_FALSE(parse_date("2023-1-01"));
  EXPECT_FALSE(parse_date("20230101"));
}

}  // namespace
}  // namespace hpan::alerts
