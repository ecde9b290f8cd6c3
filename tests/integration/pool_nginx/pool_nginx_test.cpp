// The connection pool against a real nginx: keep-alive TCP connections,
// a server that goes away while requests flow, and recovery with the default
// recovery_interval on the real clock.
#include <mend/adapters/http_connection.hpp>
#include <mend/connection_pool.hpp>
#include <mend/log_sink.hpp>
#include <mend/metrics_sink.hpp>
#include <mend/recording_sink.hpp>
#include <mend/steady_clock_source.hpp>
#include <mend/transient.hpp>

#include <catch2/catch.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "nginx_fixture.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using pool_type = mend::connection_pool<mend::http_connection>;

namespace {

// Polls `done` every 10 ms until it returns true or `limit` passes. Returns
// the last result of `done`.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = steady::now() + limit;
  while (!done()) {
    if (steady::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// Worker threads that send GET / through the pool until stopped, and count
// what happened.
class request_load {
 public:
  request_load(pool_type& pool, int threads) : pool_(pool) {
    for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { run(); });
  }

  ~request_load() { stop(); }

  void stop() {
    stopping_ = true;
    for (auto& worker : workers_)
      if (worker.joinable()) worker.join();
  }

  int succeeded() const { return succeeded_.load(); }
  int failed() const { return failed_.load(); }
  int fast_failed() const { return fast_failed_.load(); }
  int exhausted() const { return exhausted_.load(); }
  int other_errors() const { return other_errors_.load(); }
  int max_requests_on_one_connection() const { return max_reuse_.load(); }

  // Forgets the first success, so first_success() reports the next one.
  void clear_first_success() {
    std::lock_guard lock(mutex_);
    first_success_.reset();
  }

  // When the first request since clear_first_success() succeeded.
  std::optional<steady::time_point> first_success() const {
    std::lock_guard lock(mutex_);
    return first_success_;
  }

  std::string first_other_error() const {
    std::lock_guard lock(mutex_);
    return first_other_error_;
  }

 private:
  void run() {
    while (!stopping_) {
      auto leased = pool_.acquire();
      if (!leased) {
        if (leased.error() == mend::errc::pool_recovering) {
          ++fast_failed_;
        } else if (leased.error() == mend::errc::pool_exhausted) {
          ++exhausted_;
        } else {
          record_other(leased.error());
        }
        std::this_thread::sleep_for(20ms);  // a caller backing off, not a spin
        continue;
      }
      auto& connection = leased.value();
      auto response = connection->request("GET", "/");
      if (!response) {
        if (!mend::is_transient(response.error())) record_other(response.error());
        ++failed_;
        connection.fail(response.error());
        continue;
      }
      if (response.value().status != 200) {
        record_other(response.value().status_error(mend::wall_time{}));
        continue;
      }
      note_success(response.value().body);
    }
  }

  // Reads "requests=N" from nginx's reply: N > 1 means a reused connection.
  void note_success(const std::string& body) {
    const auto at = body.find("requests=");
    if (at != std::string::npos) {
      const int requests = std::atoi(body.c_str() + at + 9);
      int seen = max_reuse_.load();
      while (requests > seen && !max_reuse_.compare_exchange_weak(seen, requests)) {
      }
    }
    std::lock_guard lock(mutex_);
    if (!first_success_) first_success_ = steady::now();
    ++succeeded_;
  }

  void record_other(std::error_code ec) {
    std::lock_guard lock(mutex_);
    if (other_errors_++ == 0) first_other_error_ = fmt::format("{}: {}", ec.category().name(), ec.message());
  }

  pool_type& pool_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> succeeded_{0};
  std::atomic<int> failed_{0};
  std::atomic<int> fast_failed_{0};
  std::atomic<int> exhausted_{0};
  std::atomic<int> other_errors_{0};
  std::atomic<int> max_reuse_{0};
  mutable std::mutex mutex_;
  std::optional<steady::time_point> first_success_;  // guarded by mutex_
  std::string first_other_error_;      // guarded by mutex_
  std::vector<std::thread> workers_;
};

std::size_t count_removed_as_dead(const mend::recording_sink& sink) {
  std::size_t count = 0;
  for (const auto& e : sink.events(mend::event_kind::pool_connection_removed))
    if (e.reason == "broken" || e.reason == "invalid") ++count;
  return count;
}

}  // namespace

TEST_CASE("http connection reuses one keep-alive connection", "[integration][pool_nginx]") {
  mend_test::nginx_fixture nginx;
  auto connected = mend::http_connection::connect("127.0.0.1", nginx.port(), 2s);
  REQUIRE(connected);
  auto& connection = connected.value();

  auto first = connection.request("GET", "/");
  auto second = connection.request("GET", "/");
  REQUIRE(first);
  REQUIRE(second);
  CHECK(first.value().status == 200);
  CHECK(first.value().header("content-type") == "text/plain");
  CHECK(first.value().body.find("requests=1") != std::string::npos);
  CHECK(second.value().body.find("requests=2") != std::string::npos);
  CHECK_FALSE(connection.peer_closed());

  // "Connection: close" from the server closes our side after the response.
  auto closing = connection.request("GET", "/close");
  REQUIRE(closing);
  CHECK(closing.value().body == "closing\n");
  CHECK_FALSE(connection.is_open());
  auto after_close = connection.request("GET", "/");
  REQUIRE_FALSE(after_close);
  CHECK(after_close.error() == std::errc::not_connected);

  // A host name goes through the resolver; "localhost" may list ::1 first,
  // where nginx does not listen, and connect() then tries 127.0.0.1.
  auto by_name = mend::http_connection::connect("localhost", nginx.port(), 2s);
  REQUIRE(by_name);
  CHECK(by_name.value().request("GET", "/").has_value());
}

TEST_CASE("http connection sees nginx going away", "[integration][pool_nginx]") {
  mend_test::nginx_fixture nginx;
  auto connected = mend::http_connection::connect("127.0.0.1", nginx.port(), 2s);
  REQUIRE(connected);
  auto& connection = connected.value();
  REQUIRE(connection.request("GET", "/"));

  nginx.stop();
  CHECK(wait_until([&] { return connection.peer_closed(); }, 2000ms));
  const auto failed = connection.request("GET", "/");
  REQUIRE_FALSE(failed);
  INFO(failed.error().message());
  CHECK(mend::is_transient(failed.error()));
  CHECK_FALSE(connection.is_open());

  const auto refused = mend::http_connection::connect("127.0.0.1", nginx.port(), 2s);
  REQUIRE_FALSE(refused);
  CHECK(refused.error() == std::errc::connection_refused);
  CHECK(mend::is_transient(refused.error()));
}

TEST_CASE("http request times out on a silent server", "[integration][pool_nginx]") {
  // A listening socket that never accepts: the kernel completes the TCP
  // handshake, and no response ever comes.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor silent{io, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  const auto port = silent.local_endpoint().port();

  auto connected = mend::http_connection::connect("127.0.0.1", port, 2s, {.request_timeout = 200ms});
  REQUIRE(connected);
  const auto started = steady::now();
  const auto response = connected.value().request("GET", "/");
  const auto took = steady::now() - started;
  REQUIRE_FALSE(response);
  CHECK(response.error() == mend::errc::timed_out);
  CHECK(mend::is_transient(response.error()));
  CHECK(took >= 200ms);
  CHECK_FALSE(connected.value().is_open());
}

TEST_CASE("pool recovers after nginx restarts", "[integration][pool_nginx]") {
  mend_test::nginx_fixture nginx;
  mend::steady_clock_source clock;
  mend::recording_sink events;
  mend::log_sink log{mend::severity::info, [](std::string_view line) { fmt::print("  event: {}\n", line); }};
  mend::fanout_sink sink{&events, &log};
  const auto port = nginx.port();

  // [snippet:http_pool]
  mend::connection_pool<mend::http_connection> pool{
      clock, [port] { return mend::http_connection::connect("127.0.0.1", port, 1s, {.request_timeout = 2s}); },
      {.name = "nginx",
       .min_size = 4,
       .max_size = 8,
       .acquire_timeout = 2s,
       .validator = [](mend::http_connection& c) { return !c.peer_closed(); },
       .sink = &sink}};
  // [/snippet]
  REQUIRE(pool.config().recovery_interval == 5s);  // the default is what is measured

  request_load load{pool, 4};

  // 1. Requests flow over reused keep-alive connections.
  REQUIRE(wait_until([&] { return load.succeeded() >= 300; }, 20000ms));
  CHECK(load.max_requests_on_one_connection() > 1);
  CHECK(pool.stats().connections_created <= 8);

  // 2. nginx goes away while the workers keep sending.
  fmt::print("stopping nginx (pid {}) with requests in flight\n", nginx.pid());
  std::fflush(stdout);
  nginx.stop();
  const auto stopped_at = steady::now();
  REQUIRE(wait_until([&] { return pool.in_recovery(); }, 15000ms));
  fmt::print("recovery mode entered {} after the stop\n",
             std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - stopped_at));

