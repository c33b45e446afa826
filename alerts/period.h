#pragma once
// A calendar period: whole months plus seconds ("6mo", "14d", "4w", "6y").

#include <cstdint>

#include "alerts/calendar.h"

namespace hpan::alerts {

struct CalendarPeriod {
  int months = 0;
  std::int64_t seconds = 0;
};

// `from` plus the period: months by the UTC calendar (day clamped), then seconds.
inline std::int64_t add_period(std::int64_t from, CalendarPeriod p) {
  using namespace std::chrono;
  if (p.months != 0) {
    const sys_seconds tp{std::chrono::seconds{from}};
    const sys_days day = floor<days>(tp);
    const auto time_of_day = tp - day;
    const sys_days moved{add_months(year_month_day{day}, p.months)};
    from = duration_cast<std::chrono::seconds>((moved + time_of_day).time_since_epoch()).count();
  }
  return from + p.seconds;
}

// A London calendar date plus the period (seconds counted in whole days).
inline std::chrono::year_month_day add_period(std::chrono::year_month_day date, CalendarPeriod p) {
  return add_days(add_months(date, p.months), static_cast<int>(p.seconds / 86400));
}

}  // namespace hpan::alerts
