// Sinks of the connector besides the status reporter: the incident tracker
// that measures recoveries, and a filter that keeps the warning log short.
#ifndef AX_CONNECTOR_INCIDENTS_HPP
#define AX_CONNECTOR_INCIDENTS_HPP

#include <mend/clock.hpp>
#include <mend/event.hpp>
#include <mend/metrics_sink.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace ax {

// A period during which an endpoint was unusable: its breaker was open or
// half-open, its pool was in recovery mode, or its health checks found it
// unhealthy. It starts when the first of these begins and ends when none of
// them is true any more. One that begins before the run starts (while the
// pools fill and the first health checks run) counts from the run's start,
// so that no time in the report is negative.
struct incident {
  std::string endpoint;
  mend::time_point started{};
  std::optional<mend::time_point> ended;
  std::string causes;  // the conditions seen during the incident, e.g. "breaker open, pool recovering"
};

// The recovery figures of a run.
struct recovery_figures {
  std::size_t incidents = 0;
  std::size_t recovered = 0;       // incidents that ended by themselves before the run ended
  std::size_t not_recovered = 0;   // open at the end although the endpoint's fault had cleared
  std::size_t fault_present = 0;   // open at the end with a fault seen within the allowance: not counted
  double success_rate = 100.0;     // recovered / (recovered + not_recovered), in percent
  mend::duration longest_unusable{};
  std::string longest_endpoint;
  mend::duration longest_from{};   // since the start of the run
  std::uint64_t failed_connects = 0;  // failed connection attempts of the pools
  std::uint64_t failed_checks = 0;    // failed health checks
};

// [snippet:incident-tracker]
// Follows the events of every breaker, pool and health check and turns them
// into incidents per endpoint. It also notes when a fault was last seen at
// each endpoint: a failed call counted by its breaker, a failed connect of
// its pool, a failed health check.
//
// Recovery success rate = incidents that ended by themselves / incidents
// whose fault had cleared. An incident still open at the end of the run
// counts as a failed recovery only if no fault was seen at its endpoint
// during the last `allowance` (see recovery_allowance()). Otherwise the fault
// was still there, and the incident is left out. The connector never resets
// a breaker by hand, so every incident that ends, ends by itself.
class incident_tracker final : public mend::metrics_sink {
 public:
  incident_tracker(std::vector<std::string> endpoints, mend::time_point run_start)
      : run_start_(run_start) {
    for (auto& name : endpoints) endpoints_.emplace(std::move(name), endpoint_state{});
  }

  void record(const mend::event& e) override {
    using kind = mend::event_kind;
    std::lock_guard lock(mutex_);
    switch (e.kind) {
      case kind::breaker_state_changed:
        if (e.to == "open") set_locked(e.component, breaker_open, e.at);
        if (e.to == "closed") clear_locked(e.component, breaker_open, e.at);
        break;
      case kind::pool_recovery_entered: set_locked(e.component, pool_recovering, e.at); break;
      case kind::pool_recovery_exited: clear_locked(e.component, pool_recovering, e.at); break;
      case kind::endpoint_health_changed:
        if (e.to == "unhealthy") set_locked(e.target, unhealthy, e.at);
        if (e.to == "healthy") clear_locked(e.target, unhealthy, e.at);
        break;
      case kind::breaker_call_failed: fault_seen_locked(e.component, e.at); break;
      case kind::health_check_failed:
        ++failed_checks_;
        fault_seen_locked(e.target, e.at);
        break;
      case kind::pool_create_failed:
        ++failed_connects_;
        fault_seen_locked(e.component, e.at);
        break;
      case kind::pool_recovery_attempt:
        if (e.error) {
          ++failed_connects_;
          fault_seen_locked(e.component, e.at);
        }
        break;
      default: break;
    }
  }
  // [/snippet]

  std::vector<incident> incidents() const {
    std::lock_guard lock(mutex_);
    return incidents_;
  }

