// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_TRAFFIC_SWITCH_HPP
#define MEND_TRAFFIC_SWITCH_HPP

#include <mend/error.hpp>
#include <mend/result.hpp>
#include <mend/version.hpp>

#include <fmt/format.h>

#include <cstddef>
#include <initializer_list>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

MEND_BEGIN_NAMESPACE

// Errors that traffic_switch::apply() itself produces, in the
// "mend.traffic_switch" category. Errors of the load balancer behind an
// adapter keep their own category.
enum class switch_errc {
  weight_not_applied = 1,  // the weight read back differs from the weight just set
};

namespace detail {

class switch_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "mend.traffic_switch"; }

  std::string message(int value) const override {
    switch (static_cast<switch_errc>(value)) {
      case switch_errc::weight_not_applied: return "weight read back differs from the weight set";
    }
    return "unknown traffic switch error " + std::to_string(value);
  }
};

}  // namespace detail

inline const std::error_category& switch_category() noexcept {
  static const detail::switch_category category;
  return category;
}

inline std::error_code make_error_code(switch_errc value) noexcept {
  return {static_cast<int>(value), switch_category()};
}

// The weight one target should get: 0 sends it no traffic, and a target's
// share is its weight divided by the sum of the weights. A rollout keeps blue
// and green summing to 100, so a weight reads as a percentage.
struct weight_change {
  std::string target;
  int weight = 0;
};

// The error of the last failed call of a traffic_switch. The code is for
// branching. The message is for people and carries the load balancer's own
// text, for example "setting the weight of green to 10 failed: No such server.".
struct switch_error {
  std::error_code code;
  std::string message;
};

// Moves traffic between targets by setting their weights; the interface a
// rollout drives.
//
// apply() does the ordering and checking that keeps traffic flowing, so every
// adapter gets it. It reads the current weights, raises the weights that go
// up before it lowers those that go down (the total never dips, so a backend
// always has a server to send traffic to), and reads each weight back after
// setting it. An adapter implements only write_weight() and read_weight().
//
// Error reporting: every call returns mend::result, whose std::error_code is
// for branching (a std::error_code cannot carry text). The text of the most
// recent failure, including the load balancer's own message for a rejected
// command, is kept and returned by last_error(). Calls are serialized by an
// internal mutex; when several threads share one switch, a thread reading
// last_error() may see another thread's later failure.
//
//   mend::haproxy::backend_switch haproxy{runtime, "app"};
//   if (!haproxy.apply({{"green", 10}, {"blue", 90}}))
//     fmt::print(stderr, "{}\n", haproxy.last_error().message);
class traffic_switch {
 public:
  // The largest weight apply() accepts.
  static constexpr int max_weight = 100;

  traffic_switch() = default;
  traffic_switch(const traffic_switch&) = delete;
  traffic_switch& operator=(const traffic_switch&) = delete;
  virtual ~traffic_switch() = default;

  // Sets every weight in `changes`: raises first, then lowers, each in the
  // order given, and verifies each by reading it back. A change that leaves a
  // weight as it is sends no command. Stops at the first failure: the raises
  // made before it stay, so the failure can add capacity but never remove it.
  // Fails with errc::invalid_argument (weight outside 0-100, empty or repeated
  // target), with the adapter's error, or with switch_errc::weight_not_applied.
  result<void> apply(std::span<const weight_change> changes) {
    std::lock_guard lock(mutex_);
    auto outcome = apply_locked(changes);
    if (outcome) last_error_ = {};
    return outcome;
  }

  result<void> apply(std::initializer_list<weight_change> changes) {
    return apply(std::span<const weight_change>(changes.begin(), changes.size()));
  }

  // Reads the weight of `target` from the load balancer.
  result<int> weight(std::string_view target) {
    std::lock_guard lock(mutex_);
    std::string message;
    auto current = read_weight(target, message);
    if (!current)
      return fail(current.error(),
                  fmt::format("reading the weight of {} failed: {}", target, text_of(current.error(), message)));
    last_error_ = {};
    return current;
  }

  // The most recent failure; empty (no code, no text) after a call succeeded.
  switch_error last_error() const {
    std::lock_guard lock(mutex_);
    return last_error_;
  }

 protected:
  // Sets the weight (0-100) of `target`. On failure, returns the error and
  // puts the load balancer's own text, if it sent any, into `message`.
  virtual result<void> write_weight(std::string_view target, int weight, std::string& message) = 0;

  // Reads the weight of `target`. On failure, returns the error and puts the
  // load balancer's own text, if it sent any, into `message`.
  virtual result<int> read_weight(std::string_view target, std::string& message) = 0;

 private:
  struct planned_change {
    const weight_change* change;
    int current;
  };

  result<void> apply_locked(std::span<const weight_change> changes) {
    if (auto valid = validate(changes); !valid) return valid;

    std::vector<planned_change> raises;
    std::vector<planned_change> lowers;
    for (const auto& change : changes) {
      std::string message;
      auto current = read_weight(change.target, message);
      if (!current)
        return fail(current.error(), fmt::format("reading the weight of {} failed: {}", change.target,
                                                 text_of(current.error(), message)));
      if (change.weight > current.value()) raises.push_back({&change, current.value()});
      if (change.weight < current.value()) lowers.push_back({&change, current.value()});
    }

    for (const auto* group : {&raises, &lowers}) {
      for (const auto& planned : *group) {
        if (auto done = set_and_verify(*planned.change); !done) return done;
      }
    }
    return success();
  }

  result<void> validate(std::span<const weight_change> changes) {
    for (std::size_t i = 0; i < changes.size(); ++i) {
      const auto& change = changes[i];
      if (change.target.empty())
        return fail(make_error_code(errc::invalid_argument), "a weight change names no target");
      if (change.weight < 0 || change.weight > max_weight)
        return fail(make_error_code(errc::invalid_argument), fmt::format("invalid weight {} for {} (must be 0 to {})",
                                                                         change.weight, change.target, max_weight));
      for (std::size_t j = 0; j < i; ++j) {
        if (changes[j].target == change.target)
          return fail(make_error_code(errc::invalid_argument),
                      fmt::format("{} appears twice in one set of weight changes", change.target));
      }
    }
    return success();
  }

  result<void> set_and_verify(const weight_change& change) {
    std::string message;
    if (auto written = write_weight(change.target, change.weight, message); !written)
      return fail(written.error(), fmt::format("setting the weight of {} to {} failed: {}", change.target,
                                               change.weight, text_of(written.error(), message)));

    auto read_back = read_weight(change.target, message);
    if (!read_back)
      return fail(read_back.error(), fmt::format("reading back the weight of {} failed: {}", change.target,
                                                 text_of(read_back.error(), message)));
    if (read_back.value() != change.weight)
      return fail(make_error_code(switch_errc::weight_not_applied),
                  fmt::format("the weight of {} reads {} after it was set to {}", change.target, read_back.value(),
                              change.weight));
    return success();
  }

  // The adapter's text, or the error code's own message when it sent none.
  static std::string text_of(const std::error_code& code, const std::string& message) {
    return message.empty() ? code.message() : message;
  }

  std::error_code fail(std::error_code code, std::string message) {
    last_error_ = {code, std::move(message)};
    return code;
  }

  mutable std::mutex mutex_;  // serializes apply() and weight(), and guards last_error_
  switch_error last_error_;   // guarded by mutex_
};

MEND_END_NAMESPACE

template <>
struct std::is_error_code_enum<mend::switch_errc> : std::true_type {};

#endif  // MEND_TRAFFIC_SWITCH_HPP
