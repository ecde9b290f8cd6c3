#include <mend/backoff.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <vector>

using namespace std::chrono_literals;

namespace {

// A random source that hands out a fixed sequence, then repeats the last value.
mend::random_source sequence(std::vector<double> values) {
  return [values, next = std::size_t{0}]() mutable {
    const double value = values[std::min(next, values.size() - 1)];
    ++next;
    return value;
  };
}

std::vector<mend::duration> first_delays(const mend::backoff_policy& policy, mend::jitter mode,
                                         const mend::random_source& random, int count) {
  mend::backoff_schedule schedule{policy, mode, random};
  std::vector<mend::duration> out;
  for (int i = 0; i < count; ++i) out.push_back(schedule.next());
  return out;
}

}  // namespace

TEST_CASE("exponential backoff defaults give 1 2 4 seconds", "[backoff]") {
  const mend::exponential_backoff backoff;
  CHECK(backoff.delay(1) == 1000ms);
  CHECK(backoff.delay(2) == 2000ms);
  CHECK(backoff.delay(3) == 4000ms);
  CHECK(backoff.delay(4) == 4000ms);
}

TEST_CASE("exponential backoff saturates for any retry number", "[backoff]") {
  const mend::exponential_backoff backoff{.initial = 1s, .multiplier = 10.0, .max = 1h};
  for (const std::uint32_t retry : {5u, 63u, 64u, 1000u, std::numeric_limits<std::uint32_t>::max()}) {
    INFO("retry " << retry);
    CHECK(backoff.delay(retry) == 1h);
  }

  const mend::exponential_backoff unbounded{.initial = 1s, .multiplier = 2.0, .max = mend::duration::max()};
  CHECK(unbounded.delay(std::numeric_limits<std::uint32_t>::max()) == mend::duration::max());
  CHECK(unbounded.delay(34) == std::chrono::seconds{1LL << 33});
}

TEST_CASE("backoff retry zero counts as the first retry", "[backoff]") {
  CHECK(mend::exponential_backoff{}.delay(0) == 1s);
  CHECK(mend::linear_backoff{}.delay(0) == 1s);
}

TEST_CASE("linear backoff grows by its step up to the cap", "[backoff]") {
  const mend::linear_backoff backoff{.initial = 500ms, .step = 250ms, .max = 1s};
  CHECK(backoff.delay(1) == 500ms);
  CHECK(backoff.delay(2) == 750ms);
  CHECK(backoff.delay(3) == 1000ms);
  CHECK(backoff.delay(4) == 1000ms);
  CHECK(backoff.delay(std::numeric_limits<std::uint32_t>::max()) == 1000ms);
}

TEST_CASE("constant backoff repeats its delay", "[backoff]") {
  const mend::constant_backoff backoff{.delay_between = 300ms};
  CHECK(backoff.delay(1) == 300ms);
  CHECK(backoff.delay(1000) == 300ms);
}

TEST_CASE("full jitter scales the delay by the draw", "[backoff][jitter]") {
  const auto delays = first_delays(mend::exponential_backoff{}, mend::jitter::full, sequence({0.5, 0.25, 0.0}), 4);
  CHECK(delays == std::vector<mend::duration>{500ms, 500ms, 0ms, 0ms});
}

TEST_CASE("equal jitter keeps half the delay", "[backoff][jitter]") {
  const auto delays = first_delays(mend::exponential_backoff{}, mend::jitter::equal, sequence({0.5, 0.0, 1.0}), 3);
  CHECK(delays == std::vector<mend::duration>{750ms, 1000ms, 4000ms});
}

TEST_CASE("decorrelated jitter grows from the previous delay", "[backoff][jitter]") {
  // low = 1 s; draws in [low, 3 * previous], capped at 4 s.
  const auto delays =
      first_delays(mend::exponential_backoff{}, mend::jitter::decorrelated, sequence({0.5, 0.5, 1.0, 0.0}), 4);
  // 1 + 0.5 * (3 - 1) = 2 s; 1 + 0.5 * (6 - 1) = 3.5 s; 1 + 1.0 * (10.5 - 1) capped = 4 s; 0.0 gives low.
  CHECK(delays == std::vector<mend::duration>{2s, 3500ms, 4s, 1s});
}

TEST_CASE("jitter tolerates a random source out of range", "[backoff][jitter]") {
  const auto high = first_delays(mend::exponential_backoff{}, mend::jitter::full, sequence({7.0}), 3);
  CHECK(high == std::vector<mend::duration>{1s, 2s, 4s});
  const auto negative = first_delays(mend::exponential_backoff{}, mend::jitter::full, sequence({-1.0}), 2);
  CHECK(negative == std::vector<mend::duration>{0s, 0s});
  const auto not_a_number =
      first_delays(mend::exponential_backoff{}, mend::jitter::full, sequence({std::numeric_limits<double>::quiet_NaN()}), 1);
  CHECK(not_a_number == std::vector<mend::duration>{0s});
}

TEST_CASE("jittered delays stay within zero and the cap", "[backoff][jitter]") {
  const mend::backoff_policy policy = mend::exponential_backoff{.initial = 100ms, .multiplier = 3.0, .max = 10s};
  const auto random = mend::default_random_source();
  for (const auto mode : {mend::jitter::full, mend::jitter::equal, mend::jitter::decorrelated}) {
    mend::backoff_schedule schedule{policy, mode, random};
    for (int i = 0; i < 1000; ++i) {
      const auto delay = schedule.next();
      CHECK(delay >= 0ms);
      CHECK(delay <= 10s);
    }
  }
}

TEST_CASE("default random source draws from zero to one", "[backoff][jitter]") {
  const auto random = mend::default_random_source();
  double low = 1.0, high = 0.0;
  for (int i = 0; i < 10000; ++i) {
    const double value = random();
    REQUIRE(value >= 0.0);
    REQUIRE(value < 1.0);
    low = std::min(low, value);
    high = std::max(high, value);
  }
  // 10 000 uniform draws miss [0, 0.01) or (0.99, 1) with probability 2 * 0.99^10000.
  CHECK(low < 0.01);
  CHECK(high > 0.99);
}

TEST_CASE("backoff rejects invalid values naming the field", "[backoff][config]") {
  const auto message_of = [](const mend::backoff_policy& policy) -> std::string {
    try {
      mend::validate_backoff(policy, "retry_policy");
    } catch (const mend::config_error& e) {
      return e.what();
    }
    return "no error";
  };
  CHECK(message_of(mend::exponential_backoff{.multiplier = 0.0}) ==
        "retry_policy: invalid backoff.multiplier = 0 (must be greater than zero)");
  CHECK(message_of(mend::exponential_backoff{.multiplier = -2.0}) ==
        "retry_policy: invalid backoff.multiplier = -2 (must be greater than zero)");
  CHECK(message_of(mend::exponential_backoff{.initial = -1s}) ==
        "retry_policy: invalid backoff.initial = -1s (must not be negative)");
  CHECK(message_of(mend::exponential_backoff{.initial = 5s, .max = 4s}) ==
        "retry_policy: invalid backoff.max = 4s (must not be below backoff.initial)");
  CHECK(message_of(mend::linear_backoff{.step = -250ms}) ==
        "retry_policy: invalid backoff.step = -250ms (must not be negative)");
  CHECK(message_of(mend::constant_backoff{.delay_between = -1ms}) ==
        "retry_policy: invalid backoff.delay_between = -1ms (must not be negative)");
  CHECK(message_of(mend::exponential_backoff{}) == "no error");
}
