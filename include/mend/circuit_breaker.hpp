// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_CIRCUIT_BREAKER_HPP
#define MEND_CIRCUIT_BREAKER_HPP

#include <mend/circuit_state.hpp>
#include <mend/clock.hpp>
#include <mend/config_error.hpp>
#include <mend/detail/make_event.hpp>
#include <mend/error.hpp>
#include <mend/event.hpp>
#include <mend/metrics_sink.hpp>
#include <mend/result.hpp>
#include <mend/steady_clock_source.hpp>
#include <mend/transient.hpp>
#include <mend/trip_policy/consecutive_failures.hpp>
#include <mend/version.hpp>

#include <boost/config.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

MEND_BEGIN_NAMESPACE

// A snapshot of a breaker's state and counters, for reports.
struct circuit_breaker_stats {
  circuit_state state = circuit_state::closed;
  bool isolated = false;                  // held open by isolate() until reset()
  std::uint64_t failures = 0;             // failed calls counted
  std::uint64_t rejections = 0;           // calls rejected with circuit_open
  std::uint64_t times_opened = 0;         // transitions into open
  std::uint64_t auto_recoveries = 0;      // open -> closed without reset()
  std::optional<wall_time> last_recovery; // wall time of the last auto recovery
  duration open_timeout{};                // the timeout the next opening uses
  std::uint32_t successful_tests_in_a_row = 0;
};

// Stops calls to a failing backend, then lets a few test calls through to
// find out when it is back.
//
// closed:    calls run; the trip policy counts failures and opens the circuit.
// open:      calls are rejected with errc::circuit_open, without running,
//            until the open timeout expires.
// half_open: up to half_open_probes test calls run at once (others are
//            rejected). A successful test closes the circuit; a failed one
//            opens it again with the open timeout multiplied (60 s, 120 s,
//            240 s by default). After `timeout_reset_after` successful tests
//            in a row the timeout returns to its initial value. A grown
//            timeout also shrinks while the circuit stays closed: each
//            open_timeout spent closed divides it by the multiplier once,
//            so a short fault long after a long outage opens the circuit
//            for 60 s again, not 240 s.
//
// When the open timeout expires the state becomes half_open at once, through
// a timer on the clock, even if no call arrives; with a `probe` the breaker
// then runs the test itself, so a backend that comes back is noticed without
// traffic. Each transition emits one breaker_state_changed event.
//
// Thread-safe. In the closed state the success path takes no lock and writes
// no shared memory (with consecutive_failures). A call's result counts only in
// the state it was admitted in: a slow call from the closed state that ends
// after the circuit opened is ignored, and cannot decide a half-open test.
//
//   mend::circuit_breaker breaker{clock, {.name = "ax_connection"}};
//   mend::result<Order> order = breaker.execute([&] { return client.read_order(id); });
template <class TripPolicy = consecutive_failures>
class basic_circuit_breaker {
 public:
  using trip_policy = TripPolicy;

  struct options {
    // Names the breaker in events and reports.
    std::string name = "circuit_breaker";
    // When to open the circuit.
    TripPolicy trip{};
    // How long the circuit stays open the first time.
    duration open_timeout = std::chrono::seconds{60};
    // The open timeout after each failed test is multiplied by this...
    double open_timeout_multiplier = 2.0;
    // ...up to this cap.
    duration max_open_timeout = std::chrono::seconds{240};
    // Successful half-open tests in a row that bring the timeout back to open_timeout.
    std::uint32_t timeout_reset_after = 3;
    // Test calls admitted at once in half_open.
    std::uint32_t half_open_probes = 1;
    // A successful call slower than this counts as a failure; zero turns the
    // check off. The caller still gets the call's value.
    duration slow_call_threshold = duration::zero();
    // Run as the test call when the open timeout expires, on the clock's timer
    // thread; keep it short and bounded by its own timeout.
    std::function<result<void>()> probe{};
    // Which errors count as failures of the backend. Other errors count as
    // successes (the backend answered), except errc::cancelled and
    // errc::circuit_open (from a breaker inside this one), which are ignored.
    error_classifier is_failure = is_backend_failure;
    // Receives the events; nullptr discards them.
    metrics_sink* sink = nullptr;
  };

