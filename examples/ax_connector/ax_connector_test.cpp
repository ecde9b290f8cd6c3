// Unit tests of the connector's own logic: reading AIF replies, the
// classifiers, endpoint URLs, the command line, the workload, the profiles,
// the incident tracker and the summary that decide the exit status. No
// sockets, no real time.
#include "../common/command_line.hpp"
#include "aif_messages.hpp"
#include "connector.hpp"
#include "fault_script.hpp"
#include "incidents.hpp"
#include "profile.hpp"
#include "report.hpp"
#include "workload.hpp"

#include <mend/error.hpp>
#include <mend/event.hpp>
#include <mend/http_error.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;

namespace {

mend::http_response response(int status, std::string body, mend::http_fields headers = {}) {
  mend::http_response out;
  out.status = status;
  out.headers = std::move(headers);
  out.body = std::move(body);
  return out;
}

const std::string envelope_start = "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>";
const std::string envelope_end = "</s:Body></s:Envelope>";

mend::event transition(mend::event_kind kind, std::string_view component, std::string_view target,
                       std::string_view to, mend::time_point at) {
  mend::event e;
  e.kind = kind;
  e.component = component;
  e.target = target;
  e.to = to;
  e.at = at;
  return e;
}

const mend::time_point t0{};

}  // namespace

TEST_CASE("read response yields the sales id") {
  const auto reply = ax::classify_response(
      response(200, envelope_start +
                        "<SalesOrderServiceReadResponse xmlns=\"http://schemas.microsoft.com/dynamics/2008/01/services\">"
                        "<SalesOrder><SalesTable class=\"entity\"><SalesId>SO-000417</SalesId></SalesTable></SalesOrder>"
                        "</SalesOrderServiceReadResponse>" + envelope_end),
      ax::aif_operation::read, {});
  REQUIRE(reply.reply);
  CHECK(reply.reply.value().sales_id == "SO-000417");
}

TEST_CASE("create response yields the new key") {
  const auto reply = ax::classify_response(
      response(200, envelope_start +
                        "<SalesOrderServiceCreateResponse><EntityKeyList><EntityKey><KeyData><KeyField>"
                        "<Field>SalesId</Field><Value>SO-001042</Value></KeyField></KeyData></EntityKey>"
                        "</EntityKeyList></SalesOrderServiceCreateResponse>" + envelope_end),
      ax::aif_operation::create, {});
  REQUIRE(reply.reply);
  CHECK(reply.reply.value().sales_id == "SO-001042");
}

TEST_CASE("AifFault is a business fault") {
  const auto reply = ax::classify_response(
      response(500, envelope_start +
                        "<s:Fault><faultcode>s:Client</faultcode><faultstring>Request Failed.</faultstring><detail>"
                        "<AifFault xmlns=\"http://schemas.microsoft.com/dynamics/2008/01/documents/Fault\">"
                        "<FaultMessageListArray><FaultMessageList><FaultMessageArray><FaultMessage><Code>Read</Code>"
                        "<Message>No valid document identified from the entity key &amp; more</Message></FaultMessage>"
                        "</FaultMessageArray></FaultMessageList></FaultMessageListArray></AifFault></detail></s:Fault>" +
                        envelope_end),
      ax::aif_operation::read, {});
  REQUIRE_FALSE(reply.reply);
  CHECK(reply.reply.error() == ax::aif_errc::business_fault);
  CHECK(reply.detail == "SOAP fault s:Client: No valid document identified from the entity key & more");
  CHECK_FALSE(ax::is_retryable(reply.reply.error()));
  CHECK_FALSE(ax::is_endpoint_failure(reply.reply.error()));
}

TEST_CASE("InternalServiceFault is a server fault") {
  const auto reply = ax::classify_response(
      response(500, envelope_start +
                        "<s:Fault><faultcode xmlns:a=\"http://schemas.microsoft.com/net/2005/12/"
                        "windowscommunicationfoundation/dispatcher\">a:InternalServiceFault</faultcode><faultstring "
                        "xml:lang=\"en-US\">The server was unable to process the request.</faultstring></s:Fault>" +
                        envelope_end),
      ax::aif_operation::create, {});
  REQUIRE_FALSE(reply.reply);
  CHECK(reply.reply.error() == ax::aif_errc::server_fault);
  CHECK(ax::is_retryable(reply.reply.error()));
  CHECK(ax::is_endpoint_failure(reply.reply.error()));
}

