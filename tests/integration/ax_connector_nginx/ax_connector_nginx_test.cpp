// The AX connector demo (examples/ax_connector) against two real nginx
// servers from Debian that serve canned AIF responses: one nginx is stopped
// mid-run and started again, the other answers 503 for a while after a
// configuration reload. The connector must exit 0: every request ended with
// a success or a reported error, and the recovery success rate is at least
// 95 %.
//
// The responses in this folder follow the format of AX 2012's sales order
// service. They were written for this test, not captured from a live AOS.
#include <mend/adapters/http_connection.hpp>

#include <catch2/catch.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "../pool_nginx/nginx_fixture.hpp"
#include "../rollout_haproxy/child_process.hpp"

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

constexpr std::string_view service_path = "/MicrosoftDynamicsAXAif60/SalesOrderService/xppservice.svc";

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// What an AIF nginx serves: the canned responses, or 503 for everything.
enum class aif_mode { serving, unavailable };

// The configuration of one nginx. Serving: POST to the service path returns
// the canned response for the request's SOAPAction and GET returns the WSDL.
// nginx rejects a POST to a static file with 405, so error_page turns that
// into the file with status 200. Unavailable: every request gets 503 with
// "Retry-After: 1".
std::string aif_nginx_config(const std::string& directory, std::uint16_t port, aif_mode mode) {
  const std::string server =
      mode == aif_mode::serving
          ? fmt::format("    location = {path} {{\n"
                        "      if ($request_method = GET) {{ rewrite ^ /recorded/SalesOrderService.wsdl last; }}\n"
                        "      if ($aif_reply = \"\") {{ return 500; }}\n"
                        "      rewrite ^ /recorded/$aif_reply last;\n"
                        "    }}\n"
                        "    location /recorded/ {{\n"
                        "      internal;\n"
                        "      alias {recorded}/;\n"
                        "      default_type \"text/xml; charset=utf-8\";\n"
                        "      error_page 405 =200 $uri;\n"
                        "    }}\n",
                        fmt::arg("path", service_path), fmt::arg("recorded", AX_RECORDED_DIR))
          : std::string{"    location / {\n"
                        "      add_header Retry-After 1 always;\n"
                        "      default_type text/html;\n"
                        "      return 503 \"<html><body><h1>Service Unavailable</h1></body></html>\\n\";\n"
                        "    }\n"};
  return mend_test::nginx_config_with(
      directory, fmt::format("  map $http_soapaction $aif_reply {{\n"
                             "    \"~/SalesOrderService/read\\\"?$\" read_response.xml;\n"
                             "    \"~/SalesOrderService/create\\\"?$\" create_response.xml;\n"
                             "    default \"\";\n"
                             "  }}\n"
                             "  server {{\n"
                             "    listen 127.0.0.1:{port};\n"
                             "{server}"
                             "  }}\n",
                             fmt::arg("port", port), fmt::arg("server", server)));
}

// One nginx on 127.0.0.1 with its own directory, configuration, pid file and
// logs. Every stop is by the PID of the master process it started; the
// destructor stops it too, so a failing test leaves no server behind.
class aif_nginx {
 public:
  explicit aif_nginx(std::string name) : name_(std::move(name)) {
    if (::access(mend_test::nginx_path, X_OK) != 0)
      throw std::runtime_error(fmt::format(
          "nginx not found at {}: install the Debian package nginx (apt-get install nginx); this test needs it",
          mend_test::nginx_path));
    char pattern[] = "/tmp/mend-ax-nginx-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed for /tmp/mend-ax-nginx-XXXXXX");
    directory_ = pattern;
    port_ = mend_test::free_loopback_port();
    write_config(aif_mode::serving);
    start();
  }

  aif_nginx(const aif_nginx&) = delete;
  aif_nginx& operator=(const aif_nginx&) = delete;

  ~aif_nginx() {
    process_.reset();
    if (std::getenv("MEND_KEEP_TEST_DIR") == nullptr) {
      std::error_code ignored;
      std::filesystem::remove_all(directory_, ignored);
    }
  }

  // Starts nginx and waits until it serves the WSDL (at most 10 s).
  void start() {
    process_ = std::make_unique<mend_test::child_process>(
        std::vector<std::string>{mend_test::nginx_path, "-p", directory_ + "/", "-c", directory_ + "/nginx.conf", "-e",
                                 directory_ + "/error.log"},
        directory_ + "/nginx.out");
    wait_for_status(200, "start");
  }

  // Stops nginx by the PID of its master with SIGTERM (fast shutdown: the
  // workers close every connection) and reaps it.
  void stop() { process_->stop(SIGTERM); }

  // Rewrites the configuration and reloads it with SIGHUP to the master,
  // then waits until a new connection gets the mode's status (at most 10 s).
  void switch_to(aif_mode mode) {
    write_config(mode);
    REQUIRE(::kill(process_->pid(), SIGHUP) == 0);
    wait_for_status(mode == aif_mode::serving ? 200 : 503, "reload");
  }

  std::string url() const { return fmt::format("http://127.0.0.1:{}{}", port_, service_path); }
  const std::string& name() const noexcept { return name_; }
  const std::string& directory() const noexcept { return directory_; }

 private:
  void write_config(aif_mode mode) {
    // Written to a new file and renamed, so a reload never reads half of it.
    const auto path = directory_ + "/nginx.conf";
    std::ofstream(path + ".new") << aif_nginx_config(directory_, port_, mode);
    std::filesystem::rename(path + ".new", path);
  }

  void wait_for_status(int status, std::string_view step) {
    const auto deadline = steady::now() + 10s;
    for (;;) {
      if (!process_->running())
        throw std::runtime_error(fmt::format("nginx {} exited at {}:\n{}", name_, step, read_text(directory_ + "/error.log")));
      if (auto connection = mend::http_connection::connect("127.0.0.1", port_, 200ms, {.request_timeout = 1s})) {
        const auto response = connection.value().request("GET", std::string{service_path} + "?wsdl");
        if (response && response.value().status == status) return;
      }
      if (steady::now() > deadline)
        throw std::runtime_error(fmt::format("nginx {} did not answer {} within 10 s after {}:\n{}", name_, status,
                                             step, read_text(directory_ + "/error.log")));
      std::this_thread::sleep_for(20ms);
    }
  }

  std::string name_;
  std::string directory_;
  std::uint16_t port_ = 0;
  std::unique_ptr<mend_test::child_process> process_;
};

