// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_ROLLOUT_HPP
#define MEND_ROLLOUT_HPP

#include <mend/clock.hpp>
#include <mend/config_error.hpp>
#include <mend/detail/make_event.hpp>
#include <mend/error.hpp>
#include <mend/event.hpp>
#include <mend/health_signal.hpp>
#include <mend/metrics_sink.hpp>
#include <mend/result.hpp>
#include <mend/traffic_switch.hpp>
#include <mend/version.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

MEND_BEGIN_NAMESPACE

// The stage of a rollout.
enum class rollout_state {
  pending,      // built, start() not called yet; no weight changed
  verifying,    // green gets no traffic until its health signal reads healthy
  shifting,     // green holds one traffic step while it stays healthy
  promoted,     // green held the last step (100 %) for the hold time; roles swapped
  rolled_back,  // blue got all traffic back; the rollout has ended
};

constexpr std::string_view to_string(rollout_state state) noexcept {
  switch (state) {
    case rollout_state::pending: return "pending";
    case rollout_state::verifying: return "verifying";
    case rollout_state::shifting: return "shifting";
    case rollout_state::promoted: return "promoted";
    case rollout_state::rolled_back: return "rolled_back";
  }
  return "unknown";
}

// A snapshot of a rollout, for reports and command-line tools.
struct rollout_status {
  rollout_state state = rollout_state::pending;
  std::size_t step = 0;            // steps entered so far; 0 before the first
  int green_weight = 0;            // green's weight as last applied (blue has 100 minus it)
  std::string live;                // the target that serves production: blue, or green once promoted
  std::string standby;             // the other one: green while rolling out, blue once promoted
  std::string reason;              // why the rollout is in its state
  bool traffic_restored = true;    // false while a rollback could not yet give blue all traffic
  switch_error last_switch_error;  // the traffic switch's last failure, if any
};

// Moves traffic from the live instance (blue) to a new one (green) in steps,
// and back to blue at once when green turns unhealthy.
//
// start() first gives blue all traffic (weights blue 100, green 0) and waits,
// up to health_timeout, for green's health signal to read healthy. Green then
// gets each traffic step in turn (10 %, 50 %, 100 % by default) and holds it
// for `hold` while the signal, read every health_interval, stays healthy.
// After the last step (always 100 %) has been held, the rollout is promoted:
// green becomes the live target and blue the standby, which is kept running
// until then. When the signal reads unhealthy at any step, the rollout rolls
// back: blue gets all traffic (raised before green is lowered) and the
// rollout ends. rollback() does the same by hand at any time before
// promotion, and advance() skips the rest of the current hold. A rolled back
// rollout cannot be advanced or restarted; build a new one.
//
// If the traffic switch fails while rolling back, the rollout still ends as
// rolled back, reports traffic_restored = false, and retries the switch every
// health_interval until blue has all traffic.
//
// Events (component = name, target = green): rollout_started (pending ->
// verifying), rollout_step_changed for each step ("verifying" -> "10%",
// "10%" -> "50%", ...; delay = hold), rollout_promoted ("100%" ->
// "promoted") and rollout_rolled_back ("50%" -> "rolled_back"), each with the
// reason. A rollback is a warning when automatic, info when by hand, and an
// error (with the switch's error code) when blue could not get all traffic.
//
// Thread-safe. Timers run on the clock. One operation (start, advance,
// rollback, or a timer tick) runs at a time, and it calls the traffic switch,
// the health signal and the sink. Those callbacks, and whatever they call in
// turn (an alert handler behind a balancer, say), may read the rollout.
// state(), status() and finished() return what was last published and never
// wait for the running operation. They return the state each event reports.
// A callback may also call rollback(): it returns
// std::errc::operation_in_progress and the rollback runs as soon as the
// current operation ends, before it returns. start() and advance() from a
// callback fail with std::errc::resource_deadlock_would_occur. A callback
// must not wait for another thread that calls start(), advance() or
// rollback(), because that thread waits for the running operation.
//
//   mend::rollout deploy{clock, haproxy, {.name = "aif", .hold = 60s,
//                                         .green_health = green_is_up}};
//   deploy.start();
//   deploy.wait();  // promoted or rolled back
class rollout {
 public:
  struct options {
    // Names the rollout in events.
    std::string name = "rollout";
    // The live target, as the traffic switch names it.
    std::string blue = "blue";
    // The new target, as the traffic switch names it.
    std::string green = "green";
    // Green's weight at each step, increasing, from 1 to 100, ending at 100.
    std::vector<int> steps{10, 50, 100};
    // How long green holds each step, healthy, before the next one.
    duration hold = std::chrono::seconds{30};
    // How often green's health signal is read.
    duration health_interval = std::chrono::seconds{1};
    // How long green may take to read healthy before it gets any traffic;
    // when it runs out, the rollout rolls back.
    duration health_timeout = std::chrono::minutes{2};
    // Reads green's health; required.
    health_signal green_health;
    // Receives the events; nullptr discards them.
    metrics_sink* sink = nullptr;
  };

