#include <mend/adapters/status_json.hpp>

#include <mend/circuit_breaker.hpp>
#include <mend/http_error.hpp>
#include <mend/manual_clock.hpp>
#include <mend/retry_policy.hpp>
#include <mend/status_reporter.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

mend::event pool_event(mend::event_kind kind, const mend::manual_clock& clock) {
  mend::event e;
  e.kind = kind;
  e.component = "aif_pool";
  e.at = clock.now();
  e.wall_at = clock.wall_now();
  return e;
}

// Runs a breaker trip and recovery, a retry and a pool recovery on `clock`,
// reporting to `status`.
void run_known_sequence(mend::manual_clock& clock, mend::status_reporter& status) {
  mend::circuit_breaker breaker{clock, {.name = "ax_connection", .trip = {.threshold = 2}, .sink = &status}};
  mend::retry_policy retry{clock, {.name = "aif_read", .sink = &status}};

  // 00:00:00: two failures open the breaker; 00:01:00: a test call closes it.
  for (int i = 0; i < 2; ++i) (void)breaker.execute([] { return mend::http_error(503); });
  (void)breaker.execute([] { return 1; });  // rejected while open
  clock.advance(60s);
  (void)breaker.execute([] { return 1; });

  // 00:01:00: one failure, then a retry after 1 s succeeds.
  int calls = 0;
  (void)retry.execute([&]() -> mend::result<int> {
    if (++calls == 1) return mend::http_error(503);
    return 1;
  });

  // 00:02:01: the pool enters recovery; 00:02:11: it is back after two attempts.
  clock.advance(60s);
  auto e = pool_event(mend::event_kind::pool_recovery_entered, clock);
  e.from = "healthy";
  e.to = "recovering";
  e.reason = "every connection failed";
  e.error = make_error_code(mend::errc::connect_failed);
  status.record(e);
  for (std::int64_t attempt = 1; attempt <= 2; ++attempt) {
    clock.advance(5s);
    const std::array samples{mend::metric_sample{mend::metric::recovery_attempts, attempt}};
    e = pool_event(mend::event_kind::pool_recovery_attempt, clock);
    e.metrics = samples;
    status.record(e);
  }
  e = pool_event(mend::event_kind::pool_recovery_exited, clock);
  e.from = "recovering";
  e.to = "healthy";
  e.reason = "connection created";
  status.record(e);
  const std::array gauges{mend::metric_sample{mend::metric::active, 10}, mend::metric_sample{mend::metric::idle, 2},
                          mend::metric_sample{mend::metric::total, 12}, mend::metric_sample{mend::metric::waiters, 0},
                          mend::metric_sample{mend::metric::recovery_attempts, 2}};
  e = pool_event(mend::event_kind::pool_gauges, clock);
  e.metrics = gauges;
  status.record(e);
}

// The whole report for run_known_sequence(), member by member.
const char* const known_sequence_report = R"({
  "circuit_breakers": [
    {"name": "ax_connection", "state": "CLOSED", "auto_recoveries": 1, "last_recovery": "2025-01-01T00:01:00Z",
     "failures": 2, "rejections": 1, "open_timeout_ms": 60000, "last_change": "2025-01-01T00:01:00Z",
     "last_reason": "test call succeeded"}
  ],
  "connection_pools": [
    {"name": "aif_pool", "status": "healthy", "active_connections": 10, "recovery_attempts": 2,
     "idle_connections": 2, "total_connections": 12, "waiters": 0, "recoveries": 1,
     "last_recovery": "2025-01-01T00:02:11Z", "last_error": "connection failed"}
  ],
  "retry_stats": {"total_retries": 1, "successful_retries": 1, "failed_retries": 0},
  "generated_at": "2025-01-01T00:02:11Z",
  "retry_policies": [
    {"name": "aif_read", "total_retries": 1, "successful_retries": 1, "failed_retries": 0, "gave_up": 0,
     "last_give_up_reason": null}
  ],
  "endpoints": [],
  "rollouts": [],
  "history": {
    "capacity": 1000,
    "dropped": 0,
    "entries": [
      {"at": "2025-01-01T00:00:00.000Z", "monotonic_ms": 86400000, "kind": "breaker_state_changed",
       "severity": "warning", "component": "ax_connection", "target": null, "from": "closed", "to": "open",
       "reason": "2 consecutive failures", "error": null, "recovery": false, "restored": false},
      {"at": "2025-01-01T00:01:00.000Z", "monotonic_ms": 86460000, "kind": "breaker_state_changed",
       "severity": "info", "component": "ax_connection", "target": null, "from": "open", "to": "half_open",
       "reason": "open timeout expired", "error": null, "recovery": false, "restored": false},
      {"at": "2025-01-01T00:01:00.000Z", "monotonic_ms": 86460000, "kind": "breaker_state_changed",
       "severity": "info", "component": "ax_connection", "target": null, "from": "half_open", "to": "closed",
       "reason": "test call succeeded", "error": null, "recovery": true, "restored": false},
      {"at": "2025-01-01T00:02:01.000Z", "monotonic_ms": 86521000, "kind": "pool_recovery_entered",
       "severity": "info", "component": "aif_pool", "target": null, "from": "healthy", "to": "recovering",
       "reason": "every connection failed", "error": "connection failed", "recovery": false, "restored": false},
      {"at": "2025-01-01T00:02:11.000Z", "monotonic_ms": 86531000, "kind": "pool_recovery_exited",
       "severity": "info", "component": "aif_pool", "target": null, "from": "recovering", "to": "healthy",
       "reason": "connection created", "error": null, "recovery": true, "restored": false}
    ]
  },
  "trends": {
    "bucket_ms": 60000,
    "span_ms": 300000,
    "from": "2024-12-31T23:58:00Z",
    "to": "2025-01-01T00:03:00Z",
    "totals": {"failures": 2, "retries": 1, "successful_retries": 1, "failed_retries": 0, "recoveries": 2,
               "rejections": 1},
    "buckets": [
      {"start": "2025-01-01T00:00:00Z", "failures": 2, "retries": 0, "successful_retries": 0,
       "failed_retries": 0, "recoveries": 0, "rejections": 1},
      {"start": "2025-01-01T00:01:00Z", "failures": 0, "retries": 1, "successful_retries": 1,
       "failed_retries": 0, "recoveries": 1, "rejections": 0},
      {"start": "2025-01-01T00:02:00Z", "failures": 0, "retries": 0, "successful_retries": 0,
       "failed_retries": 0, "recoveries": 1, "rejections": 0}
    ]
  },
  "persistence": null
})";

}  // namespace

