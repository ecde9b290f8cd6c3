#include <mend/config_error.hpp>
#include <mend/slow_start.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

using namespace std::chrono_literals;

TEST_CASE("slow start ramps weight 100 linearly from 10 percent", "[slow_start]") {
  const mend::slow_start ramp{};  // 60 s from 10 %
  CHECK(ramp.scaled_weight_at(100, 0s) == 10'000);
  CHECK(ramp.scaled_weight_at(100, 6s) == 19'000);
  CHECK(ramp.scaled_weight_at(100, 30s) == 55'000);
  CHECK(ramp.scaled_weight_at(100, 60s) == 100'000);
  CHECK(ramp.scaled_weight_at(100, 10min) == 100'000);

  CHECK(ramp.weight_at(100, 0s) == 10.0);
  CHECK(ramp.weight_at(100, 6s) == 19.0);
  CHECK(ramp.weight_at(100, 30s) == 55.0);
  CHECK(ramp.weight_at(100, 60s) == 100.0);
}

TEST_CASE("slow start keeps weight 1 above zero", "[slow_start]") {
  const mend::slow_start ramp{};
  CHECK(ramp.scaled_weight_at(1, 0s) == 100);
  CHECK(ramp.scaled_weight_at(1, 6s) == 190);
  CHECK(ramp.scaled_weight_at(1, 30s) == 550);
  CHECK(ramp.scaled_weight_at(1, 60s) == 1000);

  CHECK(ramp.weight_at(1, 0s) == 0.1);
  CHECK(ramp.weight_at(1, 6s) == 0.19);
  CHECK(ramp.weight_at(1, 30s) == 0.55);
  CHECK(ramp.weight_at(1, 60s) == 1.0);
}

TEST_CASE("slow start never rounds a weight to zero", "[slow_start]") {
  const mend::slow_start tiny{.window = 60s, .min_share = 1e-9};
  CHECK(tiny.scaled_weight_at(1, 0s) == 1);
  CHECK(tiny.scaled_weight_at(1, 1ns) == 1);
  for (std::uint32_t weight = 1; weight <= mend::max_weight; ++weight) {
    INFO("weight " << weight);
    CHECK(tiny.scaled_weight_at(weight, 0s) >= 1);
  }
}

TEST_CASE("slow start gives weight 0 no traffic", "[slow_start]") {
  const mend::slow_start ramp{};
  CHECK(ramp.scaled_weight_at(0, 0s) == 0);
  CHECK(ramp.scaled_weight_at(0, 30s) == 0);
  CHECK(ramp.scaled_weight_at(0, 60s) == 0);
}

TEST_CASE("slow start with zero window gives the full weight", "[slow_start]") {
  const mend::slow_start off{.window = 0s};
  CHECK(off.scaled_weight_at(7, 0s) == 7000);
  CHECK(off.finished(0s));
}

TEST_CASE("slow start follows a custom window and share", "[slow_start]") {
  const mend::slow_start ramp{.window = 20s, .min_share = 0.5};
  CHECK(ramp.scaled_weight_at(10, 0s) == 5000);
  CHECK(ramp.scaled_weight_at(10, 2s) == 5500);
  CHECK(ramp.scaled_weight_at(10, 10s) == 7500);
  CHECK(ramp.scaled_weight_at(10, 20s) == 10'000);
  CHECK_FALSE(ramp.finished(19s));
  CHECK(ramp.finished(20s));
}

TEST_CASE("slow start treats negative elapsed time as the start", "[slow_start]") {
  const mend::slow_start ramp{};
  CHECK(ramp.scaled_weight_at(100, -5s) == 10'000);
}

TEST_CASE("slow start rejects invalid options", "[slow_start]") {
  const auto field_of = [](const mend::slow_start& ramp) {
    try {
      ramp.validate("balancer");
    } catch (const mend::config_error& e) {
      return e.field();
    }
    return std::string{};
  };
  CHECK(field_of({.window = -1s}) == "slow_start.window");
  CHECK(field_of({.min_share = 0.0}) == "slow_start.min_share");
  CHECK(field_of({.min_share = -0.1}) == "slow_start.min_share");
  CHECK(field_of({.min_share = 1.5}) == "slow_start.min_share");
  CHECK(field_of({.min_share = std::numeric_limits<double>::quiet_NaN()}) == "slow_start.min_share");
  CHECK(field_of({.window = 0s, .min_share = 1.0}).empty());
  CHECK_THROWS_WITH(mend::slow_start{.window = -1s}.validate("balancer"),
                    "balancer: invalid slow_start.window = -1s (must not be negative)");
}
