// The connection pool on the manual clock: a backend goes away, the pool
// removes the broken connections, fails fast in recovery mode with one
// creation attempt every 5 s, and refills once the backend is back. Prints
// what the pool reports and exits 0 when every step went as described. The
// regions between [snippet:...] markers are shown in docs/pool.md.
#include <mend/connection_pool.hpp>
#include <mend/log_sink.hpp>
#include <mend/manual_clock.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <string_view>
#include <system_error>

using namespace std::chrono_literals;

namespace {

int failures = 0;

void expect(bool ok, const char* description) {
  if (!ok) {
    std::fprintf(stderr, "pool_recovery: expectation failed: %s\n", description);
    ++failures;
  }
}

// Stands in for an AIF session: a connection that can send one request.
struct aif_session {
  int id = 0;
  const bool* server_up = nullptr;

  mend::result<std::string> send(std::string_view request) const {
    if (!*server_up) return std::make_error_code(std::errc::connection_reset);
    return fmt::format("session {} answered {}", id, request);
  }
};

void print_stats(const char* when, const mend::connection_pool_stats& s) {
  fmt::print("{}: idle {}, active {}, total {}, in recovery {}, recovery attempts {}\n", when, s.idle, s.active,
             s.total, s.in_recovery, s.recovery_attempts);
}

}  // namespace

int main() {
  mend::manual_clock clock;
  bool server_up = true;
  int opened = 0;
  mend::log_sink log{mend::severity::info, [](std::string_view line) { fmt::print("  {}\n", line); }};

  // [snippet:setup]
  // The factory returns a session or the error that explains why not.
  auto open_session = [&]() -> mend::result<aif_session> {
    if (!server_up) return std::make_error_code(std::errc::connection_refused);
    return aif_session{++opened, &server_up};
  };
  mend::connection_pool<aif_session> pool{clock, open_session,
                                          {.name = "aif", .min_size = 2, .max_size = 4, .sink = &log}};
  clock.run_due();  // the first fill to min_size runs on the clock's timer
  // [/snippet]
  print_stats("filled", pool.stats());
  expect(pool.stats().idle == 2, "the pool fills to min_size");

  fmt::print("the server goes away\n");
  server_up = false;
  {
    // [snippet:lease]
    auto leased = pool.acquire();
    if (!leased) {
      fmt::print("no session: {} (cause: {})\n", leased.error().message(), pool.last_error().message());
      return 1;
    }
    auto& session = leased.value();
    if (auto reply = session->send("read customer 7"); !reply) {
      session.fail(reply.error());  // the pool destroys this session and replaces it
    }
    // [/snippet]
  }
  // The failed session also took the idle one opened with it, which is just
  // as dead. The replacement fails and no session is left: recovery mode.
  clock.run_due();
  print_stats("the session failed", pool.stats());
  expect(pool.in_recovery(), "recovery mode starts");

  // [snippet:recovering]
  auto refused = pool.acquire();
  // refused.error() == mend::errc::pool_recovering, returned at once;
  // pool.last_error() is the factory's own error: connection refused.
  // [/snippet]
  fmt::print("acquire in recovery mode: {} (cause: {})\n", refused.error().message(), pool.last_error().message());
  expect(refused.error() == mend::errc::pool_recovering, "acquire fails fast");
  expect(pool.last_error() == std::errc::connection_refused, "the factory's error is kept");

  clock.advance(12s);  // attempts at 5 s and 10 s fail
  fmt::print("the server is back after 12 s\n");
  server_up = true;
  clock.advance(3s);  // the attempt at 15 s succeeds, and the pool refills
  print_stats("recovered", pool.stats());
  expect(!pool.in_recovery(), "recovery mode ends");
  expect(pool.stats().recovery_attempts == 3, "one attempt per 5 s tick");
  expect(pool.stats().idle == 2, "the pool refills to min_size");

  auto leased = pool.acquire();
  expect(leased.has_value(), "acquire works again");
  expect(leased && leased.value()->send("read customer 7").has_value(), "requests work again");
  return failures == 0 ? 0 : 1;
}