TEST_CASE("json report of a known sequence", "[status_json]") {
  mend::manual_clock clock;
  mend::status_reporter status{clock, {.trend_bucket = 1min, .trend_span = 5min}};
  run_known_sequence(clock, status);

  // Comparing the dumps checks the member order as well as the values.
  CHECK(mend::to_json(status).dump(2) == nlohmann::ordered_json::parse(known_sequence_report).dump(2));
}

TEST_CASE("json report starts with the summary members", "[status_json]") {
  mend::manual_clock clock;
  mend::status_reporter status{clock};
  run_known_sequence(clock, status);

  const auto report = mend::to_json(status);
  std::vector<std::string> keys;
  for (const auto& item : report.items()) keys.push_back(item.key());
  REQUIRE(keys.size() >= 3);
  CHECK(keys[0] == "circuit_breakers");
  CHECK(keys[1] == "connection_pools");
  CHECK(keys[2] == "retry_stats");
  std::vector<std::string> breaker_keys;
  for (const auto& item : report["circuit_breakers"][0].items()) breaker_keys.push_back(item.key());
  CHECK(std::vector<std::string>(breaker_keys.begin(), breaker_keys.begin() + 4) ==
        std::vector<std::string>{"name", "state", "auto_recoveries", "last_recovery"});
}

TEST_CASE("json spells every breaker state in capitals", "[status_json]") {
  mend::manual_clock clock;
  mend::status_reporter status{clock};
  mend::circuit_breaker breaker{clock, {.name = "ax", .sink = &status}};
  const auto state_in_json = [&] { return mend::to_json(status)["circuit_breakers"][0]["state"]; };

  breaker.force_open();
  CHECK(state_in_json() == "OPEN");
  CHECK(mend::to_json(status)["circuit_breakers"][0]["last_recovery"].is_null());
  clock.advance(60s);
  CHECK(state_in_json() == "HALF_OPEN");
  breaker.reset();
  CHECK(state_in_json() == "CLOSED");
}

TEST_CASE("json pool status spellings", "[status_json]") {
  mend::manual_clock clock;
  mend::status_reporter status{clock};
  const auto status_in_json = [&] { return mend::to_json(status)["connection_pools"][0]["status"]; };

  status.record(pool_event(mend::event_kind::pool_connection_created, clock));
  CHECK(status_in_json() == "healthy");
  status.record(pool_event(mend::event_kind::pool_create_failed, clock));
  CHECK(status_in_json() == "degraded");
  status.record(pool_event(mend::event_kind::pool_recovery_entered, clock));
  CHECK(status_in_json() == "recovering");
}

TEST_CASE("json report is withheld without the role", "[status_json]") {
  mend::manual_clock clock;
  mend::status_reporter status{clock};
  status.add_breaker("ax_connection");

  const auto refused = mend::get_self_healing_status_json(status, {"viewer", {"MCP_Viewer"}});
  REQUIRE_FALSE(refused);
  CHECK(refused.error() == mend::errc::permission_denied);
  CHECK(refused.error().message() == "permission denied");

  const auto granted = mend::get_self_healing_status_json(status, {"admin", {"MCP_Admin"}});
  REQUIRE(granted);
  CHECK(granted.value()["circuit_breakers"][0]["name"] == "ax_connection");
}

TEST_CASE("json endpoints and rollouts", "[status_json]") {
  mend::manual_clock clock;
  mend::status_reporter status{clock};
  mend::event e;
  e.component = "aos_balancer";
  e.target = "aos1:8101";
  e.at = clock.now();
  e.wall_at = clock.wall_now();

  e.kind = mend::event_kind::endpoint_rotation_changed;
  e.from = "in";
  e.to = "out";
  e.reason = "unhealthy";
  const std::array weight{mend::metric_sample{mend::metric::weight, 0}};
  e.metrics = weight;
  status.record(e);

  e = {};
  e.kind = mend::event_kind::rollout_step_changed;
  e.component = "aos_deploy";
  e.at = clock.now();
  e.wall_at = clock.wall_now();
  e.from = "verifying";
  e.to = "10%";
  status.record(e);

  const auto report = mend::to_json(status);
  CHECK(report["endpoints"].dump() ==
        R"([{"target":"aos1:8101","health":null,"rotation":"out","weight":0,)"
        R"("last_change":"2025-01-01T00:00:00Z","last_reason":"unhealthy"}])");
  CHECK(report["rollouts"].dump() ==
        R"([{"name":"aos_deploy","phase":"in_progress","step":"10%",)"
        R"("last_change":"2025-01-01T00:00:00Z","last_reason":null}])");
}
