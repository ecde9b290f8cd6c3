// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_HTTP_ERROR_HPP
#define MEND_HTTP_ERROR_HPP

#include <mend/version.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

MEND_BEGIN_NAMESPACE

// HTTP failures as std::error_code values of the "mend.http" category.
//
// The value packs the status (100-999) and an optional Retry-After hint in
// whole seconds: value = retry_after_seconds * 1000 + status. The hint thus
// travels inside the error code through every layer (breaker, pool, retry)
// without a side channel. Compare statuses with http_status_of(), because two
// codes with the same status and different hints are different values.
namespace detail {

inline constexpr int http_status_span = 1000;
inline constexpr std::int64_t max_retry_after_seconds = 2'147'483'647 / http_status_span - 1;

constexpr std::string_view http_reason_phrase(int status) noexcept {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
  }
}

class http_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "mend.http"; }

  std::string message(int value) const override {
    const int status = value % http_status_span;
    const int retry_after = value / http_status_span;
    std::string text = "HTTP " + std::to_string(status);
    if (const auto phrase = http_reason_phrase(status); !phrase.empty()) {
      text += ' ';
      text += phrase;
    }
    if (retry_after > 0) text += " (retry after " + std::to_string(retry_after) + " s)";
    return text;
  }
};

}  // namespace detail

// The category of HTTP status errors.
inline const std::error_category& http_category() noexcept {
  static const detail::http_category category;
  return category;
}

// Builds the error for an HTTP response with `status` (100-999; other values
// are clamped into that range). A positive `retry_after` is rounded up to whole
// seconds, as the Retry-After header counts them.
inline std::error_code http_error(int status, std::chrono::nanoseconds retry_after = {}) noexcept {
  status = std::clamp(status, 100, detail::http_status_span - 1);
  std::int64_t seconds = 0;
  if (retry_after > std::chrono::nanoseconds::zero()) {
    seconds = std::chrono::ceil<std::chrono::seconds>(retry_after).count();
    seconds = std::min(seconds, detail::max_retry_after_seconds);
  }
  return {static_cast<int>(seconds * detail::http_status_span + status), http_category()};
}

// Returns the HTTP status carried by `ec`, or 0 when `ec` is not an HTTP error.
inline int http_status_of(const std::error_code& ec) noexcept {
  if (ec.category() != http_category()) return 0;
  return ec.value() % detail::http_status_span;
}

// Returns the Retry-After hint carried by `ec`, if any.
inline std::optional<std::chrono::seconds> retry_after_of(const std::error_code& ec) noexcept {
  if (ec.category() != http_category()) return std::nullopt;
  const int seconds = ec.value() / detail::http_status_span;
  if (seconds <= 0) return std::nullopt;
  return std::chrono::seconds{seconds};
}

// Parses a Retry-After header value: either delay-seconds ("120") or an
// IMF-fixdate ("Wed, 21 Oct 2015 07:28:00 GMT", the form RFC 9110 requires
// senders to use). A date in the past gives zero. Returns nullopt for anything
// else, so a malformed header is ignored instead of guessed at.
inline std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                             std::chrono::system_clock::time_point now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;

  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::int64_t seconds = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc::result_out_of_range) return std::chrono::seconds{detail::max_retry_after_seconds};
    if (ec != std::errc{} || end != value.data() + value.size()) return std::nullopt;
    return std::chrono::seconds{std::min(seconds, detail::max_retry_after_seconds)};
  }

  // IMF-fixdate has a fixed layout: "Sun, 06 Nov 1994 08:49:37 GMT" (29 chars).
  if (value.size() != 29 || value[3] != ',' || value[4] != ' ' || value[7] != ' ' || value[11] != ' ' ||
      value[16] != ' ' || value[19] != ':' || value[22] != ':' || value.substr(25) != " GMT")
    return std::nullopt;

  const auto number = [&](std::size_t pos, std::size_t len) -> int {
    int out = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (value[i] < '0' || value[i] > '9') return -1;
      out = out * 10 + (value[i] - '0');
    }
    return out;
  };
  static constexpr std::array<std::string_view, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto month_it = std::find(months.begin(), months.end(), value.substr(8, 3));
  const int day = number(5, 2), year = number(12, 4);
  const int hour = number(17, 2), minute = number(20, 2), second = number(23, 2);
  if (month_it == months.end() || day < 1 || year < 1970 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 60)
    return std::nullopt;

  const std::chrono::year_month_day date{std::chrono::year{year},
                                         std::chrono::month{static_cast<unsigned>(month_it - months.begin() + 1)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok()) return std::nullopt;
  const auto at = std::chrono::sys_days{date} + std::chrono::hours{hour} + std::chrono::minutes{minute} +
                  std::chrono::seconds{second};
  // In whole seconds: `at` is one, and nanoseconds overflow after 2262.
  const auto delta = at - std::chrono::floor<std::chrono::seconds>(now);
  return std::clamp(delta, std::chrono::seconds::zero(), std::chrono::seconds{detail::max_retry_after_seconds});
}

MEND_END_NAMESPACE

#endif  // MEND_HTTP_ERROR_HPP
