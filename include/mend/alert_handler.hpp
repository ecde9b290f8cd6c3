// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_ALERT_HANDLER_HPP
#define MEND_ALERT_HANDLER_HPP

#include <mend/clock.hpp>
#include <mend/event.hpp>
#include <mend/version.hpp>

#include <string>
#include <system_error>

MEND_BEGIN_NAMESPACE

// A transition an operator should know about, such as an endpoint turning
// unhealthy. The component also reports it to its sink as an alert_raised
// event with the same severity and message.
struct alert {
  severity level = severity::info;
  event_kind cause{};     // the event that reports the transition, e.g. endpoint_health_changed
  std::string component;  // the name of the health checker or balancer
  std::string target;     // the endpoint concerned; empty for the balancer as a whole
  std::string message;    // one sentence for a pager or a log
  std::error_code error;  // the error behind the transition, if any
  time_point at{};
  wall_time wall_at{};
};

// Receives alerts, for example to page an operator.
//
// A component calls on_alert() without holding its own lock, once per alert,
// one at a time and in the order the alerts were raised. The call runs on the
// thread that caused the transition (often the clock's timer thread), so a
// handler that does slow I/O should queue the alert and send it elsewhere.
// An exception thrown by on_alert() is dropped.
class alert_handler {
 public:
  virtual ~alert_handler() = default;
  virtual void on_alert(const alert& raised) = 0;
};

MEND_END_NAMESPACE

#endif  // MEND_ALERT_HANDLER_HPP