  std::size_t open_incidents() const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(std::count_if(incidents_.begin(), incidents_.end(),
                                                  [](const incident& i) { return !i.ended; }));
  }

  recovery_figures figures(mend::time_point run_end, mend::duration allowance) const {
    std::lock_guard lock(mutex_);
    recovery_figures out;
    out.incidents = incidents_.size();
    out.failed_connects = failed_connects_;
    out.failed_checks = failed_checks_;
    for (const auto& i : incidents_) {
      const auto end = i.ended.value_or(run_end);
      if (end - i.started > out.longest_unusable) {
        out.longest_unusable = end - i.started;
        out.longest_endpoint = i.endpoint;
        out.longest_from = i.started - run_start_;
      }
      if (i.ended) {
        ++out.recovered;
      } else if (run_end - endpoints_.at(i.endpoint).last_fault >= allowance) {
        ++out.not_recovered;
      } else {
        ++out.fault_present;
      }
    }
    const auto counted = out.recovered + out.not_recovered;
    if (counted > 0) out.success_rate = 100.0 * static_cast<double>(out.recovered) / static_cast<double>(counted);
    return out;
  }

 private:
  // The conditions that make an endpoint unusable, as bits.
  static constexpr unsigned breaker_open = 1;   // open or half-open
  static constexpr unsigned pool_recovering = 2;
  static constexpr unsigned unhealthy = 4;

  struct endpoint_state {
    unsigned conditions = 0;
    std::optional<std::size_t> open_incident;  // index into incidents_
    mend::time_point last_fault{};
  };

  static std::string describe(unsigned conditions) {
    std::string out;
    const auto add = [&](unsigned bit, std::string_view text) {
      if ((conditions & bit) == 0) return;
      if (!out.empty()) out += ", ";
      out += text;
    };
    add(breaker_open, "breaker open");
    add(pool_recovering, "pool recovering");
    add(unhealthy, "unhealthy");
    return out;
  }

  void set_locked(std::string_view endpoint, unsigned condition, mend::time_point at) {
    const auto it = endpoints_.find(endpoint);
    if (it == endpoints_.end()) return;
    auto& state = it->second;
    state.conditions |= condition;
    if (!state.open_incident) {
      state.open_incident = incidents_.size();
      incidents_.push_back({std::string(endpoint), std::max(at, run_start_), std::nullopt, {}});
      causes_.push_back(0);
    }
    causes_[*state.open_incident] |= condition;
    incidents_[*state.open_incident].causes = describe(causes_[*state.open_incident]);
  }

  void clear_locked(std::string_view endpoint, unsigned condition, mend::time_point at) {
    const auto it = endpoints_.find(endpoint);
    if (it == endpoints_.end()) return;
    auto& state = it->second;
    state.conditions &= ~condition;
    if (state.conditions == 0 && state.open_incident) {
      incidents_[*state.open_incident].ended = std::max(at, run_start_);
      state.open_incident.reset();
    }
  }

  void fault_seen_locked(std::string_view endpoint, mend::time_point at) {
    const auto it = endpoints_.find(endpoint);
    if (it != endpoints_.end()) it->second.last_fault = std::max(it->second.last_fault, at);
  }

  const mend::time_point run_start_;
  mutable std::mutex mutex_;
  std::map<std::string, endpoint_state, std::less<>> endpoints_;  // guarded by mutex_
  std::vector<incident> incidents_;                               // guarded by mutex_
  std::vector<unsigned> causes_;                                  // per incident; guarded by mutex_
  std::uint64_t failed_connects_ = 0;                             // guarded by mutex_
  std::uint64_t failed_checks_ = 0;                               // guarded by mutex_
};

// Passes warnings and worse on to a log sink, without the repeats. Every
// breaker and pool transition and every alert passes. A per-call warning (a
// connection removed as broken, a failed connect, a request that gave up, a
// pool wait that timed out) passes at most once per `interval` for each
// component and kind, and the others are counted. The health checker's and
// balancer's own transition events are left out, because the alert raised
// with each says the same in a sentence.
class log_throttle final : public mend::metrics_sink {
 public:
  log_throttle(mend::metrics_sink& log, mend::duration interval) : log_(log), interval_(interval) {}

  void record(const mend::event& e) override {
    using kind = mend::event_kind;
    if (e.level < mend::severity::warning) return;
    if (e.kind == kind::endpoint_health_changed || e.kind == kind::endpoint_rotation_changed) return;
    const bool per_call = e.kind == kind::pool_connection_removed || e.kind == kind::pool_create_failed ||
                          e.kind == kind::retry_gave_up || e.kind == kind::pool_acquire_timed_out ||
                          e.kind == kind::pool_recovery_attempt;
    if (per_call) {
      std::lock_guard lock(mutex_);
      auto key = std::make_tuple(e.kind, std::string(e.component), std::string(e.target));
      const auto it = last_logged_.find(key);
      if (it != last_logged_.end() && e.at - it->second < interval_) {
        ++suppressed_;
        return;
      }
      last_logged_[std::move(key)] = e.at;
    }
    log_.record(e);
  }

  std::uint64_t suppressed() const {
    std::lock_guard lock(mutex_);
    return suppressed_;
  }

 private:
  mend::metrics_sink& log_;
  const mend::duration interval_;
  mutable std::mutex mutex_;
  std::map<std::tuple<mend::event_kind, std::string, std::string>, mend::time_point> last_logged_;  // guarded by mutex_
  std::uint64_t suppressed_ = 0;  // guarded by mutex_
};

}  // namespace ax

#endif  // AX_CONNECTOR_INCIDENTS_HPP
