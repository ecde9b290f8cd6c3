// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_EVENT_HPP
#define MEND_EVENT_HPP

#include <mend/clock.hpp>
#include <mend/version.hpp>

#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>

MEND_BEGIN_NAMESPACE

// Every event kind, declared once: X(name, family). Components emit events on
// transitions, retries and pool changes, never on a call that simply succeeds.
// The family names the kind of component that emits it.
#define MEND_EVENT_KINDS(X)                                                                           \
  /* breaker: a transition between closed, open and half_open (from, to, reason, delay = new open    \
     timeout when opening) */                                                                         \
  X(breaker_state_changed, circuit_breaker)                                                           \
  /* breaker: a call admitted by the breaker failed and was counted (error) */                        \
  X(breaker_call_failed, circuit_breaker)                                                             \
  /* breaker: a call was rejected with circuit_open without running */                                \
  X(breaker_call_rejected, circuit_breaker)                                                           \
  /* breaker: a call took longer than the slow-call threshold (delay = its duration) */              \
  X(breaker_slow_call, circuit_breaker)                                                               \
  /* retry: an attempt failed and another follows after `delay` (attempt = the failed one) */       \
  X(retry_scheduled, retry)                                                                           \
  /* retry: a retry attempt (attempt >= 2) succeeded */                                               \
  X(retry_succeeded, retry)                                                                           \
  /* retry: a retry attempt (attempt >= 2) failed (error) */                                          \
  X(retry_failed, retry)                                                                              \
  /* retry: the call ends without success (reason: "retries exhausted", "not retryable", "circuit     \
     open", a deadline or Retry-After that ends the retries, "cancelled"; error = the last error) */  \
  X(retry_gave_up, retry)                                                                             \
  /* pool: a connection was created and added */                                                      \
  X(pool_connection_created, connection_pool)                                                         \
  /* pool: a connection was removed and destroyed (reason: broken, stale, invalid, expired, idle,     \
     closed) */                                                                                       \
  X(pool_connection_removed, connection_pool)                                                         \
  /* pool: the factory failed to create a connection (error) */                                      \
  X(pool_create_failed, connection_pool)                                                              \
  /* pool: no connection works and none can be created; acquire() fails fast (error, delay =         \
     recovery_interval) */                                                                            \
  X(pool_recovery_entered, connection_pool)                                                           \
  /* pool: one creation attempt in recovery mode (attempt, error when it failed) */                   \
  X(pool_recovery_attempt, connection_pool)                                                           \
  /* pool: a creation attempt succeeded and the pool refills (delay = time spent recovering) */      \
  X(pool_recovery_exited, connection_pool)                                                            \
  /* pool: a waiter got pool_exhausted after acquire_timeout */                                       \
  X(pool_acquire_timed_out, connection_pool)                                                          \
  /* pool: a lease has been held longer than leak_threshold (delay = how long) */                     \
  X(pool_leak_suspected, connection_pool)                                                             \
  /* pool: the gauges changed (metrics: active, idle, total, waiters, recovery attempts) */          \
  X(pool_gauges, connection_pool)                                                                     \
  /* health: one active check of an endpoint failed (target, error) */                                \
  X(health_check_failed, health_checker)                                                              \
  /* health: an endpoint went healthy <-> unhealthy (target, from, to, reason) */                    \
  X(endpoint_health_changed, health_checker)                                                          \
  /* balancer: an endpoint entered or left rotation (target, from, to, reason) */                    \
  X(endpoint_rotation_changed, balancer)                                                              \
  /* balancer: panic routing started or stopped (reason) */                                           \
  X(balancer_panic_changed, balancer)                                                                 \
  /* alert: something an operator should know about, with a severity (target, reason) */            \
  X(alert_raised, alert)                                                                              \
  /* rollout: started, moved to a traffic step, promoted or rolled back (from, to, reason) */         \
  X(rollout_started, rollout)                                                                         \
  X(rollout_step_changed, rollout)                                                                    \
  X(rollout_promoted, rollout)                                                                        \
  X(rollout_rolled_back, rollout)                                                                     \
  /* rollout: blue got all traffic on a later try, after a rollback could not give it at once */      \
  X(rollout_traffic_restored, rollout)

