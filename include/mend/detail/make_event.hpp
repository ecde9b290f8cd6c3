// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_DETAIL_MAKE_EVENT_HPP
#define MEND_DETAIL_MAKE_EVENT_HPP

#include <mend/clock.hpp>
#include <mend/event.hpp>
#include <mend/version.hpp>

#include <string_view>

MEND_BEGIN_NAMESPACE
namespace detail {

// Returns an event of `kind` from `component` about `target`, stamped with
// `now` and the wall time of `clk`. The caller fills in the rest.
inline event make_event(event_kind kind, std::string_view component, std::string_view target, const clock& clk,
                        time_point now) noexcept {
  event e;
  e.kind = kind;
  e.component = component;
  e.target = target;
  e.at = now;
  e.wall_at = clk.wall_now();
  return e;
}

}  // namespace detail
MEND_END_NAMESPACE

#endif  // MEND_DETAIL_MAKE_EVENT_HPP