TEST_CASE("503 keeps its Retry-After hint") {
  const auto reply = ax::classify_response(response(503, "<html>Service Unavailable</html>", {{"Retry-After", "1"}}),
                                           ax::aif_operation::read, {});
  REQUIRE_FALSE(reply.reply);
  CHECK(mend::http_status_of(reply.reply.error()) == 503);
  CHECK(mend::retry_after_of(reply.reply.error()) == std::chrono::seconds{1});
  CHECK(ax::is_retryable(reply.reply.error()));
  CHECK(ax::is_endpoint_failure(reply.reply.error()));
}

TEST_CASE("500 without SOAP fault is HTTP 500") {
  const auto reply = ax::classify_response(response(500, "<html>500 - Internal server error.</html>"),
                                           ax::aif_operation::read, {});
  REQUIRE_FALSE(reply.reply);
  CHECK(mend::http_status_of(reply.reply.error()) == 500);
  CHECK(ax::is_retryable(reply.reply.error()));
}

TEST_CASE("200 without the document is a protocol error") {
  const auto reply = ax::classify_response(response(200, "<html>Welcome</html>"), ax::aif_operation::read, {});
  REQUIRE_FALSE(reply.reply);
  CHECK(reply.reply.error() == mend::errc::protocol_error);
  CHECK(reply.detail == "HTTP 200 without a SalesOrderServiceReadResponse element");
  CHECK_FALSE(ax::is_retryable(reply.reply.error()));
}

TEST_CASE("classifiers route fail-fast errors") {
  CHECK(ax::is_retryable(mend::make_error_code(mend::errc::pool_recovering)));
  CHECK(ax::is_retryable(std::make_error_code(std::errc::connection_reset)));
  CHECK(ax::is_retryable(mend::make_error_code(mend::errc::timed_out)));
  CHECK_FALSE(ax::is_retryable(mend::make_error_code(mend::errc::no_healthy_endpoint)));
  CHECK_FALSE(ax::is_retryable(mend::make_error_code(mend::errc::circuit_open)));
  CHECK(ax::is_endpoint_failure(mend::make_error_code(mend::errc::pool_recovering)));
  CHECK_FALSE(ax::is_endpoint_failure(mend::http_error(404)));
}

TEST_CASE("request envelope carries action data") {
  ax::aif_request request;
  request.operation = ax::aif_operation::read;
  request.company = "USMF";
  request.message_id = "{0000}";
  request.sales_id = "SO-<1>";
  const auto body = ax::soap_request_body(request);
  CHECK(ax::xml_text(body, "Company") == "USMF");
  CHECK(ax::xml_text(body, "MessageId") == "{0000}");
  CHECK(ax::xml_text(body, "Value") == "SO-<1>");
  CHECK(body.find("SO-&lt;1&gt;") != std::string::npos);
  CHECK(ax::soap_action(ax::aif_operation::create) ==
        "http://schemas.microsoft.com/dynamics/2008/01/services/SalesOrderService/create");
}

TEST_CASE("endpoint URLs are parsed or rejected") {
  std::string error;
  const auto full = ax::parse_endpoint_url("http://aos1:8101/MicrosoftDynamicsAXAif60/SalesOrderService/xppservice.svc", error);
  REQUIRE(full);
  CHECK(full->name == "aos1:8101");
  CHECK(full->host == "aos1");
  CHECK(full->port == 8101);
  CHECK(full->path == "/MicrosoftDynamicsAXAif60/SalesOrderService/xppservice.svc");

  const auto bare = ax::parse_endpoint_url("http://[::1]", error);
  REQUIRE(bare);
  CHECK(bare->host == "::1");
  CHECK(bare->port == 80);
  CHECK(bare->path == ax::sales_order_service_path);

  CHECK_FALSE(ax::parse_endpoint_url("https://aos1/", error));
  CHECK(error == "invalid --endpoint 'https://aos1/': expected http://host:port/path (https is not supported)");
  CHECK_FALSE(ax::parse_endpoint_url("http://aos1:99999/", error));
  CHECK(error == "invalid --endpoint 'http://aos1:99999/': the port must be a number from 1 to 65535");
  CHECK_FALSE(ax::parse_endpoint_url("http://user@aos1/", error));
}

