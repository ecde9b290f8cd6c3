// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_DETAIL_DASHBOARD_SVG_HPP
#define MEND_DETAIL_DASHBOARD_SVG_HPP

// The inline SVG of the status dashboard: breaker timelines and trend plots.
// Every text from a report goes through html_escape().

#include <mend/clock.hpp>
#include <mend/detail/html_escape.hpp>
#include <mend/detail/iso8601.hpp>
#include <mend/detail/trend_ring.hpp>
#include <mend/status_reporter.hpp>
#include <mend/version.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <vector>

MEND_BEGIN_NAMESPACE
namespace detail {

// Formats a duration for people: "5 min", "1 h 30 min", "250 ms", "0 s".
inline std::string format_span(duration d) {
  using namespace std::chrono;
  if (d < duration::zero()) return "-" + format_span(-d);
  const auto h = duration_cast<hours>(d);
  const auto min = duration_cast<minutes>(d - h);
  const auto s = duration_cast<seconds>(d - h - min);
  const auto ms = duration_cast<milliseconds>(d - h - min - s);
  std::string out;
  const auto part = [&](std::int64_t count, std::string_view unit) {
    if (count == 0) return;
    if (!out.empty()) out += ' ';
    out += fmt::format("{} {}", count, unit);
  };
  part(h.count(), "h");
  part(min.count(), "min");
  part(s.count(), "s");
  part(ms.count(), "ms");
  if (out.empty()) return d == duration::zero() ? "0 s" : "< 1 ms";
  return out;
}

// Formats `t` as a short axis label in UTC: "14:30", with seconds when
// `seconds` is set, and with the month and day when `date` is set.
inline std::string format_axis_time(wall_time t, bool seconds, bool date) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const hh_mm_ss time_of_day{floor<std::chrono::seconds>(t - day)};
  std::string out;
  if (date) {
    const year_month_day ymd{day};
    out = fmt::format("{:02}-{:02} ", static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  }
  out += fmt::format("{:02}:{:02}", time_of_day.hours().count(), time_of_day.minutes().count());
  if (seconds) out += fmt::format(":{:02}", time_of_day.seconds().count());
  return out;
}

// Returns the position of `t` between `from` (0) and `to` (1), clamped.
inline double fraction_of(wall_time t, wall_time from, wall_time to) noexcept {
  const auto whole = static_cast<double>((to - from).count());
  if (whole <= 0) return 0;
  return std::clamp(static_cast<double>((t - from).count()) / whole, 0.0, 1.0);
}

// One stretch of time that a breaker spent in one state.
struct state_band {
  wall_time from{};
  wall_time to{};
  std::string state;  // "closed", "open", "half_open", or as the history spelled it
};

// Returns the states of one breaker from `from` to `until`, oldest first,
// derived from its breaker_state_changed entries (`transitions`, oldest
// first). Before its first known transition a breaker was in that
// transition's `from` state; without any transition it was in
// `current_state` all along. Zero-length stretches are left out.
inline std::vector<state_band> breaker_state_bands(std::string_view current_state,
                                                   std::span<const history_entry* const> transitions, wall_time from,
                                                   wall_time until) {
  std::vector<state_band> bands;
  if (until <= from) return bands;

  std::string state(current_state);
  if (!transitions.empty()) state = transitions.front()->from;
  auto next = transitions.begin();
  for (; next != transitions.end() && (*next)->wall_at <= from; ++next) state = (*next)->to;

  wall_time cursor = from;
  for (; next != transitions.end() && (*next)->wall_at < until; ++next) {
    if ((*next)->wall_at > cursor) {
      bands.push_back({cursor, (*next)->wall_at, state});
      cursor = (*next)->wall_at;
    }
    state = (*next)->to;
  }
  bands.push_back({cursor, until, state});
  return bands;
}

// Appends one breaker's timeline: an SVG band per state over [from, to],
// left blank after `until` (the time of the snapshot).
inline void append_timeline_svg(std::string& out, const std::vector<state_band>& bands, wall_time from, wall_time to,
                                std::string_view label) {
  auto it = std::back_inserter(out);
  fmt::format_to(it,
                 R"(<svg class="bands" viewBox="0 0 1000 10" preserveAspectRatio="none" role="img" aria-label="{}" )"
                 R"(data-bands="{}"><rect class="future" x="0" y="0" width="1000" height="10"/>)",
                 html_escape(label), bands.size());
  for (const auto& band : bands) {
    const double x = 1000 * fraction_of(band.from, from, to);
    const double width = 1000 * fraction_of(band.to, from, to) - x;
    const auto state = html_escape(band.state);
    fmt::format_to(it,
                   R"(<rect class="band band-{0}" data-state="{0}" data-from="{1}" data-to="{2}" x="{3:.2f}" y="0" )"
                   R"(width="{4:.2f}" height="10"><title>{0}: {1} to {2} ({5})</title></rect>)",
                   state, to_iso8601(band.from), to_iso8601(band.to), x, width, format_span(band.to - band.from));
  }
  out += "</svg>";
}

// One series of a trend plot: the counter it shows and its CSS class.
struct plot_series {
  std::string_view label;
  std::string_view css_class;
  std::uint64_t trend_counts::*count;
};

// The y-axis of a plot: a top value that is a round multiple of `step`, with
// at most five steps, so 7 gives 0, 2, 4, 6, 8.
struct plot_scale {
  std::uint64_t top = 1;
  std::uint64_t step = 1;
};

inline plot_scale scale_for(std::uint64_t max_value) noexcept {
  if (max_value == 0) return {1, 1};
  std::uint64_t magnitude = 1;
  for (;;) {
    for (const std::uint64_t factor : {1u, 2u, 5u}) {
      const auto step = factor * magnitude;
      const auto steps = (max_value + step - 1) / step;
      if (steps <= 5) return {steps * step, step};
    }
    magnitude *= 10;
  }
}

// Appends a bar plot of `series` (stacked when there are several) over every
// bucket of `trends`, with a y-axis, gridlines and time labels. Only buckets
// with a non-zero count get a bar. The <svg> carries data-buckets (the
// report's non-empty buckets), data-bars (bars drawn), data-total and
// data-max (the highest stacked count).
inline void append_trend_plot(std::string& out, const trend_report& trends, std::string_view id, std::string_view title,
                              std::span<const plot_series> series) {
  constexpr double width = 480, height = 180;
  constexpr double left = 40, right = 10, top = 10, bottom = 26;
  constexpr double plot_width = width - left - right, plot_height = height - top - bottom;

  std::uint64_t max_value = 0;
  std::uint64_t total = 0;
  for (const auto& bucket : trends.buckets) {
    std::uint64_t stacked = 0;
    for (const auto& s : series) stacked += bucket.counts.*s.count;
    max_value = std::max(max_value, stacked);
    total += stacked;
  }
  const auto scale = scale_for(max_value);
  const auto slots = trends.bucket_width > duration::zero() ? trends.span / trends.bucket_width : 0;

  std::string bars;
  std::size_t bar_count = 0;
  auto bar_out = std::back_inserter(bars);
  const double slot_width = slots > 0 ? plot_width / static_cast<double>(slots) : plot_width;
  const double bar_width = slot_width > 4 ? slot_width * 0.8 : std::max(slot_width, 1.0);
  const bool with_millis = trends.bucket_width % std::chrono::seconds{1} != duration::zero();
  for (const auto& bucket : trends.buckets) {
    if (slots <= 0) break;
    const auto index = (bucket.start - trends.from) / trends.bucket_width;
    if (index < 0 || index >= slots) continue;
    const double x = left + slot_width * static_cast<double>(index) + (slot_width - bar_width) / 2;
    double base = top + plot_height;
    std::string tooltip = to_iso8601(bucket.start, with_millis);
    std::uint64_t stacked = 0;
    for (const auto& s : series) {
      const auto value = bucket.counts.*s.count;
      tooltip += fmt::format(", {} {}", value, s.label);
      stacked += value;
      if (value == 0) continue;
      const double bar_height = plot_height * static_cast<double>(value) / static_cast<double>(scale.top);
      base -= bar_height;
      fmt::format_to(bar_out, R"(<rect class="bar {}" x="{:.2f}" y="{:.2f}" width="{:.2f}" height="{:.2f}"/>)",
                     s.css_class, x, base, bar_width, bar_height);
    }
    if (stacked == 0) continue;
    ++bar_count;
    // A transparent hit area per bucket carries its values for tooltips and tests.
    fmt::format_to(bar_out,
                   R"(<rect class="hit" data-start="{}" data-value="{}" x="{:.2f}" y="{}" width="{:.2f}" )"
                   R"(height="{}"><title>{}</title></rect>)",
                   to_iso8601(bucket.start, with_millis), stacked, x, top, bar_width, plot_height,
                   html_escape(tooltip));
  }

  auto it = std::back_inserter(out);
  fmt::format_to(it,
                 R"(<svg class="plot" id="{}" viewBox="0 0 {} {}" role="img" aria-label="{}: {} in the span, )"
                 R"({} buckets with a count" data-buckets="{}" data-bars="{}" data-total="{}" data-max="{}">)",
                 id, width, height, html_escape(title), total, bar_count, trends.buckets.size(), bar_count, total,
                 max_value);

  // Gridlines and y labels.
  for (std::uint64_t value = 0; value <= scale.top; value += scale.step) {
    const double y = top + plot_height - plot_height * static_cast<double>(value) / static_cast<double>(scale.top);
    fmt::format_to(it, R"(<line class="{}" x1="{}" x2="{}" y1="{:.2f}" y2="{:.2f}"/>)", value == 0 ? "axis" : "grid",
                   left, width - right, y, y);
    fmt::format_to(it, R"(<text x="{}" y="{:.2f}" text-anchor="end" dominant-baseline="middle">{}</text>)", left - 6, y,
                   value);
  }
  fmt::format_to(it, R"(<line class="axis" x1="{0}" x2="{0}" y1="{1}" y2="{2}"/>)", left, top, top + plot_height);

  // Time labels at the start, middle and end of the span.
  if (slots > 0) {
    const bool seconds = trends.bucket_width < std::chrono::minutes{1};
    const bool date = trends.span > std::chrono::hours{24};
    const auto middle = trends.from + trends.bucket_width * (slots / 2);
    const double y = height - 8;
    fmt::format_to(it, R"(<text x="{}" y="{}" text-anchor="start">{}</text>)", left, y,
                   format_axis_time(trends.from, seconds, date));
    fmt::format_to(it, R"(<text x="{:.2f}" y="{}" text-anchor="middle">{}</text>)",
                   left + plot_width * fraction_of(middle, trends.from, trends.to), y,
                   format_axis_time(middle, seconds, date));
    fmt::format_to(it, R"(<text x="{}" y="{}" text-anchor="end">{}</text>)", width - right, y,
                   format_axis_time(trends.to, seconds, date));
  }
  if (bar_count == 0) {
    fmt::format_to(it, R"(<text class="none" x="{}" y="{}" text-anchor="middle">none in this span</text>)",
                   left + plot_width / 2, top + plot_height / 2);
  }
  out += bars;
  out += "</svg>";
}

}  // namespace detail
MEND_END_NAMESPACE

#endif  // MEND_DETAIL_DASHBOARD_SVG_HPP
