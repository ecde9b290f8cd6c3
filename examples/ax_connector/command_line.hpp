// Parsers of the connector's command-line values. They throw usage_error,
// which main() prints with the usage hint and exit status 2.
#ifndef AX_CONNECTOR_COMMAND_LINE_HPP
#define AX_CONNECTOR_COMMAND_LINE_HPP

#include <mend/clock.hpp>

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <chrono>
#include <stdexcept>
#include <string_view>
#include <type_traits>

namespace ax {

// Thrown for an invalid command line. main() prints it with the usage hint.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The maximum run duration the connector accepts. It keeps the run's end and the
// report's trend span far from the limits of mend::duration.
inline constexpr std::chrono::minutes max_run_duration{60 * 24 * 365};

// Parses a DURATION option: a positive number with the unit ms, s or m, or
// a bare number of seconds, up to max_run_duration.
inline mend::duration parse_duration(std::string_view option, std::string_view text) {
  long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  const auto too_long = [&] {
    return usage_error(fmt::format("invalid {} '{}': the maximum is {}m (365 days)", option, text,
                                   max_run_duration.count()));
  };
  if (ec == std::errc::result_out_of_range && !text.starts_with('-')) throw too_long();
  if (ec != std::errc{} || value <= 0)
    throw usage_error(fmt::format("invalid {} '{}': expected a positive duration, e.g. 30s", option, text));

  // Compares in the option's own unit, so that a huge count cannot overflow.
  const auto checked = [&](auto unit_duration) -> mend::duration {
    using unit_type = decltype(unit_duration);
    if (value > std::chrono::duration_cast<unit_type>(max_run_duration).count()) throw too_long();
    return unit_type{value};
  };
  if (unit == "ms") return checked(std::chrono::milliseconds{});
  if (unit == "s" || unit.empty()) return checked(std::chrono::seconds{});
  if (unit == "m") return checked(std::chrono::minutes{});
  throw usage_error(fmt::format("invalid {} '{}': the unit must be ms, s or m", option, text));
}

// Parses a number from `min` to `max`. NaN and infinities are rejected,
// because no range comparison excludes NaN.
template <class Number>
Number parse_number(std::string_view option, std::string_view text, Number min, Number max) {
  Number value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  bool valid = ec == std::errc{} && end == text.data() + text.size() && value >= min && value <= max;
  if constexpr (std::is_floating_point_v<Number>) valid = valid && std::isfinite(value);
  if (!valid)
    throw usage_error(fmt::format("invalid {} '{}': expected a number from {} to {}", option, text, min, max));
  return value;
}

}  // namespace ax

#endif  // AX_CONNECTOR_COMMAND_LINE_HPP