  rollout(clock& clk, traffic_switch& traffic, options opts)
      : clock_(clk),
        traffic_(traffic),
        options_(validated(std::move(opts))),
        live_(options_.blue),
        standby_(options_.green) {
    publish_locked();  // no other thread can read the rollout yet
  }

  rollout(const rollout&) = delete;
  rollout& operator=(const rollout&) = delete;

  // Cancels the rollout's timer, waiting for a callback that is running. The
  // weights stay as they are.
  ~rollout() {
    timer_id pending = 0;
    {
      std::lock_guard lock(mutex_);
      destroying_ = true;
      pending = take_timer_locked();
    }
    if (pending != 0) clock_.cancel(pending);
  }

  // Gives blue all traffic, then waits for green to read healthy (checking
  // once right away). Fails with std::errc::operation_not_permitted unless
  // the rollout is pending, or with the traffic switch's error, which also
  // ends the rollout as rolled back.
  result<void> start() {
    if (called_from_callback()) return make_error_code(std::errc::resource_deadlock_would_occur);
    return run_operation([&](std::vector<timer_id>&) -> result<void> {
      if (state_ != rollout_state::pending) return make_error_code(std::errc::operation_not_permitted);

      const auto now = clock_.now();
      if (auto restored = give_blue_everything_locked(); !restored) {
        finish_rollback_locked(now, "pending", "traffic switch failed before the first step", false,
                               restored.error());
        return restored.error();
      }
      state_ = rollout_state::verifying;
      verify_deadline_ = clock::add_saturated(now, options_.health_timeout);
      reason_ = "waiting for green to pass its health checks";
      emit_locked(event_kind::rollout_started, now, "pending", "verifying", reason_);
      verify_locked();
      return success();
    });
  }

  // Moves to the next step now, without waiting for the rest of the hold; on
  // the last step this promotes green. Green's health is read first. Fails
  // with errc::target_unhealthy when green is unhealthy (a shifting rollout
  // then rolls back; a verifying one keeps waiting), with
  // std::errc::operation_not_permitted when the rollout is pending, promoted
  // or rolled back, or with the traffic switch's error (the rollout then
  // rolls back).
  result<void> advance() {
    if (called_from_callback()) return make_error_code(std::errc::resource_deadlock_would_occur);
    return run_operation([&](std::vector<timer_id>& stale) -> result<void> {
      if (state_ != rollout_state::verifying && state_ != rollout_state::shifting)
        return make_error_code(std::errc::operation_not_permitted);
      stale.push_back(take_timer_locked());
      return advance_locked();
    });
  }