TEST_CASE("workload mixes reads, creates and faults") {
  CHECK(ax::make_request(0, 1, "USMF").operation == ax::aif_operation::read);
  CHECK(ax::make_request(3, 1, "USMF").operation == ax::aif_operation::create);
  CHECK(ax::make_request(3, 1, "USMF").purchase_order == "PO-000003");
  // Request 32 is the 25th read (indexes 3, 7, ... are creates).
  CHECK(ax::make_request(32, 1, "USMF").sales_id == "SO-999999");
  CHECK(ax::make_request(30, 1, "USMF").sales_id == "SO-000310");
  CHECK(ax::make_request(5, 0xAB, "USMF").message_id == "{000000AB-4D45-4E44-8000-000000000005}");
}

TEST_CASE("demo profile deadlines and allowance") {
  const auto demo = ax::demo_profile();
  CHECK(ax::request_deadline(demo) == 9500ms);
  CHECK(ax::recovery_allowance(demo) == 12s);
  const auto production = ax::production_profile();
  CHECK(ax::recovery_allowance(production) == 266s);
  // 4 attempts of 30 s + 5 s + 30 s, 3 sleeps of up to 60 s (max_retry_after), 1 s margin.
  CHECK(ax::request_deadline(production) == 4 * 65s + 3 * 60s + 1s);
}

TEST_CASE("fault script scales to the run") {
  const auto script = ax::demo_fault_script("aos1", "aos2", 90s);
  REQUIRE(script.windows.size() == 8);
  CHECK(script.windows[0].from == 8s);
  CHECK(script.windows[0].to == 18s);
  CHECK(script.end() == 84s);
  CHECK(script.answer_fault_at("aos1", 10s) == 0u);
  CHECK_FALSE(script.answer_fault_at("aos2", 40s));  // aos2 is down then: no window changes a response
  CHECK(ax::describe(script).starts_with("  aos1     8.0 s -  18.0 s  HTTP 500 (every 3rd request)\n"));
}

TEST_CASE("overlapping conditions make one incident") {
  ax::incident_tracker tracker{{"aos1", "aos2"}, t0};
  using kind = mend::event_kind;
  tracker.record(transition(kind::breaker_state_changed, "aos1", "", "open", t0 + 1s));
  tracker.record(transition(kind::pool_recovery_entered, "aos1", "", "", t0 + 2s));
  tracker.record(transition(kind::breaker_state_changed, "aos1", "", "half_open", t0 + 3s));
  tracker.record(transition(kind::breaker_state_changed, "aos1", "", "closed", t0 + 4s));
  tracker.record(transition(kind::pool_recovery_exited, "aos1", "", "", t0 + 5s));

  const auto incidents = tracker.incidents();
  REQUIRE(incidents.size() == 1);
  CHECK(incidents[0].started == t0 + 1s);
  CHECK(incidents[0].ended == t0 + 5s);
  CHECK(incidents[0].causes == "breaker open, pool recovering");

  const auto figures = tracker.figures(t0 + 60s, 12s);
  CHECK(figures.recovered == 1);
  CHECK(figures.success_rate == 100.0);
  CHECK(figures.longest_unusable == 4s);
  CHECK(figures.longest_endpoint == "aos1");
}

TEST_CASE("open incident counts once its fault cleared") {
  ax::incident_tracker tracker{{"aos1", "aos2"}, t0};
  using kind = mend::event_kind;
  tracker.record(transition(kind::endpoint_health_changed, "aos_health", "aos1", "healthy", t0 + 1s));
  tracker.record(transition(kind::endpoint_health_changed, "aos_health", "aos1", "unhealthy", t0 + 2s));
  tracker.record(transition(kind::endpoint_health_changed, "aos_health", "aos1", "healthy", t0 + 3s));
  tracker.record(transition(kind::breaker_state_changed, "aos2", "", "open", t0 + 10s));
  tracker.record(transition(kind::breaker_call_failed, "aos2", "", "", t0 + 20s));

  // At 30 s the last fault at aos2 is 10 s old: within the allowance, left out.
  auto figures = tracker.figures(t0 + 30s, 12s);
  CHECK(figures.incidents == 2);
  CHECK(figures.recovered == 1);
  CHECK(figures.not_recovered == 0);
  CHECK(figures.fault_present == 1);
  CHECK(figures.success_rate == 100.0);
  CHECK(figures.longest_unusable == 20s);

  // At 40 s it is 20 s old: the fault had cleared, so the incident failed to recover.
  figures = tracker.figures(t0 + 40s, 12s);
  CHECK(figures.not_recovered == 1);
  CHECK(figures.fault_present == 0);
  CHECK(figures.success_rate == 50.0);
}

