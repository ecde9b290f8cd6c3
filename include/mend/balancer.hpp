// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_BALANCER_HPP
#define MEND_BALANCER_HPP

#include <mend/alert_handler.hpp>
#include <mend/breaker_signal.hpp>
#include <mend/circuit_state.hpp>
#include <mend/clock.hpp>
#include <mend/config_error.hpp>
#include <mend/detail/alert_dispatcher.hpp>
#include <mend/detail/make_event.hpp>
#include <mend/endpoint_health.hpp>
#include <mend/error.hpp>
#include <mend/event.hpp>
#include <mend/metrics_sink.hpp>
#include <mend/result.hpp>
#include <mend/slow_start.hpp>
#include <mend/version.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

MEND_BEGIN_NAMESPACE

// Routes calls to healthy endpoints in proportion to their weights.
//
// Rotation: an endpoint is in rotation while it is healthy (set_health(), or
// a health_checker that has the balancer among its observers) and its
// circuit breaker, if one is attached, is closed. Leaving and returning each
// emit one endpoint_rotation_changed event and raise one alert (warning when
// it leaves, info when it returns). A change of a breaker is noticed at the
// next pick(), refresh(), status() or endpoints(), because a breaker reports
// to no one.
//
// Picks: smooth weighted round-robin over the effective weights of the
// endpoints in rotation, so shares are exact. With weights 5, 3 and 2, every
// 10 consecutive picks return the endpoints 5, 3 and 2 times, interleaved as
// a, b, c, a, a, b, a, c, b, a. That holds while the set of endpoints and
// their weights stay the same; a change of the set starts a new round.
//
// Slow start: an endpoint that returns to rotation starts at
// slow_start.min_share of its weight (10 % by default) and reaches its full
// weight linearly over slow_start.window (60 s). The effective weight never
// drops to 0 while the endpoint is in rotation, also for weight 1 (see
// mend::slow_start). A weight of 0 sends no traffic, whatever the health.
//
// Half-open breakers: the endpoint stays out of rotation until its breaker
// closes, but while the breaker is half-open and would admit a test call,
// picks may return the endpoint at its slow-start minimum weight. A breaker
// without a probe thus still gets its test call. Once the caller takes the
// test slot, the breaker rejects further calls and the endpoint gets no more
// picks until the test decides.
//
// No healthy endpoint: pick() returns errc::no_healthy_endpoint. With
// panic_routing, it routes to every endpoint by its configured weight
// instead, healthy or not. Starting and ending panic routing each emit one
// balancer_panic_changed event and raise one alert (critical, then info).
//
// Ejection cap: at most max_ejection_percent of the endpoints (rounded
// down, but at least 1 when the percentage is above 0) leave rotation at
// once. An endpoint that should leave while the cap is reached stays in
// rotation, held by the cap, and one critical alert reports it. Held
// endpoints leave in the order they failed as soon as another endpoint
// returns. The cap guards against a faulty check that fails everywhere. The
// default of 100 turns it off, so "no healthy endpoint" can happen as
// described above. A cap that shrinks because an endpoint is removed pulls no
// endpoint back into rotation.
//
// Thread-safe: one mutex guards the endpoints, so a pick sees each weight
// and health change either fully or not at all. Events go to the sink under
// that mutex; alerts reach the alert handler after it is released.
//
//   mend::balancer balancer{
//       clock, {.name = "ax",
//               .endpoints = {{.name = "ax1", .weight = 60, .breaker = mend::breaker_signal{b1}},
//                             {.name = "ax2", .weight = 40, .breaker = mend::breaker_signal{b2}}}}};
//   mend::result<std::string> endpoint = balancer.pick();
class balancer final : public health_observer {
 public:
  struct endpoint_config {
    // Identifies the endpoint in picks, events and set_weight().
    std::string name{};
    // Share of the traffic relative to the other endpoints, 0 to max_weight.
    std::uint32_t weight = 1;
    // The circuit breaker that guards calls to the endpoint, if any.
    breaker_signal breaker{};
    // The health until set_health() or a health_checker reports another.
    endpoint_health health = endpoint_health::healthy;
  };

  struct options {
    // Names the balancer in events and reports.
    std::string name = "balancer";
    // The endpoints to start with. add() and remove() change the set later.
    std::vector<endpoint_config> endpoints{};
    // The ramp of an endpoint that returns to rotation.
    mend::slow_start slow_start{};
    // Route to every endpoint when none is healthy, instead of failing.
    bool panic_routing = false;
    // The largest share of endpoints, in percent, that may be out of
    // rotation at once. 100 turns the cap off.
    std::uint32_t max_ejection_percent = 100;
    // Receives the events, or nullptr to discard them.
    metrics_sink* sink = nullptr;
    // Receives the alerts. With nullptr they reach only the sink.
    alert_handler* alerts = nullptr;
  };

