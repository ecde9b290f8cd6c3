// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_RETRY_POLICY_HPP
#define MEND_RETRY_POLICY_HPP

#include <mend/backoff.hpp>
#include <mend/clock.hpp>
#include <mend/config_error.hpp>
#include <mend/detail/make_event.hpp>
#include <mend/error.hpp>
#include <mend/event.hpp>
#include <mend/http_error.hpp>
#include <mend/metrics_sink.hpp>
#include <mend/result.hpp>
#include <mend/steady_clock_source.hpp>
#include <mend/transient.hpp>
#include <mend/version.hpp>

#include <boost/config.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <stop_token>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

MEND_BEGIN_NAMESPACE

// Counters of a retry policy since construction; total = successful + failed.
struct retry_stats {
  std::uint64_t total_retries = 0;       // retry attempts made (not counting first attempts)
  std::uint64_t successful_retries = 0;  // retry attempts that succeeded
  std::uint64_t failed_retries = 0;      // retry attempts that failed
  std::uint64_t gave_up = 0;             // calls that ended in an error after at least one failure
};

// Calls again after transient failures, waiting longer each time.
//
// Defaults: at most 3 retries (4 attempts) after 1 s, 2 s and 4 s, exponential
// backoff without jitter. Only errors the classifier calls retryable are
// retried. A Retry-After hint in the error (see http_error()) lengthens the
// delay, up to max_retry_after and within the total deadline.
//
// The retry respects a circuit breaker: errc::circuit_open ends it at once,
// without a sleep, and when it wraps a breaker through decorate() it also
// stops, without sleeping, as soon as the breaker would reject the next
// attempt. It then returns the last real error, so the cause is not hidden.
//
// Cancellation: pass a std::stop_token as the first argument (the callable
// receives it too); a stop request ends the sleep at once and the call
// returns errc::cancelled.
//
// When every attempt failed the call returns the last attempt's error, or
// errc::retries_exhausted if report_exhaustion is set.
//
// Thread-safe and shareable: one policy serves many call sites. A call that
// succeeds first time reads no clock and writes no shared memory.
class retry_policy {
 public:
  struct options {
    // Names the policy in events and reports.
    std::string name = "retry";
    // Retries after the first attempt; 0 turns retrying off.
    std::uint32_t max_retries = 3;
    // The delay before retry n; the default gives 1 s, 2 s, 4 s.
    backoff_policy backoff = exponential_backoff{};
    jitter jitter_mode = jitter::none;
    // Where jitter draws from; empty means default_random_source().
    random_source random{};
    // Which errors are worth another attempt.
    error_classifier is_retryable = is_transient;
    // The total time a call may take, from its first attempt, including
    // sleeps; a retry that could not start in time is not made. Zero: none.
    duration deadline = duration::zero();
    // The longest Retry-After hint honoured; a longer hint ends the retries,
    // because waiting less than the server asked would be wasted.
    duration max_retry_after = std::chrono::seconds{60};
    // Return errc::retries_exhausted instead of the last error when all
    // attempts failed.
    bool report_exhaustion = false;
    metrics_sink* sink = nullptr;
  };

  retry_policy() : retry_policy(default_clock(), options{}) {}
  explicit retry_policy(options opts) : retry_policy(default_clock(), std::move(opts)) {}
  retry_policy(clock& clk, options opts) : clock_(clk), options_(validated(std::move(opts))) {
    if (!options_.random) options_.random = default_random_source();
  }

  retry_policy(const retry_policy&) = delete;
  retry_policy& operator=(const retry_policy&) = delete;

  // Calls f(args...) until it succeeds, fails with an error that is not
  // retryable, or runs out of retries or time. If the first of `args` is a
  // std::stop_token it cancels the retries and is passed on to f. Arguments
  // are passed as lvalues, because every attempt needs them.
  template <class F, class... Args>
  detail::invoke_result_t<F&, Args&...> execute(F&& f, Args&&... args) {
    std::stop_token stop = stop_token_of(args...);
    if (stop.stop_requested()) return make_error_code(errc::cancelled);

    return run_attempts(f, stop, args...);
  }

  retry_stats stats() const noexcept {
    return {total_.load(std::memory_order_relaxed), successful_.load(std::memory_order_relaxed),
            failed_.load(std::memory_order_relaxed), gave_up_.load(std::memory_order_relaxed)};
  }

  const std::string& name() const noexcept { return options_.name; }
  const options& config() const noexcept { return options_; }

 private:
  // One named result for every path, so the compiler builds it in the
  // caller's storage instead of copying it.
  template <class F, class... Args>
  detail::invoke_result_t<F&, Args&...> run_attempts(F& f, const std::stop_token& stop, Args&... args) {
    // The clock is read only when a deadline needs the start time, so the
    // success path stays free of it.
    const time_point started = options_.deadline > duration::zero() ? clock_.now() : time_point{};
    auto out = detail::invoke_as_result(f, args...);
    if (!out) [[unlikely]]
      out = retry_after_failure(f, stop, started, std::move(out), args...);
    return out;
  }