  // A connect that nginx's closing listener still accepted may end recovery
  // mode for a moment, so it can be entered more than once during the stop.
  const auto entered = events.events(mend::event_kind::pool_recovery_entered);
  REQUIRE_FALSE(entered.empty());
  for (const auto& e : entered) CHECK(e.error == std::errc::connection_refused);
  CHECK(pool.last_error() == std::errc::connection_refused);

  // Every connection made before the stop was found dead and removed.
  const auto in_recovery = pool.stats();
  CHECK(in_recovery.idle == 0);
  CHECK(in_recovery.active == 0);
  CHECK(count_removed_as_dead(events) == in_recovery.connections_created);

  // acquire() fails fast: far below acquire_timeout (2 s), without connecting.
  for (int i = 0; i < 5; ++i) {
    const auto started = steady::now();
    const auto leased = pool.acquire();
    const auto took = steady::now() - started;
    REQUIRE_FALSE(leased);
    CHECK(leased.error() == mend::errc::pool_recovering);
    CHECK(took < 500ms);
  }

  // One recovery attempt per 5 s tick, each refused. The stats count an
  // attempt when it starts and the event comes when it ends, so wait for the
  // event.
  REQUIRE(wait_until([&] { return events.count(mend::event_kind::pool_recovery_attempt) >= 1; }, 8000ms));
  const auto attempts = events.events(mend::event_kind::pool_recovery_attempt);
  REQUIRE_FALSE(attempts.empty());
  CHECK(attempts[0].error == std::errc::connection_refused);