  // A snapshot of one endpoint.
  struct endpoint_status {
    std::string name;
    std::uint32_t weight = 0;       // the configured weight, 0 to max_weight
    double effective_weight = 0.0;  // the weight picks use now: 0 out of rotation, less while slow-starting
    endpoint_health health = endpoint_health::healthy;
    circuit_state breaker = circuit_state::closed;  // as last read; closed when no breaker is attached
    bool in_rotation = true;
    bool held_by_cap = false;  // should be out, but kept in rotation by max_ejection_percent
    bool slow_starting = false;
  };

  // Throws config_error for an invalid option or endpoint. Endpoints that
  // start unhealthy or with an open breaker start out of rotation, without
  // an event.
  balancer(clock& clk, options opts) : clock_(clk), options_(validated(std::move(opts))), alerts_(options_.alerts) {
    for (auto& config : options_.endpoints) add_locked(std::move(config));
    options_.endpoints.clear();
    panic_ = panic_needed_locked();
  }

  balancer(const balancer&) = delete;
  balancer& operator=(const balancer&) = delete;

  // Returns the name of the endpoint for the next call, or
  // errc::no_healthy_endpoint when no endpoint can take it.
  result<std::string> pick() {
    std::unique_lock lock(mutex_);
    const auto now = clock_.now();
    read_breakers_locked(now);
    const auto chosen = choose_locked(now);
    result<std::string> out = make_error_code(errc::no_healthy_endpoint);
    if (chosen) out = endpoints_[*chosen].name;
    lock.unlock();
    alerts_.deliver();
    return out;
  }

  // Sets the health of `endpoint`, which then leaves or returns to
  // rotation. Unknown endpoints are ignored.
  void set_health(std::string_view endpoint, endpoint_health health) override {
    {
      std::lock_guard lock(mutex_);
      auto* target = find_locked(endpoint);
      if (target == nullptr || target->health == health) return;
      target->health = health;
      update_rotation_locked(clock_.now());
    }
    alerts_.deliver();
  }

  // Sets the configured weight of `endpoint`, 0 to max_weight, at once for
  // every following pick. Returns errc::invalid_argument for an unknown
  // endpoint or a weight above max_weight.
  result<void> set_weight(std::string_view endpoint, std::uint32_t weight) {
    if (weight > max_weight) return make_error_code(errc::invalid_argument);
    {
      std::lock_guard lock(mutex_);
      auto* target = find_locked(endpoint);
      if (target == nullptr) return make_error_code(errc::invalid_argument);
      if (target->weight == weight) return success();
      target->weight = weight;
      update_panic_locked(clock_.now());
    }
    alerts_.deliver();
    return success();
  }

  // Returns the configured weight of `endpoint`, or errc::invalid_argument
  // when it is unknown.
  result<std::uint32_t> weight(std::string_view endpoint) const {
    std::lock_guard lock(mutex_);
    const auto* target = find_locked(endpoint);
    if (target == nullptr) return make_error_code(errc::invalid_argument);
    return target->weight;
  }

  // Adds an endpoint. Throws config_error for an empty or known name or a
  // weight above max_weight.
  void add(endpoint_config endpoint) {
    {
      std::lock_guard lock(mutex_);
      validate_endpoint(endpoint);
      detail::require(find_locked(endpoint.name) == nullptr, component, "endpoints.name", endpoint.name,
                      "is already in the balancer");
      add_locked(std::move(endpoint));
      update_rotation_locked(clock_.now());
    }
    alerts_.deliver();
  }

  // Removes an endpoint. Returns false when it is unknown.
  bool remove(std::string_view endpoint) {
    {
      std::lock_guard lock(mutex_);
      const auto it = std::find_if(endpoints_.begin(), endpoints_.end(),
                                   [&](const routed_endpoint& candidate) { return candidate.name == endpoint; });
      if (it == endpoints_.end()) return false;
      endpoints_.erase(it);
      update_rotation_locked(clock_.now());
    }
    alerts_.deliver();
    return true;
  }

  // Reads the attached breakers and reports what changed, without picking.
  void refresh() {
    {
      std::lock_guard lock(mutex_);
      read_breakers_locked(clock_.now());
    }
    alerts_.deliver();
  }

