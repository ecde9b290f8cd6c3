// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_STATUS_REPORTER_HPP
#define MEND_STATUS_REPORTER_HPP

#include <mend/circuit_state.hpp>
#include <mend/clock.hpp>
#include <mend/config_error.hpp>
#include <mend/detail/trend_ring.hpp>
#include <mend/error.hpp>
#include <mend/event.hpp>
#include <mend/metrics_sink.hpp>
#include <mend/result.hpp>
#include <mend/version.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

MEND_BEGIN_NAMESPACE

// The identity of a status report's requester: a name for logs and its roles.
struct caller_identity {
  std::string name;
  std::vector<std::string> roles;

  // True when `role` is among roles (exact, case-sensitive match).
  bool has_role(std::string_view role) const noexcept {
    return std::find(roles.begin(), roles.end(), role) != roles.end();
  }
};

// The health of a connection pool, as the reporter derives it from the pool's events.
enum class pool_health {
  healthy,     // connections are created as needed
  degraded,    // a connection could not be created, or a waiter timed out, and no connection was created since
  recovering,  // in recovery mode: acquire() fails fast and a timer tries to create a connection
};

constexpr std::string_view to_string(pool_health health) noexcept {
  switch (health) {
    case pool_health::healthy: return "healthy";
    case pool_health::degraded: return "degraded";
    case pool_health::recovering: return "recovering";
  }
  return "unknown";
}

// The last known state of one circuit breaker.
struct breaker_status {
  std::string name;
  circuit_state state = circuit_state::closed;
  std::uint64_t failures = 0;         // failed calls the breaker counted
  std::uint64_t rejections = 0;       // calls rejected with circuit_open
  std::uint64_t auto_recoveries = 0;  // half_open -> closed after a successful test call
  std::optional<wall_time> last_recovery;
  duration open_timeout{};                // the open timeout in force; zero until a transition reports it
  std::optional<wall_time> last_change;   // wall time of the last transition
  std::string last_reason;                // why the last transition happened
};

// The last known state of one connection pool.
struct pool_status {
  std::string name;
  pool_health status = pool_health::healthy;
  std::int64_t active_connections = 0;  // leased out
  std::int64_t idle_connections = 0;    // ready to lease
  std::int64_t total_connections = 0;   // alive or being created
  std::int64_t waiters = 0;             // callers waiting in acquire()
  std::uint64_t recovery_attempts = 0;  // creation attempts made in recovery mode
  std::uint64_t recoveries = 0;         // exits from recovery mode
  std::optional<wall_time> last_recovery;
  std::string last_error;  // message of the last failed connection creation
};

// Retry counters; total_retries = successful_retries + failed_retries.
struct retry_counts {
  std::uint64_t total_retries = 0;
  std::uint64_t successful_retries = 0;
  std::uint64_t failed_retries = 0;

  friend bool operator==(const retry_counts&, const retry_counts&) = default;
};

// The counters of one retry policy.
struct retry_policy_status {
  std::string name;
  retry_counts counts;
  std::uint64_t gave_up = 0;     // calls that ended without success
  std::string last_give_up_reason;
};

// The last known health and rotation of one endpoint, as reported by health
// checkers (endpoint_health_changed) and balancers (endpoint_rotation_changed).
struct endpoint_status {
  std::string target;
  std::string health;    // the `to` of the last health change ("healthy", "unhealthy"); empty if none yet
  std::string rotation;  // the `to` of the last rotation change; empty if none yet
  std::optional<std::int64_t> weight;  // the effective weight the balancer last reported
  std::optional<wall_time> last_change;
  std::string last_reason;
};

// The last known step of one blue-green rollout.
struct rollout_summary {
  std::string name;
  std::string phase;  // "in_progress", "promoted" or "rolled_back"
  std::string step;   // the `to` of the last rollout event, e.g. the traffic share of green
  std::optional<wall_time> last_change;
  std::string last_reason;
};

// One transition or recovery, kept in the reporter's bounded history.
struct history_entry {
  event_kind kind{};
  severity level = severity::info;
  std::string component;
  std::string target;
  std::string from;
  std::string to;
  std::string reason;
  std::string error;  // the message of the error involved; empty if none
  // Monotonic time in the process that recorded the entry; entries restored
  // from a history_store carry the clock of an earlier process.
  time_point at{};
  wall_time wall_at{};
  bool recovery = false;  // a breaker closed by a test call, a pool out of recovery, an endpoint healthy again
  bool restored = false;  // loaded from a history_store: recorded before this reporter started

