// A status reporter fed by a breaker and a retry policy through an outage on
// a manual clock, with its history kept in SQLite, rendered as the JSON report
// that an administrator receives. docs/status.md shows the regions between
// the [snippet:...] markers.
#include <mend/adapters/sqlite_history.hpp>
#include <mend/adapters/status_json.hpp>
#include <mend/mend.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

using namespace std::chrono_literals;

namespace {

// Stands in for an AIF service that can be taken down and brought back.
struct aif_service {
  bool up = true;
  mend::result<int> read_order() const {
    if (!up) return mend::http_error(503);
    return 42;
  }
};

}  // namespace

int main() {
  const auto db_path = (std::filesystem::temp_directory_path() / "mend_status_report_example.db").string();
  std::filesystem::remove(db_path);
  aif_service aif;
  bool ok = true;
  {
    mend::manual_clock clock;

    // [snippet:persist]
    mend::sqlite_history history{{.path = db_path}};
    if (!history.ok()) fmt::print(stderr, "{}\n", history.error());  // the reporter still works, in memory
    // [/snippet]

    // [snippet:wire]
    mend::status_reporter status{clock, {.trend_bucket = 1min, .trend_span = 24h, .store = &history}};
    mend::circuit_breaker breaker{clock, {.name = "ax_connection", .sink = &status}};
    mend::retry_policy retry{clock, {.name = "aif_read", .sink = &status}};
    auto read_order = mend::decorate([&] { return aif.read_order(); }).with(breaker).with(retry);
    // [/snippet]

    // An outage: the retries fail until the breaker opens, then the service
    // comes back and the first call after the open timeout closes the breaker.
    aif.up = false;
    for (int i = 0; i < 3; ++i) (void)read_order();
    aif.up = true;
    clock.advance(60s);
    ok = ok && read_order().has_value();

    // [snippet:snapshot]
    const mend::status_snapshot snapshot = status.snapshot();
    for (const auto& b : snapshot.circuit_breakers)
      fmt::print("{}: {}, {} auto recoveries\n", b.name, mend::to_string(b.state), b.auto_recoveries);
    // [/snippet]
    ok = ok && snapshot.circuit_breakers.size() == 1 && snapshot.circuit_breakers[0].auto_recoveries == 1;

    // [snippet:report]
    const mend::caller_identity caller{"ops", {"MCP_Admin"}};
    mend::result<nlohmann::ordered_json> report = mend::get_self_healing_status_json(status, caller);
    if (report) {
      std::puts(report.value().dump(2).c_str());
    } else {
      fmt::print(stderr, "{}\n", report.error().message());  // "permission denied" without MCP_Admin
    }
    // [/snippet]
    ok = ok && report && report.value()["retry_stats"]["failed_retries"] == 3;

    const mend::caller_identity viewer{"viewer", {"MCP_Viewer"}};
    ok = ok && mend::get_self_healing_status_json(status, viewer).error() == mend::errc::permission_denied;
    history.flush();
    ok = ok && history.status().written == 3;
  }
  std::filesystem::remove(db_path);
  std::puts(ok ? "status_report: ok" : "status_report: FAILED");
  return ok ? 0 : 1;
}
