// Regression tests for what the soak test (tests/soak/) found, each reduced
// to the few calls that show it.
#include <catch2/catch.hpp>
#include <chrono>
#include <mend/circuit_breaker.hpp>
#include <mend/connection_pool.hpp>
#include <mend/decorate.hpp>
#include <mend/manual_clock.hpp>
#include <set>
#include <system_error>
#include <vector>

using namespace std::chrono_literals;
using mend::circuit_state;

namespace {

const std::error_code refused = std::make_error_code(std::errc::connection_refused);

}  // namespace

// In the soak test, a 2.9 s outage kept an endpoint out of rotation for
// 119 s. A half-open test that had failed 40 minutes earlier doubled the open
// timeout to 120 s, and only three successful tests in a row shrink it again,
// so it stayed doubled through all the healthy time in between. A short fault
// long after a long one should get the first open timeout again.
TEST_CASE("open timeout stays doubled long after recovery", "[breaker][soak]") {
  mend::manual_clock clock;
  mend::circuit_breaker breaker{clock, {.name = "ax1"}};
  const auto fail = [] { return mend::result<void>{refused}; };
  const auto succeed = [] { return mend::result<void>{mend::success()}; };

  // A long outage: the first test fails and doubles the timeout.
  for (int i = 0; i < 5; ++i) (void)breaker.execute(fail);
  REQUIRE(breaker.state() == circuit_state::open);
  clock.advance(60s);
  (void)breaker.execute(fail);
  REQUIRE(*breaker.open_until() - clock.now() == 120s);
  clock.advance(120s);
  REQUIRE(breaker.execute(succeed));
  REQUIRE(breaker.state() == circuit_state::closed);

  // An hour of healthy traffic.
  for (int minute = 0; minute < 60; ++minute) {
    for (int i = 0; i < 100; ++i) REQUIRE(breaker.execute(succeed));
    clock.advance(1min);
  }

  // A short fault trips the breaker again.
  for (int i = 0; i < 5; ++i) (void)breaker.execute(fail);
  REQUIRE(breaker.state() == circuit_state::open);
  CHECK(*breaker.open_until() - clock.now() == 60s);
}

// In the soak test, an endpoint whose breaker has no probe stayed out of
// rotation for more than 6 minutes after a firewall dropped its 8 pooled
// connections silently. The first 5 calls hit dead connections and opened the
// breaker. Then each half-open test call got another dead connection from the
// pool, failed, and doubled the open timeout, although the backend was up all
// along. The validator cannot detect a silent drop, and the pool refills only
// below min_size.
TEST_CASE("test call fails on silently dropped connection", "[pool][breaker][soak]") {
  struct session {
    int id = 0;
  };
  mend::manual_clock clock;
  int opened = 0;
  std::set<int> dropped;
  mend::connection_pool<session> pool{clock,
                                      [&]() -> mend::result<session> { return session{++opened}; },
                                      {.name = "ax2", .min_size = 2, .max_size = 8, .acquire_timeout = 0s}};
  mend::circuit_breaker breaker{clock, {.name = "ax2"}};

  // A request on a pooled connection. A dropped one fails with a reset.
  auto request = mend::decorate([&]() -> mend::result<void> {
                   auto leased = pool.acquire();
                   if (!leased) return leased.error();
                   if (dropped.contains(leased.value()->id)) {
                     const auto reset = std::make_error_code(std::errc::connection_reset);
                     leased.value().fail(reset);
                     return reset;
                   }
                   return mend::success();
                 }).with(breaker);

  // Eight requests at once leave eight idle connections.
  {
    std::vector<mend::connection_pool<session>::lease> leases;
    for (int i = 0; i < 8; ++i) leases.push_back(std::move(pool.acquire().value()));
  }
  REQUIRE(pool.stats().idle == 8);
  for (int id = 1; id <= opened; ++id) dropped.insert(id);

  // One request per second. The backend itself is up the whole time.
  int succeeded = 0;
  for (int second = 0; second < 70; ++second) {
    if (request()) ++succeeded;
    clock.advance(1s);
  }
  CHECK(succeeded > 0);
  CHECK(breaker.state() == circuit_state::closed);
}
