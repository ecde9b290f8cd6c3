// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_LOG_SINK_HPP
#define MEND_LOG_SINK_HPP

#include <mend/detail/iso8601.hpp>
#include <mend/event.hpp>
#include <mend/metrics_sink.hpp>
#include <mend/version.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

MEND_BEGIN_NAMESPACE

namespace detail {

// Masks credentials that might hide in free text (a component named after a
// connection string, an error message that quotes a URL): the value after
// password=, pwd=, secret=, token= or apikey= up to the next separator, the
// user-info of a URL ("http://user:pass@host"), and the credentials of an
// Authorization header.
inline std::string redact_secrets(std::string_view text) {
  std::string out(text);
  const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  const auto find_nocase = [&](std::string_view needle, std::size_t from) {
    for (std::size_t i = from; i + needle.size() <= out.size(); ++i) {
      std::size_t k = 0;
      while (k < needle.size() && lower(out[i + k]) == needle[k]) ++k;
      if (k == needle.size()) return i;
    }
    return std::string::npos;
  };
  const auto is_separator = [](char c) {
    return c == ';' || c == '&' || c == ' ' || c == ',' || c == '"' || c == '\'' || c == '\n' || c == '\t';
  };
  const auto mask_from = [&](std::size_t begin, auto stop) {
    std::size_t end = begin;
    while (end < out.size() && !stop(out[end])) ++end;
    if (end > begin) out.replace(begin, end - begin, "***");
    return begin + 3;
  };

  static constexpr std::array<std::string_view, 7> keys{"password=", "pwd=", "secret=", "token=",
                                                        "apikey=", "api_key=", "access_token="};
  for (const auto key : keys) {
    for (auto pos = find_nocase(key, 0); pos != std::string::npos; pos = find_nocase(key, pos)) {
      pos = mask_from(pos + key.size(), is_separator);
    }
  }
  for (const auto scheme : {std::string_view{"authorization: basic "}, std::string_view{"authorization: bearer "}}) {
    for (auto pos = find_nocase(scheme, 0); pos != std::string::npos; pos = find_nocase(scheme, pos)) {
      pos = mask_from(pos + scheme.size(), is_separator);
    }
  }
  for (auto pos = out.find("://"); pos != std::string::npos; pos = out.find("://", pos + 3)) {
    const auto begin = pos + 3;
    std::size_t end = begin;
    while (end < out.size() && out[end] != '@' && out[end] != '/' && !is_separator(out[end])) ++end;
    if (end < out.size() && out[end] == '@') out.replace(begin, end - begin, "***");
  }
  return out;
}

}  // namespace detail

// Formats `e` as one log line: the wall time, severity, component family and
// name, event kind, then whatever fields the event sets. Credentials in free
// text are masked.
inline std::string format_event(const event& e) {
  std::string line = fmt::format("{} {} {} {} {}", detail::to_iso8601(e.wall_at, true), to_string(e.level),
                                 family_of(e.kind), detail::redact_secrets(e.component), to_string(e.kind));
  if (!e.target.empty()) line += fmt::format(" target={}", detail::redact_secrets(e.target));
  if (!e.from.empty() || !e.to.empty()) line += fmt::format(" {} -> {}", e.from, e.to);
  if (!e.reason.empty()) line += fmt::format(": {}", detail::redact_secrets(e.reason));
  if (e.attempt != 0) line += fmt::format(" attempt={}", e.attempt);
  if (e.delay != duration::zero())
    line += fmt::format(" delay={}", std::chrono::duration_cast<std::chrono::milliseconds>(e.delay));
  if (e.error)
    line += fmt::format(" error=\"{}: {}\"", e.error.category().name(), detail::redact_secrets(e.error.message()));
  for (const auto& sample : e.metrics) line += fmt::format(" {}={}", to_string(sample.name), sample.value);
  return line;
}

// Writes one line per event at or above a minimum severity. The default
// writer prints to stderr; pass another to feed a logging library. Lines are
// written one at a time, so they never interleave.
class log_sink final : public metrics_sink {
 public:
  using writer = std::function<void(std::string_view line)>;

  explicit log_sink(severity min_level = severity::info, writer out = {})
      : min_level_(min_level), out_(out ? std::move(out) : writer{write_stderr}) {}

  void record(const event& e) override {
    if (e.level < min_level_) return;
    const std::string line = format_event(e);
    std::lock_guard lock(mutex_);
    out_(line);
  }

 private:
  static void write_stderr(std::string_view line) { fmt::print(stderr, "{}\n", line); }

  const severity min_level_;
  std::mutex mutex_;
  writer out_;  // called under mutex_
};

MEND_END_NAMESPACE

#endif  // MEND_LOG_SINK_HPP
