// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_ENDPOINT_HEALTH_HPP
#define MEND_ENDPOINT_HEALTH_HPP

#include <mend/version.hpp>

#include <cstdint>
#include <string_view>

MEND_BEGIN_NAMESPACE

// The health of an endpoint as its active checks see it.
enum class endpoint_health : std::uint8_t {
  healthy,    // may take traffic; `fall` failed checks in a row make it unhealthy
  unhealthy,  // takes no traffic; `rise` successful checks in a row make it healthy
};

constexpr std::string_view to_string(endpoint_health health) noexcept {
  switch (health) {
    case endpoint_health::healthy: return "healthy";
    case endpoint_health::unhealthy: return "unhealthy";
  }
  return "unknown";
}

// Receives the health of endpoints from a health_checker: once when the
// checker starts watching an endpoint, then once per transition. The
// balancer is one, so `.observers = {&balancer}` routes by the checks.
//
// set_health() runs on the thread that ran the check (the clock's timer
// thread) or that called health_checker::add(), without the checker's lock
// held. Calls for one endpoint arrive in order.
class health_observer {
 public:
  virtual ~health_observer() = default;
  virtual void set_health(std::string_view endpoint, endpoint_health health) = 0;
};

MEND_END_NAMESPACE

#endif  // MEND_ENDPOINT_HEALTH_HPP
