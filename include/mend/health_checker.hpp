// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_HEALTH_CHECKER_HPP
#define MEND_HEALTH_CHECKER_HPP

#include <mend/alert_handler.hpp>
#include <mend/clock.hpp>
#include <mend/config_error.hpp>
#include <mend/detail/alert_dispatcher.hpp>
#include <mend/detail/make_event.hpp>
#include <mend/endpoint_health.hpp>
#include <mend/error.hpp>
#include <mend/event.hpp>
#include <mend/health_signal.hpp>
#include <mend/metrics_sink.hpp>
#include <mend/result.hpp>
#include <mend/version.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <stop_token>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

MEND_BEGIN_NAMESPACE

// The context of one check, passed to the probe.
struct probe_context {
  std::string_view endpoint;  // the name the endpoint was added under
  time_point deadline;        // on the checker's clock; see health_checker::options::timeout
  duration timeout;           // deadline minus the start of the check
  std::stop_token stop;       // requested when the endpoint is removed or the checker is destroyed
};

// One active check of an endpoint: succeeds when the endpoint responds as
// expected. Any error, and any exception, counts as a failed check.
using health_probe = std::function<result<void>(const probe_context&)>;

// A snapshot of the checks of one endpoint.
struct health_check_status {
  std::string endpoint;
  endpoint_health health = endpoint_health::healthy;
  std::uint32_t failures_in_a_row = 0;
  std::uint32_t successes_in_a_row = 0;
  std::uint64_t checks = 0;              // checks completed
  std::uint64_t failed_checks = 0;
  std::error_code last_error;            // the error of the last failed check
  std::optional<time_point> last_check;  // when the last check completed
  std::optional<time_point> next_check;  // when the next check is due
};

// Probes each endpoint on a timer and decides whether it is healthy.
//
// A healthy endpoint becomes unhealthy on its `fall`-th failed check in a
// row (3 by default). An unhealthy one becomes healthy again on its `rise`-th
// successful check in a row (2 by default). A result of the other kind in
// between starts the count again.
//
// Each transition emits one endpoint_health_changed event and raises one
// alert: severity error when the endpoint turns unhealthy, info when it
// recovers. The observers, such as a balancer, learn the new health. Each
// failed check also emits a health_check_failed event.
//
// The first check of an endpoint runs when it is added, after a random part
// of `jitter`. Each further check starts `interval` plus a random part of
// `jitter` after the previous one started, and never before it ended, so the
// checks of one endpoint never overlap.
//
// Probes run on the clock's timer thread, one at a time per clock, so a probe
// must honour its deadline: pass it on as the socket or request timeout. A
// probe that returns success after its deadline counts as a failed check with
// errc::timed_out; one that fails keeps its own error. The checker cannot cut
// a probe short, because a synchronous call cannot be interrupted from
// outside; it requests `stop` only on removal and destruction.
//
// Thread-safe. The destructor requests stop for running probes and waits for
// them to return.
//
//   mend::health_checker checker{clock, {.name = "ax_checks", .observers = {&balancer}}};
//   checker.add("ax1", [&](const mend::probe_context& check) { return ping(ax1, check.deadline); });
class health_checker {
 public:
  struct options {
    // Names the checker in events and reports.
    std::string name = "health_checker";
    // Time between the starts of two checks of one endpoint.
    duration interval = std::chrono::seconds{10};
    // Each wait before a check gets a random extra delay in [0, jitter], so
    // the checks of many endpoints and processes do not run in lockstep.
    // Zero (the default) keeps the schedule exact.
    duration jitter = duration::zero();
    // How long one check may take; at most `interval`.
    duration timeout = std::chrono::seconds{5};
    // Failed checks in a row that make a healthy endpoint unhealthy.
    std::uint32_t fall = 3;
    // Successful checks in a row that make an unhealthy endpoint healthy.
    std::uint32_t rise = 2;
    // Returns a number in [0, 1] for the jitter. When empty, a seeded
    // std::mt19937_64 is used. Called under the checker's lock.
    std::function<double()> random{};
    // Receive each endpoint's health when it is added and at each transition.
    std::vector<health_observer*> observers{};
    // Receives the events, or nullptr to discard them.
    metrics_sink* sink = nullptr;
    // Receives the alerts, e.g. to page an operator. With nullptr they reach
    // only the sink.
    alert_handler* alerts = nullptr;
  };

