// Real components report to one status reporter from many threads while a
// reader takes snapshots. At the end the report must agree with each
// component's own counters.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <mend/circuit_breaker.hpp>
#include <mend/connection_pool.hpp>
#include <mend/manual_clock.hpp>
#include <mend/retry_policy.hpp>
#include <mend/status_reporter.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "concurrent_checks.hpp"

using namespace std::chrono_literals;

TEST_CASE("status report agrees with components reporting concurrently", "[status_reporter][threads][stress]") {
  constexpr int breaker_threads = 4;
  constexpr int iterations = 3000;

  mend::manual_clock clock;
  mend::status_reporter reporter{clock, {.history_capacity = 64}};
  std::vector<std::unique_ptr<mend::circuit_breaker>> breakers;
  for (int b = 0; b < 2; ++b)
    breakers.push_back(std::make_unique<mend::circuit_breaker>(
        clock,
        mend::circuit_breaker::options{
            .name = "breaker" + std::to_string(b), .trip = {.threshold = 2}, .open_timeout = 1s, .sink = &reporter}));
  mend::retry_policy retry{clock, {.name = "retry", .sink = &reporter}};
  struct connection {};
  std::atomic<bool> backend_up{true};
  mend::connection_pool<connection> pool{clock,
                                         [&]() -> mend::result<connection> {
                                           if (!backend_up.load())
                                             return std::make_error_code(std::errc::connection_refused);
                                           return connection{};
                                         },
                                         {.name = "pool",
                                          .min_size = 1,
                                          .max_size = 4,
                                          .acquire_timeout = 0s,
                                          .recovery_interval = 1s,
                                          .sink = &reporter}};

  mend::testing::concurrent_checks checks;
  std::atomic<int> running{breaker_threads + 2};
  std::vector<std::thread> threads;
  for (int t = 0; t < breaker_threads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 random(static_cast<std::mt19937::result_type>(t));
      auto& breaker = *breakers[static_cast<std::size_t>(t % 2)];
      for (int i = 0; i < iterations; ++i) {
        const bool fail = random() % 3 == 0;
        (void)breaker.execute([&]() -> mend::result<void> {
          if (fail) return mend::http_error(503);
          return mend::success();
        });
        if (i % 20 == 0) clock.advance(500ms);  // lets open breakers reach half-open
      }
      running.fetch_sub(1);
    });
  }
  threads.emplace_back([&] {  // retries; the sleeps advance the clock
    std::mt19937 random(99);
    for (int i = 0; i < iterations / 10; ++i) {
      int failures = static_cast<int>(random() % 5);
      (void)retry.execute([&]() -> mend::result<int> {
        if (failures-- > 0) return mend::http_error(503);
        return 1;
      });
    }
    running.fetch_sub(1);
  });
  threads.emplace_back([&] {  // a pool whose backend goes down and comes back
    for (int i = 0; i < iterations; ++i) {
      if (i % 300 == 0) backend_up.store(!backend_up.load());
      auto leased = pool.acquire();
      if (leased && i % 7 == 0) leased.value().fail(std::make_error_code(std::errc::connection_reset));
    }
    running.fetch_sub(1);
  });

  // The reader: every snapshot is well formed while the others record.
  int snapshots = 0;
  while (running.load() > 0) {
    const auto report = reporter.snapshot();
    ++snapshots;
    MEND_EXPECT(checks, report.history.size() <= report.history_capacity);
    MEND_EXPECT(checks, report.circuit_breakers.size() <= breakers.size());
    MEND_EXPECT(checks, std::is_sorted(report.circuit_breakers.begin(), report.circuit_breakers.end(),
                                       [](const auto& a, const auto& b) { return a.name < b.name; }));
    for (const auto& entry : report.history) MEND_EXPECT(checks, !entry.component.empty());
    for (const auto& bucket : report.trends.buckets)
      MEND_EXPECT(checks, bucket.start >= report.trends.from && bucket.start < report.trends.to);
    std::this_thread::yield();
  }
  for (auto& thread : threads) thread.join();
  MEND_REQUIRE_NO_FAILURES(checks);
  CHECK(snapshots > 0);

  // Quiescent now: the report contains each component's latest counters.
  const auto report = reporter.snapshot();
  REQUIRE(report.circuit_breakers.size() == breakers.size());
  for (std::size_t b = 0; b < breakers.size(); ++b) {
    const auto stats = breakers[b]->stats();
    const auto& reported = report.circuit_breakers[b];
    INFO(reported.name);
    CHECK(reported.name == breakers[b]->name());
    CHECK(reported.failures == stats.failures);
    CHECK(reported.rejections == stats.rejections);
    CHECK(reported.auto_recoveries == stats.auto_recoveries);
    CHECK(reported.state == stats.state);
    CHECK(stats.times_opened > 0);
  }
  const auto retries = retry.stats();
  CHECK(report.retry_stats.total_retries == retries.total_retries);
  CHECK(report.retry_stats.successful_retries == retries.successful_retries);
  CHECK(report.retry_stats.failed_retries == retries.failed_retries);
  REQUIRE(report.connection_pools.size() == 1);
  CHECK(report.connection_pools[0].recovery_attempts == pool.stats().recovery_attempts);
  CHECK(report.history.size() == report.history_capacity);
}
