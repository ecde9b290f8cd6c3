// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_ADAPTERS_STATUS_JSON_HPP
#define MEND_ADAPTERS_STATUS_JSON_HPP

// Renders a status report as JSON with nlohmann_json (link mend::json).

#include <mend/circuit_state.hpp>
#include <mend/detail/iso8601.hpp>
#include <mend/event.hpp>
#include <mend/result.hpp>
#include <mend/status_reporter.hpp>
#include <mend/version.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

MEND_BEGIN_NAMESPACE

namespace detail {

// "CLOSED", "OPEN" or "HALF_OPEN", the spelling of the JSON report.
inline std::string json_state_name(circuit_state state) {
  std::string name(to_string(state));
  for (auto& c : name) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  return name;
}

inline nlohmann::ordered_json json_time_or_null(const std::optional<wall_time>& t) {
  if (!t) return nullptr;
  return to_iso8601(*t);
}

inline nlohmann::ordered_json json_text_or_null(const std::string& text) {
  if (text.empty()) return nullptr;
  return text;
}

template <class Duration>
std::int64_t json_millis(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

inline void json_add_counts(nlohmann::ordered_json& out, const trend_counts& counts) {
  out["failures"] = counts.failures;
  out["retries"] = counts.retries;
  out["successful_retries"] = counts.successful_retries;
  out["failed_retries"] = counts.failed_retries;
  out["recoveries"] = counts.recoveries;
  out["rejections"] = counts.rejections;
}

inline nlohmann::ordered_json json_history_entry(const history_entry& entry) {
  nlohmann::ordered_json out;
  out["at"] = to_iso8601(entry.wall_at, true);
  out["monotonic_ms"] = json_millis(entry.at.time_since_epoch());
  out["kind"] = std::string(to_string(entry.kind));
  out["severity"] = std::string(to_string(entry.level));
  out["component"] = entry.component;
  out["target"] = json_text_or_null(entry.target);
  out["from"] = json_text_or_null(entry.from);
  out["to"] = json_text_or_null(entry.to);
  out["reason"] = json_text_or_null(entry.reason);
  out["error"] = json_text_or_null(entry.error);
  out["recovery"] = entry.recovery;
  out["restored"] = entry.restored;
  return out;
}

inline nlohmann::ordered_json json_trends(const trend_report& trends) {
  // Sub-second buckets need milliseconds in their labels to stay distinct.
  const bool millis = trends.bucket_width % std::chrono::seconds{1} != duration::zero();
  nlohmann::ordered_json out;
  out["bucket_ms"] = json_millis(trends.bucket_width);
  out["span_ms"] = json_millis(trends.span);
  out["from"] = to_iso8601(trends.from, millis);
  out["to"] = to_iso8601(trends.to, millis);
  nlohmann::ordered_json totals = nlohmann::ordered_json::object();
  json_add_counts(totals, trends.totals);
  out["totals"] = std::move(totals);
  auto& buckets = out["buckets"] = nlohmann::ordered_json::array();
  for (const auto& bucket : trends.buckets) {
    nlohmann::ordered_json item;
    item["start"] = to_iso8601(bucket.start, millis);
    json_add_counts(item, bucket.counts);
    buckets.push_back(std::move(item));
  }
  return out;
}

}  // namespace detail

// Renders `s` as the documented JSON report. The first three members are
// the summary: `circuit_breakers` (name, state "CLOSED" / "OPEN" /
// "HALF_OPEN", auto_recoveries, last_recovery as ISO 8601 UTC or null),
// `connection_pools` (name, status "healthy" / "degraded" / "recovering",
// active_connections, recovery_attempts) and `retry_stats` (total_retries,
// successful_retries, failed_retries). Breakers and pools carry more members
// after those. Then come `generated_at`, `retry_policies`, `endpoints`,
// `rollouts`, `history`, `trends` and `persistence`, which docs/status.md
// describes member by member.
// Text fields with nothing to say are null.
inline nlohmann::ordered_json to_json(const status_snapshot& s) {
  using detail::json_text_or_null;
  using detail::json_time_or_null;
  nlohmann::ordered_json out;

  auto& breakers = out["circuit_breakers"] = nlohmann::ordered_json::array();
  for (const auto& b : s.circuit_breakers) {
    nlohmann::ordered_json item;
    item["name"] = b.name;
    item["state"] = detail::json_state_name(b.state);
    item["auto_recoveries"] = b.auto_recoveries;
    item["last_recovery"] = json_time_or_null(b.last_recovery);
    item["failures"] = b.failures;
    item["rejections"] = b.rejections;
    item["open_timeout_ms"] = detail::json_millis(b.open_timeout);
    item["last_change"] = json_time_or_null(b.last_change);
    item["last_reason"] = json_text_or_null(b.last_reason);
    breakers.push_back(std::move(item));
  }

  auto& pools = out["connection_pools"] = nlohmann::ordered_json::array();
  for (const auto& p : s.connection_pools) {
    nlohmann::ordered_json item;
    item["name"] = p.name;
    item["status"] = std::string(to_string(p.status));
    item["active_connections"] = p.active_connections;
    item["recovery_attempts"] = p.recovery_attempts;
    item["idle_connections"] = p.idle_connections;
    item["total_connections"] = p.total_connections;
    item["waiters"] = p.waiters;
    item["recoveries"] = p.recoveries;
    item["last_recovery"] = json_time_or_null(p.last_recovery);
    item["last_error"] = json_text_or_null(p.last_error);
    pools.push_back(std::move(item));
  }

  auto& retry_stats = out["retry_stats"];
  retry_stats["total_retries"] = s.retry_stats.total_retries;
  retry_stats["successful_retries"] = s.retry_stats.successful_retries;
  retry_stats["failed_retries"] = s.retry_stats.failed_retries;

  out["generated_at"] = detail::to_iso8601(s.generated_at);

  auto& policies = out["retry_policies"] = nlohmann::ordered_json::array();
  for (const auto& r : s.retry_policies) {
    nlohmann::ordered_json item;
    item["name"] = r.name;
    item["total_retries"] = r.counts.total_retries;
    item["successful_retries"] = r.counts.successful_retries;
    item["failed_retries"] = r.counts.failed_retries;
    item["gave_up"] = r.gave_up;
    item["last_give_up_reason"] = json_text_or_null(r.last_give_up_reason);
    policies.push_back(std::move(item));
  }

  auto& endpoints = out["endpoints"] = nlohmann::ordered_json::array();
  for (const auto& e : s.endpoints) {
    nlohmann::ordered_json item;
    item["target"] = e.target;
    item["health"] = json_text_or_null(e.health);
    item["rotation"] = json_text_or_null(e.rotation);
    item["weight"] = e.weight ? nlohmann::ordered_json(*e.weight) : nlohmann::ordered_json(nullptr);
    item["last_change"] = json_time_or_null(e.last_change);
    item["last_reason"] = json_text_or_null(e.last_reason);
    endpoints.push_back(std::move(item));
  }

  auto& rollouts = out["rollouts"] = nlohmann::ordered_json::array();
  for (const auto& r : s.rollouts) {
    nlohmann::ordered_json item;
    item["name"] = r.name;
    item["phase"] = r.phase;
    item["step"] = json_text_or_null(r.step);
    item["last_change"] = json_time_or_null(r.last_change);
    item["last_reason"] = json_text_or_null(r.last_reason);
    rollouts.push_back(std::move(item));
  }

  auto& history = out["history"];
  history["capacity"] = s.history_capacity;
  history["dropped"] = s.history_dropped;
  auto& entries = history["entries"] = nlohmann::ordered_json::array();
  for (const auto& entry : s.history) entries.push_back(detail::json_history_entry(entry));

  out["trends"] = detail::json_trends(s.trends);

  if (s.persistence) {
    auto& persistence = out["persistence"];
    persistence["location"] = s.persistence->location;
    persistence["ok"] = s.persistence->ok;
    persistence["error"] = json_text_or_null(s.persistence->error);
    persistence["written"] = s.persistence->written;
    persistence["dropped"] = s.persistence->dropped;
  } else {
    out["persistence"] = nullptr;
  }

  return out;
}

// Renders the reporter's current snapshot, without an access check.
inline nlohmann::ordered_json to_json(const status_reporter& reporter) { return to_json(reporter.snapshot()); }

// Returns the JSON report if `caller` has the reporter's required role,
// else errc::permission_denied and nothing of the report.
inline result<nlohmann::ordered_json> get_self_healing_status_json(const status_reporter& reporter,
                                                                   const caller_identity& caller) {
  auto snapshot = reporter.get_self_healing_status(caller);
  if (!snapshot) return snapshot.error();
  return to_json(snapshot.value());
}

MEND_END_NAMESPACE

#endif  // MEND_ADAPTERS_STATUS_JSON_HPP
