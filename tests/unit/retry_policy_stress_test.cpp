// Many threads share one retry policy around one circuit breaker, and calls
// sleep and get cancelled while other threads move the clock. Each call is
// checked when it returns, and the counters against every attempt.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mend/circuit_breaker.hpp>
#include <mend/decorate.hpp>
#include <mend/manual_clock.hpp>
#include <mend/recording_sink.hpp>
#include <mend/retry_policy.hpp>
#include <mutex>
#include <random>
#include <stop_token>
#include <thread>
#include <vector>

#include "concurrent_checks.hpp"

using namespace std::chrono_literals;

namespace {

const std::error_code unavailable = mend::http_error(503);

// A policy for decorate() that counts the attempts passing through it, per
// thread and in total, and passes would_reject() on to the layers inside.
class attempt_counter {
 public:
  template <class F, class... Args>
  auto execute(F&& f, Args&&... args) {
    ++this_thread_attempts();
    total_.fetch_add(1);
    return mend::detail::invoke_as_result(std::forward<F>(f), std::forward<Args>(args)...);
  }

  static std::uint64_t& this_thread_attempts() {
    thread_local std::uint64_t attempts = 0;
    return attempts;
  }

  std::uint64_t total() const { return total_.load(); }

 private:
  std::atomic<std::uint64_t> total_{0};
};

}  // namespace

TEST_CASE("concurrent retries count every attempt", "[retry][threads][stress]") {
  constexpr int threads = 8;
  constexpr int calls_per_thread = 400;

  // Time moves only through sleeps (auto-advance), from every thread at once:
  // each call takes 50 ms, each client pauses 100 ms between two calls, and
  // the retries wait. The backend fails two calls in three during every other
  // 20 s of that time.
  mend::manual_clock clock;
  const auto start = clock.now();
  mend::recording_sink sink;
  mend::circuit_breaker breaker{clock, {.name = "backend", .trip = {.threshold = 4}, .open_timeout = 5s}};
  mend::retry_policy retry{clock, {.name = "calls", .sink = &sink}};
  attempt_counter counter;

  mend::testing::concurrent_checks checks;
  std::atomic<std::uint64_t> ran{0};
  std::atomic<std::uint64_t> failed_calls{0};
  std::atomic<std::uint64_t> retried_attempts{0};

  auto call = mend::decorate([&]() -> mend::result<int> {
                ran.fetch_add(1);
                clock.sleep_for(50ms);
                thread_local std::mt19937 random{std::random_device{}()};
                if (((clock.now() - start) / 20s) % 2 == 1 && random() % 3 != 0) return unavailable;
                return 7;
              })
                  .with(breaker)
                  .with(counter)
                  .with(retry);

  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      auto own = call;  // decorated callables are cheap to copy
      for (int i = 0; i < calls_per_thread; ++i) {
        const auto before = attempt_counter::this_thread_attempts();
        const auto outcome = own();
        const auto attempts = attempt_counter::this_thread_attempts() - before;

        clock.sleep_for(100ms);  // the pause between two requests of one client
        MEND_EXPECT(checks, attempts >= 1 && attempts <= 4);
        retried_attempts.fetch_add(attempts - 1);
        if (outcome) {
          MEND_EXPECT(checks, outcome.value() == 7);
          continue;
        }
        failed_calls.fetch_add(1);
        // The cause is never hidden: the last attempt's own error.
        MEND_EXPECT(checks, outcome.error() == unavailable || outcome.error() == mend::errc::circuit_open);
      }
    });
  }
  for (auto& thread : pool) thread.join();
  MEND_REQUIRE_NO_FAILURES(checks);

  const auto stats = retry.stats();
  CHECK(stats.total_retries == retried_attempts.load());
  CHECK(stats.total_retries == stats.successful_retries + stats.failed_retries);
  CHECK(stats.gave_up == failed_calls.load());
  CHECK(counter.total() == threads * calls_per_thread + stats.total_retries);
  CHECK(sink.count(mend::event_kind::retry_scheduled) == stats.total_retries);
  CHECK(sink.count(mend::event_kind::retry_succeeded) == stats.successful_retries);
  CHECK(sink.count(mend::event_kind::retry_failed) == stats.failed_retries);
  CHECK(sink.count(mend::event_kind::retry_gave_up) == stats.gave_up);
  // Rejected attempts never reached the backend.
  CHECK(ran.load() + breaker.stats().rejections == counter.total());
  CHECK(breaker.stats().rejections > 0);
  CHECK(stats.successful_retries > 0);
  CHECK(failed_calls.load() > 0);
}

TEST_CASE("retry sleeps end on time or on cancellation", "[retry][threads][stress]") {
  constexpr int threads = 6;
  constexpr int calls_per_thread = 40;

  // Driven mode: the sleeps wait for the driver thread to move time.
  mend::manual_clock clock{{.auto_advance = false}};
  mend::retry_policy retry{clock, {.name = "cancellable"}};

  mend::testing::concurrent_checks checks;
  std::mutex sources_mutex;
  std::vector<std::shared_ptr<std::stop_source>> sources;  // guarded by sources_mutex
  std::atomic<int> running{threads};
  std::atomic<std::uint64_t> cancelled{0};
  std::atomic<std::uint64_t> cancelled_before_start{0};
  std::atomic<std::uint64_t> exhausted{0};

  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = 0; i < calls_per_thread; ++i) {
        auto source = std::make_shared<std::stop_source>();
        {
          std::lock_guard lock(sources_mutex);
          sources.push_back(source);
        }
        int attempts = 0;
        const auto outcome = retry.execute(
            [&](std::stop_token) -> mend::result<int> {
              ++attempts;
              return unavailable;
            },
            source->get_token());
        MEND_EXPECT(checks, !outcome);
        if (outcome.error() == mend::errc::cancelled) {
          MEND_EXPECT(checks, source->stop_requested());
          cancelled.fetch_add(1);
          if (attempts == 0) cancelled_before_start.fetch_add(1);
        } else {
          MEND_EXPECT(checks, outcome.error() == unavailable);
          MEND_EXPECT(checks, attempts == 4);
          exhausted.fetch_add(1);
        }
      }
      running.fetch_sub(1);
    });
  }
  std::thread canceller([&] {
    std::mt19937 random(7);
    while (running.load() > 0) {
      std::shared_ptr<std::stop_source> victim;
      {
        std::lock_guard lock(sources_mutex);
        if (!sources.empty()) victim = sources[random() % sources.size()];
      }
      if (victim && random() % 4 == 0) victim->request_stop();
      std::this_thread::yield();
    }
  });
  std::thread driver([&] {
    while (running.load() > 0) {
      clock.advance(250ms);
      std::this_thread::yield();
    }
  });
  for (auto& thread : pool) thread.join();
  canceller.join();
  driver.join();
  MEND_REQUIRE_NO_FAILURES(checks);

  const auto stats = retry.stats();
  CHECK(cancelled.load() + exhausted.load() == threads * calls_per_thread);
  // A call stopped before its first attempt returns at once, uncounted.
  CHECK(stats.gave_up == threads * calls_per_thread - cancelled_before_start.load());
  CHECK(cancelled.load() > cancelled_before_start.load());
  CHECK(stats.total_retries == stats.failed_retries);
  CHECK(clock.sleeper_count() == 0);
}