  // The right to run one call, returned by try_acquire(). Report the call's
  // outcome with success() or failure(); a permit dropped without either is
  // ignored, and a test permit frees its half-open slot.
  class permit {
   public:
    permit(permit&& other) noexcept
        : breaker_(std::exchange(other.breaker_, nullptr)),
          generation_(other.generation_),
          test_(other.test_),
          started_(other.started_) {}
    permit& operator=(permit&&) = delete;
    permit(const permit&) = delete;
    permit& operator=(const permit&) = delete;
    ~permit() { ignore(); }

    // True for a half-open test call.
    bool is_test() const noexcept { return test_; }

    void success() noexcept {
      if (auto* breaker = std::exchange(breaker_, nullptr)) breaker->on_success(generation_, test_, started_);
    }

    void failure(const std::error_code& ec) noexcept {
      if (auto* breaker = std::exchange(breaker_, nullptr)) breaker->on_error(generation_, test_, ec);
    }

    // Drops the call without counting it.
    void ignore() noexcept {
      if (auto* breaker = std::exchange(breaker_, nullptr)) {
        if (test_) breaker->release_test(generation_);
      }
    }

   private:
    friend class basic_circuit_breaker;
    permit(basic_circuit_breaker* breaker, std::uint64_t generation, bool test, time_point started) noexcept
        : breaker_(breaker), generation_(generation), test_(test), started_(started) {}

    basic_circuit_breaker* breaker_;
    std::uint64_t generation_;
    bool test_;
    time_point started_;
  };

  basic_circuit_breaker() : basic_circuit_breaker(default_clock(), options{}) {}
  explicit basic_circuit_breaker(options opts) : basic_circuit_breaker(default_clock(), std::move(opts)) {}

  basic_circuit_breaker(clock& clk, options opts)
      : clock_(clk), options_(validated(std::move(opts))), tracker_(options_.trip),
        closed_since_(clk.now()), open_timeout_(options_.open_timeout) {}

  basic_circuit_breaker(const basic_circuit_breaker&) = delete;
  basic_circuit_breaker& operator=(const basic_circuit_breaker&) = delete;

  // Cancels the breaker's timers, and waits for a probe that is running.
  ~basic_circuit_breaker() {
    std::vector<open_timer> timers;
    {
      std::lock_guard lock(mutex_);
      destroying_ = true;
      timers.swap(timers_);
    }
    for (const auto& timer : timers) clock_.cancel(timer.id);
  }

  // Runs f(args...) if the circuit admits it and records the outcome. Returns
  // errc::circuit_open without calling f when the circuit rejects the call.
  // f may return T, result<T>, std::error_code or void; exceptions become errors.
  template <class F, class... Args>
  detail::invoke_result_t<F, Args...> execute(F&& f, Args&&... args) {
    // Both branches return a prvalue, so the result is built in the
    // caller's storage, without a copy.
    if constexpr (TripPolicy::tracker::needs_time) {
      return execute_permitted(std::forward<F>(f), std::forward<Args>(args)...);
    } else {
      const auto word = word_.load(std::memory_order_acquire);
      if (state_of(word) == circuit_state::closed && !times_calls()) [[likely]]
        return execute_closed(generation_of(word), std::forward<F>(f), std::forward<Args>(args)...);
      return execute_with_permit(std::forward<F>(f), std::forward<Args>(args)...);
    }
  }

  // Asks to run one call. Returns nullopt (and counts a rejection) when the
  // circuit is open or every half-open test slot is taken.
  std::optional<permit> try_acquire() {
    const auto word = word_.load(std::memory_order_acquire);
    if (state_of(word) == circuit_state::closed) [[likely]]
      return permit{this, generation_of(word), false, call_start()};
    return try_acquire_slow();
  }

  // The current state. Reads half_open as soon as the open timeout has
  // expired, even before the timer fires.
  circuit_state state() {
    const auto word = word_.load(std::memory_order_acquire);
    if (state_of(word) == circuit_state::open && open_timeout_expired()) {
      std::lock_guard lock(mutex_);
      expire_open_locked(clock_.now());
      return state_of(word_.load(std::memory_order_acquire));
    }
    return state_of(word);
  }

  // True when a call made now would be rejected without running.
  bool would_reject() {
    const auto current = state();
    if (current == circuit_state::closed) return false;
    if (current == circuit_state::open) return true;
    std::lock_guard lock(mutex_);
    return tests_in_flight_ >= options_.half_open_probes;
  }

