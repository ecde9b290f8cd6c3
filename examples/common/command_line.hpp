// Parsers of command-line values shared by the example programs. They throw
// usage_error, which each program's main() prints with its usage hint and
// exit status 2. Examples include this file by its relative path.
#ifndef MEND_EXAMPLES_COMMAND_LINE_HPP
#define MEND_EXAMPLES_COMMAND_LINE_HPP

#include <mend/clock.hpp>

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <chrono>
#include <stdexcept>
#include <string_view>
#include <type_traits>

namespace example_options {

// Thrown for an invalid command line. main() prints it with the usage hint.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The maximum DURATION option. It keeps sums such as a run's end time far
// from the limits of mend::duration (signed 64-bit nanoseconds, about 292
// years).
inline constexpr std::chrono::minutes max_duration{60 * 24 * 365};

// Parses a DURATION option: a number with the unit ms, s or m, or a bare
// number of seconds, up to max_duration. Zero is accepted only with
// `allow_zero`.
inline mend::duration parse_duration(std::string_view option, std::string_view text, bool allow_zero = false) {
  long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  const auto too_long = [&] {
    return usage_error(fmt::format("invalid {} '{}': the maximum is {}m (365 days)", option, text,
                                   max_duration.count()));
  };
  if (ec == std::errc::result_out_of_range && !text.starts_with('-')) throw too_long();
  if (ec != std::errc{} || value < 0 || (value == 0 && !allow_zero))
    throw usage_error(fmt::format("invalid {} '{}': expected a {} duration, e.g. 30s", option, text,
                                  allow_zero ? "non-negative" : "positive"));

  // Compares in the option's own unit, so that a huge count cannot overflow.
  const auto checked = [&](auto unit_duration) -> mend::duration {
    using unit_type = decltype(unit_duration);
    if (value > std::chrono::duration_cast<unit_type>(max_duration).count()) throw too_long();
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

}  // namespace example_options

#endif  // MEND_EXAMPLES_COMMAND_LINE_HPP