  // A snapshot of `endpoint` after reading the breakers, or nullopt when it
  // is unknown.
  std::optional<endpoint_status> status(std::string_view endpoint) {
    std::optional<endpoint_status> out;
    {
      std::lock_guard lock(mutex_);
      const auto now = clock_.now();
      read_breakers_locked(now);
      if (auto* target = find_locked(endpoint)) out = snapshot_locked(*target, now);
    }
    alerts_.deliver();
    return out;
  }

  // A snapshot of every endpoint, in the order they were added, after
  // reading the breakers.
  std::vector<endpoint_status> endpoints() {
    std::vector<endpoint_status> out;
    {
      std::lock_guard lock(mutex_);
      const auto now = clock_.now();
      read_breakers_locked(now);
      out.reserve(endpoints_.size());
      for (auto& target : endpoints_) out.push_back(snapshot_locked(target, now));
    }
    alerts_.deliver();
    return out;
  }

  // True while panic routing is in force.
  bool panicking() const {
    std::lock_guard lock(mutex_);
    return panic_;
  }

  const std::string& name() const noexcept { return options_.name; }

 private:
  static constexpr std::string_view component = "balancer";

  struct routed_endpoint {
    std::string name;
    std::uint32_t weight = 0;
    breaker_signal breaker;
    endpoint_health health = endpoint_health::healthy;
    circuit_state breaker_state = circuit_state::closed;  // as last read
    bool in_rotation = true;
    bool held_by_cap = false;               // should leave, kept in by the ejection cap
    std::uint64_t wants_out_order = 0;      // when it started to want out, 0 while it does not
    std::optional<time_point> returned_at;  // set while slow-starting
    std::int64_t current = 0;               // smooth weighted round-robin counter
    std::uint32_t pick_weight = 0;          // scaled weight in the latest pick
  };

  static void validate_endpoint(const endpoint_config& endpoint) {
    detail::require(!endpoint.name.empty(), component, "endpoints.name", "\"\"", "must not be empty");
    detail::require(endpoint.weight <= max_weight, component, "endpoints.weight", endpoint.weight,
                    fmt::format("endpoint {} must have a weight between 0 and {}", endpoint.name, max_weight));
  }

  static options validated(options opts) {
    opts.slow_start.validate(component);
    detail::require(opts.max_ejection_percent <= 100, component, "max_ejection_percent", opts.max_ejection_percent,
                    "must be between 0 and 100");
    for (std::size_t i = 0; i < opts.endpoints.size(); ++i) {
      validate_endpoint(opts.endpoints[i]);
      for (std::size_t j = 0; j < i; ++j)
        detail::require(opts.endpoints[j].name != opts.endpoints[i].name, component, "endpoints.name",
                        opts.endpoints[i].name, "must be unique");
    }
    return opts;
  }

  static bool wants_out(const routed_endpoint& target) noexcept {
    return target.health == endpoint_health::unhealthy || target.breaker_state != circuit_state::closed;
  }

  routed_endpoint* find_locked(std::string_view endpoint) {
    for (auto& target : endpoints_)
      if (target.name == endpoint) return &target;
    return nullptr;
  }

  const routed_endpoint* find_locked(std::string_view endpoint) const {
    for (const auto& target : endpoints_)
      if (target.name == endpoint) return &target;
    return nullptr;
  }

  // Adds an endpoint in the rotation state its health and breaker call for,
  // without an event, because a new endpoint has not changed state.
  void add_locked(endpoint_config config) {
    routed_endpoint target;
    target.name = std::move(config.name);
    target.weight = config.weight;
    target.breaker = std::move(config.breaker);
    target.health = config.health;
    target.breaker_state = target.breaker.state();
    target.in_rotation = !wants_out(target);
    if (!target.in_rotation) target.wants_out_order = ++wants_out_count_;
    endpoints_.push_back(std::move(target));
    start_new_round_locked();
  }

  void read_breakers_locked(time_point now) {
    bool closed_changed = false;
    for (auto& target : endpoints_) {
      if (!target.breaker) continue;
      const auto state = target.breaker.state();
      if (state == target.breaker_state) continue;
      if ((state == circuit_state::closed) != (target.breaker_state == circuit_state::closed)) closed_changed = true;
      target.breaker_state = state;
    }
    if (closed_changed) update_rotation_locked(now);
  }

