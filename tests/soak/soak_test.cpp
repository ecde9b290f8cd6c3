// The soak test: a day of seeded faults against the whole stack on a manual
// clock (see soak_world.hpp for the set-up and what counts as a recovery).
// ctest runs one seed per test. MEND_SOAK_SEED picks the seed and
// MEND_SOAK_HOURS the simulated time (24 by default):
//
//   MEND_SOAK_SEED=3 build/tests/soak/soak_test
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "soak_world.hpp"

namespace {

std::uint64_t number_from_environment(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  return std::strtoull(text, nullptr, 10);
}

double seconds(mend::duration d) { return std::chrono::duration<double>(d).count(); }

void print(const mend_soak::soak_figures& f, double real_seconds) {
  fmt::print("soak seed {}: {:.0f} h simulated in {:.2f} s of real time\n", f.seed, seconds(f.simulated) / 3600,
             real_seconds);
  fmt::print("  requests: {} issued, {} completed, {} lost, {} succeeded ({:.2f} %)\n", f.issued, f.completed, f.lost(),
             f.succeeded,
             f.issued == 0 ? 0.0 : 100.0 * static_cast<double>(f.succeeded) / static_cast<double>(f.issued));
  for (const auto& [message, count] : f.errors) fmt::print("    {:>8} ended with {}\n", count, message);

  std::uint64_t faults = 0;
  std::string kinds;
  for (const auto& [kind, count] : f.faults) {
    faults += count;
    kinds += fmt::format("{}{} {}", kinds.empty() ? "" : ", ", count, mend_soak::to_string(kind));
  }
  fmt::print("  faults injected: {} ({}), wall-clock jumps: {}\n", faults, kinds, f.wall_jumps);
  fmt::print("  automatic recoveries: {} of {} affected ({:.2f} %)\n", f.recovered(), f.affected(),
             100.0 * f.success_rate());
  fmt::print(
      "    routing: {} of {} within bound, longest {:.2f} s after faults under 60 s, {:.2f} s after longer ones\n",
      f.routing_recovered, f.routing_affected, seconds(f.longest_routing_recovery_short_fault),
      seconds(f.longest_routing_recovery_long_fault));
  fmt::print(
      "      measured from the clear alone: longest {:.2f} s after faults under 60 s; {} left after the clear, up to "
      "{:.2f} s after\n",
      seconds(f.longest_return_after_clear_short_fault), f.late_departures, seconds(f.latest_departure_after_clear));
  fmt::print("    pool: {} of {} within 30 s, longest {:.2f} s\n", f.pool_recovered, f.pool_affected,
             seconds(f.longest_pool_recovery));
  fmt::print("  breaker auto recoveries: {}, pool recovery-mode exits: {}, endpoints healthy again: {}\n",
             f.breaker_auto_recoveries, f.pool_recovery_exits, f.health_recoveries);
  fmt::print("  endpoints leaving rotation outside a fault: {}\n", f.departures_without_fault);
  fmt::print("  max pool size: {} (max_size {}), most connections alive to one endpoint: {}\n", f.max_pool_size,
             f.pool_max_size, f.max_alive);
  fmt::print("  most requests in flight: {}, longest client queue: {}\n", f.max_in_flight, f.max_queued);
  fmt::print("  invariant violations: {}\n", f.violations);
  for (const auto& line : f.violation_log) fmt::print("    {}\n", line);
  for (const auto& line : f.failed_recoveries) fmt::print("    failed recovery: {}\n", line);
  std::fflush(stdout);
}

}  // namespace

TEST_CASE("whole stack recovers from a day of seeded faults", "[soak]") {
  const auto seed = number_from_environment("MEND_SOAK_SEED", 1);
  const auto hours = number_from_environment("MEND_SOAK_HOURS", 24);
  INFO("seed " << seed << "; rerun it with MEND_SOAK_SEED=" << seed);

  mend_soak::soak_options options{.seed = seed, .simulated = std::chrono::hours{hours}};
  // MEND_SOAK_TRACE=FROM-TO prints the events between FROM and TO seconds.
  if (const char* trace = std::getenv("MEND_SOAK_TRACE"); trace != nullptr && *trace != '\0') {
    char* dash = nullptr;
    const auto from = std::strtod(trace, &dash);
    const auto to = *dash == '-' ? std::strtod(dash + 1, nullptr) : from + 600;
    options.trace = {std::chrono::duration_cast<mend::duration>(std::chrono::duration<double>{from}),
                     std::chrono::duration_cast<mend::duration>(std::chrono::duration<double>{to})};
  }

  const auto real_start = std::chrono::steady_clock::now();
  mend_soak::soak_world world{options};
  const auto figures = world.run();
  const double real_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - real_start).count();
  print(figures, real_seconds);

  CHECK(figures.issued > 0);
  CHECK(figures.lost() == 0);
  INFO("first violations:\n" << fmt::format("{}", fmt::join(figures.violation_log, "\n")));
  CHECK(figures.violations == 0);

  // A day brings about 80 faults per endpoint, and most take something out.
  CHECK(figures.affected() >= 5 * hours);
  INFO("failed recoveries:\n" << fmt::format("{}", fmt::join(figures.failed_recoveries, "\n")));
  CHECK(figures.success_rate() >= 0.99);
  CHECK(figures.longest_pool_recovery < mend_soak::soak_world::pool_recovery_bound);
  // At most, not under: a breaker that opened after the fault cleared
  // returns exactly one open timeout later.
  CHECK(figures.longest_routing_recovery_short_fault <= mend_soak::soak_world::breaker_recovery_bound);
  CHECK(figures.max_pool_size <= figures.pool_max_size);
  CHECK(figures.max_alive <= figures.pool_max_size);
}
