// The in-memory backend of the soak test: endpoints whose behaviour follows
// the fault currently injected into them, and the pooled connections to
// them. One thread at a time uses them (see simulation_clock.hpp).
#ifndef MEND_TESTS_SOAK_SIMULATED_ENDPOINT_HPP
#define MEND_TESTS_SOAK_SIMULATED_ENDPOINT_HPP

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <mend/clock.hpp>
#include <mend/error.hpp>
#include <mend/http_error.hpp>
#include <mend/result.hpp>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace mend_soak {

using namespace std::chrono_literals;
using mend::duration;
using mend::time_point;

// A small, portable generator, so that a seed gives the same run with every
// standard library (std::uniform_*_distribution differ between them).
class random_source {
 public:
  explicit random_source(std::uint64_t seed) noexcept : state_(seed) {}

  // splitmix64.
  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  // A number in [0, 1).
  double fraction() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // An integer in [low, high].
  std::uint64_t between(std::uint64_t low, std::uint64_t high) noexcept { return low + next() % (high - low + 1); }

  // A duration in [low, high], uniform.
  duration between(duration low, duration high) noexcept {
    return low + duration{static_cast<duration::rep>(fraction() * static_cast<double>((high - low).count()))};
  }

  // A duration in [low, high] whose logarithm is uniform, so that seconds and
  // minutes are drawn about as often.
  duration log_between(duration low, duration high) noexcept {
    const double ratio = static_cast<double>(high.count()) / static_cast<double>(low.count());
    return duration{static_cast<duration::rep>(static_cast<double>(low.count()) * std::pow(ratio, fraction()))};
  }

  bool chance(double probability) noexcept { return fraction() < probability; }

 private:
  std::uint64_t state_;
};

class simulated_endpoint;

// One connection to a simulated endpoint. It is broken when the endpoint
// closed it (an outage, which a validator that peeks at the socket detects)
// or when it was dropped silently (a firewall or NAT timeout, which only a
// request on it reveals).
class simulated_connection {
 public:
  simulated_connection(simulated_endpoint& endpoint, std::uint64_t serial);
  simulated_connection(simulated_connection&& other) noexcept
      : endpoint_(std::exchange(other.endpoint_, nullptr)), serial_(other.serial_) {}
  simulated_connection& operator=(simulated_connection&&) = delete;
  simulated_connection(const simulated_connection&) = delete;
  simulated_connection& operator=(const simulated_connection&) = delete;
  ~simulated_connection();

  std::uint64_t serial() const noexcept { return serial_; }
  simulated_endpoint& endpoint() const noexcept { return *endpoint_; }

  // True when the endpoint closed the connection. The pool's validator calls it.
  bool peer_closed() const noexcept;

 private:
  simulated_endpoint* endpoint_;
  std::uint64_t serial_;
};

// An endpoint (an AX application server) whose responses depend on the fault
// in force. A call that takes time sleeps on the clock, so the timers that
// fall due meanwhile fire and other requests run.
class simulated_endpoint {
 public:
  simulated_endpoint(mend::clock& clock, std::string name, random_source& random, duration client_timeout)
      : clock_(clock), name_(std::move(name)), random_(random), client_timeout_(client_timeout) {}

  simulated_endpoint(const simulated_endpoint&) = delete;
  simulated_endpoint& operator=(const simulated_endpoint&) = delete;

  const std::string& name() const noexcept { return name_; }

  // --- faults -------------------------------------------------------------------

  // Down: connections are refused, and the open ones are closed by the peer.
  void go_down() {
    refusing_ = true;
    closed_below_ = next_serial_;
  }
  void come_up() noexcept { refusing_ = false; }

  // Every call returns `status`, with a Retry-After hint when not zero.
  void fail_calls_with(int status, duration retry_after) noexcept {
    error_status_ = status;
    retry_after_ = retry_after;
  }

  // Calls and checks hang until the caller's timeout.
  void hang(bool on) noexcept { hanging_ = on; }

  // Each call and check takes a random time in [low, high], then succeeds.
  void respond_slowly(duration low, duration high) noexcept {
    slow_low_ = low;
    slow_high_ = high;
  }

  // Drops every open connection silently: the next request on each fails
  // with a connection reset.
  void drop_connections() noexcept { dropped_below_ = next_serial_; }

