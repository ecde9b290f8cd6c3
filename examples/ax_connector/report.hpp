// The connector's output: one status line per second while it runs, and the
// summary at the end, as text and as summary.json.
#ifndef AX_CONNECTOR_REPORT_HPP
#define AX_CONNECTOR_REPORT_HPP

#include "aif_stand_in.hpp"
#include "connector.hpp"
#include "incidents.hpp"
#include "workload.hpp"

#include <mend/circuit_state.hpp>
#include <mend/retry_policy.hpp>
#include <mend/status_reporter.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ax {

inline double seconds(mend::duration d) { return std::chrono::duration<double>(d).count(); }

// [snippet:status-line]
// One line: the request counts, then per endpoint its breaker, its pool
// (status, leased/open connections) and whether it is in rotation, e.g.
//   12 s  sent 240 ok 228 soap-faults 9 failed 3 retries 17 | aos1 closed, pool healthy 1/2, in |
//   aos2 OPEN, pool recovering 0/0, unhealthy, out
inline std::string status_line(mend::duration elapsed, const workload_stats::counts& requests,
                               const mend::retry_stats& retries, const std::vector<endpoint_view>& endpoints,
                               const mend::status_snapshot& report) {
  std::string line = fmt::format("{:4.0f} s  sent {} ok {} soap-faults {} failed {} retries {}", seconds(elapsed),
                                 requests.issued, requests.succeeded, requests.business_faults, requests.failed,
                                 retries.total_retries);
  if (requests.overdue > 0) line += fmt::format(" OVERDUE {}", requests.overdue);
  for (const auto& e : endpoints) {
    std::string pool_status = e.pool.in_recovery ? "recovering" : "healthy";
    for (const auto& p : report.connection_pools)
      if (p.name == e.name) pool_status = std::string(mend::to_string(p.status));
    const std::string breaker = e.breaker == mend::circuit_state::closed ? "closed"
                                : e.breaker == mend::circuit_state::open ? "OPEN"
                                                                         : "HALF-OPEN";
    std::string rotation = "out";
    if (e.in_rotation) rotation = e.weight < 0.995 ? fmt::format("in at {:.0f} %", e.weight * 100) : "in";
    line += fmt::format(" | {} {}, pool {} {}/{}, {}{}", e.name, breaker, pool_status, e.pool.active, e.pool.total,
                        e.health == mend::endpoint_health::unhealthy ? "unhealthy, " : "", rotation);
  }
  return line;
}
// [/snippet]

// Everything the summary reports.
struct run_summary {
  std::string mode;     // "built-in stand-ins" or "endpoints"
  std::string profile;
  mend::duration run_time{};
  mend::duration allowance{};
  mend::duration deadline{};  // the maximum time a request may take
  workload_stats::counts requests;
  mend::retry_stats retries;
  std::optional<injected_faults> injected;  // default mode only
  std::vector<endpoint_view> endpoints;     // with the faults their attempts met
  recovery_figures recovery;
  std::vector<incident> incidents;
  mend::time_point run_start{};
  std::uint64_t breaker_auto_recoveries = 0;
  std::uint64_t breaker_rejections = 0;
  std::uint64_t pool_recoveries = 0;
  std::uint64_t health_recoveries = 0;
  std::uint64_t log_lines_suppressed = 0;
  double min_success_rate = 95.0;

  bool all_requests_ended() const {
    return requests.completed == requests.issued && requests.in_flight == 0 && requests.late == 0 &&
           requests.overdue == 0;
  }
  // A run in which every request failed (all endpoints unreachable, say)
  // proves nothing about recovery, so it fails too.
  bool any_request_succeeded() const { return requests.succeeded > 0; }
  bool passed() const { return failure_reasons().empty(); }

  // Returns the reasons the run failed, separated by "; ", or an empty string
  // when it passed.
  std::string failure_reasons() const {
    std::string reasons;
    const auto add = [&reasons](const std::string& reason) {
      if (!reasons.empty()) reasons += "; ";
      reasons += reason;
    };
    if (!all_requests_ended())
      add(fmt::format("{} requests did not end within the deadline", requests.in_flight + requests.late));
    if (!any_request_succeeded())
      add(fmt::format("no request succeeded ({} issued, {} failed)", requests.issued, requests.failed));
    if (recovery.success_rate < min_success_rate)
      add(fmt::format("the recovery rate {:.1f} % is below {:.0f} %", recovery.success_rate, min_success_rate));
    return reasons;
  }
};