  // Brings back the endpoints that may return, then takes out those that
  // must leave, in the order they started to fail, as far as the ejection
  // cap allows.
  void update_rotation_locked(time_point now) {
    std::vector<routed_endpoint*> leaving;
    for (auto& target : endpoints_) {
      if (wants_out(target)) {
        if (target.wants_out_order == 0) target.wants_out_order = ++wants_out_count_;
        if (target.in_rotation) leaving.push_back(&target);
        continue;
      }
      target.wants_out_order = 0;
      target.held_by_cap = false;
      if (!target.in_rotation) enter_rotation_locked(target, now);
    }

    std::sort(leaving.begin(), leaving.end(), [](const routed_endpoint* a, const routed_endpoint* b) {
      return a->wants_out_order < b->wants_out_order;
    });
    auto out = static_cast<std::size_t>(
        std::count_if(endpoints_.begin(), endpoints_.end(), [](const routed_endpoint& e) { return !e.in_rotation; }));
    const auto cap = ejection_cap_locked();
    for (auto* target : leaving) {
      if (out < cap) {
        leave_rotation_locked(*target, now);
        ++out;
      } else if (!target->held_by_cap) {
        target->held_by_cap = true;
        report_held_locked(*target, out, now);
      }
    }
    update_panic_locked(now);
  }

  std::size_t ejection_cap_locked() const noexcept {
    const auto count = endpoints_.size();
    if (options_.max_ejection_percent >= 100) return count;
    if (options_.max_ejection_percent == 0) return 0;
    return std::max<std::size_t>(1, count * options_.max_ejection_percent / 100);
  }

  void enter_rotation_locked(routed_endpoint& target, time_point now) {
    target.in_rotation = true;
    target.held_by_cap = false;
    if (options_.slow_start.window > duration::zero()) target.returned_at = now;
    start_new_round_locked();

    const std::uint32_t first_weight = options_.slow_start.scaled_weight_at(target.weight, duration::zero());
    const std::string_view reason = target.breaker ? "healthy and circuit breaker closed" : "healthy";
    report_rotation_locked(target, "out", "in", reason, first_weight, now);

    std::string message = fmt::format("endpoint {} returned to rotation", target.name);
    if (target.returned_at)
      message += fmt::format(" at {:g} % of its weight, full weight in {}", options_.slow_start.min_share * 100,
                             detail::format_config_value(options_.slow_start.window));
    raise_locked(severity::info, event_kind::endpoint_rotation_changed, target.name, std::move(message), {}, now);
  }

  void leave_rotation_locked(routed_endpoint& target, time_point now) {
    target.in_rotation = false;
    target.held_by_cap = false;
    target.returned_at.reset();
    start_new_round_locked();

    const std::string reason = leave_reason(target);
    report_rotation_locked(target, "in", "out", reason, 0, now);
    raise_locked(severity::warning, event_kind::endpoint_rotation_changed, target.name,
                 fmt::format("endpoint {} left rotation: {}", target.name, reason), {}, now);
  }

  static std::string leave_reason(const routed_endpoint& target) {
    const bool unhealthy = target.health == endpoint_health::unhealthy;
    const bool breaker = target.breaker_state != circuit_state::closed;
    if (unhealthy && breaker) return fmt::format("unhealthy and circuit breaker {}", to_string(target.breaker_state));
    if (unhealthy) return "unhealthy";
    return fmt::format("circuit breaker {}", to_string(target.breaker_state));
  }

  void report_rotation_locked(const routed_endpoint& target, std::string_view from, std::string_view to,
                              std::string_view reason, std::uint32_t scaled_weight, time_point now) {
    const std::array samples{metric_sample{metric::weight, whole_weight(scaled_weight)}};
    event e = detail::make_event(event_kind::endpoint_rotation_changed, options_.name, target.name, clock_, now);
    e.level = to == "out" ? severity::warning : severity::info;
    e.from = from;
    e.to = to;
    e.reason = reason;
    e.metrics = samples;
    detail::emit(options_.sink, e);
  }

  void report_held_locked(const routed_endpoint& target, std::size_t out, time_point now) {
    raise_locked(severity::critical, event_kind::endpoint_rotation_changed, target.name,
                 fmt::format("endpoint {} is {} but stays in rotation: {} of {} endpoints are already out "
                             "(max_ejection_percent = {})",
                             target.name, leave_reason(target), out, endpoints_.size(),
                             options_.max_ejection_percent),
                 {}, now);
  }

  // Panic routing is in force when it is enabled, some endpoint has a weight
  // and no endpoint in rotation has one.
  bool panic_needed_locked() const noexcept {
    if (!options_.panic_routing) return false;
    const bool any_weight = std::any_of(endpoints_.begin(), endpoints_.end(),
                                        [](const routed_endpoint& e) { return e.weight > 0; });
    const bool routable = std::any_of(endpoints_.begin(), endpoints_.end(),
                                      [](const routed_endpoint& e) { return e.in_rotation && e.weight > 0; });
    return any_weight && !routable;
  }

