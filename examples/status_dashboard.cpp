// Forty minutes of an AX connector's life on a manual clock, rendered as the
// status dashboard. The sales-order service goes down from 10 to 15 min (its
// breaker opens, retries fail, the AIF connection pool enters recovery), the
// application server aos-2 stops answering health checks from 22 to 28 min,
// the inventory service fails twice around 30 min, and the customer service
// goes down at 38 min and is still down at the end.
//
//   status_dashboard [--out FILE] [--port N]
//
// writes the page to FILE (default: status_dashboard.html in the temporary
// folder) and serves it live on 127.0.0.1:N until Enter is pressed. Without
// --port it starts the server on a free port and stops it at once. The
// regions between [snippet:...] markers are shown in docs/dashboard.md.
#include <mend/adapters/status_dashboard.hpp>
#include <mend/adapters/status_http_server.hpp>
#include <mend/mend.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

using namespace std::chrono_literals;

namespace {

int failures = 0;

void expect(bool ok, const char* description) {
  if (!ok) {
    std::fprintf(stderr, "status_dashboard: expectation failed: %s\n", description);
    ++failures;
  }
}

// Stands in for an AIF service or an AX application server that can go down.
struct backend {
  bool up = true;
  mend::result<int> call() const {
    if (!up) return mend::http_error(503);
    return 42;
  }
  mend::result<void> check() const {
    if (!up) return make_error_code(mend::errc::connect_failed);
    return mend::success();
  }
};

// An AIF session, as a connection pool would keep it.
struct aif_session {
  int id = 0;
};

struct arguments {
  std::string out = (std::filesystem::temp_directory_path() / "status_dashboard.html").string();
  int port = -1;  // -1: start on a free port and stop at once
};

bool parse_arguments(int argc, char** argv, arguments& args) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--out" && i + 1 < argc) {
      args.out = argv[++i];
    } else if (arg == "--port" && i + 1 < argc) {
      char* end = nullptr;
      const long port = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || port < 0 || port > 65535) {
        fmt::print(stderr, "status_dashboard: invalid --port {} (expected 0 to 65535)\n", argv[i]);
        return false;
      }
      args.port = static_cast<int>(port);
    } else {
      fmt::print(stderr, "usage: status_dashboard [--out FILE] [--port N]\n");
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  arguments args;
  if (!parse_arguments(argc, argv, args)) return 2;

  mend::manual_clock clock;
  mend::status_reporter status{clock, {.trend_bucket = 1min, .trend_span = 1h}};

  backend sales, inventory, customers;
  backend aos1, aos2, aos3;
  int sessions = 0;
  mend::connection_pool<aif_session> pool{clock,
                                          [&]() -> mend::result<aif_session> {
                                            if (!sales.up) return make_error_code(mend::errc::connect_failed);
                                            return aif_session{++sessions};
                                          },
                                          {.name = "aif_pool", .min_size = 2, .max_size = 4, .sink = &status}};
  mend::circuit_breaker sales_breaker{clock, {.name = "ax_sales_orders", .sink = &status}};
  mend::circuit_breaker inventory_breaker{clock, {.name = "ax_inventory", .sink = &status}};
  mend::circuit_breaker customer_breaker{clock, {.name = "ax_customers", .sink = &status}};
  mend::retry_policy retry{clock, {.name = "aif_read", .sink = &status}};

  mend::balancer balancer{clock,
                          {.name = "aos",
                           .endpoints = {{.name = "aos-1", .weight = 40},
                                         {.name = "aos-2", .weight = 40},
                                         {.name = "aos-3", .weight = 20}},
                           .sink = &status}};
  mend::health_checker checker{clock, {.name = "aos_checks", .observers = {&balancer}, .sink = &status}};
  checker.add("aos-1", [&](const mend::probe_context&) { return aos1.check(); });
  checker.add("aos-2", [&](const mend::probe_context&) { return aos2.check(); });
  checker.add("aos-3", [&](const mend::probe_context&) { return aos3.check(); });

  // Every eleventh sales-order call times out while the service is up, so the
  // retries have something to do.
  int sales_calls = 0;
  auto read_order = mend::decorate([&]() -> mend::result<int> {
                      auto session = pool.acquire();
                      if (!session) return session.error();
                      if (!sales.up) {
                        session.value().fail(make_error_code(mend::errc::connect_failed));
                        return mend::http_error(503);
                      }
                      if (++sales_calls % 11 == 0) return mend::http_error(504);
                      return sales.call();
                    })
                        .with(sales_breaker)
                        .with(retry);

  // One call to each service every 5 s, for 40 minutes.
  clock.run_due();
  for (int tick = 0; tick < 480; ++tick) {
    const auto minute = tick / 12.0;
    sales.up = minute < 10 || minute >= 15;
    aos2.up = minute < 22 || minute >= 28;
    inventory.up = !(minute >= 30 && minute < 30.5) && !(minute >= 31 && minute < 32.5);
    customers.up = minute < 38;

    (void)read_order();
    (void)inventory_breaker.execute([&] { return inventory.call(); });
    (void)customer_breaker.execute([&] { return customers.call(); });
    (void)balancer.pick();
    clock.advance(5s);
  }

  const mend::status_snapshot snapshot = status.snapshot();
  expect(snapshot.circuit_breakers.size() == 3, "three breakers in the report");
  expect(snapshot.connection_pools.size() == 1, "one pool in the report");
  expect(snapshot.connection_pools.front().recoveries == 1, "the pool recovered once");
  // Only an endpoint that changed is known to the reporter: aos-2.
  expect(snapshot.endpoints.size() == 1, "one endpoint in the report");
  expect(snapshot.endpoints.front().health == "healthy", "aos-2 is healthy again");

  // [snippet:render]
  const std::string page = mend::to_html(snapshot, {.title = "AX connector status"});
  std::ofstream(args.out, std::ios::binary) << page;
  // [/snippet]
  expect(page.find(R"(data-name="ax_customers" data-state="open")") != std::string::npos,
         "the customer breaker is open at the end");
  expect(page.find(R"(data-name="ax_sales_orders" data-state="closed")") != std::string::npos,
         "the sales-order breaker closed again");
  fmt::print("status_dashboard: wrote {} ({} bytes)\n", args.out, page.size());

  // [snippet:serve]
  mend::status_http_server server{[&] { return status.snapshot(); },
                                  {.port = static_cast<std::uint16_t>(std::max(args.port, 0))}};
  if (auto started = server.start(); !started) {
    fmt::print(stderr, "status_dashboard: cannot serve the page: {}\n", started.error().message());
    return 1;
  }
  fmt::print("open {} (the JSON report is at {}status.json)\n", server.url(), server.url());
  // [/snippet]
  if (args.port >= 0) {
    fmt::print("press Enter to stop\n");
    std::string line;
    std::getline(std::cin, line);
  }
  server.stop();
  return failures == 0 ? 0 : 1;
}