  friend bool operator==(const history_entry&, const history_entry&) = default;
};

// One non-empty trend bucket. `start` is the wall time at which the bucket
// began, computed from the monotonic clock (see status_reporter).
struct trend_bucket {
  wall_time start{};
  trend_counts counts;
};

// Event counts per bucket over the trend span that ends now.
struct trend_report {
  duration bucket_width{};
  duration span{};
  wall_time from{};  // start of the oldest bucket in the span
  wall_time to{};    // end of the newest bucket
  std::vector<trend_bucket> buckets;  // non-empty buckets only, oldest first
  trend_counts totals;                // sum over the span
};

// The health of a history_store, for reports.
struct history_store_status {
  std::string location;  // e.g. the database path
  bool ok = true;
  std::string error;            // the last error, with the location and the store's own message
  std::uint64_t written = 0;    // entries written so far
  std::uint64_t dropped = 0;    // entries lost to errors or a full queue
};

// Keeps history entries beyond the life of one reporter, so a restarted or
// redeployed instance shows what happened before (see adapters/sqlite_history.hpp).
class history_store {
 public:
  virtual ~history_store() = default;

  // Queues `entry` for writing. Called from record() with the reporter's lock
  // held, so it must be quick and must not block on I/O.
  virtual void append(const history_entry& entry) noexcept = 0;

  // Returns up to `limit` of the most recent stored entries, oldest first.
  virtual result<std::vector<history_entry>> load(std::size_t limit) = 0;

  virtual history_store_status status() const = 0;
};

// Everything a status report shows, as plain data; the JSON adapter and any
// dashboard render from it.
struct status_snapshot {
  wall_time generated_at{};
  std::vector<breaker_status> circuit_breakers;  // by name
  std::vector<pool_status> connection_pools;     // by name
  retry_counts retry_stats;                      // summed over every retry policy
  std::vector<retry_policy_status> retry_policies;  // by name
  std::vector<endpoint_status> endpoints;        // by target
  std::vector<rollout_summary> rollouts;          // by name
  std::vector<history_entry> history;            // oldest first
  std::size_t history_capacity = 0;
  std::uint64_t history_dropped = 0;  // entries that fell out of the bounded history
  trend_report trends;
  std::optional<history_store_status> persistence;  // set when a history_store is attached
};

// A metrics_sink that keeps the self-healing status of every component that
// reports to it. It stores the current state of each named breaker, pool,
// retry policy, endpoint and rollout, and a bounded history of transitions and
// recoveries. Its trends count failures, retries, recoveries and rejections
// per time bucket over a span (by default one-minute buckets over a day).
//
// Trends are bucketed by each event's monotonic time, so a wall-clock jump
// does not scramble them. A bucket's label is the wall time read at
// construction plus the monotonic time elapsed since. So after a wall-clock
// jump the labels can differ from the events' own wall times.
//
// A component that has not emitted an event yet is unknown to the reporter;
// add_breaker(), add_pool(), add_retry_policy() and add_endpoint() list it
// from the start.
//
// Thread-safe. record() takes one mutex, updates a few fields and, for a
// transition, appends to the history and hands the entry to the
// history_store, which only queues it: it never waits for I/O. The reporter's
// mutex is taken last (inside the component locks that call record()), so
// nothing else is locked while holding it except the store's queue.
// NOTE: snapshot() copies the report under the same mutex, so a record()
// that arrives meanwhile waits for the copy (about 0.1 ms with 1000 history
// entries, measured by bench/status_reporter_bench).
//
//   mend::status_reporter status{clock, {}};
//   mend::circuit_breaker breaker{clock, {.name = "ax_connection", .sink = &status}};
//   mend::result<mend::status_snapshot> report = status.get_self_healing_status(caller);
class status_reporter final : public metrics_sink {
 public:
  struct options {
    // Names the reporter in configuration errors.
    std::string name = "status_reporter";
    // The most recent transitions and recoveries kept; older ones are dropped.
    std::size_t history_capacity = 1000;
    // The width of one trend bucket.
    duration trend_bucket = std::chrono::minutes{1};
    // How far back the trends reach; a multiple of trend_bucket, at most
    // 100000 buckets.
    duration trend_span = std::chrono::hours{24};
    // The role get_self_healing_status() requires of the caller.
    std::string required_role = "MCP_Admin";
    // Where history is also kept, to survive a restart; nullptr keeps it in
    // memory only. Must outlive the reporter. Its entries are loaded at
    // construction.
    history_store* store = nullptr;
  };

