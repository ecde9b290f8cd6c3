#include <mend/error.hpp>
#include <mend/traffic_switch.hpp>

#include <catch2/catch.hpp>

#include "fake_traffic_switch.hpp"

#include <string>
#include <system_error>
#include <vector>

using mend_test::fake_traffic_switch;
using strings = std::vector<std::string>;

TEST_CASE("apply raises before it lowers", "[traffic_switch]") {
  fake_traffic_switch traffic{{{"blue", 100}, {"green", 0}}};

  // Listed lowering first on purpose: the order of the call does not matter.
  REQUIRE(traffic.apply({{"blue", 90}, {"green", 10}}));

  CHECK(traffic.writes() == strings{"set green 10", "set blue 90"});
  CHECK(traffic.weight_of("blue") == 90);
  CHECK(traffic.weight_of("green") == 10);
}

TEST_CASE("apply reads every weight back", "[traffic_switch]") {
  fake_traffic_switch traffic{{{"blue", 100}, {"green", 0}}};

  REQUIRE(traffic.apply({{"green", 10}, {"blue", 90}}));

  CHECK(traffic.commands() == strings{"get green", "get blue", "set green 10", "get green", "set blue 90", "get blue"});
}

TEST_CASE("apply sends nothing for an unchanged weight", "[traffic_switch]") {
  fake_traffic_switch traffic{{{"blue", 100}, {"green", 0}}};

  REQUIRE(traffic.apply({{"blue", 100}, {"green", 0}}));

  CHECK(traffic.writes().empty());
}

TEST_CASE("apply rejects weights outside 0 to 100", "[traffic_switch]") {
  fake_traffic_switch traffic{{{"blue", 100}, {"green", 0}}};

  for (const int weight : {-1, 101}) {
    const auto outcome = traffic.apply({{"green", weight}});
    REQUIRE_FALSE(outcome);
    CHECK(outcome.error() == mend::errc::invalid_argument);
    CHECK(traffic.last_error().message == "invalid weight " + std::to_string(weight) + " for green (must be 0 to 100)");
  }
  CHECK(traffic.commands().empty());
}

TEST_CASE("apply rejects a target named twice", "[traffic_switch]") {
  fake_traffic_switch traffic{{{"blue", 100}, {"green", 0}}};

  const auto outcome = traffic.apply({{"green", 10}, {"green", 20}});

  REQUIRE_FALSE(outcome);
  CHECK(outcome.error() == mend::errc::invalid_argument);
  CHECK(traffic.last_error().message == "green appears twice in one set of weight changes");
  CHECK(traffic.commands().empty());
}

TEST_CASE("apply rejects an empty target name", "[traffic_switch]") {
  fake_traffic_switch traffic{{{"blue", 100}}};

  const auto outcome = traffic.apply({{"", 10}});

  REQUIRE_FALSE(outcome);
  CHECK(outcome.error() == mend::errc::invalid_argument);
  CHECK(traffic.last_error().message == "a weight change names no target");
}

TEST_CASE("rejected command keeps the balancer's text", "[traffic_switch]") {
  fake_traffic_switch traffic{{{"blue", 100}, {"green", 0}}};
  const auto refused = std::make_error_code(std::errc::permission_denied);
  traffic.reject_writes("green", refused, "Permission denied");

  const auto outcome = traffic.apply({{"green", 10}, {"blue", 90}});

  REQUIRE_FALSE(outcome);
  CHECK(outcome.error() == refused);
  CHECK(traffic.last_error().code == refused);
  CHECK(traffic.last_error().message == "setting the weight of green to 10 failed: Permission denied");
}

TEST_CASE("failed lowering keeps the raise", "[traffic_switch]") {
  fake_traffic_switch traffic{{{"blue", 100}, {"green", 0}}};
  traffic.reject_writes("blue", std::make_error_code(std::errc::permission_denied), "Permission denied");

  const auto outcome = traffic.apply({{"green", 10}, {"blue", 90}});

  REQUIRE_FALSE(outcome);
  CHECK(traffic.weight_of("green") == 10);
  CHECK(traffic.weight_of("blue") == 100);
}

TEST_CASE("failed raise stops before any lowering", "[traffic_switch]") {
  fake_traffic_switch traffic{{{"blue", 100}, {"green", 0}}};
  traffic.reject_writes("green", std::make_error_code(std::errc::permission_denied), "Permission denied");

  REQUIRE_FALSE(traffic.apply({{"green", 10}, {"blue", 90}}));

  CHECK(traffic.writes() == strings{"set green 10"});
  CHECK(traffic.weight_of("blue") == 100);
}

TEST_CASE("weight that does not stick is reported", "[traffic_switch]") {
  fake_traffic_switch traffic{{{"blue", 100}, {"green", 0}}};
  traffic.ignore_writes("green");

  const auto outcome = traffic.apply({{"green", 10}, {"blue", 90}});

  REQUIRE_FALSE(outcome);
  CHECK(outcome.error() == mend::switch_errc::weight_not_applied);
  CHECK(traffic.last_error().message == "the weight of green reads 0 after it was set to 10");
  CHECK(traffic.weight_of("blue") == 100);
}

TEST_CASE("unknown target fails before any write", "[traffic_switch]") {
  fake_traffic_switch traffic{{{"blue", 100}}};

  const auto outcome = traffic.apply({{"blue", 90}, {"green", 10}});

  REQUIRE_FALSE(outcome);
  CHECK(traffic.last_error().message == "reading the weight of green failed: No such server.");
  CHECK(traffic.writes().empty());
}

TEST_CASE("success clears the last error", "[traffic_switch]") {
  fake_traffic_switch traffic{{{"blue", 100}, {"green", 0}}};
  REQUIRE_FALSE(traffic.apply({{"green", 101}}));
  REQUIRE(traffic.last_error().code);

  REQUIRE(traffic.apply({{"green", 10}}));

  CHECK_FALSE(traffic.last_error().code);
  CHECK(traffic.last_error().message.empty());
}

TEST_CASE("weight reads one target", "[traffic_switch]") {
  fake_traffic_switch traffic{{{"blue", 100}, {"green", 0}}};

  const auto blue = traffic.weight("blue");
  const auto missing = traffic.weight("red");

  REQUIRE(blue);
  CHECK(blue.value() == 100);
  REQUIRE_FALSE(missing);
  CHECK(traffic.last_error().message == "reading the weight of red failed: No such server.");
}

TEST_CASE("switch error codes have their own category", "[traffic_switch]") {
  const std::error_code code = mend::switch_errc::weight_not_applied;

  CHECK(std::string(code.category().name()) == "mend.traffic_switch");
  CHECK(code.message() == "weight read back differs from the weight set");
}
