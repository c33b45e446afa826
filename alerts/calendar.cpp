#include "alerts/calendar.h"

#include <cstdio>

namespace hpan::alerts {

using namespace std::chrono;

namespace {

std::int64_t to_unix(sys_days d) { return duration_cast<seconds>(d.time_since_epoch()).count(); }

// 01:00 UTC on the last Sunday of `month` in `y`.
std::int64_t last_sunday_0100_utc(year y, month m) {
  const sys_days last_day{y / m / std::chrono::last};
  const weekday wd{last_day};
  const sys_days sunday = last_day - (wd - Sunday);
  return to_unix(sunday) + 3600;
}

}  // namespace

std::string format_utc(std::int64_t unix_seconds) {
  const sys_seconds tp{seconds{unix_seconds}};
  const sys_days day = floor<days>(tp);
  const year_month_day ymd{day};
  const hh_mm_ss hms{tp - day};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long>(hms.seconds().count()));
  return buf;
}

int london_offset_seconds(std::int64_t unix_seconds) {
  const year_month_day ymd{floor<days>(sys_seconds{seconds{unix_seconds}})};
  const std::int64_t start = last_sunday_0100_utc(ymd.year(), March);
  const std::int64_t end = last_sunday_0100_utc(ymd.year(), October);
  return (unix_seconds >= start && unix_seconds < end) ? 3600 : 0;
}

year_month_day london_date(std::int64_t unix_seconds) {
  const std::int64_t local = unix_seconds + london_offset_seconds(unix_seconds);
  return year_month_day{floor<days>(sys_seconds{seconds{local}})};
}

std::int64_t london_time_to_unix(year_month_day date, int hour, int minute) {
  const std::int64_t wall = to_unix(sys_days{date}) + hour * 3600 + minute * 60;
  // Try GMT first (the earlier instant for an ambiguous autumn hour is BST: wall-3600).
  const std::int64_t as_bst = wall - 3600;
  if (london_offset_seconds(as_bst) == 3600) return as_bst;
  return wall;  // GMT, or a skipped spring hour read as GMT (one hour later in BST)
}

std::string format_date(year_month_day date) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return buf;
}

std::optional<year_month_day> parse_date(std::string_view text) {
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u})
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
  y = (text[0] - '0') * 1000 + (text[1] - '0') * 100 + (text[2] - '0') * 10 + (text[3] - '0');
  m = static_cast<unsigned>((text[5] - '0') * 10 + (text[6] - '0'));
  d = static_cast<unsigned>((text[8] - '0') * 10 + (text[9] - '0'));
  const year_month_day ymd{year{y}, month{m}, day{d}};
  if (!ymd.ok()) return std::nullopt;
  return ymd;
}

year_month_day add_months(year_month_day date, int months) {
  const year_month ym = year_month{date.year(), date.month()} + std::chrono::months{months};
  const year_month_day_last end{ym.year(), month_day_last{ym.month()}};
  const day d = date.day() > end.day() ? end.day() : date.day();
  return year_month_day{ym.year(), ym.month(), d};
}

year_month_day add_days(year_month_day date, int n) {
  return year_month_day{sys_days{date} + days{n}};
}

}  // namespace hpan::alerts