  // Opens the circuit as if it had tripped: the open timeout runs and the
  // breaker recovers by itself.
  void force_open(std::string_view reason = "forced open") {
    std::lock_guard lock(mutex_);
    isolated_ = false;
    open_locked(clock_.now(), reason);
  }

  // Opens the circuit and holds it open, with no timeout, until reset().
  void isolate(std::string_view reason = "isolated") {
    std::lock_guard lock(mutex_);
    isolated_ = true;
    open_locked(clock_.now(), reason);
  }

  // Closes the circuit and forgets its history: the trip policy's counts, the
  // grown open timeout and the isolation. Not counted as an auto recovery.
  void reset(std::string_view reason = "manual reset") {
    std::lock_guard lock(mutex_);
    isolated_ = false;
    open_timeout_ = options_.open_timeout;
    tests_in_a_row_ = 0;
    transition_locked(circuit_state::closed, clock_.now(), reason);
  }

  circuit_breaker_stats stats() {
    const auto current = state();
    std::lock_guard lock(mutex_);
    circuit_breaker_stats out;
    out.state = current;
    out.isolated = isolated_;
    out.failures = failures_.load(std::memory_order_relaxed);
    out.rejections = rejections_.load(std::memory_order_relaxed);
    out.times_opened = times_opened_;
    out.auto_recoveries = auto_recoveries_;
    out.last_recovery = last_recovery_;
    out.open_timeout = relaxed_open_timeout_locked(clock_.now());
    out.successful_tests_in_a_row = tests_in_a_row_;
    return out;
  }

  // When the current open period ends; nullopt unless open and not isolated.
  std::optional<time_point> open_until() {
    std::lock_guard lock(mutex_);
    expire_open_locked(clock_.now());  // a deadline that has passed means half_open, as state() reads
    if (state_of(word_.load(std::memory_order_acquire)) != circuit_state::open || isolated_) return std::nullopt;
    return open_until_;
  }

  const std::string& name() const noexcept { return options_.name; }
  const options& config() const noexcept { return options_; }

 private:
  // Closed and untimed: no permit, no clock, and nothing written to shared
  // memory when the call succeeds (with consecutive_failures).
  template <class F, class... Args>
  detail::invoke_result_t<F, Args...> execute_closed(std::uint64_t generation, F&& f, Args&&... args) {
    auto out = detail::invoke_as_result(std::forward<F>(f), std::forward<Args>(args)...);
    if (out) [[likely]] {
      if (generation_of(word_.load(std::memory_order_relaxed)) == generation) tracker_.on_success({});
    } else {
      on_error(generation, false, out.error());
    }
    return out;
  }

  // The permit path, out of line so that execute() stays small enough to
  // inline: open, half-open, or a call that must be timed.
  template <class F, class... Args>
  BOOST_NOINLINE detail::invoke_result_t<F, Args...> execute_with_permit(F&& f, Args&&... args) {
    return execute_permitted(std::forward<F>(f), std::forward<Args>(args)...);
  }

  // Every call of a policy that reads the clock takes the permit path.
  template <class F, class... Args>
  detail::invoke_result_t<F, Args...> execute_permitted(F&& f, Args&&... args) {
    auto admitted = try_acquire();
    if (!admitted) return make_error_code(errc::circuit_open);
    auto out = detail::invoke_as_result(std::forward<F>(f), std::forward<Args>(args)...);
    if (out) {
      admitted->success();
    } else {
      admitted->failure(out.error());
    }
    return out;
  }

  // The state and a generation counter share one atomic word, so a call
  // admitted in one state can tell later whether a transition happened since.
  static constexpr std::uint64_t state_bits = 2;
  static circuit_state state_of(std::uint64_t word) noexcept {
    return static_cast<circuit_state>(word & ((1u << state_bits) - 1));
  }
  static std::uint64_t generation_of(std::uint64_t word) noexcept { return word >> state_bits; }