  health_checker(clock& clk, options opts)
      : clock_(clk), options_(validated(std::move(opts))), alerts_(options_.alerts) {}

  health_checker(const health_checker&) = delete;
  health_checker& operator=(const health_checker&) = delete;

  // Cancels the pending checks, requests stop for the running ones and waits
  // for them to return. After that no observer or handler is called.
  ~health_checker() {
    std::vector<timer_id> timers;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      for (auto& [endpoint, target] : endpoints_) {
        target->stop.request_stop();
        if (target->timer != 0) timers.push_back(target->timer);
      }
    }
    for (const auto id : timers) clock_.cancel(id);
    std::unique_lock lock(mutex_);
    checks_done_.wait(lock, [&] { return running_checks_ == 0; });
  }

  // Starts checking `endpoint` with `probe`. The observers learn its
  // `initial` health at once, and the first check runs on the clock's timer
  // thread. Throws config_error when the name is empty or already checked, or
  // the probe is empty.
  void add(std::string endpoint, health_probe probe, endpoint_health initial = endpoint_health::healthy) {
    detail::require(!endpoint.empty(), component, "endpoint", "\"\"", "must not be empty");
    detail::require(static_cast<bool>(probe), component, "probe", "empty function", "must be set");
    auto target = std::make_shared<checked_endpoint>(std::move(endpoint), std::move(probe), initial);
    {
      std::lock_guard lock(mutex_);
      detail::require(!endpoints_.contains(target->name), component, "endpoint", target->name,
                      "is already checked");
      endpoints_.emplace(target->name, target);
    }

    // Observers hear the initial health before any check can change it.
    notify_observers(target->name, initial);

    std::lock_guard lock(mutex_);
    if (!stopping_ && !target->removed) schedule_locked(target, clock::add_saturated(clock_.now(), jitter_locked()));
  }

  // Stops checking `endpoint`. Returns false when it is not checked. Waits
  // for a check of it that is running on another thread.
  bool remove(std::string_view endpoint) {
    timer_id pending = 0;
    {
      std::lock_guard lock(mutex_);
      const auto it = endpoints_.find(endpoint);
      if (it == endpoints_.end()) return false;
      const auto target = it->second;
      endpoints_.erase(it);
      target->removed = true;
      target->stop.request_stop();
      pending = target->timer;
    }
    if (pending != 0) clock_.cancel(pending);
    return true;
  }

  // The health of `endpoint`, or nullopt when it is not checked.
  std::optional<endpoint_health> health(std::string_view endpoint) const {
    std::lock_guard lock(mutex_);
    const auto it = endpoints_.find(endpoint);
    if (it == endpoints_.end()) return std::nullopt;
    return it->second->health;
  }

  // The checks of `endpoint` so far, or nullopt when it is not checked.
  std::optional<health_check_status> status(std::string_view endpoint) const {
    std::lock_guard lock(mutex_);
    const auto it = endpoints_.find(endpoint);
    if (it == endpoints_.end()) return std::nullopt;
    return snapshot_locked(*it->second);
  }

  // The checks of every endpoint, ordered by name.
  std::vector<health_check_status> statuses() const {
    std::lock_guard lock(mutex_);
    std::vector<health_check_status> out;
    out.reserve(endpoints_.size());
    for (const auto& [endpoint, target] : endpoints_) out.push_back(snapshot_locked(*target));
    return out;
  }

  // Returns a health_signal for a rollout that reads `endpoint` healthy
  // while its checks find it healthy. Add the endpoint with endpoint_health::unhealthy
  // so that it reads healthy only after `rise` successful checks. The checker
  // must outlive the signal.
  health_signal signal(std::string endpoint) const {
    return [this, endpoint = std::move(endpoint)] {
      const auto current = status(endpoint);
      if (!current) return health_reading{false, fmt::format("{} is not checked", endpoint)};
      if (current->health == endpoint_health::healthy)
        return health_reading{true, fmt::format("healthy, {} successful checks in a row", current->successes_in_a_row)};
      std::string reason = fmt::format("unhealthy, {} failed checks in a row", current->failures_in_a_row);
      if (current->last_error) reason += fmt::format(", last error: {}", current->last_error.message());
      return health_reading{false, std::move(reason)};
    };
  }

  const std::string& name() const noexcept { return options_.name; }
  const options& config() const noexcept { return options_; }

 private:
  static constexpr std::string_view component = "health_checker";

  struct checked_endpoint {
    checked_endpoint(std::string endpoint, health_probe check, endpoint_health initial)
        : name(std::move(endpoint)), probe(std::move(check)), health(initial) {}

    const std::string name;
    const health_probe probe;
    std::stop_source stop;  // thread-safe on its own

    endpoint_health health;               // guarded by mutex_
    std::uint32_t failures_in_a_row = 0;  // guarded by mutex_
    std::uint32_t successes_in_a_row = 0; // guarded by mutex_
    std::uint64_t checks = 0;             // guarded by mutex_
    std::uint64_t failed_checks = 0;      // guarded by mutex_
    std::error_code last_error;           // guarded by mutex_
    std::optional<time_point> last_check; // guarded by mutex_
    time_point next_due{};                // guarded by mutex_
    timer_id timer = 0;                   // the latest check scheduled; guarded by mutex_
    bool removed = false;                 // guarded by mutex_
  };

  static options validated(options opts) {
    detail::require(opts.interval > duration::zero(), component, "interval", opts.interval,
                    "must be greater than zero");
    detail::require(opts.jitter >= duration::zero(), component, "jitter", opts.jitter, "must not be negative");
    detail::require(opts.timeout > duration::zero(), component, "timeout", opts.timeout,
                    "must be greater than zero");
    detail::require(opts.timeout <= opts.interval, component, "timeout", opts.timeout,
                    "must not exceed interval = " + detail::format_config_value(opts.interval));
    detail::require(opts.fall >= 1, component, "fall", opts.fall, "must be at least 1");
    detail::require(opts.rise >= 1, component, "rise", opts.rise, "must be at least 1");
    for (const auto* observer : opts.observers)
      detail::require(observer != nullptr, component, "observers", "nullptr", "must not contain nullptr");
    return opts;
  }

  // A random delay in [0, jitter].
  duration jitter_locked() {
    if (options_.jitter == duration::zero()) return duration::zero();
    double fraction = 0.0;
    if (options_.random) {
      try {
        fraction = options_.random();
      } catch (...) {
        fraction = 0.0;  // a failing random source costs the jitter, not the check
      }
    } else {
      if (!engine_) engine_.emplace(std::random_device{}());
      fraction = std::uniform_real_distribution<double>{0.0, 1.0}(*engine_);
    }
    if (!(fraction >= 0.0)) fraction = 0.0;  // also catches NaN
    fraction = std::min(fraction, 1.0);
    return duration{static_cast<duration::rep>(fraction * static_cast<double>(options_.jitter.count()))};
  }

  void schedule_locked(const std::shared_ptr<checked_endpoint>& target, time_point due) {
    target->next_due = due;
    target->timer = clock_.schedule_at(due, [this, target] { run_check(target); });
  }

  // Runs on the clock's timer thread: one check, then the next is scheduled.
  void run_check(const std::shared_ptr<checked_endpoint>& target) {
    probe_context context;
    {
      std::lock_guard lock(mutex_);
      if (stopping_ || target->removed) return;
      ++running_checks_;
      const auto started = clock_.now();
      context = {target->name, clock::add_saturated(started, options_.timeout), options_.timeout,
                 target->stop.get_token()};
    }
    // Counts the check out on every path, also when an exception leaves here.
    const running_check guard{*this};

    auto outcome = detail::invoke_as_result(target->probe, std::as_const(context));
    const auto finished = clock_.now();
    if (outcome && finished > context.deadline) outcome = make_error_code(errc::timed_out);

    std::optional<endpoint_health> changed;
    {
      std::lock_guard lock(mutex_);
      if (!stopping_ && !target->removed) changed = record_locked(*target, outcome, finished);
    }
    if (changed) notify_observers(target->name, *changed);
    alerts_.deliver();

    // Scheduled only now, so the next check of this endpoint cannot overtake
    // the observer calls above.
    std::lock_guard lock(mutex_);
    if (!stopping_ && !target->removed) {
      auto due = clock::add_saturated(clock::add_saturated(target->next_due, options_.interval), jitter_locked());
      schedule_locked(target, std::max(due, finished));
    }
  }

  // Counts a check out when it ends, also by an exception (which the clock
  // then drops).
  struct running_check {
    explicit running_check(health_checker& owner) noexcept : checker(owner) {}
    running_check(const running_check&) = delete;
    running_check& operator=(const running_check&) = delete;
    ~running_check() {
      std::lock_guard lock(checker.mutex_);
      if (--checker.running_checks_ == 0) checker.checks_done_.notify_all();
    }
    health_checker& checker;
  };

  // Counts one check and returns the new health when it changed.
  std::optional<endpoint_health> record_locked(checked_endpoint& target, const result<void>& outcome,
                                               time_point now) {
    ++target.checks;
    target.last_check = now;
    if (outcome) {
      target.failures_in_a_row = 0;
      ++target.successes_in_a_row;
      if (target.health == endpoint_health::unhealthy && target.successes_in_a_row >= options_.rise)
        return transition_locked(target, endpoint_health::healthy, now);
      return std::nullopt;
    }

    ++target.failed_checks;
    target.successes_in_a_row = 0;
    ++target.failures_in_a_row;
    target.last_error = outcome.error();

    event failed = detail::make_event(event_kind::health_check_failed, options_.name, target.name, clock_, now);
    failed.reason = "active check failed";
    failed.error = target.last_error;
    failed.attempt = target.failures_in_a_row;
    detail::emit(options_.sink, failed);

    if (target.health == endpoint_health::healthy && target.failures_in_a_row >= options_.fall)
      return transition_locked(target, endpoint_health::unhealthy, now);
    return std::nullopt;
  }

  endpoint_health transition_locked(checked_endpoint& target, endpoint_health to, time_point now) {
    const auto from = std::exchange(target.health, to);
    const bool failing = to == endpoint_health::unhealthy;
    const std::string reason = failing ? fmt::format("{} consecutive failed checks", target.failures_in_a_row)
                                       : fmt::format("{} consecutive successful checks", target.successes_in_a_row);

    event changed = detail::make_event(event_kind::endpoint_health_changed, options_.name, target.name, clock_, now);
    changed.level = failing ? severity::warning : severity::info;
    changed.from = to_string(from);
    changed.to = to_string(to);
    changed.reason = reason;
    if (failing) changed.error = target.last_error;
    detail::emit(options_.sink, changed);

    alert raised;
    raised.level = failing ? severity::error : severity::info;
    raised.cause = event_kind::endpoint_health_changed;
    raised.component = options_.name;
    raised.target = target.name;
    raised.message = failing ? fmt::format("endpoint {} is unhealthy after {}: {}", target.name, reason,
                                           target.last_error.message())
                             : fmt::format("endpoint {} is healthy again after {}", target.name, reason);
    if (failing) raised.error = target.last_error;
    raised.at = now;
    raised.wall_at = changed.wall_at;
    alerts_.raise(options_.sink, std::move(raised));
    return to;
  }

  void notify_observers(std::string_view endpoint, endpoint_health health) noexcept {
    for (auto* observer : options_.observers) {
      try {
        observer->set_health(endpoint, health);
      } catch (...) {
      }
    }
  }

  health_check_status snapshot_locked(const checked_endpoint& target) const {
    health_check_status out;
    out.endpoint = target.name;
    out.health = target.health;
    out.failures_in_a_row = target.failures_in_a_row;
    out.successes_in_a_row = target.successes_in_a_row;
    out.checks = target.checks;
    out.failed_checks = target.failed_checks;
    out.last_error = target.last_error;
    out.last_check = target.last_check;
    if (!target.removed && !stopping_) out.next_check = target.next_due;
    return out;
  }

  clock& clock_;
  const options options_;
  detail::alert_dispatcher alerts_;

  mutable std::mutex mutex_;
  std::condition_variable checks_done_;
  std::map<std::string, std::shared_ptr<checked_endpoint>, std::less<>> endpoints_;  // guarded by mutex_
  std::optional<std::mt19937_64> engine_;  // the default jitter source; guarded by mutex_
  std::uint32_t running_checks_ = 0;       // guarded by mutex_
  bool stopping_ = false;                  // guarded by mutex_
};

MEND_END_NAMESPACE

#endif  // MEND_HEALTH_CHECKER_HPP