  // Gives blue all traffic now and ends the rollout as rolled back. Calling
  // it again retries the traffic switch if blue did not get all traffic the
  // first time. Fails with std::errc::operation_not_permitted once promoted,
  // or with the traffic switch's error.
  result<void> rollback(std::string_view reason = "rolled back by hand") {
    if (called_from_callback()) {
      std::lock_guard lock(status_mutex_);
      if (published_.state == rollout_state::promoted) return make_error_code(std::errc::operation_not_permitted);
      if (!requested_rollback_) requested_rollback_ = std::string(reason);
      return make_error_code(std::errc::operation_in_progress);
    }
    return run_operation([&](std::vector<timer_id>& stale) -> result<void> {
      if (state_ == rollout_state::promoted) return make_error_code(std::errc::operation_not_permitted);
      stale.push_back(take_timer_locked());
      return rollback_by_hand_locked(reason);
    });
  }

  rollout_state state() const {
    std::lock_guard lock(status_mutex_);
    return published_.state;
  }

  rollout_status status() const {
    std::lock_guard lock(status_mutex_);
    return published_;
  }

  // True once the rollout is promoted or rolled back.
  bool finished() const {
    std::lock_guard lock(status_mutex_);
    return is_final(published_.state);
  }

  // Blocks until the rollout is promoted or rolled back, and returns that
  // state. Meant for programs on a real clock; on a manual clock advance time
  // instead.
  rollout_state wait() {
    std::unique_lock lock(status_mutex_);
    finished_changed_.wait(lock, [&] { return is_final(published_.state); });
    return published_.state;
  }

  const std::string& name() const noexcept { return options_.name; }
  const options& config() const noexcept { return options_; }

 private:
  static options validated(options opts) {
    const std::string_view component = "rollout";
    detail::require(!opts.blue.empty(), component, "blue", "\"\"", "must name a target");
    detail::require(!opts.green.empty(), component, "green", "\"\"", "must name a target");
    detail::require(opts.green != opts.blue, component, "green", opts.green, "must differ from blue");
    detail::require(!opts.steps.empty(), component, "steps", "[]", "must list at least one step");
    for (std::size_t i = 0; i < opts.steps.size(); ++i) {
      detail::require(opts.steps[i] >= 1 && opts.steps[i] <= traffic_switch::max_weight, component, "steps",
                      fmt::format("{}", opts.steps), "each step must be from 1 to 100");
      detail::require(i == 0 || opts.steps[i] > opts.steps[i - 1], component, "steps", fmt::format("{}", opts.steps),
                      "steps must increase");
    }
    detail::require(opts.steps.back() == traffic_switch::max_weight, component, "steps", fmt::format("{}", opts.steps),
                    "the last step must be 100");
    detail::require(opts.hold >= duration::zero(), component, "hold", opts.hold, "must not be negative");
    detail::require(opts.health_interval > duration::zero(), component, "health_interval", opts.health_interval,
                    "must be greater than zero");
    detail::require(opts.health_timeout > duration::zero(), component, "health_timeout", opts.health_timeout,
                    "must be greater than zero");
    detail::require(static_cast<bool>(opts.green_health), component, "green_health", "empty function", "must be set");
    return opts;
  }

  static bool is_final(rollout_state state) noexcept {
    return state == rollout_state::promoted || state == rollout_state::rolled_back;
  }

  bool called_from_callback() const {
    std::lock_guard lock(status_mutex_);
    return running_on_ == std::this_thread::get_id();
  }

  // Runs `operation` under the operation lock, then any rollback that one of
  // its callbacks requested, then publishes the state. Timers the operation
  // took are cancelled after the lock is released, because cancel() waits for
  // a running tick, which needs the lock.
  template <typename Operation>
  result<void> run_operation(Operation&& operation) {
    std::vector<timer_id> stale;
    result<void> outcome = success();
    // Read under the lock: once a tick releases it, the destructor may run
    // and end before the tick returns.
    clock* clk = nullptr;
    {
      std::lock_guard lock(mutex_);
      clk = &clock_;
      set_running_on(std::this_thread::get_id());
      try {
        outcome = operation(stale);
        run_requested_rollbacks_locked(stale);
      } catch (...) {
        set_running_on({});
        publish_locked();
        throw;
      }
      set_running_on({});
      publish_locked();
    }
    for (const auto id : stale)
      if (id != 0) clk->cancel(id);
    return outcome;
  }

