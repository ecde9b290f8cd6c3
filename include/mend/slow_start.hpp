// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_SLOW_START_HPP
#define MEND_SLOW_START_HPP

#include <mend/clock.hpp>
#include <mend/config_error.hpp>
#include <mend/version.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

MEND_BEGIN_NAMESPACE

// The highest weight an endpoint can have. Weights run from 0 (no traffic)
// to max_weight.
inline constexpr std::uint32_t max_weight = 100;

// Thousandths of a weight point, the unit the balancer computes in. With it a
// ramp that starts at 10 % gives weight 1 an effective weight of 0.1 instead
// of rounding it down to 0.
inline constexpr std::uint32_t weight_scale = 1000;

// Slow start: once an endpoint returns to rotation, its effective weight grows
// linearly over `window`, from `min_share` of its weight to the full weight,
// so a server that has just recovered is not flooded. A pure calculator: it
// reads no clock, the caller passes the time since the return.
struct slow_start {
  // How long the ramp lasts; zero turns slow start off.
  duration window = std::chrono::seconds{60};
  // The share of the weight an endpoint gets when it returns, in (0, 1].
  double min_share = 0.1;

  void validate(std::string_view component) const {
    detail::require(window >= duration::zero(), component, "slow_start.window", window, "must not be negative");
    detail::require(std::isfinite(min_share) && min_share > 0.0 && min_share <= 1.0, component,
                    "slow_start.min_share", min_share, "must be greater than 0 and at most 1");
  }

  // Returns the effective weight, in thousandths of a weight point, of an
  // endpoint of weight `weight` (at most max_weight) that returned to
  // rotation `elapsed` ago. The result is at least 1 for any weight above 0
  // and reaches weight * weight_scale at the end of the window.
  std::uint32_t scaled_weight_at(std::uint32_t weight, duration elapsed) const noexcept {
    const std::uint32_t full = weight * weight_scale;
    if (weight == 0 || window <= duration::zero() || elapsed >= window) return full;

    const double progress = static_cast<double>(std::max(elapsed, duration::zero()).count()) /
                            static_cast<double>(window.count());
    const double share = min_share + (1.0 - min_share) * progress;
    const auto scaled = std::llround(static_cast<double>(full) * share);
    return static_cast<std::uint32_t>(std::clamp<long long>(scaled, 1, full));
  }

  // Returns the effective weight in weight points, e.g. 0.19 for weight 1
  // after a tenth of the default window.
  double weight_at(std::uint32_t weight, duration elapsed) const noexcept {
    return static_cast<double>(scaled_weight_at(weight, elapsed)) / weight_scale;
  }

  // True once the ramp is over for an endpoint that returned `elapsed` ago.
  bool finished(duration elapsed) const noexcept { return elapsed >= window; }
};

MEND_END_NAMESPACE

#endif  // MEND_SLOW_START_HPP
