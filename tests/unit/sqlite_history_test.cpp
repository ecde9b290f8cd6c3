#include <mend/adapters/sqlite_history.hpp>

#include <mend/circuit_breaker.hpp>
#include <mend/http_error.hpp>
#include <mend/manual_clock.hpp>
#include <mend/status_reporter.hpp>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

// A fresh directory under the system's temporary directory, removed with its
// contents at the end of the test.
class temp_dir {
 public:
  temp_dir() {
    std::random_device random;
    path_ = std::filesystem::temp_directory_path() / ("mend-sqlite-" + std::to_string(random()));
    std::filesystem::create_directories(path_);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Runs `sql` on the database at `path` through a connection of its own.
int run_sql(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open(path.c_str(), &db);
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  sqlite3_close(db);
  return rc;
}

mend::history_entry alert(std::string reason, const mend::manual_clock& clock) {
  mend::history_entry entry;
  entry.kind = mend::event_kind::alert_raised;
  entry.level = mend::severity::warning;
  entry.component = "checker";
  entry.reason = std::move(reason);
  entry.at = clock.now();
  entry.wall_at = clock.wall_now();
  return entry;
}

std::vector<std::string> reasons_of(const std::vector<mend::history_entry>& history) {
  std::vector<std::string> out;
  for (const auto& entry : history) out.push_back(entry.reason);
  return out;
}

}  // namespace

TEST_CASE("history survives a reporter restart", "[sqlite_history]") {
  temp_dir dir;
  const auto path = dir.file("status.db");
  mend::manual_clock clock;
  std::vector<mend::history_entry> before;
  {
    mend::sqlite_history store{{.path = path}};
    REQUIRE(store.ok());
    mend::status_reporter status{clock, {.store = &store}};
    mend::circuit_breaker breaker{clock, {.name = "ax_connection", .trip = {.threshold = 1}, .sink = &status}};
    (void)breaker.execute([] { return mend::http_error(503); });
    clock.advance(60s);
    REQUIRE(breaker.execute([] { return 1; }));
    before = status.snapshot().history;
  }
  REQUIRE(before.size() == 3);

  // A new process: another store on the same file and a fresh reporter.
  mend::sqlite_history store{{.path = path}};
  mend::status_reporter restarted{clock, {.store = &store}};
  const auto after = restarted.snapshot().history;
  REQUIRE(after.size() == 3);
  for (std::size_t i = 0; i < after.size(); ++i) {
    CHECK(after[i].restored);
    auto expected = before[i];
    expected.restored = true;
    CHECK(after[i] == expected);
  }
  CHECK(after[2].recovery);
  CHECK(after[2].reason == "test call succeeded");
  CHECK(restarted.restore_error().empty());
  const auto persistence = restarted.snapshot().persistence;
  REQUIRE(persistence);
  CHECK(persistence->ok);
  CHECK(persistence->location == path);
}

TEST_CASE("stored rows are pruned to max_rows", "[sqlite_history]") {
  temp_dir dir;
  mend::manual_clock clock;
  mend::sqlite_history store{{.path = dir.file("status.db"), .max_rows = 3}};
  for (const auto* reason : {"1", "2", "3", "4", "5"}) store.append(alert(reason, clock));
  store.flush();

  const auto loaded = store.load(10);
  REQUIRE(loaded);
  CHECK(reasons_of(loaded.value()) == std::vector<std::string>{"3", "4", "5"});
  CHECK(store.status().written == 5);

  const auto newest = store.load(2);
  REQUIRE(newest);
  CHECK(reasons_of(newest.value()) == std::vector<std::string>{"4", "5"});
}

TEST_CASE("damaged database gives a clear error", "[sqlite_history]") {
  temp_dir dir;
  const auto path = dir.file("status.db");
  {
    std::ofstream garbage(path, std::ios::binary);
    for (int i = 0; i < 200; ++i) garbage << "this is not an SQLite database, just text. ";
  }
  mend::manual_clock clock;
  mend::sqlite_history store{{.path = path}};

  CHECK_FALSE(store.ok());
  CHECK(store.error() ==
        "cannot use status history database '" + path +
            "': file is not a database; history is kept in memory only (repair or move the file, or choose "
            "another path)");
  const auto loaded = store.load(10);
  REQUIRE_FALSE(loaded);
  CHECK(loaded.error() == std::error_code{SQLITE_NOTADB, mend::sqlite_category()});

  // The reporter goes on in memory and shows the error in its report.
  mend::status_reporter status{clock, {.store = &store}};
  CHECK(status.restore_error() == "file is not a database");
  mend::circuit_breaker breaker{clock, {.name = "ax", .sink = &status}};
  breaker.force_open();
  const auto report = status.snapshot();
  REQUIRE(report.history.size() == 1);
  CHECK(report.history[0].to == "open");
  REQUIRE(report.persistence);
  CHECK_FALSE(report.persistence->ok);
  CHECK(report.persistence->error == store.error());
  CHECK(report.persistence->dropped == 1);
}

TEST_CASE("unwritable database path gives a clear error", "[sqlite_history]") {
  temp_dir dir;
  const auto path = dir.file("missing/status.db");
  mend::sqlite_history store{{.path = path}};

  CHECK_FALSE(store.ok());
  CHECK(store.error() ==
        "cannot use status history database '" + path +
            "': unable to open database file; history is kept in memory only (repair or move the file, or "
            "choose another path)");
  CHECK(store.load(10).error() == std::error_code{SQLITE_CANTOPEN, mend::sqlite_category()});
}

TEST_CASE("failed write is reported and later writes resume", "[sqlite_history]") {
  temp_dir dir;
  const auto path = dir.file("status.db");
  mend::manual_clock clock;
  mend::sqlite_history store{{.path = path}};
  store.append(alert("kept", clock));
  store.flush();
  REQUIRE(store.ok());

  REQUIRE(run_sql(path, "DROP TABLE mend_status_history") == SQLITE_OK);
  store.append(alert("lost", clock));
  store.flush();
  CHECK_FALSE(store.ok());
  CHECK(store.error() == "cannot write to status history database '" + path +
                             "': no such table: mend_status_history; entries dropped: 1");
  CHECK(store.status().dropped == 1);

  REQUIRE(run_sql(path,
                  "CREATE TABLE mend_status_history (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, "
                  "level TEXT NOT NULL, component TEXT NOT NULL, target TEXT NOT NULL, from_state TEXT NOT NULL, "
                  "to_state TEXT NOT NULL, reason TEXT NOT NULL, error TEXT NOT NULL, monotonic_ns INTEGER NOT "
                  "NULL, wall_ns INTEGER NOT NULL, wall_time_utc TEXT NOT NULL, recovery INTEGER NOT NULL)") ==
          SQLITE_OK);
  store.append(alert("after", clock));
  store.flush();
  CHECK(store.ok());
  CHECK(store.error().empty());
  const auto loaded = store.load(10);
  REQUIRE(loaded);
  CHECK(reasons_of(loaded.value()) == std::vector<std::string>{"after"});
  CHECK(store.status().written == 2);
}

TEST_CASE("rows of unknown event kinds are skipped", "[sqlite_history]") {
  temp_dir dir;
  const auto path = dir.file("status.db");
  mend::manual_clock clock;
  mend::sqlite_history store{{.path = path}};
  store.append(alert("known", clock));
  store.flush();
  REQUIRE(run_sql(path,
                  "INSERT INTO mend_status_history (kind, level, component, target, from_state, to_state, reason, "
                  "error, monotonic_ns, wall_ns, wall_time_utc, recovery) VALUES ('kind_of_a_later_version', "
                  "'info', 'x', '', '', '', 'unknown', '', 0, 0, '', 0)") == SQLITE_OK);

  const auto loaded = store.load(10);
  REQUIRE(loaded);
  CHECK(reasons_of(loaded.value()) == std::vector<std::string>{"known"});
}

TEST_CASE("wall time is stored readable for operators", "[sqlite_history]") {
  temp_dir dir;
  const auto path = dir.file("status.db");
  mend::manual_clock clock;
  {
    mend::sqlite_history store{{.path = path}};
    clock.advance(1500ms);
    store.append(alert("x", clock));
  }
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT wall_time_utc FROM mend_status_history", -1, &stmt, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))) == "2025-01-01T00:00:01.500Z");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_CASE("invalid sqlite history options are rejected", "[sqlite_history]") {
  CHECK_THROWS_AS(mend::sqlite_history({.path = ""}), mend::config_error);
  CHECK_THROWS_AS(mend::sqlite_history({.path = "x.db", .max_rows = 0}), mend::config_error);
  CHECK_THROWS_AS(mend::sqlite_history({.path = "x.db", .queue_capacity = 0}), mend::config_error);
}