  static constexpr std::size_t max_trend_buckets = 100000;

  explicit status_reporter(clock& clk) : status_reporter(clk, options{}) {}

  status_reporter(clock& clk, options opts)
      : clock_(clk),
        options_(validated(std::move(opts))),
        started_wall_(clk.wall_now()),
        trends_(trend_origin(clk.now(), started_wall_, options_.trend_bucket), options_.trend_bucket,
                static_cast<std::size_t>(options_.trend_span / options_.trend_bucket)) {
    restore_history();
  }

  status_reporter(const status_reporter&) = delete;
  status_reporter& operator=(const status_reporter&) = delete;

  void record(const event& e) override {
    const auto family = family_of(e.kind);
    std::lock_guard lock(mutex_);
    if (family == "circuit_breaker") {
      record_breaker_locked(e);
    } else if (family == "retry") {
      record_retry_locked(e);
    } else if (family == "connection_pool") {
      record_pool_locked(e);
    } else if (family == "health_checker" || family == "balancer") {
      record_endpoint_locked(e);
    } else if (family == "rollout") {
      record_rollout_locked(e);
    } else if (family == "alert") {
      append_history_locked(e, false);
    }
  }

  // Lists a breaker, pool or retry policy in reports before it emits its
  // first event, with the default (closed, healthy, zero) state.
  void add_breaker(std::string_view name) {
    std::lock_guard lock(mutex_);
    breaker_locked(name);
  }
  void add_pool(std::string_view name) {
    std::lock_guard lock(mutex_);
    pool_locked(name);
  }
  void add_retry_policy(std::string_view name) {
    std::lock_guard lock(mutex_);
    retry_locked(name);
  }
  // Lists an endpoint before a health checker or balancer reports on it; its
  // health and rotation stay empty (unknown) until then.
  void add_endpoint(std::string_view target) {
    std::lock_guard lock(mutex_);
    find_or_add(endpoints_, target, &endpoint_status::target);
  }

  // Returns the whole report, without an access check.
  status_snapshot snapshot() const {
    status_snapshot out;
    {
      std::lock_guard lock(mutex_);
      out.generated_at = clock_.wall_now();
      for (const auto& [name, breaker] : breakers_) out.circuit_breakers.push_back(breaker);
      for (const auto& [name, pool] : pools_) out.connection_pools.push_back(pool);
      for (const auto& [name, policy] : retries_) {
        out.retry_policies.push_back(policy);
        out.retry_stats.total_retries += policy.counts.total_retries;
        out.retry_stats.successful_retries += policy.counts.successful_retries;
        out.retry_stats.failed_retries += policy.counts.failed_retries;
      }
      for (const auto& [target, endpoint] : endpoints_) out.endpoints.push_back(endpoint);
      for (const auto& [name, rollout] : rollouts_) out.rollouts.push_back(rollout);
      out.history.assign(history_.begin(), history_.end());
      out.history_capacity = options_.history_capacity;
      out.history_dropped = history_dropped_;
      out.trends = trend_report_locked(clock_.now());
    }
    // Outside the lock: the store takes its own locks.
    if (options_.store != nullptr) out.persistence = options_.store->status();
    return out;
  }

  // Returns the report if `caller` has the required role (MCP_Admin by
  // default), else errc::permission_denied and nothing of the report.
  result<status_snapshot> get_self_healing_status(const caller_identity& caller) const {
    if (!caller.has_role(options_.required_role)) return make_error_code(errc::permission_denied);
    return snapshot();
  }

  const std::string& required_role() const noexcept { return options_.required_role; }
  const options& config() const noexcept { return options_; }

  // The error from loading the store's history at construction; empty if none.
  std::string restore_error() const {
    std::lock_guard lock(mutex_);
    return restore_error_;
  }