inline std::string fault_counts(const injected_faults& injected) {
  std::string out;
  for (const auto kind : {fault_kind::http_500, fault_kind::soap_server_fault, fault_kind::http_503,
                          fault_kind::dropped_connection, fault_kind::no_answer, fault_kind::slow_answer,
                          fault_kind::down}) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{} {}", to_string(kind), injected[kind]);
  }
  return out;
}

inline void print_summary(const run_summary& s, const std::string& report_files) {
  const auto& r = s.requests;
  fmt::print("\nsummary ({}, profile {}, {:.0f} s)\n", s.mode, s.profile, seconds(s.run_time));
  fmt::print("  requests          {} issued, {} completed, {} still running, {} over the {:.1f} s deadline "
             "(slowest {:.2f} s)\n",
             r.issued, r.completed, r.in_flight, r.late + r.overdue, seconds(s.deadline), seconds(r.max_latency));
  fmt::print("  succeeded         {} ({} after a retry)\n", r.succeeded, r.succeeded_after_retry);
  fmt::print("  SOAP faults       {} business faults, returned at once without a retry\n", r.business_faults);
  std::string causes;
  for (const auto& [cause, count] : r.failure_causes) causes += fmt::format("{}{} {}", causes.empty() ? ": " : ", ", cause, count);
  fmt::print("  failed            {}{}\n", r.failed, causes);
  fmt::print("  retries           {} ({} succeeded, {} failed)\n", s.retries.total_retries, s.retries.successful_retries,
             s.retries.failed_retries);
  if (s.injected) {
    fmt::print("  faults injected   {}: {}\n", s.injected->total(), fault_counts(*s.injected));
    fmt::print("                    {} creates retried after a lost answer got their first order back\n",
               s.injected->duplicate_creates);
  }
  std::uint64_t observed = 0;
  std::string observed_text;
  for (std::size_t kind = 0; kind < attempt_fault_kinds; ++kind) {
    std::uint64_t count = 0;
    for (const auto& e : s.endpoints) count += e.faults[kind];
    observed += count;
    if (count > 0)
      observed_text += fmt::format("{}{} {}", observed_text.empty() ? ": " : ", ", to_string(static_cast<attempt_fault>(kind)), count);
  }
  fmt::print("  faults observed   {} failed attempts{}\n", observed, observed_text);
  fmt::print("                    {} failed connects, {} failed health checks, {} calls rejected by a breaker\n",
             s.recovery.failed_connects, s.recovery.failed_checks, s.breaker_rejections);
  fmt::print("  incidents         {}: {} recovered automatically, {} not recovered, {} with the fault still present\n",
             s.recovery.incidents, s.recovery.recovered, s.recovery.not_recovered, s.recovery.fault_present);
  for (const auto& i : s.incidents) {
    const auto from = seconds(i.started - s.run_start);
    if (i.ended) {
      fmt::print("                    {} {:6.1f} s - {:6.1f} s ({:.1f} s): {}\n", i.endpoint, from,
                 seconds(*i.ended - s.run_start), seconds(*i.ended - i.started), i.causes);
    } else {
      fmt::print("                    {} {:6.1f} s - still open: {}\n", i.endpoint, from, i.causes);
    }
  }
  fmt::print("  recovery rate     {:.1f} % ({} recovered of {} incidents whose fault had cleared; an open incident "
             "counts once no fault was seen for {:.0f} s)\n",
             s.recovery.success_rate, s.recovery.recovered, s.recovery.recovered + s.recovery.not_recovered,
             seconds(s.allowance));
  if (s.recovery.incidents > 0) {
    fmt::print("  longest unusable  {} for {:.1f} s, from {:.1f} s into the run\n", s.recovery.longest_endpoint,
               seconds(s.recovery.longest_unusable), seconds(s.recovery.longest_from));
  } else {
    fmt::print("  longest unusable  none: no endpoint became unusable\n");
  }
  fmt::print("  recoveries        breaker auto recoveries {}, pool recoveries {}, endpoints healthy again {}\n",
             s.breaker_auto_recoveries, s.pool_recoveries, s.health_recoveries);
  if (s.log_lines_suppressed > 0)
    fmt::print("  log               {} repeated warnings not logged\n", s.log_lines_suppressed);
  if (r.failures_not_logged > 0)
    fmt::print("                    {} failed requests not logged (at most one per second is)\n",
               r.failures_not_logged);
  fmt::print("  report            {}\n", report_files);
  if (s.passed()) {
    fmt::print("  result            PASS: every request ended with a success or a reported error, {} succeeded, "
               "and the recovery rate is {:.1f} % (at least {:.0f} %)\n",
               r.succeeded, s.recovery.success_rate, s.min_success_rate);
  } else {
    fmt::print("  result            FAIL: {}\n", s.failure_reasons());
  }
}