  static options validated(options opts) {
    const std::string_view component = "retry_policy";
    validate_backoff(opts.backoff, component);
    detail::require(opts.jitter_mode >= jitter::none && opts.jitter_mode <= jitter::decorrelated, component,
                    "jitter_mode", static_cast<int>(opts.jitter_mode), "must be none, full, equal or decorrelated");
    detail::require(opts.deadline >= duration::zero(), component, "deadline", opts.deadline,
                    "must not be negative, and zero turns it off");
    detail::require(opts.max_retry_after >= duration::zero(), component, "max_retry_after", opts.max_retry_after,
                    "must not be negative");
    detail::require(static_cast<bool>(opts.is_retryable), component, "is_retryable", "empty function",
                    "must be set");
    return opts;
  }

  template <class... Args>
  static std::stop_token stop_token_of(const Args&... args) noexcept {
    if constexpr (sizeof...(Args) > 0) {
      return first_stop_token(args...);
    } else {
      return {};
    }
  }

  template <class First, class... Rest>
  static std::stop_token first_stop_token(const First& first, const Rest&...) noexcept {
    if constexpr (std::is_same_v<std::remove_cvref_t<First>, std::stop_token>) {
      return first;
    } else {
      return {};
    }
  }

  // True when `f` (a decorated layer) says a breaker inside it would reject
  // the next attempt.
  template <class F>
  static bool inner_would_reject(F& f) {
    if constexpr (requires { f.would_reject(); }) {
      return f.would_reject();
    } else {
      return false;
    }
  }

  template <class F, class Result, class... Args>
  BOOST_NOINLINE Result retry_after_failure(F& f, const std::stop_token& stop, time_point started, Result last,
                                            Args&... args) {
    backoff_schedule schedule{options_.backoff, options_.jitter_mode, options_.random};

    for (std::uint32_t attempt = 1;; ++attempt) {
      const std::error_code ec = last.error();
      const auto now = clock_.now();

      if (ec == make_error_code(errc::circuit_open)) return give_up(std::move(last), attempt, now, "circuit open");
      if (ec == make_error_code(errc::cancelled)) return give_up(std::move(last), attempt, now, "cancelled");
      if (!retryable(ec)) return give_up(std::move(last), attempt, now, "not retryable");
      if (attempt > options_.max_retries) {
        auto exhausted = give_up(std::move(last), attempt, now, "retries exhausted");
        if (options_.report_exhaustion) return make_error_code(errc::retries_exhausted);
        return exhausted;
      }

      duration delay = schedule.next();
      if (const auto hint = retry_after_of(ec)) {
        if (*hint > options_.max_retry_after)
          return give_up(std::move(last), attempt, now, "Retry-After longer than max_retry_after");
        delay = std::max<duration>(delay, *hint);
      }
      if (options_.deadline > duration::zero() && (now - started) + delay >= options_.deadline)
        return give_up(std::move(last), attempt, now, "deadline would pass before the next attempt");
      if (inner_would_reject(f)) return give_up(std::move(last), attempt, now, "circuit open");

      report(event_kind::retry_scheduled, attempt, now, ec, delay, {}, severity::info);
      if (!clock_.sleep_for(delay, stop)) {
        gave_up_.fetch_add(1, std::memory_order_relaxed);
        report(event_kind::retry_gave_up, attempt, clock_.now(), make_error_code(errc::cancelled), {}, "cancelled",
               severity::info);
        return make_error_code(errc::cancelled);
      }

      last = detail::invoke_as_result(f, args...);
      total_.fetch_add(1, std::memory_order_relaxed);
      if (last) {
        successful_.fetch_add(1, std::memory_order_relaxed);
        report(event_kind::retry_succeeded, attempt + 1, clock_.now(), {}, {}, {}, severity::info);
        return last;
      }
      failed_.fetch_add(1, std::memory_order_relaxed);
      report(event_kind::retry_failed, attempt + 1, clock_.now(), last.error(), {}, {}, severity::info);
    }
  }

  bool retryable(const std::error_code& ec) const noexcept {
    try {
      return options_.is_retryable(ec);
    } catch (...) {
      return false;
    }
  }

  // Ends a call that failed: counts it and reports why, then hands the result back.
  template <class Result>
  Result give_up(Result last, std::uint32_t attempts, time_point now, std::string_view reason) {
    gave_up_.fetch_add(1, std::memory_order_relaxed);
    report(event_kind::retry_gave_up, attempts, now, last.error(), {}, reason,
           attempts > 1 ? severity::warning : severity::info);
    return last;
  }

  void report(event_kind kind, std::uint64_t attempt, time_point now, std::error_code ec, duration delay,
              std::string_view reason, severity level) const {
    const auto s = stats();
    const std::array samples{metric_sample{metric::total_retries, static_cast<std::int64_t>(s.total_retries)},
                             metric_sample{metric::successful_retries, static_cast<std::int64_t>(s.successful_retries)},
                             metric_sample{metric::failed_retries, static_cast<std::int64_t>(s.failed_retries)}};
    event e = detail::make_event(kind, options_.name, {}, clock_, now);
    e.level = level;
    e.reason = reason;
    e.error = ec;
    e.attempt = attempt;
    e.delay = delay;
    e.metrics = samples;
    detail::emit(options_.sink, e);
  }

  clock& clock_;
  options options_;  // not changed after construction
  std::atomic<std::uint64_t> total_{0};
  std::atomic<std::uint64_t> successful_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> gave_up_{0};
};

MEND_END_NAMESPACE

#endif  // MEND_RETRY_POLICY_HPP