TEST_CASE("log throttle passes transitions and limits repeats") {
  struct counting_sink final : mend::metrics_sink {
    void record(const mend::event&) override { ++count; }
    int count = 0;
  } log;
  ax::log_throttle throttle{log, 5s};
  using kind = mend::event_kind;
  auto removed = transition(kind::pool_connection_removed, "aos1", "", "", t0 + 1s);
  removed.level = mend::severity::warning;
  throttle.record(removed);
  removed.at = t0 + 2s;
  throttle.record(removed);
  removed.at = t0 + 7s;
  throttle.record(removed);
  auto opened = transition(kind::breaker_state_changed, "aos1", "", "open", t0 + 7s);
  opened.level = mend::severity::warning;
  throttle.record(opened);
  throttle.record(opened);
  auto info = transition(kind::pool_connection_created, "aos1", "", "", t0 + 8s);
  throttle.record(info);

  CHECK(log.count == 4);
  CHECK(throttle.suppressed() == 1);
}

TEST_CASE("rate option rejects non-finite values") {
  CHECK(example_options::parse_number("--rate", "2.5", 0.1, 10000.0) == 2.5);
  CHECK_THROWS_WITH(example_options::parse_number("--rate", "nan", 0.1, 10000.0),
                    "invalid --rate 'nan': expected a number from 0.1 to 10000");
  CHECK_THROWS_WITH(example_options::parse_number("--rate", "inf", 0.1, 10000.0),
                    "invalid --rate 'inf': expected a number from 0.1 to 10000");
  CHECK_THROWS_WITH(example_options::parse_number("--rate", "-5", 0.1, 10000.0),
                    "invalid --rate '-5': expected a number from 0.1 to 10000");
  CHECK_THROWS_WITH(example_options::parse_number("--rate", "1e999", 0.1, 10000.0),
                    "invalid --rate '1e999': expected a number from 0.1 to 10000");
}

TEST_CASE("duration option rejects overflowing values") {
  CHECK(example_options::parse_duration("--duration", "30s") == 30s);
  CHECK(example_options::parse_duration("--duration", "500ms") == 500ms);
  CHECK(example_options::parse_duration("--duration", "2m") == 2min);
  CHECK(example_options::parse_duration("--duration", "525600m") == std::chrono::hours{24 * 365});
  CHECK_THROWS_WITH(example_options::parse_duration("--duration", "525601m"),
                    "invalid --duration '525601m': the maximum is 525600m (365 days)");
  CHECK_THROWS_WITH(example_options::parse_duration("--duration", "9223372036854775807m"),
                    "invalid --duration '9223372036854775807m': the maximum is 525600m (365 days)");
  CHECK_THROWS_WITH(example_options::parse_duration("--duration", "9999999999999999999999s"),
                    "invalid --duration '9999999999999999999999s': the maximum is 525600m (365 days)");
  CHECK_THROWS_WITH(example_options::parse_duration("--duration", "-3s"),
                    "invalid --duration '-3s': expected a positive duration, e.g. 30s");
  CHECK_THROWS_WITH(example_options::parse_duration("--duration", "3h"),
                    "invalid --duration '3h': the unit must be ms, s or m");
}

TEST_CASE("incident before the run starts counts from the start") {
  const auto run_start = t0 + 10s;
  ax::incident_tracker tracker{{"aos1"}, run_start};
  using kind = mend::event_kind;
  tracker.record(transition(kind::pool_recovery_entered, "aos1", "", "", run_start - 1s));
  tracker.record(transition(kind::pool_recovery_exited, "aos1", "", "", run_start + 3s));

  const auto incidents = tracker.incidents();
  REQUIRE(incidents.size() == 1);
  CHECK(incidents[0].started == run_start);
  CHECK(incidents[0].ended == run_start + 3s);

  const auto figures = tracker.figures(run_start + 60s, 12s);
  CHECK(figures.longest_unusable == 3s);
  CHECK(figures.longest_from == 0s);
}

TEST_CASE("run without a success fails") {
  ax::run_summary summary;
  summary.requests.issued = 40;
  summary.requests.completed = 40;
  summary.requests.failed = 40;
  CHECK(summary.all_requests_ended());
  CHECK(summary.recovery.success_rate == 100.0);
  CHECK_FALSE(summary.passed());
  CHECK(summary.failure_reasons() == "no request succeeded (40 issued, 40 failed)");
  CHECK(ax::summary_json(summary)["passed"] == false);

  summary.requests.succeeded = 1;
  summary.requests.failed = 39;
  CHECK(summary.passed());
  CHECK(summary.failure_reasons().empty());
}