  static options validated(options opts) {
    const std::string_view component = "circuit_breaker";
    detail::require(opts.open_timeout > duration::zero(), component, "open_timeout", opts.open_timeout,
                    "must be greater than zero");
    detail::require(std::isfinite(opts.open_timeout_multiplier) && opts.open_timeout_multiplier >= 1.0, component,
                    "open_timeout_multiplier", opts.open_timeout_multiplier, "must be at least 1");
    detail::require(opts.max_open_timeout >= opts.open_timeout, component, "max_open_timeout",
                    opts.max_open_timeout, "must not be below open_timeout");
    detail::require(opts.timeout_reset_after >= 1, component, "timeout_reset_after", opts.timeout_reset_after,
                    "must be at least 1");
    detail::require(opts.half_open_probes >= 1, component, "half_open_probes", opts.half_open_probes,
                    "must be at least 1");
    detail::require(opts.slow_call_threshold >= duration::zero(), component, "slow_call_threshold",
                    opts.slow_call_threshold, "must not be negative");
    detail::require(static_cast<bool>(opts.is_failure), component, "is_failure", "empty function",
                    "must be set");
    opts.trip.validate(component);
    return opts;
  }

  bool times_calls() const noexcept {
    return TripPolicy::tracker::needs_time || options_.slow_call_threshold > duration::zero();
  }

  time_point call_start() const noexcept { return times_calls() ? clock_.now() : time_point{}; }

  bool open_timeout_expired() {
    std::lock_guard lock(mutex_);
    return !isolated_ && clock_.now() >= open_until_;
  }

  BOOST_NOINLINE std::optional<permit> try_acquire_slow() {
    std::unique_lock lock(mutex_);
    const auto now = clock_.now();
    expire_open_locked(now);
    const auto word = word_.load(std::memory_order_relaxed);
    switch (state_of(word)) {
      case circuit_state::closed:
        return permit{this, generation_of(word), false, call_start()};
      case circuit_state::half_open:
        if (tests_in_flight_ < options_.half_open_probes) {
          ++tests_in_flight_;
          return permit{this, generation_of(word), true, call_start()};
        }
        break;
      case circuit_state::open:
        break;
    }
    lock.unlock();
    reject(now);
    return std::nullopt;
  }

  void reject(time_point now) {
    const auto count = rejections_.fetch_add(1, std::memory_order_relaxed) + 1;
    const std::array samples{metric_sample{metric::rejections, static_cast<std::int64_t>(count)}};
    event e = base_event(event_kind::breaker_call_rejected, now);
    e.level = severity::debug;
    e.to = to_string(state_of(word_.load(std::memory_order_relaxed)));
    e.error = make_error_code(errc::circuit_open);
    e.metrics = samples;
    detail::emit(options_.sink, e);
  }

  // The success path of a closed-state call stays small enough to inline;
  // tests and slow-call checks go out of line.
  void on_success(std::uint64_t generation, bool test, time_point started) noexcept {
    if (test || options_.slow_call_threshold > duration::zero()) [[unlikely]] {
      on_success_slow(generation, test, started);
      return;
    }
    if (generation_of(word_.load(std::memory_order_relaxed)) != generation) return;
    tracker_.on_success(TripPolicy::tracker::needs_time ? clock_.now() : time_point{});
  }

  BOOST_NOINLINE void on_success_slow(std::uint64_t generation, bool test, time_point started) noexcept {
    if (options_.slow_call_threshold > duration::zero()) {
      const auto now = clock_.now();
      if (now - started > options_.slow_call_threshold) {
        record_slow_call(generation, test, now, now - started);
        return;
      }
    }
    if (!test) {
      if (generation_of(word_.load(std::memory_order_relaxed)) != generation) return;
      tracker_.on_success(TripPolicy::tracker::needs_time ? clock_.now() : time_point{});
      return;
    }

    std::lock_guard lock(mutex_);
    if (generation_of(word_.load(std::memory_order_relaxed)) != generation) return;
    if (++tests_in_a_row_ >= options_.timeout_reset_after) {
      open_timeout_ = options_.open_timeout;
      tests_in_a_row_ = 0;
    }
    ++auto_recoveries_;
    last_recovery_ = clock_.wall_now();
    transition_locked(circuit_state::closed, clock_.now(), "test call succeeded");
  }

  BOOST_NOINLINE void on_error(std::uint64_t generation, bool test, const std::error_code& ec) noexcept {
    if (ec == make_error_code(errc::cancelled) || ec == make_error_code(errc::circuit_open)) {
      if (test) release_test(generation);
      return;
    }
    bool counts = true;
    try {
      counts = options_.is_failure(ec);
    } catch (...) {
    }
    if (!counts) {
      on_success(generation, test, clock_.now());
      return;
    }
    record_failure(generation, test, ec, {});
  }