 private:
  static options validated(options opts) {
    const std::string_view component = "status_reporter";
    detail::require(opts.history_capacity >= 1, component, "history_capacity", opts.history_capacity,
                    "must be at least 1");
    detail::require(opts.trend_bucket > duration::zero(), component, "trend_bucket", opts.trend_bucket,
                    "must be greater than zero");
    detail::require(opts.trend_span >= opts.trend_bucket, component, "trend_span", opts.trend_span,
                    "must not be below trend_bucket");
    detail::require(opts.trend_span % opts.trend_bucket == duration::zero(), component, "trend_span",
                    opts.trend_span, "must be a multiple of trend_bucket");
    detail::require(opts.trend_span / opts.trend_bucket <= static_cast<duration::rep>(max_trend_buckets),
                    component, "trend_span", opts.trend_span, "must hold at most 100000 buckets");
    detail::require(!opts.required_role.empty(), component, "required_role", "\"\"", "must not be empty");
    return opts;
  }

  // The monotonic time at which a bucket starts on a wall-clock multiple of
  // the width, so one-minute buckets are labelled 14:30:00, 14:31:00, ...
  static time_point trend_origin(time_point now, wall_time wall_now, duration width) {
    auto into_bucket = wall_now.time_since_epoch() % width;
    if (into_bucket < duration::zero()) into_bucket += width;
    return now - into_bucket;
  }

  wall_time bucket_start_wall(std::int64_t index) const noexcept {
    const auto width = options_.trend_bucket;
    auto into_bucket = started_wall_.time_since_epoch() % width;
    if (into_bucket < duration::zero()) into_bucket += width;
    return started_wall_ - into_bucket + width * index;
  }

  void restore_history() {
    if (options_.store == nullptr) return;
    auto loaded = options_.store->load(options_.history_capacity);
    std::lock_guard lock(mutex_);
    if (!loaded) {
      restore_error_ = loaded.error().message();
      return;
    }
    for (auto& entry : loaded.value()) {
      entry.restored = true;
      history_.push_back(std::move(entry));
    }
    while (history_.size() > options_.history_capacity) history_.pop_front();
  }

  // --- per family -------------------------------------------------------

  void record_breaker_locked(const event& e) {
    auto& breaker = breaker_locked(e.component);
    update_count(breaker.failures, e, metric::failures);
    update_count(breaker.rejections, e, metric::rejections);
    switch (e.kind) {
      case event_kind::breaker_state_changed: {
        const bool recovered = e.from == "half_open" && e.to == "closed" && e.reason == "test call succeeded";
        if (recovered) {
          if (!update_count(breaker.auto_recoveries, e, metric::auto_recoveries)) ++breaker.auto_recoveries;
          breaker.last_recovery = e.wall_at;
        } else {
          update_count(breaker.auto_recoveries, e, metric::auto_recoveries);
        }
        if (const auto state = parse_circuit_state(e.to)) breaker.state = *state;
        const auto timeout_ms = e.metric_or(metric::open_timeout_ms, -1);
        if (timeout_ms >= 0) breaker.open_timeout = std::chrono::milliseconds{timeout_ms};
        breaker.last_change = e.wall_at;
        breaker.last_reason = std::string(e.reason);
        append_history_locked(e, recovered);
        break;
      }
      case event_kind::breaker_call_failed:
        if (!has_sample(e, metric::failures)) ++breaker.failures;
        if (auto* bucket = trends_.bucket_at(e.at)) ++bucket->failures;
        break;
      case event_kind::breaker_call_rejected:
        if (!has_sample(e, metric::rejections)) ++breaker.rejections;
        if (auto* bucket = trends_.bucket_at(e.at)) ++bucket->rejections;
        break;
      default: break;  // breaker_slow_call: the breaker_call_failed that follows counts it
    }
  }

  // Retry counters come from the policy's samples when the event carries
  // them (counts only grow, so a late event with older samples changes
  // nothing), else from counting retry_succeeded and retry_failed.
  void record_retry_locked(const event& e) {
    auto& policy = retry_locked(e.component);
    const auto before = policy.counts;
    if (has_sample(e, metric::total_retries) || has_sample(e, metric::successful_retries) ||
        has_sample(e, metric::failed_retries)) {
      update_count(policy.counts.total_retries, e, metric::total_retries);
      update_count(policy.counts.successful_retries, e, metric::successful_retries);
      update_count(policy.counts.failed_retries, e, metric::failed_retries);
    } else if (e.kind == event_kind::retry_succeeded) {
      ++policy.counts.total_retries;
      ++policy.counts.successful_retries;
    } else if (e.kind == event_kind::retry_failed) {
      ++policy.counts.total_retries;
      ++policy.counts.failed_retries;
    }
    if (e.kind == event_kind::retry_gave_up) {
      ++policy.gave_up;
      policy.last_give_up_reason = std::string(e.reason);
    }

    if (policy.counts == before) return;
    if (auto* bucket = trends_.bucket_at(e.at)) {
      bucket->retries += policy.counts.total_retries - before.total_retries;
      bucket->successful_retries += policy.counts.successful_retries - before.successful_retries;
      bucket->failed_retries += policy.counts.failed_retries - before.failed_retries;
    }
  }

