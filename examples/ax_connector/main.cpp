// ax_connector: an AX connector that heals itself. It sends AIF sales order
// requests (SOAP 1.1 over HTTP) to several AOS endpoints through mend's
// balancer, health checks, circuit breakers, retry policy and connection
// pools, and reports every self-healing action.
//
//   ax_connector                                   built-in stand-ins with faults, about a minute
//   ax_connector --endpoint http://aos1:8101/MicrosoftDynamicsAXAif60/SalesOrderService/xppservice.svc ...
//
// Exit status: 0 when every request ended with a success or a reported error
// within its deadline, at least one request succeeded and the recovery
// success rate is at least 95 %, 1 otherwise, 2 for invalid options.
#include "../common/command_line.hpp"
#include "aif_stand_in.hpp"
#include "connector.hpp"
#include "fault_script.hpp"
#include "incidents.hpp"
#include "profile.hpp"
#include "report.hpp"
#include "workload.hpp"

#include <mend/adapters/status_dashboard.hpp>
#include <mend/adapters/status_http_server.hpp>
#include <mend/adapters/status_json.hpp>
#include <mend/config_error.hpp>
#include <mend/log_sink.hpp>
#include <mend/metrics_sink.hpp>
#include <mend/status_reporter.hpp>
#include <mend/steady_clock_source.hpp>

#include <fmt/format.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

constexpr std::string_view usage = R"(usage: ax_connector [options]

Sends AIF sales order requests (read and create, SOAP 1.1 over HTTP) to AOS
endpoints through a balancer with health checks, a circuit breaker and a pool
of keep-alive connections per endpoint, and a retry policy that picks the
endpoint again for every attempt. Prints one status line per second and a
summary at the end.

Without --endpoint it starts two AIF stand-in servers on 127.0.0.1 that follow
a fault script (HTTP 500 and 503, SOAP server faults, dropped connections,
requests without an answer, slow answers, one server down for a while).

Options:
  --endpoint URL        an AOS endpoint, http://host:port/path; repeat for several.
                        Without a path: /MicrosoftDynamicsAXAif60/SalesOrderService/xppservice.svc
  --profile NAME        demo or production timings (default: demo with the built-in
                        stand-ins, production with --endpoint). demo: breaker open 2 s
                        (up to 8 s), health checks every 1 s (timeout 800 ms), pool
                        recovery every 1 s, slow start over 10 s, retries after 100,
                        200, 400 ms within 5 s, request timeout 2 s, connect timeout
                        500 ms. production: the library's defaults (60 s, 10 s, 5 s,
                        60 s, 1-2-4 s, 30 s) and a 5 s connect timeout.
  --duration DURATION   how long requests are sent (default: 60s; 10m for the
                        built-in stand-ins with the production profile; at most 525600m)
  --rate N              requests per second (default: 20)
  --workers N           threads sending requests, and connections per pool (default: 4)
  --company ID          the AX company in the CallContext header (default: USMF)
  --report-dir DIR      where status.json, status.html and summary.json are written
                        at the end (default: ./ax_connector_report)
  --print-json          also print the whole status report JSON to stdout at the end
  --dashboard-port N    serve the live dashboard on this port (0: a free one) at /
                        and the JSON report at /status.json while the run lasts
  --dashboard-bind ADDR the address the dashboard binds (default: 127.0.0.1); give
                        it to serve on any other address, e.g. 0.0.0.0
  --dashboard-token T   require "Authorization: Bearer T" on both paths (at least
                        16 characters: letters, digits, - . _ ~ + / and = at the end)
  --help                print this help and exit

A DURATION is a number with the unit ms, s or m (500ms, 30s, 2m); a bare number
counts seconds.

Recovery success rate: an incident is a period during which an endpoint is
unusable (its breaker open or half-open, its pool in recovery mode, or its
health checks failing). The rate is the number of incidents that ended by
themselves before the run ended, divided by the number of incidents whose
fault had cleared: those that ended, and those still open although no fault
was seen at their endpoint during the profile's recovery allowance (breaker
maximum open timeout + rise x health interval + pool recovery interval + 1 s;
12 s for demo).

Exit status: 0 when every request ended with a success or a reported error
within its deadline, at least one request succeeded and the recovery success
rate is at least 95 %, 1 otherwise, 2 for invalid options.
)";

using example_options::parse_duration;
using example_options::parse_number;
using example_options::usage_error;