  void set_running_on(std::thread::id id) {
    std::lock_guard lock(status_mutex_);
    running_on_ = id;
  }

  void run_requested_rollbacks_locked(std::vector<timer_id>& stale) {
    for (;;) {
      std::optional<std::string> reason;
      {
        std::lock_guard lock(status_mutex_);
        reason = std::exchange(requested_rollback_, std::nullopt);
      }
      if (!reason) return;
      if (state_ == rollout_state::promoted) continue;
      stale.push_back(take_timer_locked());
      (void)rollback_by_hand_locked(*reason);
    }
  }

  // Copies the state for readers, under a lock that no operation holds while it calls out.
  void publish_locked() {
    rollout_status out;
    out.state = state_;
    out.step = step_;
    out.green_weight = green_weight_;
    out.live = live_;
    out.standby = standby_;
    out.reason = reason_;
    out.traffic_restored = traffic_restored_;
    out.last_switch_error = traffic_.last_error();
    {
      std::lock_guard lock(status_mutex_);
      published_ = std::move(out);
    }
    if (is_final(state_)) finished_changed_.notify_all();
  }

  // The stage name used in events: "verifying", "10%", "promoted", ...
  std::string stage_locked() const {
    if (state_ == rollout_state::shifting) return fmt::format("{}%", green_weight_);
    return std::string(to_string(state_));
  }

  health_reading read_green_health() const noexcept {
    try {
      return options_.green_health();
    } catch (const std::exception& e) {
      return {false, fmt::format("health signal threw: {}", e.what())};
    } catch (...) {
      return {false, "health signal threw"};
    }
  }

  result<void> give_blue_everything_locked() {
    const auto outcome = traffic_.apply({{options_.blue, traffic_switch::max_weight}, {options_.green, 0}});
    traffic_restored_ = static_cast<bool>(outcome);
    if (outcome) green_weight_ = 0;
    return outcome;
  }

  // Runs every health_interval while verifying or shifting, and while a
  // rollback still has to give blue all traffic.
  void on_tick(std::uint64_t generation) {
    (void)run_operation([&](std::vector<timer_id>&) -> result<void> {
      if (destroying_ || generation != generation_) return success();
      timer_ = 0;
      switch (state_) {
        case rollout_state::verifying: verify_locked(); break;
        case rollout_state::shifting: hold_locked(); break;
        case rollout_state::rolled_back: (void)retry_restore_locked(); break;
        case rollout_state::pending:
        case rollout_state::promoted: break;
      }
      return success();
    });
  }

  // Each step reads the clock after the calls it makes, because they may
  // block (an HTTP health probe, a load balancer's admin socket). The next
  // tick is one interval after them, and a step is held from when its weights
  // were set.
  void verify_locked() {
    const auto reading = read_green_health();
    const auto now = clock_.now();
    if (reading.healthy) {
      (void)enter_step_locked(0, fmt::format("green passed its health checks ({})", reading.reason));
      return;
    }
    if (now >= verify_deadline_) {
      finish_rollback_locked(now, stage_locked(),
                             fmt::format("green did not pass its health checks within {} ({})",
                                         readable(options_.health_timeout), reading.reason),
                             true, {});
      return;
    }
    schedule_tick_locked(std::min(clock::add_saturated(now, options_.health_interval), verify_deadline_));
  }

  void hold_locked() {
    const auto reading = read_green_health();
    const auto now = clock_.now();
    if (!reading.healthy) {
      rollback_unhealthy_locked(now, reading);
      return;
    }
    if (now >= hold_until_) {
      (void)next_step_locked(
          fmt::format("green held {}% for {} ({})", green_weight_, readable(options_.hold), reading.reason));
      return;
    }
    schedule_tick_locked(std::min(clock::add_saturated(now, options_.health_interval), hold_until_));
  }