  void record_slow_call(std::uint64_t generation, bool test, time_point now, duration took) noexcept {
    event e = base_event(event_kind::breaker_slow_call, now);
    e.level = severity::info;
    e.delay = took;
    detail::emit(options_.sink, e);
    record_failure(generation, test, make_error_code(errc::timed_out), "slow call");
  }

  void record_failure(std::uint64_t generation, bool test, const std::error_code& ec,
                      std::string_view note) noexcept {
    std::lock_guard lock(mutex_);
    if (generation_of(word_.load(std::memory_order_relaxed)) != generation) return;
    const auto now = clock_.now();
    const auto count = failures_.fetch_add(1, std::memory_order_relaxed) + 1;

    const std::array samples{metric_sample{metric::failures, static_cast<std::int64_t>(count)}};
    event e = base_event(event_kind::breaker_call_failed, now);
    e.error = ec;
    e.reason = note;
    e.metrics = samples;
    detail::emit(options_.sink, e);

    if (test) {
      tests_in_a_row_ = 0;
      open_timeout_ = grown_timeout(open_timeout_);
      open_locked(now, "test call failed");
      return;
    }
    if (state_of(word_.load(std::memory_order_relaxed)) == circuit_state::closed && tracker_.on_failure(now)) {
      try {
        open_locked(now, tracker_.trip_reason());
      } catch (...) {
        open_locked(now, "trip policy threshold reached");
      }
    }
  }

  void release_test(std::uint64_t generation) noexcept {
    std::lock_guard lock(mutex_);
    if (generation_of(word_.load(std::memory_order_relaxed)) == generation && tests_in_flight_ > 0)
      --tests_in_flight_;
  }

  duration grown_timeout(duration current) const noexcept {
    const double grown = static_cast<double>(current.count()) * options_.open_timeout_multiplier;
    const auto cap = options_.max_open_timeout;
    if (!(grown < static_cast<double>(cap.count()))) return cap;
    return duration{static_cast<duration::rep>(grown)};
  }

  // The open timeout the next trip uses: a grown timeout shrinks by the
  // multiplier once for every options_.open_timeout the circuit stayed closed,
  // down to options_.open_timeout.
  duration relaxed_open_timeout_locked(time_point now) const noexcept {
    auto timeout = open_timeout_;
    if (state_of(word_.load(std::memory_order_relaxed)) != circuit_state::closed) return timeout;
    auto closed_for = now - closed_since_;
    while (timeout > options_.open_timeout && closed_for >= options_.open_timeout) {
      const auto shrunk = static_cast<double>(timeout.count()) / options_.open_timeout_multiplier;
      timeout = std::max(options_.open_timeout, duration{static_cast<duration::rep>(shrunk)});
      closed_for -= options_.open_timeout;
    }
    return timeout;
  }

  // Moves an open circuit whose timeout has expired to half_open.
  void expire_open_locked(time_point now) {
    if (state_of(word_.load(std::memory_order_relaxed)) == circuit_state::open && !isolated_ &&
        now >= open_until_)
      transition_locked(circuit_state::half_open, now, "open timeout expired");
  }

  void open_locked(time_point now, std::string_view reason) {
    if (state_of(word_.load(std::memory_order_relaxed)) == circuit_state::closed)
      open_timeout_ = relaxed_open_timeout_locked(now);
    open_until_ = clock::add_saturated(now, open_timeout_);
    if (state_of(word_.load(std::memory_order_relaxed)) != circuit_state::open) ++times_opened_;
    transition_locked(circuit_state::open, now, reason);
    if (!isolated_) arm_timer_locked(open_until_);
  }

  // Makes sure a timer fires at `deadline` or before. A pending timer that
  // fires earlier is enough, because on_open_timer() arms the next one; so
  // however often the circuit is forced open, one or two timers are pending.
  void arm_timer_locked(time_point deadline) {
    if (destroying_) return;
    for (const auto& timer : timers_)
      if (!timer.firing && timer.deadline <= deadline) return;
    const auto token = ++last_timer_token_;
    const auto id = clock_.schedule_at(deadline, [this, token] { on_open_timer(token); });
    timers_.push_back(open_timer{token, id, deadline, false});
  }

