// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_DETAIL_ISO8601_HPP
#define MEND_DETAIL_ISO8601_HPP

#include <mend/clock.hpp>
#include <mend/version.hpp>

#include <fmt/format.h>

#include <chrono>
#include <string>

MEND_BEGIN_NAMESPACE
namespace detail {

// Formats `t` as ISO 8601 UTC: "2025-12-06T14:30:00Z", or with milliseconds
// ("2025-12-06T14:30:00.250Z") when `with_millis` is set.
inline std::string to_iso8601(wall_time t, bool with_millis = false) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day date{day};
  const hh_mm_ss time_of_day{floor<milliseconds>(t - day)};
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(date.year()),
                                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                                time_of_day.hours().count(), time_of_day.minutes().count(),
                                time_of_day.seconds().count());
  if (with_millis) out += fmt::format(".{:03}", time_of_day.subseconds().count());
  out += 'Z';
  return out;
}

}  // namespace detail
MEND_END_NAMESPACE

#endif  // MEND_DETAIL_ISO8601_HPP
