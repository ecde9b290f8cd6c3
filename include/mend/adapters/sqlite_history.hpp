// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_ADAPTERS_SQLITE_HISTORY_HPP
#define MEND_ADAPTERS_SQLITE_HISTORY_HPP

// Keeps the status reporter's history in SQLite (link mend::sqlite).

#include <mend/config_error.hpp>
#include <mend/detail/iso8601.hpp>
#include <mend/event.hpp>
#include <mend/result.hpp>
#include <mend/status_reporter.hpp>
#include <mend/version.hpp>

#include <fmt/format.h>
#include <sqlite3.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

MEND_BEGIN_NAMESPACE

namespace detail {

class sqlite_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "sqlite"; }
  std::string message(int value) const override { return sqlite3_errstr(value); }
};

inline std::optional<event_kind> parse_event_kind(std::string_view text) noexcept {
#define MEND_DETAIL_PARSE_KIND(name, family) \
  if (text == #name) return event_kind::name;
  MEND_EVENT_KINDS(MEND_DETAIL_PARSE_KIND)
#undef MEND_DETAIL_PARSE_KIND
  return std::nullopt;
}

inline std::optional<severity> parse_severity(std::string_view text) noexcept {
  for (const auto level : {severity::debug, severity::info, severity::warning, severity::error, severity::critical})
    if (to_string(level) == text) return level;
  return std::nullopt;
}

// Owns a prepared statement.
class sqlite_statement {
 public:
  sqlite_statement() = default;
  explicit sqlite_statement(sqlite3_stmt* stmt) noexcept : stmt_(stmt) {}
  sqlite_statement(sqlite_statement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}
  sqlite_statement& operator=(sqlite_statement&& other) noexcept {
    std::swap(stmt_, other.stmt_);
    return *this;
  }
  ~sqlite_statement() { sqlite3_finalize(stmt_); }

  sqlite3_stmt* get() const noexcept { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace detail

// The category of SQLite result codes; message() is SQLite's own text.
inline const std::error_category& sqlite_category() noexcept {
  static const detail::sqlite_error_category category;
  return category;
}

// A history_store in an SQLite database file, so that a restarted or
// redeployed status_reporter still shows the transitions recorded before.
//
// append() only queues an entry. A background writer thread inserts queued
// entries in one transaction per batch and deletes rows beyond max_rows.
//
// Database errors are not thrown (only invalid options are). A database that
// cannot be opened, is damaged or cannot be written makes status() report
// ok = false with the path and SQLite's message. The entries concerned are
// dropped and counted, and the reporter goes on with its history in memory.
// After a failed write the next batch is tried again, and a successful one
// clears the error.
//
//   mend::sqlite_history store{{.path = "/var/lib/connector/status.db"}};
//   if (!store.ok()) log(store.error());
//   mend::status_reporter status{clock, {.store = &store}};
class sqlite_history final : public history_store {
 public:
  struct options {
    // The database file, created with its table if missing.
    std::string path;
    // The rows kept; older rows are deleted as new ones are written.
    std::size_t max_rows = 100000;
    // Entries waiting for the writer thread; further ones are dropped (and
    // counted) rather than blocking the caller.
    std::size_t queue_capacity = 10000;
  };

  explicit sqlite_history(options opts) : options_(validated(std::move(opts))) {
    if (open()) writer_ = std::thread([this] { run_writer(); });
  }

  sqlite_history(const sqlite_history&) = delete;
  sqlite_history& operator=(const sqlite_history&) = delete;

  // Writes what is queued, then stops the writer thread and closes the database.
  ~sqlite_history() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    queue_changed_.notify_all();
    if (writer_.joinable()) writer_.join();
    insert_ = {};
    prune_ = {};
    sqlite3_close(db_);
  }

  void append(const history_entry& entry) noexcept override {
    {
      std::lock_guard lock(mutex_);
      if (!open_ || queue_.size() >= options_.queue_capacity) {
        ++dropped_;
        return;
      }
      try {
        queue_.push_back(entry);
      } catch (...) {
        ++dropped_;
        return;
      }
    }
    queue_changed_.notify_one();
  }

  // Writes what is queued, then returns up to `limit` of the newest rows,
  // oldest first. Rows of event kinds this version does not know are skipped.
  result<std::vector<history_entry>> load(std::size_t limit) override {
    flush();
    std::lock_guard db_lock(db_mutex_);
    if (db_ == nullptr) return std::error_code{open_code(), sqlite_category()};

    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(db_,
                                "SELECT kind, level, component, target, from_state, to_state, reason, error, "
                                "monotonic_ns, wall_ns, recovery FROM (SELECT * FROM mend_status_history "
                                "ORDER BY id DESC LIMIT ?1) ORDER BY id ASC",
                                -1, &raw, nullptr);
    detail::sqlite_statement select{raw};
    if (rc == SQLITE_OK) rc = sqlite3_bind_int64(raw, 1, static_cast<sqlite3_int64>(limit));

    std::vector<history_entry> out;
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
      rc = sqlite3_step(raw);
      if (rc != SQLITE_ROW) break;
      if (auto entry = read_row(raw)) out.push_back(std::move(*entry));
    }
    if (rc != SQLITE_DONE) {
      const int code = rc;
      set_error(fmt::format("cannot read status history database '{}': {}", options_.path, sqlite3_errmsg(db_)));
      return std::error_code{code, sqlite_category()};
    }
    return out;
  }

  history_store_status status() const override {
    std::lock_guard lock(mutex_);
    return {options_.path, ok_, error_, written_, dropped_};
  }

  // Blocks until every entry queued so far is written or dropped.
  void flush() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [&] { return queue_.empty() && !writing_; });
  }

  // False after a failed open, read or write, until a write succeeds.
  bool ok() const {
    std::lock_guard lock(mutex_);
    return ok_;
  }

  // The last error: what failed, the path and SQLite's message; empty if none.
  std::string error() const {
    std::lock_guard lock(mutex_);
    return error_;
  }

  const std::string& path() const noexcept { return options_.path; }

 private:
  static options validated(options opts) {
    const std::string_view component = "sqlite_history";
    detail::require(!opts.path.empty(), component, "path", "\"\"",
                    "must name a database file (SQLite would use a temporary database)");
    detail::require(opts.max_rows >= 1, component, "max_rows", opts.max_rows, "must be at least 1");
    detail::require(opts.queue_capacity >= 1, component, "queue_capacity", opts.queue_capacity,
                    "must be at least 1");
    return opts;
  }

  // Opens the database, creates the table and checks its columns, so a
  // damaged file or a foreign table is reported now rather than at the first
  // write. Runs in the constructor, before the writer thread exists.
  bool open() {
    int rc = sqlite3_open_v2(options_.path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    if (rc == SQLITE_OK) {
      sqlite3_busy_timeout(db_, 2000);
      rc = sqlite3_exec(db_,
                        "CREATE TABLE IF NOT EXISTS mend_status_history ("
                        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
                        " kind TEXT NOT NULL, level TEXT NOT NULL, component TEXT NOT NULL,"
                        " target TEXT NOT NULL, from_state TEXT NOT NULL, to_state TEXT NOT NULL,"
                        " reason TEXT NOT NULL, error TEXT NOT NULL,"
                        " monotonic_ns INTEGER NOT NULL, wall_ns INTEGER NOT NULL,"
                        " wall_time_utc TEXT NOT NULL, recovery INTEGER NOT NULL)",
                        nullptr, nullptr, nullptr);
    }
    if (rc == SQLITE_OK) rc = prepare(insert_,
                                      "INSERT INTO mend_status_history (kind, level, component, target, "
                                      "from_state, to_state, reason, error, monotonic_ns, wall_ns, "
                                      "wall_time_utc, recovery) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                                      "?10, ?11, ?12)");
    if (rc == SQLITE_OK) rc = prepare(prune_,
                                      "DELETE FROM mend_status_history WHERE id <= "
                                      "(SELECT max(id) FROM mend_status_history) - ?1");
    if (rc == SQLITE_OK) {
      open_ = true;
      return true;
    }

    const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    insert_ = {};
    prune_ = {};
    sqlite3_close(db_);
    db_ = nullptr;
    open_code_ = rc;
    ok_ = false;
    error_ = fmt::format(
        "cannot use status history database '{}': {}; history is kept in memory only (repair or move the file, "
        "or choose another path)",
        options_.path, message);
    return false;
  }

  int prepare(detail::sqlite_statement& statement, const char* sql) {
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v2(db_, sql, -1, &raw, nullptr);
    statement = detail::sqlite_statement{raw};
    return rc;
  }

  int open_code() const noexcept { return open_code_; }

  static std::optional<history_entry> read_row(sqlite3_stmt* row) {
    const auto text = [&](int column) {
      const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(row, column));
      return data == nullptr ? std::string{} : std::string(data, static_cast<std::size_t>(sqlite3_column_bytes(row, column)));
    };
    const auto kind = detail::parse_event_kind(text(0));
    if (!kind) return std::nullopt;
    history_entry entry;
    entry.kind = *kind;
    entry.level = detail::parse_severity(text(1)).value_or(severity::info);
    entry.component = text(2);
    entry.target = text(3);
    entry.from = text(4);
    entry.to = text(5);
    entry.reason = text(6);
    entry.error = text(7);
    entry.at = time_point{duration{sqlite3_column_int64(row, 8)}};
    entry.wall_at = wall_time{duration{sqlite3_column_int64(row, 9)}};
    entry.recovery = sqlite3_column_int64(row, 10) != 0;
    return entry;
  }

  void run_writer() {
    std::unique_lock lock(mutex_);
    for (;;) {
      queue_changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything is written
      std::vector<history_entry> batch;
      batch.swap(queue_);
      writing_ = true;
      lock.unlock();

      std::string failure = write_batch(batch);

      lock.lock();
      writing_ = false;
      if (failure.empty()) {
        written_ += batch.size();
        ok_ = true;
        error_.clear();
      } else {
        dropped_ += batch.size();
        ok_ = false;
        error_ = std::move(failure);
      }
      if (queue_.empty()) idle_.notify_all();
    }
  }

  // Inserts `batch` in one transaction and prunes old rows. Returns the error
  // message, or an empty string on success.
  std::string write_batch(const std::vector<history_entry>& batch) {
    std::lock_guard db_lock(db_mutex_);
    int rc = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    for (std::size_t i = 0; rc == SQLITE_OK && i < batch.size(); ++i) rc = insert(batch[i]);
    if (rc == SQLITE_OK) {
      sqlite3_bind_int64(prune_.get(), 1, static_cast<sqlite3_int64>(options_.max_rows));
      rc = sqlite3_step(prune_.get());
      sqlite3_reset(prune_.get());
      if (rc == SQLITE_DONE) rc = SQLITE_OK;
    }
    if (rc == SQLITE_OK) rc = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) return {};

    std::string message = fmt::format("cannot write to status history database '{}': {}; entries dropped: {}",
                                      options_.path, sqlite3_errmsg(db_), batch.size());
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return message;
  }

  int insert(const history_entry& entry) {
    sqlite3_stmt* stmt = insert_.get();
    const auto bind_text = [&](int index, std::string_view value) {
      return sqlite3_bind_text(stmt, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    };
    const std::string wall_text = detail::to_iso8601(entry.wall_at, true);
    int rc = bind_text(1, to_string(entry.kind));
    if (rc == SQLITE_OK) rc = bind_text(2, to_string(entry.level));
    if (rc == SQLITE_OK) rc = bind_text(3, entry.component);
    if (rc == SQLITE_OK) rc = bind_text(4, entry.target);
    if (rc == SQLITE_OK) rc = bind_text(5, entry.from);
    if (rc == SQLITE_OK) rc = bind_text(6, entry.to);
    if (rc == SQLITE_OK) rc = bind_text(7, entry.reason);
    if (rc == SQLITE_OK) rc = bind_text(8, entry.error);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int64(stmt, 9, entry.at.time_since_epoch().count());
    if (rc == SQLITE_OK) rc = sqlite3_bind_int64(stmt, 10, entry.wall_at.time_since_epoch().count());
    if (rc == SQLITE_OK) rc = bind_text(11, wall_text);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int(stmt, 12, entry.recovery ? 1 : 0);
    if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
  }

  void set_error(std::string message) {
    std::lock_guard lock(mutex_);
    ok_ = false;
    error_ = std::move(message);
  }

  const options options_;

  // The connection and its statements: used by the writer thread and load().
  std::mutex db_mutex_;
  sqlite3* db_ = nullptr;               // guarded by db_mutex_ once the writer runs
  detail::sqlite_statement insert_;     // guarded by db_mutex_
  detail::sqlite_statement prune_;      // guarded by db_mutex_
  int open_code_ = SQLITE_OK;           // set in the constructor only

  mutable std::mutex mutex_;
  std::condition_variable queue_changed_;
  std::condition_variable idle_;
  std::vector<history_entry> queue_;  // guarded by mutex_
  bool open_ = false;                 // guarded by mutex_
  bool writing_ = false;              // guarded by mutex_
  bool stopping_ = false;             // guarded by mutex_
  bool ok_ = true;                    // guarded by mutex_
  std::string error_;                 // guarded by mutex_
  std::uint64_t written_ = 0;         // guarded by mutex_
  std::uint64_t dropped_ = 0;         // guarded by mutex_

  std::thread writer_;
};

MEND_END_NAMESPACE

#endif  // MEND_ADAPTERS_SQLITE_HISTORY_HPP