  void record_pool_locked(const event& e) {
    auto& pool = pool_locked(e.component);
    if (has_sample(e, metric::active)) pool.active_connections = e.metric_or(metric::active, 0);
    if (has_sample(e, metric::idle)) pool.idle_connections = e.metric_or(metric::idle, 0);
    if (has_sample(e, metric::total)) pool.total_connections = e.metric_or(metric::total, 0);
    if (has_sample(e, metric::waiters)) pool.waiters = e.metric_or(metric::waiters, 0);
    update_count(pool.recovery_attempts, e, metric::recovery_attempts);

    switch (e.kind) {
      case event_kind::pool_recovery_entered: {
        // The pool's event names no states, so the entry gets the reporter's.
        const auto from = e.from.empty() ? to_string(pool.status) : e.from;
        pool.status = pool_health::recovering;
        if (e.error) pool.last_error = e.error.message();
        append_history_locked(e, false, from, "recovering",
                              e.reason.empty() ? "no connection left and creating one failed" : e.reason);
        break;
      }
      case event_kind::pool_recovery_attempt:
        if (!has_sample(e, metric::recovery_attempts)) ++pool.recovery_attempts;
        if (e.error) {
          pool.last_error = e.error.message();
          if (auto* bucket = trends_.bucket_at(e.at)) ++bucket->failures;
        }
        break;
      case event_kind::pool_recovery_exited: {
        pool.status = pool_health::healthy;
        ++pool.recoveries;
        pool.last_recovery = e.wall_at;
        const std::string reason =
            e.reason.empty() ? fmt::format("connection created at recovery attempt {}", e.attempt) : std::string(e.reason);
        append_history_locked(e, true, "recovering", "healthy", reason);
        break;
      }
      case event_kind::pool_create_failed:
        if (pool.status != pool_health::recovering) pool.status = pool_health::degraded;
        if (e.error) pool.last_error = e.error.message();
        if (auto* bucket = trends_.bucket_at(e.at)) ++bucket->failures;
        break;
      case event_kind::pool_acquire_timed_out:
        if (pool.status != pool_health::recovering) pool.status = pool_health::degraded;
        break;
      case event_kind::pool_connection_created:
        if (pool.status == pool_health::degraded) pool.status = pool_health::healthy;
        break;
      default: break;  // removals, leak warnings and gauges change no status
    }
  }

  void record_endpoint_locked(const event& e) {
    if (e.kind == event_kind::health_check_failed) {
      if (auto* bucket = trends_.bucket_at(e.at)) ++bucket->failures;
      return;
    }
    if (e.kind == event_kind::balancer_panic_changed) {
      append_history_locked(e, false);
      return;
    }
    const std::string_view key = e.target.empty() ? e.component : e.target;
    auto& endpoint = find_or_add(endpoints_, key, &endpoint_status::target);
    bool recovered = false;
    if (e.kind == event_kind::endpoint_health_changed) {
      recovered = e.to == "healthy" && !e.from.empty() && e.from != "healthy";
      endpoint.health = std::string(e.to);
    } else {
      endpoint.rotation = std::string(e.to);
      if (has_sample(e, metric::weight)) endpoint.weight = e.metric_or(metric::weight, 0);
    }
    endpoint.last_change = e.wall_at;
    endpoint.last_reason = std::string(e.reason);
    append_history_locked(e, recovered);
  }

  void record_rollout_locked(const event& e) {
    auto& rollout = find_or_add(rollouts_, e.component, &rollout_summary::name);
    switch (e.kind) {
      case event_kind::rollout_promoted: rollout.phase = "promoted"; break;
      case event_kind::rollout_rolled_back:
      case event_kind::rollout_traffic_restored: rollout.phase = "rolled_back"; break;
      default: rollout.phase = "in_progress"; break;
    }
    rollout.step = std::string(e.to);
    rollout.last_change = e.wall_at;
    rollout.last_reason = std::string(e.reason);
    append_history_locked(e, false);
  }

