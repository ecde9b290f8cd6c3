// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_BALANCER_SWITCH_HPP
#define MEND_BALANCER_SWITCH_HPP

#include <mend/balancer.hpp>
#include <mend/error.hpp>
#include <mend/result.hpp>
#include <mend/traffic_switch.hpp>
#include <mend/version.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>

MEND_BEGIN_NAMESPACE

// A traffic_switch over an in-process balancer: a target is an endpoint
// name, and its weight is the endpoint's configured weight (set_weight(),
// weight()). The balancer applies a weight to the next pick, so a rollout
// step takes effect at once. An endpoint that is out of rotation (unhealthy,
// or with an open breaker) still gets no picks, whatever its weight.
//
//   mend::balancer balancer{clock, {.endpoints = {{.name = "blue", .weight = 100},
//                                                 {.name = "green", .weight = 0,
//                                                  .health = mend::endpoint_health::unhealthy}}}};
//   mend::health_checker checker{clock, {.observers = {&balancer}}};
//   checker.add("green", probe_green, mend::endpoint_health::unhealthy);
//   mend::balancer_switch traffic{balancer};
//   mend::rollout deploy{clock, traffic, {.green_health = checker.signal("green")}};
class balancer_switch final : public traffic_switch {
 public:
  // The balancer must outlive the switch.
  explicit balancer_switch(balancer& target) : balancer_(target) {}

 protected:
  result<void> write_weight(std::string_view target, int weight, std::string& message) override {
    // apply() has checked 0-100 already, which is the balancer's range too.
    auto written = balancer_.set_weight(target, static_cast<std::uint32_t>(weight));
    if (!written) message = describe_failure(target);
    return written;
  }

  result<int> read_weight(std::string_view target, std::string& message) override {
    auto current = balancer_.weight(target);
    if (!current) {
      message = describe_failure(target);
      return current.error();
    }
    return static_cast<int>(current.value());
  }

 private:
  // Describes the only failure left after apply() checked the range: the
  // balancer returns errc::invalid_argument for an unknown endpoint.
  std::string describe_failure(std::string_view target) const {
    return fmt::format("balancer {} has no endpoint named {}", balancer_.name(), target);
  }

  balancer& balancer_;
};

MEND_END_NAMESPACE

#endif  // MEND_BALANCER_SWITCH_HPP
