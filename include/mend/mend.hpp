// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
//
// Includes every core header. The optional adapters under mend/adapters/
// need extra dependencies and are included one by one.
#ifndef MEND_MEND_HPP
#define MEND_MEND_HPP

#include <mend/alert_handler.hpp>
#include <mend/backoff.hpp>
#include <mend/balancer.hpp>
#include <mend/balancer_switch.hpp>
#include <mend/breaker_signal.hpp>
#include <mend/circuit_breaker.hpp>
#include <mend/circuit_state.hpp>
#include <mend/clock.hpp>
#include <mend/config_error.hpp>
#include <mend/connection_pool.hpp>
#include <mend/connection_pool_options.hpp>
#include <mend/decorate.hpp>
#include <mend/endpoint_health.hpp>
#include <mend/error.hpp>
#include <mend/event.hpp>
#include <mend/health_checker.hpp>
#include <mend/health_signal.hpp>
#include <mend/http_error.hpp>
#include <mend/log_sink.hpp>
#include <mend/manual_clock.hpp>
#include <mend/metrics_sink.hpp>
#include <mend/recording_sink.hpp>
#include <mend/result.hpp>
#include <mend/retry_policy.hpp>
#include <mend/rollout.hpp>
#include <mend/slow_start.hpp>
#include <mend/status_reporter.hpp>
#include <mend/steady_clock_source.hpp>
#include <mend/traffic_switch.hpp>
#include <mend/transient.hpp>
#include <mend/trip_policy/consecutive_failures.hpp>
#include <mend/trip_policy/failure_rate.hpp>
#include <mend/trip_policy/failure_rate_over_time.hpp>
#include <mend/version.hpp>

#endif  // MEND_MEND_HPP