struct settings {
  std::vector<std::string> endpoints;
  std::optional<std::string> profile;
  std::optional<mend::duration> duration;
  double rate = 20.0;
  unsigned workers = 4;
  std::string company = "USMF";
  std::string report_dir = "ax_connector_report";
  bool print_json = false;
  std::optional<std::uint16_t> dashboard_port;
  std::optional<std::string> dashboard_bind;
  std::string dashboard_token;
};

// Returns nullopt for --help.
std::optional<settings> parse_arguments(int argc, char** argv) {
  settings out;
  for (int i = 1; i < argc; ++i) {
    const std::string_view option = argv[i];
    if (option == "--help" || option == "-h") return std::nullopt;
    if (option == "--print-json") {
      out.print_json = true;
      continue;
    }
    if (i + 1 >= argc) throw usage_error(fmt::format("missing value after {}", option));
    const std::string_view value = argv[++i];
    if (option == "--endpoint") {
      out.endpoints.emplace_back(value);
    } else if (option == "--profile") {
      if (value != "demo" && value != "production")
        throw usage_error(fmt::format("invalid --profile '{}': expected demo or production", value));
      out.profile = std::string(value);
    } else if (option == "--duration") {
      out.duration = parse_duration(option, value);
    } else if (option == "--rate") {
      out.rate = parse_number(option, value, 0.1, 10000.0);
    } else if (option == "--workers") {
      out.workers = parse_number(option, value, 1u, 256u);
    } else if (option == "--company") {
      out.company = std::string(value);
    } else if (option == "--report-dir") {
      out.report_dir = std::string(value);
    } else if (option == "--dashboard-port") {
      out.dashboard_port = parse_number<std::uint16_t>(option, value, 0, 65535);
    } else if (option == "--dashboard-bind") {
      out.dashboard_bind = std::string(value);
    } else if (option == "--dashboard-token") {
      out.dashboard_token = std::string(value);
    } else {
      throw usage_error(fmt::format("unknown option {}", option));
    }
  }
  if ((out.dashboard_bind || !out.dashboard_token.empty()) && !out.dashboard_port)
    throw usage_error("--dashboard-bind and --dashboard-token need --dashboard-port");
  return out;
}

// The endpoints to call, and the stand-ins that serve them in the default mode.
struct backends {
  std::unique_ptr<ax::aos_database> database;
  std::unique_ptr<ax::fault_script> script;
  std::vector<std::unique_ptr<ax::aif_stand_in>> stand_ins;
  std::vector<ax::endpoint_address> addresses;
};

backends start_stand_ins(mend::duration fault_phase, mend::time_point run_start) {
  backends out;
  out.database = std::make_unique<ax::aos_database>();
  out.script = std::make_unique<ax::fault_script>(ax::demo_fault_script("aos1", "aos2", fault_phase));
  const auto epoch = std::chrono::steady_clock::time_point{
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(run_start.time_since_epoch())};
  for (const std::string name : {"aos1", "aos2"}) {
    auto server = std::make_unique<ax::aif_stand_in>(name, *out.database, *out.script, epoch);
    if (const auto started = server->start(); !started)
      throw std::runtime_error(fmt::format("cannot start the stand-in {}: {}", name, started.error().message()));
    out.addresses.push_back({.name = name, .host = "127.0.0.1", .port = server->port()});
    out.stand_ins.push_back(std::move(server));
  }
  return out;
}

backends parse_endpoints(const std::vector<std::string>& urls) {
  backends out;
  for (const auto& url : urls) {
    std::string error;
    auto address = ax::parse_endpoint_url(url, error);
    if (!address) throw usage_error(error);
    for (const auto& known : out.addresses)
      if (known.name == address->name)
        throw usage_error(fmt::format("--endpoint {} is given twice (as {})", url, known.name));
    out.addresses.push_back(std::move(*address));
  }
  return out;
}

// Writes `text` to `path`. Returns false, with the reason on stderr, when it cannot.
bool write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) {
    fmt::print(stderr, "ax_connector: cannot write {}\n", path.string());
    return false;
  }
  return true;
}

std::uint64_t count_health_recoveries(const mend::status_snapshot& report) {
  std::uint64_t count = 0;
  for (const auto& entry : report.history)
    if (entry.kind == mend::event_kind::endpoint_health_changed && entry.recovery) ++count;
  return count;
}