  void update_panic_locked(time_point now) {
    const bool panic = panic_needed_locked();
    if (panic == panic_) return;
    panic_ = panic;
    start_new_round_locked();

    event e = detail::make_event(event_kind::balancer_panic_changed, options_.name, {}, clock_, now);
    e.level = panic ? severity::critical : severity::info;
    e.from = panic ? "normal" : "panic";
    e.to = panic ? "panic" : "normal";
    e.reason = panic ? "no healthy endpoint" : "an endpoint is back in rotation";
    detail::emit(options_.sink, e);

    std::string message = panic ? fmt::format("no healthy endpoint: panic routing sends traffic to all {} endpoints",
                                              endpoints_.size())
                                : std::string{"panic routing ended: an endpoint is back in rotation"};
    raise_locked(e.level, event_kind::balancer_panic_changed, {}, std::move(message), {}, now);
  }

  void raise_locked(severity level, event_kind cause, std::string_view target, std::string message,
                    std::error_code error, time_point now) {
    alert raised;
    raised.level = level;
    raised.cause = cause;
    raised.component = options_.name;
    raised.target = target;
    raised.message = std::move(message);
    raised.error = error;
    raised.at = now;
    raised.wall_at = clock_.wall_now();
    alerts_.raise(options_.sink, std::move(raised));
  }

  // The scaled weight of an endpoint in rotation, with slow start.
  std::uint32_t rotation_weight_locked(routed_endpoint& target, time_point now) {
    if (target.returned_at) {
      const auto elapsed = now - *target.returned_at;
      if (!options_.slow_start.finished(elapsed)) return options_.slow_start.scaled_weight_at(target.weight, elapsed);
      target.returned_at.reset();
    }
    return target.weight * weight_scale;
  }

  // The scaled weight the next pick gives the endpoint, half-open test calls
  // aside.
  std::uint32_t effective_weight_locked(routed_endpoint& target, time_point now) {
    if (panic_) return target.weight * weight_scale;
    if (target.in_rotation) return rotation_weight_locked(target, now);
    return 0;
  }

  // Picks by smooth weighted round-robin: every candidate's counter grows by
  // its weight, the largest counter wins and gives back the total. Over one
  // round each endpoint wins exactly in proportion to its weight.
  std::optional<std::size_t> choose_locked(time_point now) {
    std::int64_t total = 0;
    bool candidates_changed = false;
    for (auto& target : endpoints_) {
      std::uint32_t scaled = effective_weight_locked(target, now);
      if (scaled == 0 && !panic_ && target.health == endpoint_health::healthy &&
          target.breaker_state == circuit_state::half_open && target.breaker.admits_test_call())
        scaled = options_.slow_start.scaled_weight_at(target.weight, duration::zero());
      if ((scaled > 0) != (target.pick_weight > 0)) candidates_changed = true;
      target.pick_weight = scaled;
      total += scaled;
    }
    if (total == 0) return std::nullopt;
    if (candidates_changed) start_new_round_locked();

    std::optional<std::size_t> best;
    for (std::size_t i = 0; i < endpoints_.size(); ++i) {
      auto& target = endpoints_[i];
      if (target.pick_weight == 0) continue;
      target.current += target.pick_weight;
      if (!best || target.current > endpoints_[*best].current) best = i;
    }
    endpoints_[*best].current -= total;
    return best;
  }

  void start_new_round_locked() noexcept {
    for (auto& target : endpoints_) target.current = 0;
  }

  endpoint_status snapshot_locked(routed_endpoint& target, time_point now) {
    endpoint_status out;
    out.name = target.name;
    out.weight = target.weight;
    out.effective_weight = static_cast<double>(effective_weight_locked(target, now)) / weight_scale;
    out.health = target.health;
    out.breaker = target.breaker_state;
    out.in_rotation = target.in_rotation;
    out.held_by_cap = target.held_by_cap;
    out.slow_starting = target.returned_at.has_value();
    return out;
  }

  // Rounds a scaled weight up to whole weight points, so an endpoint in
  // rotation never reports 0.
  static std::int64_t whole_weight(std::uint32_t scaled) noexcept {
    return (static_cast<std::int64_t>(scaled) + weight_scale - 1) / weight_scale;
  }

  clock& clock_;
  options options_;  // constant after the constructor moved the endpoints out
  detail::alert_dispatcher alerts_;

  mutable std::mutex mutex_;
  std::vector<routed_endpoint> endpoints_;  // in the order added; guarded by mutex_
  std::uint64_t wants_out_count_ = 0;       // last wants_out_order handed out; guarded by mutex_
  bool panic_ = false;                      // guarded by mutex_
};

MEND_END_NAMESPACE

#endif  // MEND_BALANCER_HPP