// Every counter and gauge name, declared once: X(name). Events carry samples
// of these so that a report never recomputes what a component already counts.
#define MEND_METRIC_NAMES(X)                                                        \
  X(failures)           /* breaker: failed calls counted since construction */     \
  X(rejections)         /* breaker: calls rejected with circuit_open */           \
  X(auto_recoveries)    /* breaker: open -> closed without a manual reset */       \
  X(open_timeout_ms)    /* breaker: the open timeout now in force */              \
  X(total_retries)      /* retry: retry attempts made */                          \
  X(successful_retries) /* retry: retry attempts that succeeded */                \
  X(failed_retries)     /* retry: retry attempts that failed */                   \
  X(active)             /* pool: connections leased out */                        \
  X(idle)               /* pool: connections ready to lease */                    \
  X(total)              /* pool: connections alive, being created or destroyed */  \
  X(waiters)            /* pool: callers waiting in acquire() */                  \
  X(recovery_attempts)  /* pool: creation attempts made in recovery mode */       \
  X(weight)             /* balancer: the effective weight of an endpoint */

#define MEND_DETAIL_ENUM_ENTRY(name, ...) name,

enum class event_kind { MEND_EVENT_KINDS(MEND_DETAIL_ENUM_ENTRY) };

enum class metric { MEND_METRIC_NAMES(MEND_DETAIL_ENUM_ENTRY) };

// How much an operator should care, in increasing order.
enum class severity { debug, info, warning, error, critical };

constexpr std::string_view to_string(event_kind kind) noexcept {
  switch (kind) {
#define MEND_DETAIL_KIND_NAME(name, family) \
  case event_kind::name: return #name;
    MEND_EVENT_KINDS(MEND_DETAIL_KIND_NAME)
#undef MEND_DETAIL_KIND_NAME
  }
  return "unknown";
}

// Returns the kind of component that emits `kind`: "circuit_breaker",
// "retry", "connection_pool", "health_checker", "balancer", "alert" or
// "rollout".
constexpr std::string_view family_of(event_kind kind) noexcept {
  switch (kind) {
#define MEND_DETAIL_KIND_FAMILY(name, family) \
  case event_kind::name: return #family;
    MEND_EVENT_KINDS(MEND_DETAIL_KIND_FAMILY)
#undef MEND_DETAIL_KIND_FAMILY
  }
  return "unknown";
}

constexpr std::string_view to_string(metric m) noexcept {
  switch (m) {
#define MEND_DETAIL_METRIC_NAME(name) \
  case metric::name: return #name;
    MEND_METRIC_NAMES(MEND_DETAIL_METRIC_NAME)
#undef MEND_DETAIL_METRIC_NAME
  }
  return "unknown";
}

constexpr std::string_view to_string(severity level) noexcept {
  switch (level) {
    case severity::debug: return "debug";
    case severity::info: return "info";
    case severity::warning: return "warning";
    case severity::error: return "error";
    case severity::critical: return "critical";
  }
  return "unknown";
}

// One counter or gauge value at the time of an event.
struct metric_sample {
  metric name;
  std::int64_t value = 0;
};

// What a component reports to a metrics_sink. The views point into the
// emitter's storage and are valid only during record(); a sink that keeps an
// event copies what it needs (recording_sink shows how).
struct event {
  event_kind kind{};
  severity level = severity::info;
  std::string_view component;  // the name given to the emitting breaker, pool, ...
  std::string_view target;     // the endpoint or server concerned, if any
  time_point at{};             // monotonic time, for ordering and durations
  wall_time wall_at{};         // wall time, for reports
  std::string_view from;       // previous state, for transitions
  std::string_view to;         // new state, for transitions
  std::string_view reason;     // why, in a few words
  std::error_code error;       // the error involved, if any
  std::uint64_t attempt = 0;   // retry or recovery attempt number, from 1
  duration delay{};            // a duration the kind gives meaning to
  std::span<const metric_sample> metrics;

  // Returns the sample for `name`, or `fallback` when the event has none.
  std::int64_t metric_or(metric name, std::int64_t fallback) const noexcept {
    for (const auto& sample : metrics)
      if (sample.name == name) return sample.value;
    return fallback;
  }
};

MEND_END_NAMESPACE

#endif  // MEND_EVENT_HPP
