// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_HEALTH_SIGNAL_HPP
#define MEND_HEALTH_SIGNAL_HPP

#include <mend/version.hpp>

#include <functional>
#include <string>

MEND_BEGIN_NAMESPACE

// One reading of a target's health.
struct health_reading {
  bool healthy = false;
  // Why, in a few words, for events and logs: "UP, last check L7OK" or
  // "DOWN, last check L4CON (layer 4 connection problem)".
  std::string reason;
};

// Reads a target's health now: a health checker's verdict, a load balancer's
// own check status, or anything else. A rollout calls it on its clock's timer
// with its lock held, so it must return quickly (bound any I/O with a
// timeout) and must not call back into the rollout. An exception counts as an
// unhealthy reading.
using health_signal = std::function<health_reading()>;

MEND_END_NAMESPACE

#endif  // MEND_HEALTH_SIGNAL_HPP
