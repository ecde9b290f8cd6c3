// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_BACKOFF_HPP
#define MEND_BACKOFF_HPP

#include <mend/clock.hpp>
#include <mend/config_error.hpp>
#include <mend/version.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string_view>
#include <variant>

MEND_BEGIN_NAMESPACE

// Delay calculators. Each is a pure function of the retry number (1 for the
// first retry): it never reads a clock or sleeps; the retry policy owns the
// waiting. Results never go negative and never exceed `max`, whatever the
// retry number, because the arithmetic saturates instead of overflowing.

// initial, initial * multiplier, initial * multiplier^2, ... up to max.
struct exponential_backoff {
  duration initial = std::chrono::seconds{1};
  double multiplier = 2.0;
  duration max = std::chrono::seconds{4};

  duration delay(std::uint32_t retry) const noexcept {
    const double base = static_cast<double>(initial.count());
    const double exponent = static_cast<double>(std::max<std::uint32_t>(retry, 1) - 1);
    const double value = base * std::pow(multiplier, exponent);
    return clamp_to(value, max);
  }

  void validate(std::string_view component) const {
    detail::require(initial >= duration::zero(), component, "backoff.initial", initial, "must not be negative");
    detail::require(std::isfinite(multiplier) && multiplier > 0.0, component, "backoff.multiplier", multiplier,
                    "must be greater than zero");
    detail::require(max >= initial, component, "backoff.max", max, "must not be below backoff.initial");
  }

  // Converts a computed value to a duration within [0, cap]; NaN and
  // infinity (an overflowed power) give the cap.
  static duration clamp_to(double value, duration cap) noexcept {
    if (!(value < static_cast<double>(cap.count()))) return cap;
    if (value <= 0.0) return duration::zero();
    return duration{static_cast<duration::rep>(value)};
  }
};

// initial, initial + step, initial + 2 * step, ... up to max.
struct linear_backoff {
  duration initial = std::chrono::seconds{1};
  duration step = std::chrono::seconds{1};
  duration max = std::chrono::seconds{4};

  duration delay(std::uint32_t retry) const noexcept {
    const double steps = static_cast<double>(std::max<std::uint32_t>(retry, 1) - 1);
    const double value = static_cast<double>(initial.count()) + steps * static_cast<double>(step.count());
    return exponential_backoff::clamp_to(value, max);
  }

  void validate(std::string_view component) const {
    detail::require(initial >= duration::zero(), component, "backoff.initial", initial, "must not be negative");
    detail::require(step >= duration::zero(), component, "backoff.step", step, "must not be negative");
    detail::require(max >= initial, component, "backoff.max", max, "must not be below backoff.initial");
  }
};

// The same delay before every retry.
struct constant_backoff {
  duration delay_between = std::chrono::seconds{1};

  duration delay(std::uint32_t) const noexcept { return delay_between; }

  void validate(std::string_view component) const {
    detail::require(delay_between >= duration::zero(), component, "backoff.delay_between", delay_between,
                    "must not be negative");
  }
};

using backoff_policy = std::variant<exponential_backoff, linear_backoff, constant_backoff>;

// Returns the delay before retry number `retry` (1-based), without jitter.
inline duration backoff_delay(const backoff_policy& policy, std::uint32_t retry) noexcept {
  return std::visit([&](const auto& p) { return p.delay(retry); }, policy);
}

// Returns the largest delay `policy` can produce.
inline duration backoff_cap(const backoff_policy& policy) noexcept {
  return std::visit(
      [](const auto& p) -> duration {
        if constexpr (requires { p.max; }) {
          return p.max;
        } else {
          return p.delay_between;
        }
      },
      policy);
}

inline void validate_backoff(const backoff_policy& policy, std::string_view component) {
  std::visit([&](const auto& p) { p.validate(component); }, policy);
}

// Jitter spreads the retries of many clients that failed at the same moment,
// so they do not hit a recovering backend in synchronized waves. The
// variants follow the common definitions (base = the calculator's delay):
enum class jitter {
  none,          // exactly base
  full,          // uniform in [0, base]
  equal,         // base / 2 + uniform in [0, base / 2]
  decorrelated,  // uniform in [initial, 3 * previous delay], capped at max
};

// A source of uniformly distributed numbers in [0, 1). Injected so that tests
// can check exact jittered delays.
using random_source = std::function<double()>;

// A thread-safe random_source backed by one Mersenne Twister per thread.
inline random_source default_random_source() {
  return [] {
    thread_local std::mt19937_64 engine{std::random_device{}()};
    return std::uniform_real_distribution<double>{0.0, 1.0}(engine);
  };
}

// The delays of one call's retries: the calculator's delay with jitter
// applied. Decorrelated jitter depends on the previous delay, hence an object.
class backoff_schedule {
 public:
  backoff_schedule(const backoff_policy& policy, jitter mode, const random_source& random) noexcept
      : policy_(policy), mode_(mode), random_(random) {}

  // Returns the delay before the next retry, in [0, cap].
  duration next() {
    ++retry_;
    const duration base = backoff_delay(policy_, retry_);
    const duration cap = backoff_cap(policy_);
    duration out = base;
    switch (mode_) {
      case jitter::none:
        break;
      case jitter::full:
        out = scale(base, uniform());
        break;
      case jitter::equal:
        out = base / 2 + scale(base - base / 2, uniform());
        break;
      case jitter::decorrelated: {
        const duration low = backoff_delay(policy_, 1);
        const duration previous = previous_ == duration::zero() ? low : previous_;
        const double high = std::max(static_cast<double>(low.count()), 3.0 * static_cast<double>(previous.count()));
        const double value = static_cast<double>(low.count()) + uniform() * (high - static_cast<double>(low.count()));
        out = exponential_backoff::clamp_to(value, cap);
        break;
      }
    }
    out = std::clamp(out, duration::zero(), cap);
    previous_ = out;
    return out;
  }

  // The number of delays handed out so far.
  std::uint32_t retries() const noexcept { return retry_; }

 private:
  // A draw from the random source, forced into [0, 1].
  double uniform() const {
    const double value = random_ ? random_() : 0.0;
    if (!(value >= 0.0)) return 0.0;  // also NaN
    return std::min(value, 1.0);
  }

  static duration scale(duration d, double factor) noexcept {
    return exponential_backoff::clamp_to(static_cast<double>(d.count()) * factor, d);
  }

  const backoff_policy& policy_;
  const jitter mode_;
  const random_source& random_;
  std::uint32_t retry_ = 0;
  duration previous_{};
};

MEND_END_NAMESPACE

#endif  // MEND_BACKOFF_HPP