  result<void> advance_locked() {
    const auto reading = read_green_health();
    const auto now = clock_.now();
    if (!reading.healthy) {
      if (state_ == rollout_state::shifting) {
        rollback_unhealthy_locked(now, reading);
      } else {
        schedule_tick_locked(std::min(clock::add_saturated(now, options_.health_interval), verify_deadline_));
      }
      return make_error_code(errc::target_unhealthy);
    }
    if (state_ == rollout_state::verifying)
      return enter_step_locked(0, fmt::format("advanced by hand; green passed its health checks ({})", reading.reason));
    return next_step_locked(fmt::format("advanced by hand at {}% ({})", green_weight_, reading.reason));
  }

  result<void> next_step_locked(std::string reason) {
    if (step_ == options_.steps.size()) {
      promote_locked(clock_.now(), std::move(reason));
      return success();
    }
    return enter_step_locked(step_, std::move(reason));
  }

  // Gives green the weight of steps[index] and blue the rest, then holds.
  // When the switch fails, rolls back and returns the switch's error.
  result<void> enter_step_locked(std::size_t index, std::string reason) {
    const int weight = options_.steps[index];
    const auto applied =
        traffic_.apply({{options_.green, weight}, {options_.blue, traffic_switch::max_weight - weight}});
    const auto now = clock_.now();
    if (!applied) {
      const auto failure = traffic_.last_error();
      finish_rollback_locked(
          now, stage_locked(),
          fmt::format("traffic switch failed while moving green to {}%: {}", weight, failure.message), true, {});
      return applied.error();
    }
    const auto from = stage_locked();
    state_ = rollout_state::shifting;
    step_ = index + 1;
    green_weight_ = weight;
    hold_until_ = clock::add_saturated(now, options_.hold);
    reason_ = fmt::format("{}; holding {}% for {}", reason, weight, readable(options_.hold));
    emit_locked(event_kind::rollout_step_changed, now, from, stage_locked(), reason_, {}, options_.hold);
    schedule_tick_locked(std::min(clock::add_saturated(now, options_.health_interval), hold_until_));
    return success();
  }

  void promote_locked(time_point now, std::string reason) {
    const auto from = stage_locked();
    state_ = rollout_state::promoted;
    std::swap(live_, standby_);
    reason_ = fmt::format("{}; {} is live, {} is standby", reason, live_, standby_);
    emit_locked(event_kind::rollout_promoted, now, from, "promoted", reason_);
  }

  void rollback_unhealthy_locked(time_point now, const health_reading& reading) {
    finish_rollback_locked(now, stage_locked(),
                           fmt::format("green failed its health checks at {}% ({})", green_weight_, reading.reason),
                           true, {});
  }

  result<void> rollback_by_hand_locked(std::string_view reason) {
    if (state_ == rollout_state::rolled_back) {
      if (traffic_restored_) return success();
      return retry_restore_locked();
    }
    if (const auto error = finish_rollback_locked(clock_.now(), stage_locked(), std::string(reason), false, {}))
      return error;
    return success();
  }

  // Ends the rollout as rolled back, giving blue all traffic unless the
  // switch already failed (`switch_failure`), and emits one event. Returns
  // the switch's error when blue did not get all traffic.
  std::error_code finish_rollback_locked(time_point now, std::string from, std::string reason, bool automatic,
                                         std::error_code switch_failure) {
    state_ = rollout_state::rolled_back;
    std::error_code error = switch_failure;
    if (!error) {
      if (auto restored = give_blue_everything_locked(); !restored) error = restored.error();
    } else {
      traffic_restored_ = false;
    }

    rollback_reason_ = std::move(reason);
    reason_ = rollback_reason_;
    severity level = automatic ? severity::warning : severity::info;
    std::string event_reason = reason_;
    if (error) {
      level = severity::error;
      const auto failure = traffic_.last_error().message;
      reason_ += fmt::format("; blue could not get all traffic: {}", failure);
      event_reason += fmt::format("; blue could not get all traffic (retrying every {}): {}",
                                  readable(options_.health_interval), failure);
      schedule_tick_locked(clock::add_saturated(now, options_.health_interval));
    }
    emit_locked(event_kind::rollout_rolled_back, now, from, "rolled_back", event_reason, error, {}, level);
    return error;
  }