inline nlohmann::ordered_json summary_json(const run_summary& s) {
  nlohmann::ordered_json out;
  const auto& r = s.requests;
  out["mode"] = s.mode;
  out["profile"] = s.profile;
  out["run_time_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(s.run_time).count();
  out["requests"] = {{"issued", r.issued},       {"completed", r.completed},
                     {"in_flight", r.in_flight}, {"late", r.late + r.overdue},
                     {"succeeded", r.succeeded}, {"succeeded_after_retry", r.succeeded_after_retry},
                     {"soap_faults", r.business_faults}, {"failed", r.failed},
                     {"deadline_ms", std::chrono::duration_cast<std::chrono::milliseconds>(s.deadline).count()},         {"max_latency_ms", std::chrono::duration_cast<std::chrono::milliseconds>(r.max_latency).count()}};
  out["failure_causes"] = r.failure_causes;
  out["retries"] = {{"total", s.retries.total_retries},
                    {"successful", s.retries.successful_retries},
                    {"failed", s.retries.failed_retries}};
  if (s.injected) {
    nlohmann::ordered_json injected;
    for (const auto kind : {fault_kind::http_500, fault_kind::soap_server_fault, fault_kind::http_503,
                            fault_kind::dropped_connection, fault_kind::no_answer, fault_kind::slow_answer,
                            fault_kind::down})
      injected[std::string(to_string(kind))] = (*s.injected)[kind];
    injected["total"] = s.injected->total();
    out["faults_injected"] = injected;
  } else {
    out["faults_injected"] = nullptr;
  }
  nlohmann::ordered_json observed = nlohmann::ordered_json::object();
  for (const auto& e : s.endpoints) {
    nlohmann::ordered_json per_kind;
    for (std::size_t kind = 0; kind < attempt_fault_kinds; ++kind)
      per_kind[std::string(to_string(static_cast<attempt_fault>(kind)))] = e.faults[kind];
    observed[e.name] = per_kind;
  }
  out["faults_observed"] = {{"failed_attempts", observed},
                            {"failed_connects", s.recovery.failed_connects},
                            {"failed_health_checks", s.recovery.failed_checks},
                            {"breaker_rejections", s.breaker_rejections}};
  nlohmann::ordered_json incidents = nlohmann::ordered_json::array();
  for (const auto& i : s.incidents) {
    const auto ms = [&](mend::time_point t) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(t - s.run_start).count();
    };
    incidents.push_back({{"endpoint", i.endpoint},
                         {"started_ms", ms(i.started)},
                         {"ended_ms", i.ended ? nlohmann::ordered_json(ms(*i.ended)) : nlohmann::ordered_json(nullptr)},
                         {"causes", i.causes}});
  }
  out["incidents"] = incidents;
  out["recovery"] = {{"incidents", s.recovery.incidents},
                     {"recovered", s.recovery.recovered},
                     {"not_recovered", s.recovery.not_recovered},
                     {"fault_present", s.recovery.fault_present},
                     {"success_rate_percent", s.recovery.success_rate},
                     {"allowance_ms", std::chrono::duration_cast<std::chrono::milliseconds>(s.allowance).count()},
                     {"longest_unusable_ms",
                      std::chrono::duration_cast<std::chrono::milliseconds>(s.recovery.longest_unusable).count()},
                     {"longest_unusable_endpoint", s.recovery.longest_endpoint},
                     {"breaker_auto_recoveries", s.breaker_auto_recoveries},
                     {"pool_recoveries", s.pool_recoveries},
                     {"health_recoveries", s.health_recoveries}};
  out["passed"] = s.passed();
  return out;
}

}  // namespace ax

#endif  // AX_CONNECTOR_REPORT_HPP