  // 3. nginx comes back: measure until requests succeed through the pool.
  load.clear_first_success();
  nginx.start();  // returns once nginx accepts connections
  const auto back_at = steady::now();
  fmt::print("nginx restarted (pid {})\n", nginx.pid());
  std::fflush(stdout);
  REQUIRE(wait_until([&] { return load.first_success().has_value(); }, 35000ms));
  const auto recovered_in = std::max(*load.first_success() - back_at, steady::duration::zero());
  const auto recovered_ms = std::chrono::duration_cast<std::chrono::milliseconds>(recovered_in);
  fmt::print("pool recovered: requests succeed again {:.2f} s after nginx was back (recovery_interval 5 s)\n",
             static_cast<double>(recovered_ms.count()) / 1000.0);
  std::fflush(stdout);
  CHECK(recovered_in < 30s);
  CHECK_FALSE(pool.in_recovery());
  CHECK(events.count(mend::event_kind::pool_recovery_exited) == entered.size());

  // The pool refills to min_size.
  CHECK(wait_until([&] { return pool.stats().idle + pool.stats().active >= 4; }, 5000ms));

  load.stop();
  INFO("first unexpected error: " << load.first_other_error());
  CHECK(load.other_errors() == 0);
  fmt::print("requests: {} succeeded, {} failed on a dead connection, {} failed fast in recovery, {} exhausted\n",
             load.succeeded(), load.failed(), load.fast_failed(), load.exhausted());
  // Dead connections show up as failed requests or are caught by the
  // validator first, so load.failed() may be zero; fast failures may not.
  CHECK(load.fast_failed() > 0);
}
