// Wraps a flaky call in a circuit breaker and a retry and prints what they do:
// each attempt, each retry delay and each state change, on a simulated clock
// so the two minutes of the story run in an instant.
//
// The story: the backend answers 503 twice, then works; later it goes down for
// 150 s. The retry rides out the short glitch; during the outage the breaker
// opens, rejects calls without touching the backend, tests it after 60 s, waits
// 120 s after a failed test and closes once the backend is back.
#include <mend/mend.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <string_view>

using namespace std::chrono_literals;

int main() {
  mend::manual_clock clock;  // auto-advance: a retry's sleep moves simulated time
  const auto start = clock.now();
  const auto elapsed = [&] { return std::chrono::duration_cast<std::chrono::seconds>(clock.now() - start); };

  // Print every event with the simulated time in place of the wall time that
  // starts each log line ("2025-01-01T00:00:00.000Z " is 25 characters).
  mend::log_sink log{mend::severity::info,
                     [&](std::string_view line) { fmt::print("  [{:>4}] {}\n", elapsed(), line.substr(25)); }};

  mend::circuit_breaker breaker{clock, {.name = "sales_orders", .sink = &log}};
  mend::retry_policy retry{clock, {.name = "sales_orders", .sink = &log}};

  // The backend: 503 for the first two calls, down from 20 s to 170 s.
  int attempts = 0;
  auto read_sales_order = [&](int id) -> mend::result<std::string> {
    ++attempts;
    const auto now = elapsed();
    const bool glitch = attempts <= 2;
    const bool outage = now >= 20s && now < 170s;
    fmt::print("  [{:>4}] attempt {} for order {}: {}\n", now, attempts, id,
               glitch || outage ? "503 Service Unavailable" : "200 OK");
    if (glitch || outage) return mend::http_error(503);
    return fmt::format("SO-{:06}", id);
  };
  auto read = mend::decorate(read_sales_order).with(breaker).with(retry);

  const auto show = [&](int id) {
    fmt::print("[{:>4}] read order {}\n", elapsed(), id);
    const auto order = read(id);
    if (order) {
      fmt::print("[{:>4}] -> {}\n", elapsed(), order.value());
    } else {
      fmt::print("[{:>4}] -> error: {}\n", elapsed(), order.error().message());
    }
    return order.has_value();
  };

  bool ok = show(1);  // succeeds on the third attempt, after 1 s and 2 s
  clock.advance(20s - elapsed());
  ok = !show(2) && ok;  // the outage begins: retries fail and the breaker opens
  ok = !show(3) && ok;  // rejected at once, the backend is not touched

  while (breaker.state() != mend::circuit_state::closed) {
    clock.advance(30s);
    show(4);
  }
  ok = show(5) && ok;

  const auto stats = breaker.stats();
  const auto retries = retry.stats();
  fmt::print("\nbreaker: {} auto recoveries, {} failures, {} rejections; retries: {} made, {} succeeded\n",
             stats.auto_recoveries, stats.failures, stats.rejections, retries.total_retries,
             retries.successful_retries);
  return ok && stats.auto_recoveries == 1 ? 0 : 1;
}
