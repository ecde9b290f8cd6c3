#include <mend/status_reporter.hpp>

#include <mend/circuit_breaker.hpp>
#include <mend/http_error.hpp>
#include <mend/manual_clock.hpp>
#include <mend/retry_policy.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

// 2025-01-01T00:00:00Z, where manual_clock's wall clock starts.
const mend::wall_time new_year{std::chrono::seconds{1'735'689'600}};

mend::event make_event(mend::event_kind kind, std::string_view component, mend::time_point at,
                       mend::wall_time wall_at = {}) {
  mend::event e;
  e.kind = kind;
  e.component = component;
  e.at = at;
  e.wall_at = wall_at;
  return e;
}

mend::event make_transition(mend::event_kind kind, std::string_view component, std::string_view from,
                            std::string_view to, std::string_view reason, const mend::manual_clock& clock) {
  auto e = make_event(kind, component, clock.now(), clock.wall_now());
  e.from = from;
  e.to = to;
  e.reason = reason;
  return e;
}

std::vector<std::string> reasons_of(const std::vector<mend::history_entry>& history) {
  std::vector<std::string> out;
  for (const auto& entry : history) out.push_back(entry.reason);
  return out;
}

// Keeps appended entries in memory and serves them to the next reporter.
class memory_store final : public mend::history_store {
 public:
  void append(const mend::history_entry& entry) noexcept override { entries.push_back(entry); }

  mend::result<std::vector<mend::history_entry>> load(std::size_t limit) override {
    if (fail_load) return make_error_code(mend::errc::protocol_error);
    const auto first = entries.size() > limit ? entries.size() - limit : 0;
    return std::vector<mend::history_entry>(entries.begin() + static_cast<std::ptrdiff_t>(first), entries.end());
  }

  mend::history_store_status status() const override { return {"memory", true, {}, entries.size(), 0}; }

  std::vector<mend::history_entry> entries;
  bool fail_load = false;
};

}  // namespace

TEST_CASE("breaker trip and recovery enter history in order", "[status_reporter]") {
  mend::manual_clock clock;
  mend::status_reporter status{clock};
  mend::circuit_breaker breaker{clock, {.name = "ax_connection", .trip = {.threshold = 2}, .sink = &status}};
  const auto start = clock.now();

  for (int i = 0; i < 2; ++i) (void)breaker.execute([] { return mend::http_error(503); });
  clock.advance(60s);
  clock.advance(500ms);
  REQUIRE(breaker.execute([] { return 7; }));

  const auto report = status.snapshot();
  REQUIRE(report.history.size() == 3);
  const auto& opened = report.history[0];
  CHECK(opened.kind == mend::event_kind::breaker_state_changed);
  CHECK(opened.component == "ax_connection");
  CHECK(opened.from == "closed");
  CHECK(opened.to == "open");
  CHECK(opened.reason == "2 consecutive failures");
  CHECK(opened.at == start);
  CHECK(opened.wall_at == new_year);
  CHECK_FALSE(opened.recovery);

  const auto& half_open = report.history[1];
  CHECK(half_open.from == "open");
  CHECK(half_open.to == "half_open");
  CHECK(half_open.reason == "open timeout expired");
  CHECK(half_open.at == start + 60s);
  CHECK(half_open.wall_at == new_year + 60s);

  const auto& closed = report.history[2];
  CHECK(closed.from == "half_open");
  CHECK(closed.to == "closed");
  CHECK(closed.reason == "test call succeeded");
  CHECK(closed.at == start + 60500ms);
  CHECK(closed.recovery);

  REQUIRE(report.circuit_breakers.size() == 1);
  const auto& b = report.circuit_breakers[0];
  CHECK(b.name == "ax_connection");
  CHECK(b.state == mend::circuit_state::closed);
  CHECK(b.failures == 2);
  CHECK(b.auto_recoveries == 1);
  CHECK(b.last_recovery == new_year + 60500ms);
  CHECK(b.open_timeout == 60s);
  CHECK(b.last_reason == "test call succeeded");
  CHECK(report.trends.totals.failures == 2);
  CHECK(report.trends.totals.recoveries == 1);
}

TEST_CASE("manual reset is not an auto recovery", "[status_reporter]") {
  mend::manual_clock clock;
  mend::status_reporter status{clock};
  mend::circuit_breaker breaker{clock, {.name = "ax", .sink = &status}};

  breaker.force_open();
  breaker.reset();

  const auto report = status.snapshot();
  REQUIRE(report.circuit_breakers.size() == 1);
  CHECK(report.circuit_breakers[0].auto_recoveries == 0);
  CHECK_FALSE(report.circuit_breakers[0].last_recovery);
  REQUIRE(report.history.size() == 2);
  CHECK_FALSE(report.history[1].recovery);
  CHECK(report.trends.totals.recoveries == 0);
}

TEST_CASE("history keeps the newest entries up to capacity", "[status_reporter]") {
  mend::manual_clock clock;
  mend::status_reporter status{clock, {.history_capacity = 3}};

  for (const auto* reason : {"1", "2", "3", "4", "5"}) {
    status.record(make_transition(mend::event_kind::alert_raised, "checker", {}, {}, reason, clock));
    clock.advance(1s);
  }

  const auto report = status.snapshot();
  CHECK(reasons_of(report.history) == std::vector<std::string>{"3", "4", "5"});
  CHECK(report.history_capacity == 3);
  CHECK(report.history_dropped == 2);
  CHECK(report.history.front().wall_at == new_year + 2s);
}

TEST_CASE("trend buckets split on bucket boundaries", "[status_reporter]") {
  mend::manual_clock clock;
  mend::status_reporter status{clock, {.trend_bucket = 1min, .trend_span = 5min}};
  const auto start = clock.now();

  status.record(make_event(mend::event_kind::breaker_call_failed, "ax", start));
  status.record(make_event(mend::event_kind::breaker_call_failed, "ax", start + 60s - 1ns));
  status.record(make_event(mend::event_kind::breaker_call_failed, "ax", start + 60s));
  status.record(make_event(mend::event_kind::breaker_call_rejected, "ax", start + 119s));
  clock.advance(119s);

  const auto trends = status.snapshot().trends;
  CHECK(trends.bucket_width == 1min);
  CHECK(trends.span == 5min);
  CHECK(trends.from == new_year - 3min);
  CHECK(trends.to == new_year + 2min);
  REQUIRE(trends.buckets.size() == 2);
  CHECK(trends.buckets[0].start == new_year);
  CHECK(trends.buckets[0].counts == mend::trend_counts{.failures = 2});
  CHECK(trends.buckets[1].start == new_year + 1min);
  CHECK(trends.buckets[1].counts == mend::trend_counts{.failures = 1, .rejections = 1});
  CHECK(trends.totals == mend::trend_counts{.failures = 3, .rejections = 1});
}

TEST_CASE("trends forget buckets older than the span", "[status_reporter]") {
  mend::manual_clock clock;
  mend::status_reporter status{clock, {.trend_bucket = 1min, .trend_span = 5min}};
  const auto start = clock.now();
  status.record(make_event(mend::event_kind::breaker_call_failed, "ax", start));
  status.record(make_event(mend::event_kind::breaker_call_failed, "ax", start + 1min));

  clock.advance(5min);  // the span is now 00:01:00 .. 00:06:00
  auto trends = status.snapshot().trends;
  REQUIRE(trends.buckets.size() == 1);
  CHECK(trends.buckets[0].start == new_year + 1min);
  CHECK(trends.totals.failures == 1);

  clock.advance(1min);
  trends = status.snapshot().trends;
  CHECK(trends.buckets.empty());
  CHECK(trends.totals.empty());
}

TEST_CASE("late event for an overwritten bucket is dropped", "[status_reporter]") {
  mend::manual_clock clock;
  mend::status_reporter status{clock, {.trend_bucket = 1min, .trend_span = 5min}};
  const auto start = clock.now();

  // Buckets 0 and 5 share a slot of the five-bucket ring.
  status.record(make_event(mend::event_kind::breaker_call_failed, "ax", start + 5min));
  status.record(make_event(mend::event_kind::breaker_call_failed, "ax", start));
  clock.advance(5min);

  const auto trends = status.snapshot().trends;
  REQUIRE(trends.buckets.size() == 1);
  CHECK(trends.buckets[0].start == new_year + 5min);
  CHECK(trends.buckets[0].counts.failures == 1);
  // The breaker's own count still includes the late event.
  CHECK(status.snapshot().circuit_breakers[0].failures == 2);
}

TEST_CASE("wall clock jump does not move trend buckets", "[status_reporter]") {
  mend::manual_clock clock;
  mend::status_reporter status{clock, {.trend_bucket = 1min, .trend_span = 1h}};
  mend::circuit_breaker breaker{clock, {.name = "ax", .sink = &status}};

  clock.advance(10s);
  (void)breaker.execute([] { return mend::http_error(503); });
  clock.jump_wall(-1h);
  clock.advance(10s);
  (void)breaker.execute([] { return mend::http_error(503); });
  clock.jump_wall(3h);
  clock.advance(10s);

  const auto trends = status.snapshot().trends;
  REQUIRE(trends.buckets.size() == 1);
  CHECK(trends.buckets[0].start == new_year);
  CHECK(trends.buckets[0].counts.failures == 2);
  CHECK(trends.to == new_year + 1min);
}

TEST_CASE("unaligned start labels buckets on wall-clock minutes", "[status_reporter]") {
  mend::manual_clock clock{{.wall_start = new_year + 30s}};
  mend::status_reporter status{clock, {.trend_bucket = 1min, .trend_span = 10min}};
  const auto start = clock.now();

  status.record(make_event(mend::event_kind::breaker_call_failed, "ax", start + 29s));
  status.record(make_event(mend::event_kind::breaker_call_failed, "ax", start + 30s));
  clock.advance(30s);

  const auto trends = status.snapshot().trends;
  REQUIRE(trends.buckets.size() == 2);
  CHECK(trends.buckets[0].start == new_year);
  CHECK(trends.buckets[1].start == new_year + 1min);
}

TEST_CASE("role check refuses callers without the role", "[status_reporter]") {
  mend::manual_clock clock;
  mend::status_reporter status{clock};
  status.add_breaker("ax_connection");

  const mend::caller_identity viewer{"viewer", {"MCP_Viewer", "mcp_admin"}};
  const auto refused = status.get_self_healing_status(viewer);
  REQUIRE_FALSE(refused);
  CHECK(refused.error() == mend::errc::permission_denied);

  const mend::caller_identity nobody{"nobody", {}};
  CHECK(status.get_self_healing_status(nobody).error() == mend::errc::permission_denied);

  const mend::caller_identity admin{"admin", {"MCP_Viewer", "MCP_Admin"}};
  const auto granted = status.get_self_healing_status(admin);
  REQUIRE(granted);
  REQUIRE(granted.value().circuit_breakers.size() == 1);
  CHECK(granted.value().circuit_breakers[0].name == "ax_connection");
}

TEST_CASE("required role is configurable", "[status_reporter]") {
  mend::manual_clock clock;
  mend::status_reporter status{clock, {.required_role = "StatusReader"}};

  CHECK(status.required_role() == "StatusReader");
  CHECK_FALSE(status.get_self_healing_status({"admin", {"MCP_Admin"}}));
  CHECK(status.get_self_healing_status({"reader", {"StatusReader"}}));
}

TEST_CASE("retry counts come from the policy's samples", "[status_reporter]") {
  mend::manual_clock clock;
  mend::status_reporter status{clock};
  mend::retry_policy retry{clock, {.name = "aif_read", .sink = &status}};

  int calls = 0;
  REQUIRE(retry.execute([&]() -> mend::result<int> {
    if (++calls < 3) return mend::http_error(503);
    return 1;
  }));
  REQUIRE_FALSE(retry.execute([]() -> mend::result<int> { return mend::http_error(503); }));

  const auto report = status.snapshot();
  CHECK(report.retry_stats == mend::retry_counts{5, 1, 4});
  REQUIRE(report.retry_policies.size() == 1);
  CHECK(report.retry_policies[0].name == "aif_read");
  CHECK(report.retry_policies[0].counts == mend::retry_counts{5, 1, 4});
  CHECK(report.retry_policies[0].gave_up == 1);
  CHECK(report.retry_policies[0].last_give_up_reason == "retries exhausted");
  CHECK(report.trends.totals ==
        mend::trend_counts{.retries = 5, .successful_retries = 1, .failed_retries = 4});
}

TEST_CASE("retry counts come from events without samples", "[status_reporter]") {
  mend::manual_clock clock;
  mend::status_reporter status{clock};
  status.record(make_event(mend::event_kind::retry_scheduled, "r", clock.now()));
  status.record(make_event(mend::event_kind::retry_failed, "r", clock.now()));
  status.record(make_event(mend::event_kind::retry_succeeded, "r", clock.now()));
  status.record(make_event(mend::event_kind::retry_succeeded, "other", clock.now()));

  const auto report = status.snapshot();
  CHECK(report.retry_stats == mend::retry_counts{3, 2, 1});
  REQUIRE(report.retry_policies.size() == 2);
  CHECK(report.retry_policies[0].name == "other");
  CHECK(report.retry_policies[1].counts == mend::retry_counts{2, 1, 1});
  CHECK(report.trends.totals.retries == 3);
}

TEST_CASE("stale retry samples do not lower the counts", "[status_reporter]") {
  mend::manual_clock clock;
  mend::status_reporter status{clock};
  const std::array newer{mend::metric_sample{mend::metric::total_retries, 5},
                         mend::metric_sample{mend::metric::successful_retries, 3},
                         mend::metric_sample{mend::metric::failed_retries, 2}};
  const std::array older{mend::metric_sample{mend::metric::total_retries, 4},
                         mend::metric_sample{mend::metric::successful_retries, 3},
                         mend::metric_sample{mend::metric::failed_retries, 1}};

  auto e = make_event(mend::event_kind::retry_succeeded, "r", clock.now());
  e.metrics = newer;
  status.record(e);
  e.kind = mend::event_kind::retry_failed;
  e.metrics = older;
  status.record(e);

  const auto report = status.snapshot();
  CHECK(report.retry_stats == mend::retry_counts{5, 3, 2});
  CHECK(report.trends.totals.retries == 5);
}

TEST_CASE("pool status follows creation and recovery events", "[status_reporter]") {
  mend::manual_clock clock;
  mend::status_reporter status{clock};
  const auto pool_event = [&](mend::event_kind kind) {
    return make_event(kind, "aif_pool", clock.now(), clock.wall_now());
  };
  const auto pool_of = [&] { return status.snapshot().connection_pools.at(0); };

  const std::array gauges{mend::metric_sample{mend::metric::active, 3}, mend::metric_sample{mend::metric::idle, 2},
                          mend::metric_sample{mend::metric::total, 5}, mend::metric_sample{mend::metric::waiters, 1}};
  auto e = pool_event(mend::event_kind::pool_gauges);
  e.metrics = gauges;
  status.record(e);
  CHECK(pool_of().status == mend::pool_health::healthy);
  CHECK(pool_of().active_connections == 3);
  CHECK(pool_of().idle_connections == 2);
  CHECK(pool_of().total_connections == 5);
  CHECK(pool_of().waiters == 1);

  e = pool_event(mend::event_kind::pool_create_failed);
  e.error = make_error_code(mend::errc::connect_failed);
  status.record(e);
  CHECK(pool_of().status == mend::pool_health::degraded);
  CHECK(pool_of().last_error == "connection failed");

  status.record(pool_event(mend::event_kind::pool_connection_created));
  CHECK(pool_of().status == mend::pool_health::healthy);

  status.record(pool_event(mend::event_kind::pool_acquire_timed_out));
  CHECK(pool_of().status == mend::pool_health::degraded);

  // Like the pool, the recovery events name no states and no reason.
  e = pool_event(mend::event_kind::pool_recovery_entered);
  e.error = make_error_code(mend::errc::connect_failed);
  status.record(e);
  CHECK(pool_of().status == mend::pool_health::recovering);

  clock.advance(5s);
  const std::array first_attempt{mend::metric_sample{mend::metric::recovery_attempts, 1}};
  e = pool_event(mend::event_kind::pool_recovery_attempt);
  e.metrics = first_attempt;
  e.error = make_error_code(mend::errc::timed_out);
  status.record(e);
  CHECK(pool_of().status == mend::pool_health::recovering);
  CHECK(pool_of().recovery_attempts == 1);
  CHECK(pool_of().last_error == "operation timed out");

  clock.advance(5s);
  status.record(pool_event(mend::event_kind::pool_recovery_attempt));  // no sample: counted
  status.record(pool_event(mend::event_kind::pool_connection_created));
  CHECK(pool_of().status == mend::pool_health::recovering);
  e = pool_event(mend::event_kind::pool_recovery_exited);
  e.attempt = 2;
  status.record(e);

  const auto report = status.snapshot();
  const auto& pool = report.connection_pools.at(0);
  CHECK(pool.status == mend::pool_health::healthy);
  CHECK(pool.recovery_attempts == 2);
  CHECK(pool.recoveries == 1);
  CHECK(pool.last_recovery == new_year + 10s);
  REQUIRE(report.history.size() == 2);
  const auto& entered = report.history[0];
  CHECK(entered.kind == mend::event_kind::pool_recovery_entered);
  CHECK(entered.from == "degraded");
  CHECK(entered.to == "recovering");
  CHECK(entered.reason == "no connection left and creating one failed");
  CHECK(entered.error == "connection failed");
  CHECK_FALSE(entered.recovery);
  const auto& exited = report.history[1];
  CHECK(exited.kind == mend::event_kind::pool_recovery_exited);
  CHECK(exited.from == "recovering");
  CHECK(exited.to == "healthy");
  CHECK(exited.reason == "connection created at recovery attempt 2");
  CHECK(exited.recovery);
  CHECK(report.trends.totals == mend::trend_counts{.failures = 2, .recoveries = 1});
}

TEST_CASE("endpoints and rollouts keep their last change", "[status_reporter]") {
  mend::manual_clock clock;
  mend::status_reporter status{clock};

  auto e = make_transition(mend::event_kind::endpoint_health_changed, "aos_checks", "healthy", "unhealthy",
                           "3 consecutive failures", clock);
  e.target = "aos1:8101";
  status.record(e);
  clock.advance(30s);
  e = make_transition(mend::event_kind::endpoint_health_changed, "aos_checks", "unhealthy", "healthy",
                      "2 consecutive successes", clock);
  e.target = "aos1:8101";
  status.record(e);
  const std::array weight{mend::metric_sample{mend::metric::weight, 10}};
  e = make_transition(mend::event_kind::endpoint_rotation_changed, "aos_balancer", "out", "in", "healthy", clock);
  e.target = "aos1:8101";
  e.metrics = weight;
  status.record(e);
  status.record(make_transition(mend::event_kind::rollout_started, "aos_deploy", "", "0%", "green healthy", clock));
  status.record(make_transition(mend::event_kind::rollout_step_changed, "aos_deploy", "0%", "10%", "", clock));
  status.record(make_transition(mend::event_kind::rollout_rolled_back, "aos_deploy", "10%", "0%",
                                "green failed its checks", clock));

  const auto report = status.snapshot();
  REQUIRE(report.endpoints.size() == 1);
  CHECK(report.endpoints[0].target == "aos1:8101");
  CHECK(report.endpoints[0].health == "healthy");
  CHECK(report.endpoints[0].rotation == "in");
  CHECK(report.endpoints[0].weight == 10);
  CHECK(report.endpoints[0].last_change == new_year + 30s);
  REQUIRE(report.rollouts.size() == 1);
  CHECK(report.rollouts[0].phase == "rolled_back");
  CHECK(report.rollouts[0].step == "0%");
  CHECK(report.rollouts[0].last_reason == "green failed its checks");
  REQUIRE(report.history.size() == 6);
  CHECK_FALSE(report.history[0].recovery);
  CHECK(report.history[1].recovery);
  CHECK(report.trends.totals.recoveries == 1);
}

TEST_CASE("added components appear before any event", "[status_reporter]") {
  mend::manual_clock clock;
  mend::status_reporter status{clock};
  status.add_breaker("ax_connection");
  status.add_pool("aif_pool");
  status.add_retry_policy("aif_read");
  status.add_endpoint("aos-1");

  const auto report = status.snapshot();
  REQUIRE(report.circuit_breakers.size() == 1);
  CHECK(report.circuit_breakers[0].state == mend::circuit_state::closed);
  REQUIRE(report.connection_pools.size() == 1);
  CHECK(report.connection_pools[0].status == mend::pool_health::healthy);
  REQUIRE(report.retry_policies.size() == 1);
  CHECK(report.retry_stats == mend::retry_counts{});
  REQUIRE(report.endpoints.size() == 1);
  CHECK(report.endpoints[0].target == "aos-1");
  CHECK(report.endpoints[0].health.empty());
  CHECK(report.endpoints[0].rotation.empty());
  CHECK(report.history.empty());
  CHECK_FALSE(report.persistence);
}

TEST_CASE("invalid reporter options are rejected", "[status_reporter]") {
  mend::manual_clock clock;
  const auto field_of = [&](mend::status_reporter::options opts) -> std::string {
    try {
      mend::status_reporter status{clock, std::move(opts)};
    } catch (const mend::config_error& e) {
      return e.field();
    }
    return "accepted";
  };
  CHECK(field_of({.history_capacity = 0}) == "history_capacity");
  CHECK(field_of({.trend_bucket = 0s}) == "trend_bucket");
  CHECK(field_of({.trend_bucket = 1min, .trend_span = 30s}) == "trend_span");
  CHECK(field_of({.trend_bucket = 1min, .trend_span = 90s}) == "trend_span");
  CHECK(field_of({.trend_bucket = 1s, .trend_span = 100001s}) == "trend_span");
  CHECK(field_of({.required_role = ""}) == "required_role");
  CHECK(field_of({.trend_bucket = 1s, .trend_span = 100000s}) == "accepted");
}

TEST_CASE("history store receives transitions and restores them", "[status_reporter]") {
  mend::manual_clock clock;
  memory_store store;
  {
    mend::status_reporter status{clock, {.store = &store}};
    status.record(make_transition(mend::event_kind::alert_raised, "checker", {}, {}, "first", clock));
    status.record(make_event(mend::event_kind::breaker_call_failed, "ax", clock.now()));  // not history
    status.record(make_transition(mend::event_kind::alert_raised, "checker", {}, {}, "second", clock));
  }
  REQUIRE(store.entries.size() == 2);

  mend::status_reporter restarted{clock, {.history_capacity = 5, .store = &store}};
  restarted.record(make_transition(mend::event_kind::alert_raised, "checker", {}, {}, "third", clock));

  const auto report = restarted.snapshot();
  CHECK(reasons_of(report.history) == std::vector<std::string>{"first", "second", "third"});
  CHECK(report.history[0].restored);
  CHECK(report.history[1].restored);
  CHECK_FALSE(report.history[2].restored);
  REQUIRE(report.persistence);
  CHECK(report.persistence->location == "memory");
  CHECK(restarted.restore_error().empty());
}

TEST_CASE("failed history restore leaves the reporter working", "[status_reporter]") {
  mend::manual_clock clock;
  memory_store store;
  store.fail_load = true;
  mend::status_reporter status{clock, {.store = &store}};

  CHECK(status.restore_error() == "protocol error");
  status.record(make_transition(mend::event_kind::alert_raised, "checker", {}, {}, "after", clock));
  CHECK(reasons_of(status.snapshot().history) == std::vector<std::string>{"after"});
}

TEST_CASE("concurrent recording keeps every count", "[status_reporter]") {
  mend::manual_clock clock;
  mend::status_reporter status{clock, {.history_capacity = 50}};
  constexpr int threads = 4;
  constexpr int events_per_thread = 500;

  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      const std::string name = t % 2 == 0 ? "even" : "odd";
      for (int i = 0; i < events_per_thread; ++i) {
        status.record(make_event(mend::event_kind::breaker_call_failed, name, clock.now()));
        if (i % 10 == 0) status.record(make_transition(mend::event_kind::alert_raised, name, {}, {}, "x", clock));
      }
    });
  }
  std::size_t snapshots = 0;
  for (int i = 0; i < 20; ++i) snapshots += status.snapshot().history.size() <= 50 ? 1 : 0;
  for (auto& worker : workers) worker.join();

  const auto report = status.snapshot();
  CHECK(snapshots == 20);
  REQUIRE(report.circuit_breakers.size() == 2);
  CHECK(report.circuit_breakers[0].failures == 2 * events_per_thread);
  CHECK(report.circuit_breakers[1].failures == 2 * events_per_thread);
  CHECK(report.trends.totals.failures == threads * events_per_thread);
  CHECK(report.history.size() == 50);
  CHECK(report.history_dropped == threads * (events_per_thread / 10) - 50);
}

TEST_CASE("rollout stays rolled back when traffic is restored", "[status_reporter]") {
  mend::manual_clock clock;
  mend::status_reporter status{clock};

  status.record(make_transition(mend::event_kind::rollout_rolled_back, "aos_deploy", "50%", "rolled_back",
                                "green failed; blue could not get all traffic", clock));
  clock.advance(1s);
  status.record(make_transition(mend::event_kind::rollout_traffic_restored, "aos_deploy", "rolled_back",
                                "rolled_back", "green failed; blue got all traffic on a later try", clock));

  const auto report = status.snapshot();
  REQUIRE(report.rollouts.size() == 1);
  CHECK(report.rollouts[0].phase == "rolled_back");
  CHECK(report.rollouts[0].step == "rolled_back");
  CHECK(report.rollouts[0].last_reason == "green failed; blue got all traffic on a later try");
  CHECK(report.rollouts[0].last_change == new_year + 1s);
  CHECK(report.history.size() == 2);
}
