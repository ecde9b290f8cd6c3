// A backend that hands out fake connections for pool tests: it can be taken
// down and brought back, counts every connection alive, and records when the
// factory was called.
#ifndef MEND_TESTS_FAKE_BACKEND_HPP
#define MEND_TESTS_FAKE_BACKEND_HPP

#include <mend/clock.hpp>
#include <mend/result.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

namespace mend_test {

class fake_backend;

// One connection. Only the object that owns the "resource" counts as alive;
// a moved-from object does not.
class fake_connection {
 public:
  fake_connection(fake_backend& backend, int id) noexcept : backend_(&backend), id_(id) {}
  fake_connection(fake_connection&& other) noexcept
      : backend_(std::exchange(other.backend_, nullptr)), id_(other.id_), valid_(other.valid_) {}
  fake_connection& operator=(fake_connection&&) = delete;
  ~fake_connection();

  int id() const noexcept { return id_; }
  bool valid() const noexcept { return valid_; }
  void invalidate() noexcept { valid_ = false; }

 private:
  fake_backend* backend_;
  int id_;
  bool valid_ = true;
};

// A connection whose destructor throws when asked to, for the rule that a
// throwing destructor still frees the pool slot.
class throwing_connection {
 public:
  explicit throwing_connection(fake_backend& backend) noexcept : backend_(&backend) {}
  throwing_connection(throwing_connection&& other) noexcept
      : backend_(std::exchange(other.backend_, nullptr)), throw_on_destroy_(other.throw_on_destroy_) {}
  throwing_connection& operator=(throwing_connection&&) = delete;
  ~throwing_connection() noexcept(false);

  void throw_on_destroy() noexcept { throw_on_destroy_ = true; }

 private:
  fake_backend* backend_;
  bool throw_on_destroy_ = false;
};

class fake_backend {
 public:
  explicit fake_backend(mend::clock& clock) : clock_(clock), start_(clock.now()) {}

  // Makes the factory fail with `error` from now on.
  void go_down(std::error_code error = std::make_error_code(std::errc::connection_refused)) {
    std::lock_guard lock(mutex_);
    error_ = error;
    up_ = false;
  }

  void come_back() {
    std::lock_guard lock(mutex_);
    up_ = true;
  }

  bool is_up() const {
    std::lock_guard lock(mutex_);
    return up_;
  }

  std::function<mend::result<fake_connection>()> factory() {
    return [this]() -> mend::result<fake_connection> {
      if (const auto error = record_call()) return error;
      return fake_connection{*this, opened()};
    };
  }

  std::function<mend::result<throwing_connection>()> throwing_factory() {
    return [this]() -> mend::result<throwing_connection> {
      if (const auto error = record_call()) return error;
      opened();
      return throwing_connection{*this};
    };
  }

  // Factory calls so far, successful or not.
  std::size_t calls() const {
    std::lock_guard lock(mutex_);
    return call_times_.size();
  }

  // When each factory call happened, relative to the backend's creation.
  std::vector<mend::duration> call_times() const {
    std::lock_guard lock(mutex_);
    return call_times_;
  }

  // Connections constructed by the factory and not destroyed yet.
  int alive() const noexcept { return alive_.load(); }
  // The maximum number of connections alive at any moment.
  int max_alive() const noexcept { return max_alive_.load(); }
  int destructor_throws() const noexcept { return destructor_throws_.load(); }

 private:
  friend class fake_connection;
  friend class throwing_connection;

  std::error_code record_call() {
    std::lock_guard lock(mutex_);
    call_times_.push_back(clock_.now() - start_);
    return up_ ? std::error_code{} : error_;
  }

  int opened() {
    const int now_alive = ++alive_;
    int seen = max_alive_.load();
    while (now_alive > seen && !max_alive_.compare_exchange_weak(seen, now_alive)) {
    }
    return ++last_id_;
  }

  void closed() noexcept { --alive_; }

  mend::clock& clock_;
  const mend::time_point start_;
  mutable std::mutex mutex_;
  bool up_ = true;                            // guarded by mutex_
  std::error_code error_;                     // guarded by mutex_
  std::vector<mend::duration> call_times_;    // guarded by mutex_
  std::atomic<int> alive_{0};
  std::atomic<int> max_alive_{0};
  std::atomic<int> last_id_{0};
  std::atomic<int> destructor_throws_{0};
};

inline fake_connection::~fake_connection() {
  if (backend_ != nullptr) backend_->closed();
}

inline throwing_connection::~throwing_connection() noexcept(false) {
  if (backend_ == nullptr) return;
  backend_->closed();
  if (throw_on_destroy_) {
    ++backend_->destructor_throws_;
    throw std::runtime_error("closing the connection failed");
  }
}

}  // namespace mend_test

#endif  // MEND_TESTS_FAKE_BACKEND_HPP