  // --- shared helpers ---------------------------------------------------

  // Appends `e` to the history. `from`, `to` and `reason` replace the
  // event's own when it leaves them empty.
  void append_history_locked(const event& e, bool recovery, std::string_view from = {}, std::string_view to = {},
                             std::string_view reason = {}) {
    history_entry entry{e.kind,
                        e.level,
                        std::string(e.component),
                        std::string(e.target),
                        std::string(e.from.empty() ? from : e.from),
                        std::string(e.to.empty() ? to : e.to),
                        std::string(e.reason.empty() ? reason : e.reason),
                        e.error ? e.error.message() : std::string{},
                        e.at,
                        e.wall_at,
                        recovery,
                        false};
    if (recovery) {
      if (auto* bucket = trends_.bucket_at(e.at)) ++bucket->recoveries;
    }
    if (options_.store != nullptr) options_.store->append(entry);
    if (history_.size() == options_.history_capacity) {
      history_.pop_front();
      ++history_dropped_;
    }
    history_.push_back(std::move(entry));
  }

  trend_report trend_report_locked(time_point now) const {
    trend_report out;
    out.bucket_width = options_.trend_bucket;
    out.span = options_.trend_span;
    const auto newest = trends_.index_of(now);
    out.from = bucket_start_wall(newest - static_cast<std::int64_t>(trends_.size()) + 1);
    out.to = bucket_start_wall(newest + 1);
    trends_.for_each_since(newest, [&](std::int64_t index, const trend_counts& counts) {
      out.buckets.push_back({bucket_start_wall(index), counts});
      out.totals += counts;
    });
    return out;
  }

  static bool has_sample(const event& e, metric name) noexcept {
    return std::any_of(e.metrics.begin(), e.metrics.end(), [&](const metric_sample& s) { return s.name == name; });
  }

  // Raises `count` to the event's sample of `name`, if it carries one and it
  // is higher. Returns whether the event carried the sample.
  static bool update_count(std::uint64_t& count, const event& e, metric name) noexcept {
    const auto value = e.metric_or(name, -1);
    if (value < 0) return false;
    count = std::max(count, static_cast<std::uint64_t>(value));
    return true;
  }

  static std::optional<circuit_state> parse_circuit_state(std::string_view text) noexcept {
    for (const auto state : {circuit_state::closed, circuit_state::open, circuit_state::half_open})
      if (to_string(state) == text) return state;
    return std::nullopt;
  }

  // Returns the status stored under `key`, adding one whose `key_field` is
  // `key` if there is none.
  template <class Status>
  static Status& find_or_add(std::map<std::string, Status, std::less<>>& statuses, std::string_view key,
                             std::string Status::*key_field) {
    auto it = statuses.find(key);
    if (it == statuses.end()) {
      Status status;
      status.*key_field = std::string(key);
      it = statuses.emplace(std::string(key), std::move(status)).first;
    }
    return it->second;
  }

  breaker_status& breaker_locked(std::string_view name) { return find_or_add(breakers_, name, &breaker_status::name); }
  pool_status& pool_locked(std::string_view name) { return find_or_add(pools_, name, &pool_status::name); }
  retry_policy_status& retry_locked(std::string_view name) {
    return find_or_add(retries_, name, &retry_policy_status::name);
  }

  clock& clock_;
  const options options_;
  const wall_time started_wall_;

  mutable std::mutex mutex_;
  std::map<std::string, breaker_status, std::less<>> breakers_;       // guarded by mutex_
  std::map<std::string, pool_status, std::less<>> pools_;             // guarded by mutex_
  std::map<std::string, retry_policy_status, std::less<>> retries_;   // guarded by mutex_
  std::map<std::string, endpoint_status, std::less<>> endpoints_;     // guarded by mutex_
  std::map<std::string, rollout_summary, std::less<>> rollouts_;       // guarded by mutex_
  std::deque<history_entry> history_;                                 // guarded by mutex_
  std::uint64_t history_dropped_ = 0;                                 // guarded by mutex_
  detail::trend_ring trends_;                                         // guarded by mutex_
  std::string restore_error_;                                         // guarded by mutex_
};

MEND_END_NAMESPACE

#endif  // MEND_STATUS_REPORTER_HPP
