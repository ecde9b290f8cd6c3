#include <mend/circuit_breaker.hpp>
#include <mend/decorate.hpp>
#include <mend/manual_clock.hpp>
#include <mend/retry_policy.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

using namespace std::chrono_literals;

namespace {

const std::error_code unavailable = mend::http_error(503);

// A policy that records the order in which layers run.
struct tracing_policy {
  std::string name;
  std::vector<std::string>* trace;

  template <class F, class... Args>
  auto execute(F&& f, Args&&... args) {
    trace->push_back(name + " in");
    auto out = mend::detail::invoke_as_result(f, std::forward<Args>(args)...);
    trace->push_back(name + " out");
    return out;
  }
};

}  // namespace

TEST_CASE("decorate runs the last policy outermost", "[decorate]") {
  std::vector<std::string> trace;
  tracing_policy inner{"inner", &trace};
  tracing_policy outer{"outer", &trace};

  auto call = mend::decorate([&] {
                trace.push_back("call");
                return 1;
              })
                  .with(inner)
                  .with(outer);
  CHECK(call().value() == 1);
  CHECK(trace == std::vector<std::string>{"outer in", "inner in", "call", "inner out", "outer out"});
}

TEST_CASE("decorate keeps the arguments of the callable", "[decorate]") {
  mend::manual_clock clock;
  mend::circuit_breaker breaker{clock, {}};
  mend::retry_policy retry{clock, {}};

  auto concat = mend::decorate([](const std::string& a, int b) { return a + std::to_string(b); })
                    .with(breaker)
                    .with(retry);
  const std::string prefix = "order-";
  CHECK(concat(prefix, 7).value() == "order-7");
  CHECK(concat("line-", 3).value() == "line-3");
}

TEST_CASE("decorate returns result for every return type", "[decorate]") {
  mend::manual_clock clock;
  mend::circuit_breaker breaker{clock, {}};

  auto plain = mend::decorate([] { return 3; }).with(breaker);
  auto nothing = mend::decorate([] {}).with(breaker);
  auto wrapped = mend::decorate([]() -> mend::result<double> { return 2.5; }).with(breaker);
  auto code = mend::decorate([] { return std::error_code{}; }).with(breaker);

  static_assert(std::is_same_v<decltype(plain()), mend::result<int>>);
  static_assert(std::is_same_v<decltype(nothing()), mend::result<void>>);
  static_assert(std::is_same_v<decltype(wrapped()), mend::result<double>>);
  static_assert(std::is_same_v<decltype(code()), mend::result<void>>);
  CHECK(plain().value() == 3);
  CHECK(nothing().has_value());
  CHECK(wrapped().value() == 2.5);
  CHECK(code().has_value());
}

TEST_CASE("decorate turns exceptions into errors", "[decorate]") {
  mend::manual_clock clock;
  mend::retry_policy retry{clock, {}};
  int calls = 0;

  auto throwing = mend::decorate([&]() -> int {
                    ++calls;
                    throw std::system_error(std::make_error_code(std::errc::timed_out));
                  }).with(retry);
  auto outcome = throwing();
  REQUIRE_FALSE(outcome);
  CHECK(outcome.error() == std::errc::timed_out);
  CHECK(calls == 4);  // timed_out is transient, so it was retried

  auto plain = mend::decorate([] { throw std::logic_error("bug"); });
  CHECK(plain().error() == mend::errc::unexpected_exception);
}

TEST_CASE("breaker outside the retry sees one call per retried call", "[decorate]") {
  mend::manual_clock clock;
  mend::circuit_breaker breaker{clock, {.trip = {.threshold = 2}}};
  mend::retry_policy retry{clock, {}};
  int calls = 0;

  auto call = mend::decorate([&]() -> mend::result<int> {
                ++calls;
                return unavailable;
              })
                  .with(retry)
                  .with(breaker);

  CHECK(call().error() == unavailable);
  CHECK(calls == 4);
  CHECK(breaker.stats().failures == 1);
  CHECK(breaker.state() == mend::circuit_state::closed);

  CHECK(call().error() == unavailable);
  CHECK(breaker.state() == mend::circuit_state::open);
  CHECK(call().error() == mend::errc::circuit_open);
  CHECK(calls == 8);
}

TEST_CASE("decorated callables are cheap copies sharing policies", "[decorate]") {
  mend::manual_clock clock;
  mend::circuit_breaker breaker{clock, {.trip = {.threshold = 2}}};
  auto failing = mend::decorate([]() -> mend::result<int> { return unavailable; }).with(breaker);
  auto copy = failing;

  CHECK_FALSE(failing());
  CHECK_FALSE(copy());
  // Both copies counted against the one breaker.
  CHECK(breaker.state() == mend::circuit_state::open);
  static_assert(sizeof(copy) <= 2 * sizeof(void*), "a layer holds the callable and a policy pointer");
}

TEST_CASE("decorate works with move-only callables", "[decorate]") {
  mend::manual_clock clock;
  mend::circuit_breaker breaker{clock, {}};
  auto owned = std::make_unique<int>(9);
  auto call = mend::decorate([value = std::move(owned)] { return *value; }).with(breaker);
  CHECK(call().value() == 9);
}

TEST_CASE("decorated stack reports whether a call would be rejected", "[decorate]") {
  mend::manual_clock clock;
  mend::circuit_breaker first{clock, {}};
  mend::circuit_breaker second{clock, {}};
  auto call = mend::decorate([] { return 1; }).with(first).with(second);

  CHECK_FALSE(call.would_reject());
  first.force_open();
  CHECK(call.would_reject());
  first.reset();
  second.isolate();
  CHECK(call.would_reject());
}