  // Runs on the clock's timer thread: moves an expired open circuit to
  // half_open and runs the probe, or arms the timer for a later deadline.
  // The timer stays listed until the probe has finished, so the destructor's
  // cancel() waits for it.
  void on_open_timer(std::uint64_t token) {
    std::unique_lock lock(mutex_);
    if (destroying_) return;
    const auto self = std::find_if(timers_.begin(), timers_.end(), [&](const auto& t) { return t.token == token; });
    if (self != timers_.end()) self->firing = true;
    const auto forget = [&] {
      std::erase_if(timers_, [&](const auto& timer) { return timer.token == token; });
    };

    const auto now = clock_.now();
    expire_open_locked(now);
    const auto word = word_.load(std::memory_order_relaxed);
    if (state_of(word) == circuit_state::open) {
      if (!isolated_) arm_timer_locked(open_until_);
      forget();
      return;
    }
    if (!options_.probe || state_of(word) != circuit_state::half_open ||
        tests_in_flight_ >= options_.half_open_probes) {
      forget();
      return;
    }
    ++tests_in_flight_;
    permit test{this, generation_of(word), true, call_start()};
    lock.unlock();

    const auto outcome = detail::invoke_as_result(options_.probe);
    if (outcome) {
      test.success();
    } else {
      test.failure(outcome.error());
    }
    lock.lock();
    forget();
  }

  void transition_locked(circuit_state to, time_point now, std::string_view reason) {
    const auto word = word_.load(std::memory_order_relaxed);
    const auto from = state_of(word);
    const auto generation = generation_of(word) + 1;
    word_.store((generation << state_bits) | static_cast<std::uint64_t>(to), std::memory_order_release);
    tests_in_flight_ = 0;
    if (to == circuit_state::closed) {
      tracker_.reset();
      closed_since_ = now;
    }
    if (from == to) return;  // e.g. reset() of a closed circuit: nothing to report

    const std::array samples{
        metric_sample{metric::failures, static_cast<std::int64_t>(failures_.load(std::memory_order_relaxed))},
        metric_sample{metric::rejections, static_cast<std::int64_t>(rejections_.load(std::memory_order_relaxed))},
        metric_sample{metric::auto_recoveries, static_cast<std::int64_t>(auto_recoveries_)},
        metric_sample{metric::open_timeout_ms,
                      std::chrono::duration_cast<std::chrono::milliseconds>(open_timeout_).count()}};
    event e = base_event(event_kind::breaker_state_changed, now);
    e.level = to == circuit_state::open ? severity::warning : severity::info;
    e.from = to_string(from);
    e.to = to_string(to);
    e.reason = reason;
    if (to == circuit_state::open) e.delay = isolated_ ? duration::zero() : open_timeout_;
    e.metrics = samples;
    detail::emit(options_.sink, e);
  }

  event base_event(event_kind kind, time_point now) const noexcept {
    return detail::make_event(kind, options_.name, {}, clock_, now);
  }

  clock& clock_;
  const options options_;
  typename TripPolicy::tracker tracker_;

  // (generation << 2) | state. Written under mutex_, read without it.
  std::atomic<std::uint64_t> word_{static_cast<std::uint64_t>(circuit_state::closed)};
  std::atomic<std::uint64_t> failures_{0};
  std::atomic<std::uint64_t> rejections_{0};

  mutable std::mutex mutex_;
  time_point open_until_{};                // guarded by mutex_
  time_point closed_since_;                // guarded by mutex_; when the circuit last closed
  duration open_timeout_;                  // guarded by mutex_
  std::uint32_t tests_in_flight_ = 0;      // guarded by mutex_
  std::uint32_t tests_in_a_row_ = 0;       // guarded by mutex_
  std::uint64_t times_opened_ = 0;         // guarded by mutex_
  std::uint64_t auto_recoveries_ = 0;      // guarded by mutex_
  std::optional<wall_time> last_recovery_; // guarded by mutex_
  bool isolated_ = false;                  // guarded by mutex_
  bool destroying_ = false;                // guarded by mutex_
  // A timer scheduled for the end of an open period.
  struct open_timer {
    std::uint64_t token;  // identifies it to its own callback
    timer_id id;
    time_point deadline;
    bool firing;  // its callback is running
  };
  std::vector<open_timer> timers_;         // guarded by mutex_; pending and firing timers
  std::uint64_t last_timer_token_ = 0;     // guarded by mutex_
};

// The breaker with the default trip policy: 5 consecutive failures.
using circuit_breaker = basic_circuit_breaker<consecutive_failures>;

MEND_END_NAMESPACE

#endif  // MEND_CIRCUIT_BREAKER_HPP