int run(const settings& config) {
  const bool stand_ins = config.endpoints.empty();
  const auto profile =
      config.profile.value_or(stand_ins ? "demo" : "production") == "demo" ? ax::demo_profile() : ax::production_profile();
  const auto allowance = ax::recovery_allowance(profile);
  const auto deadline = ax::request_deadline(profile);

  // With the stand-ins, the faults fill the run but its last part, which
  // leaves every endpoint time to recover.
  const auto duration = config.duration.value_or(stand_ins && profile.name == "production" ? mend::duration{10min}
                                                                                           : mend::duration{60s});
  const auto recovery_tail = allowance + 3s;
  const auto fault_phase = duration - recovery_tail;
  if (stand_ins && fault_phase < 10s)
    throw usage_error(fmt::format("--duration {} is too short for the {} profile with the built-in stand-ins: it "
                                  "needs at least {} (10 s of faults and {} to recover)",
                                  std::chrono::duration_cast<std::chrono::seconds>(duration), profile.name,
                                  std::chrono::ceil<std::chrono::seconds>(recovery_tail + 10s),
                                  std::chrono::ceil<std::chrono::seconds>(recovery_tail)));

  backends targets = stand_ins ? backends{} : parse_endpoints(config.endpoints);

  // The health checks run on a clock of their own (see aif_connector).
  mend::steady_clock_source clock;
  mend::steady_clock_source probe_clock;
  // The pools fill and the first health checks run before the first request.
  const auto run_start = clock.now() + 1s;
  if (stand_ins) targets = start_stand_ins(fault_phase, run_start);

  std::vector<std::string> names;
  for (const auto& address : targets.addresses) names.push_back(address.name);

  // The trends span the whole run, so that the dashboard's plots show all of it.
  const auto trend_span = profile.trend_bucket * ((duration + deadline + 5s) / profile.trend_bucket + 1);

  // [snippet:sinks]
  // One status reporter for everything; warnings also go to stderr, without
  // the repeats, and the incident tracker measures the recoveries.
  mend::status_reporter status{clock, {.trend_bucket = profile.trend_bucket, .trend_span = trend_span}};
  mend::log_sink warnings{mend::severity::warning};
  ax::log_throttle throttled_warnings{warnings, 5s};
  ax::incident_tracker incidents{names, run_start};
  mend::fanout_sink sink{&status, &throttled_warnings, &incidents};
  // [/snippet]
  for (const auto& name : names) {
    status.add_breaker(name);
    status.add_pool(name);
    status.add_endpoint(name);
  }
  status.add_retry_policy("aif_retry");

  ax::aif_connector connector{clock, probe_clock, targets.addresses, profile, config.workers, sink};

  std::unique_ptr<mend::status_http_server> dashboard;
  if (config.dashboard_port) {
    mend::status_http_server::options options;
    options.name = "ax_connector dashboard";
    options.port = *config.dashboard_port;
    if (config.dashboard_bind) {
      options.bind_address = *config.dashboard_bind;
      options.allow_non_loopback = true;  // an explicit --dashboard-bind is the operator's choice
    }
    options.bearer_token = config.dashboard_token;
    options.refresh = 2s;
    options.page.title = "AX connector";
    dashboard = std::make_unique<mend::status_http_server>(clock, [&status] { return status.snapshot(); }, options);
    if (auto started = dashboard->start(); !started) {
      fmt::print(stderr, "ax_connector: cannot serve the dashboard: {}\n", started.error().message());
      return 2;
    }
  }

  fmt::print("ax_connector: profile {}, {} requests/s from {} workers for {:.0f} s, request deadline {:.1f} s\n",
             profile.name, config.rate, config.workers, ax::seconds(duration), ax::seconds(deadline));
  for (const auto& address : targets.addresses)
    fmt::print("  endpoint {} = http://{}:{}{}{}\n", address.name, address.host, address.port, address.path,
               stand_ins ? " (built-in stand-in)" : "");
  if (stand_ins)
    fmt::print("fault script (seconds into the run; no faults in the last {:.0f} s):\n{}", ax::seconds(recovery_tail),
               ax::describe(*targets.script));
  if (dashboard) fmt::print("dashboard: {} (JSON at {}status.json)\n", dashboard->url(), dashboard->url());
  std::fflush(stdout);

  // The workload.
  std::random_device seed;
  const ax::workload_plan plan{run_start, run_start + duration, config.rate, static_cast<std::uint32_t>(seed()),
                               config.company};
  ax::workload_stats requests{deadline};
  std::atomic<std::uint64_t> next_request{0};
  std::stop_source stop;
  std::atomic<unsigned> workers_running{config.workers};
  std::vector<std::thread> workers;
  for (unsigned i = 0; i < config.workers; ++i) {
    workers.emplace_back([&] {
      ax::run_worker(connector, clock, plan, next_request, requests, stop.get_token());
      --workers_running;
    });
  }

  // One status line per second while requests are sent, then until the
  // requests in flight have ended or their deadline has passed.
  const auto print_status = [&] {
    const auto now = clock.now();
    fmt::print("{}\n", ax::status_line(now - run_start, requests.snapshot(now), connector.retry_stats(),
                                       connector.view(), status.snapshot()));
    std::fflush(stdout);
  };
  clock.sleep_for(run_start - clock.now());
  for (auto next = run_start + 1s; next <= plan.end; next += 1s) {
    clock.sleep_for(next - clock.now());
    print_status();
  }
  const auto give_up_at = plan.end + deadline;
  while (workers_running.load() > 0 && clock.now() < give_up_at) clock.sleep_for(100ms);
  const auto run_end = clock.now();
  stop.request_stop();

  // The summary.
  ax::run_summary summary;
  summary.mode = stand_ins ? "built-in stand-ins" : "endpoints";
  summary.profile = profile.name;
  summary.run_time = run_end - run_start;
  summary.allowance = allowance;
  summary.deadline = deadline;
  summary.requests = requests.snapshot(run_end);
  summary.retries = connector.retry_stats();
  if (stand_ins) {
    ax::injected_faults injected;
    for (const auto& server : targets.stand_ins) {
      const auto counts = server->injected();
      for (std::size_t kind = 0; kind < injected.by_kind.size(); ++kind) injected.by_kind[kind] += counts.by_kind[kind];
      injected.duplicate_creates += counts.duplicate_creates;
    }
    summary.injected = injected;
  }
  summary.endpoints = connector.view();
  summary.recovery = incidents.figures(run_end, allowance);
  summary.incidents = incidents.incidents();
  summary.run_start = run_start;
  for (const auto& [name, stats] : connector.breaker_stats()) {
    summary.breaker_auto_recoveries += stats.auto_recoveries;
    summary.breaker_rejections += stats.rejections;
  }
  const auto report = status.snapshot();
  for (const auto& pool : report.connection_pools) summary.pool_recoveries += pool.recoveries;
  summary.health_recoveries = count_health_recoveries(report);
  summary.log_lines_suppressed = throttled_warnings.suppressed();

  // [snippet:report]
  const std::filesystem::path directory{config.report_dir};
  std::error_code created;
  std::filesystem::create_directories(directory, created);
  const auto json = mend::to_json(report);
  bool written = !created;
  written = write_file(directory / "status.json", json.dump(2) + "\n") && written;
  written = write_file(directory / "status.html", mend::to_html(report, {.title = "AX connector",
                                                                         .json_href = "status.json"})) && written;
  written = write_file(directory / "summary.json", ax::summary_json(summary).dump(2) + "\n") && written;
  // [/snippet]
  if (created) fmt::print(stderr, "ax_connector: cannot create {}: {}\n", directory.string(), created.message());

  nlohmann::ordered_json headline;
  for (const auto* member : {"circuit_breakers", "connection_pools", "retry_stats"}) headline[member] = json[member];
  fmt::print("\nstatus report (the full report is in {}):\n{}\n", (directory / "status.json").string(),
             config.print_json ? json.dump(2) : headline.dump(2));
  ax::print_summary(summary, written ? fmt::format("{}: status.json, status.html, summary.json", directory.string())
                                     : std::string{"not written, see the errors above"});
  std::fflush(stdout);

  if (workers_running.load() > 0) {
    // A request is still running past its deadline. Destroying the
    // connector under it is not safe, so the process ends here.
    std::fflush(stderr);
    std::_Exit(1);
  }
  for (auto& worker : workers) worker.join();
  if (dashboard) dashboard->stop();
  return summary.passed() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<settings> config;
  try {
    config = parse_arguments(argc, argv);
  } catch (const usage_error& e) {
    fmt::print(stderr, "ax_connector: {}\nRun ax_connector --help for the options.\n", e.what());
    return 2;
  }
  if (!config) {
    fmt::print("{}", usage);
    return 0;
  }

  try {
    return run(*config);
  } catch (const usage_error& e) {
    fmt::print(stderr, "ax_connector: {}\nRun ax_connector --help for the options.\n", e.what());
    return 2;
  } catch (const mend::config_error& e) {
    fmt::print(stderr, "ax_connector: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "ax_connector: {}\n", e.what());
    return 1;
  }
}
