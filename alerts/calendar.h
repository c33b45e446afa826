#pragma once
// Calendar dates in Europe/London and RFC 3339 timestamps in UTC.
// g++ 12 has no std::chrono time-zone database, so the UK rule is coded here:
// BST (UTC+1) from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last
// Sunday of October; GMT otherwise (the rule in force since 1996).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hpan::alerts {

// "2026-11-24T12:00:00Z" for a Unix time.
std::string format_utc(std::int64_t unix_seconds);
// The London offset from UTC, in seconds (0 or 3600), at a Unix time.
int london_offset_seconds(std::int64_t unix_seconds);
// The calendar date in London at a Unix time.
std::chrono::year_month_day london_date(std::int64_t unix_seconds);
// The Unix time of a London wall-clock time on a date (the earlier one when ambiguous;
// a time skipped by the spring change moves forward by an hour).
std::int64_t london_time_to_unix(std::chrono::year_month_day date, int hour, int minute);
// "YYYY-MM-DD"
std::string format_date(std::chrono::year_month_day date);
std::optional<std::chrono::year_month_day> parse_date(std::string_view text);
// Adds calendar months, clamping the day to the month's end (31 Jan + 1 month = 28/29 Feb).
std::chrono::year_month_day add_months(std::chrono::year_month_day date, int months);
std::chrono::year_month_day add_days(std::chrono::year_month_day date, int days);

}  // namespace hpan::alerts