  // Ends every fault.
  void clear() noexcept {
    refusing_ = false;
    error_status_ = 0;
    retry_after_ = {};
    hanging_ = false;
    slow_low_ = slow_high_ = {};
  }

  // --- what the stack calls -----------------------------------------------------

  // The pool's factory: a new connection, or connection_refused while down.
  mend::result<simulated_connection> connect() {
    if (refusing_) return std::make_error_code(std::errc::connection_refused);
    return simulated_connection{*this, next_serial_++};
  }

  // One request on `connection`. Errors of the connection itself
  // (connection_reset, timed_out) mean the caller must fail the lease.
  mend::result<int> call(simulated_connection& connection) {
    ++calls_;
    if (broken(connection.serial()) || refusing_) return std::make_error_code(std::errc::connection_reset);
    if (hanging_) {
      clock_.sleep_for(client_timeout_);
      return mend::make_error_code(mend::errc::timed_out);
    }
    if (error_status_ != 0) return mend::http_error(error_status_, retry_after_);
    if (slow_high_ > duration::zero()) {
      clock_.sleep_for(random_.between(slow_low_, slow_high_));
      // The endpoint may have gone down while the response was on its way.
      if (broken(connection.serial()) || refusing_) return std::make_error_code(std::errc::connection_reset);
    }
    return 200;
  }

  // A health check, or a circuit breaker's test call, that must finish by
  // `deadline`.
  mend::result<void> ping(time_point deadline) {
    ++pings_;
    if (refusing_) return std::make_error_code(std::errc::connection_refused);
    if (hanging_) {
      clock_.sleep_for(std::max(deadline - clock_.now(), duration::zero()));
      return mend::make_error_code(mend::errc::timed_out);
    }
    if (error_status_ != 0) return mend::http_error(error_status_);
    if (slow_high_ > duration::zero()) clock_.sleep_for(random_.between(slow_low_, slow_high_));
    return mend::success();
  }

  // --- bookkeeping ----------------------------------------------------------------

  bool broken(std::uint64_t serial) const noexcept { return serial < closed_below_ || serial < dropped_below_; }
  bool peer_closed(std::uint64_t serial) const noexcept { return serial < closed_below_; }

  // Connections alive now, and those of them that still work.
  std::size_t alive() const noexcept { return alive_.size(); }
  std::size_t working() const noexcept {
    const auto first_working = std::max(closed_below_, dropped_below_);
    return static_cast<std::size_t>(std::distance(alive_.lower_bound(first_working), alive_.end()));
  }
  std::size_t max_alive() const noexcept { return max_alive_; }
  std::uint64_t calls() const noexcept { return calls_; }
  std::uint64_t pings() const noexcept { return pings_; }

 private:
  friend class simulated_connection;

  void opened(std::uint64_t serial) {
    alive_.insert(serial);
    max_alive_ = std::max(max_alive_, alive_.size());
  }
  void closed(std::uint64_t serial) noexcept { alive_.erase(serial); }

  mend::clock& clock_;
  const std::string name_;
  random_source& random_;
  const duration client_timeout_;

  bool refusing_ = false;
  int error_status_ = 0;
  duration retry_after_{};
  bool hanging_ = false;
  duration slow_low_{};
  duration slow_high_{};

  std::uint64_t next_serial_ = 1;
  std::uint64_t closed_below_ = 0;   // connections with a lower serial were closed by the endpoint
  std::uint64_t dropped_below_ = 0;  // connections with a lower serial were dropped silently
  std::set<std::uint64_t> alive_;
  std::size_t max_alive_ = 0;
  std::uint64_t calls_ = 0;
  std::uint64_t pings_ = 0;
};

inline simulated_connection::simulated_connection(simulated_endpoint& endpoint, std::uint64_t serial)
    : endpoint_(&endpoint), serial_(serial) {
  endpoint.opened(serial);
}

inline simulated_connection::~simulated_connection() {
  if (endpoint_ != nullptr) endpoint_->closed(serial_);
}

inline bool simulated_connection::peer_closed() const noexcept { return endpoint_->peer_closed(serial_); }

}  // namespace mend_soak

#endif  // MEND_TESTS_SOAK_SIMULATED_ENDPOINT_HPP
