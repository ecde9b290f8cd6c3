// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_CONFIG_ERROR_HPP
#define MEND_CONFIG_ERROR_HPP

#include <mend/error.hpp>
#include <mend/version.hpp>

#include <fmt/format.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

MEND_BEGIN_NAMESPACE

// Thrown by a constructor that was given invalid options. The message names
// the component, the field and the rejected value, for example
// "circuit_breaker: invalid open_timeout = -5s (must be greater than zero)".
// code() is errc::invalid_argument for callers that handle errors by code.
class config_error : public std::invalid_argument {
 public:
  config_error(std::string_view component, std::string_view field, std::string_view value,
               std::string_view requirement)
      : std::invalid_argument(fmt::format("{}: invalid {} = {} ({})", component, field, value, requirement)),
        field_(field),
        value_(value) {}

  // The option that was rejected, as spelled in the options struct.
  const std::string& field() const noexcept { return field_; }

  // The rejected value, formatted.
  const std::string& value() const noexcept { return value_; }

  std::error_code code() const noexcept { return make_error_code(errc::invalid_argument); }

 private:
  std::string field_;
  std::string value_;
};

namespace detail {

// Formats a value for an error message. Durations use the largest unit that
// shows them exactly ("-5s", "250ms", "7ns").
template <class Value>
std::string format_config_value(const Value& value) {
  if constexpr (requires { std::chrono::duration_cast<std::chrono::nanoseconds>(value); }) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(value).count();
    if (ns % 1'000'000'000 == 0) return fmt::format("{}s", ns / 1'000'000'000);
    if (ns % 1'000'000 == 0) return fmt::format("{}ms", ns / 1'000'000);
    if (ns % 1'000 == 0) return fmt::format("{}us", ns / 1'000);
    return fmt::format("{}ns", ns);
  } else {
    return fmt::format("{}", value);
  }
}

// Throws config_error unless `valid`.
template <class Value>
void require(bool valid, std::string_view component, std::string_view field, const Value& value,
             std::string_view requirement) {
  if (!valid) throw config_error(component, field, format_config_value(value), requirement);
}

}  // namespace detail

MEND_END_NAMESPACE

#endif  // MEND_CONFIG_ERROR_HPP