// Waits until `process` ends by itself or `limit` passes; then stops it.
// Returns its wait status and whether it ended in time.
std::pair<int, bool> wait_for_exit(mend_test::child_process& process, std::chrono::seconds limit) {
  const auto deadline = steady::now() + limit;
  while (process.running() && steady::now() < deadline) std::this_thread::sleep_for(100ms);
  const bool in_time = !process.running();
  return {process.stop(SIGTERM), in_time};
}

}  // namespace

TEST_CASE("connector recovers from a stopped nginx and a 503 reload") {
  aif_nginx aos1{"aos1"};
  aif_nginx aos2{"aos2"};
  const std::string report_dir = aos1.directory() + "/report";
  const std::string output = aos1.directory() + "/ax_connector.out";

  // The connector's run starts about 1 s after it is launched.
  const auto launched = steady::now();
  mend_test::child_process connector{{AX_CONNECTOR_PATH, "--endpoint", aos1.url(), "--endpoint", aos2.url(),
                                      "--profile", "demo", "--duration", "40s", "--report-dir", report_dir},
                                     output};
  const auto at = [&](std::chrono::seconds into_run) { std::this_thread::sleep_until(launched + 1s + into_run); };

  at(6s);
  aos1.stop();  // connections refused until it starts again
  at(9s);
  aos2.switch_to(aif_mode::unavailable);  // no endpoint is usable until aos2 serves again
  at(14s);
  aos2.switch_to(aif_mode::serving);
  at(16s);
  aos1.start();

  const auto [status, in_time] = wait_for_exit(connector, 80s);
  const std::string log = read_text(output);
  INFO("ax_connector output:\n" << log);
  REQUIRE(in_time);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);

  // The figures of the run, printed for the record.
  const auto summary_start = log.find("\nsummary");
  std::printf("%s\n", summary_start == std::string::npos ? log.c_str() : log.c_str() + summary_start + 1);

  const auto summary = nlohmann::json::parse(read_text(report_dir + "/summary.json"));
  const auto& requests = summary["requests"];
  CHECK(requests["issued"].get<int>() > 0);
  CHECK(requests["completed"] == requests["issued"]);
  CHECK(requests["in_flight"] == 0);
  CHECK(requests["late"] == 0);
  CHECK(requests["succeeded"].get<int>() > requests["issued"].get<int>() / 2);
  CHECK(summary["passed"] == true);

  const auto& recovery = summary["recovery"];
  CHECK(recovery["success_rate_percent"].get<double>() >= 95.0);
  CHECK(recovery["not_recovered"] == 0);
  CHECK(recovery["fault_present"] == 0);
  CHECK(recovery["recovered"].get<int>() >= 2);

  // Each nginx caused at least one incident, and every incident ended.
  for (const auto& endpoint : {aos1.url(), aos2.url()}) {
    const auto name = endpoint.substr(std::string_view{"http://"}.size(), endpoint.find('/', 7) - 7);
    int incidents = 0;
    for (const auto& incident : summary["incidents"]) {
      if (incident["endpoint"] != name) continue;
      ++incidents;
      CHECK_FALSE(incident["ended_ms"].is_null());
    }
    INFO("endpoint " << name);
    CHECK(incidents >= 1);
  }

  // The stopped nginx refused connections, and the reloaded one returned 503.
  const auto& observed = summary["faults_observed"];
  CHECK(observed["failed_connects"].get<int>() >= 1);
  const auto aos2_name = aos2.url().substr(7, aos2.url().find('/', 7) - 7);
  CHECK(observed["failed_attempts"][aos2_name]["HTTP 503"].get<int>() >= 1);

  // Both breakers opened and closed again by themselves.
  const auto report = nlohmann::json::parse(read_text(report_dir + "/status.json"));
  REQUIRE(report["circuit_breakers"].size() == 2);
  for (const auto& breaker : report["circuit_breakers"]) {
    INFO("breaker " << breaker["name"]);
    CHECK(breaker["state"] == "CLOSED");
    CHECK(breaker["auto_recoveries"].get<int>() >= 1);
  }
}