  // Tries again to give blue all traffic after a rollback could not.
  result<void> retry_restore_locked() {
    if (traffic_restored_) return success();
    auto restored = give_blue_everything_locked();
    if (restored) {
      reason_ = fmt::format("{}; blue got all traffic on a later try", rollback_reason_);
      emit_locked(event_kind::rollout_traffic_restored, clock_.now(), "rolled_back", "rolled_back", reason_);
    } else {
      reason_ = fmt::format("{}; blue could not get all traffic: {}", rollback_reason_, traffic_.last_error().message);
      schedule_tick_locked(clock::add_saturated(clock_.now(), options_.health_interval));
    }
    return restored;
  }

  void schedule_tick_locked(time_point at) {
    if (destroying_) return;
    const auto generation = ++generation_;
    timer_ = clock_.schedule_at(at, [this, generation] { on_tick(generation); });
  }

  // Makes the pending tick stale and returns its id, for the caller to cancel
  // after releasing the lock (cancel waits for a running callback, which
  // takes the lock).
  timer_id take_timer_locked() noexcept {
    ++generation_;
    return std::exchange(timer_, timer_id{0});
  }

  // Formats `d` in whole seconds when it has no fraction of one ("30s"),
  // otherwise in milliseconds ("250ms").
  static std::string readable(duration d) {
    if (d % std::chrono::seconds{1} == duration::zero())
      return fmt::format("{}", std::chrono::duration_cast<std::chrono::seconds>(d));
    return fmt::format("{}", std::chrono::duration_cast<std::chrono::milliseconds>(d));
  }

  // Publishes the state first, so that a sink reading the rollout gets the
  // state this event reports.
  void emit_locked(event_kind kind, time_point now, std::string_view from, std::string_view to, std::string_view reason,
                   std::error_code error = {}, duration delay = {}, severity level = severity::info) {
    publish_locked();
    event e = detail::make_event(kind, options_.name, options_.green, clock_, now);
    e.level = level;
    e.from = from;
    e.to = to;
    e.reason = reason;
    e.error = error;
    e.delay = delay;
    detail::emit(options_.sink, e);
  }

  clock& clock_;
  traffic_switch& traffic_;
  const options options_;

  // The operation lock: held while an operation runs and calls out.
  mutable std::mutex mutex_;
  rollout_state state_ = rollout_state::pending;  // guarded by mutex_
  std::size_t step_ = 0;                          // guarded by mutex_
  int green_weight_ = 0;                          // guarded by mutex_
  std::string live_;                              // guarded by mutex_
  std::string standby_;                           // guarded by mutex_
  std::string reason_;                            // guarded by mutex_
  std::string rollback_reason_;                   // guarded by mutex_; the reason of the rollback
  bool traffic_restored_ = true;                  // guarded by mutex_
  time_point verify_deadline_{};                  // guarded by mutex_
  time_point hold_until_{};                       // guarded by mutex_
  // The pending tick and its generation; a tick whose generation is no longer
  // current returns without doing anything, because cancel() may lose the race.
  timer_id timer_ = 0;            // guarded by mutex_
  std::uint64_t generation_ = 0;  // guarded by mutex_
  bool destroying_ = false;       // guarded by mutex_

  // Never held while calling out, so readers and callbacks do not wait.
  mutable std::mutex status_mutex_;
  std::condition_variable finished_changed_;     // with status_mutex_
  rollout_status published_;                     // guarded by status_mutex_
  std::thread::id running_on_;                   // guarded by status_mutex_; the thread running an operation
  std::optional<std::string> requested_rollback_;  // guarded by status_mutex_; requested by a callback
};

MEND_END_NAMESPACE

#endif  // MEND_ROLLOUT_HPP
