// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_CONNECTION_POOL_HPP
#define MEND_CONNECTION_POOL_HPP

#include <mend/clock.hpp>
#include <mend/config_error.hpp>
#include <mend/connection_pool_options.hpp>
#include <mend/detail/pool_core.hpp>
#include <mend/error.hpp>
#include <mend/result.hpp>
#include <mend/steady_clock_source.hpp>
#include <mend/version.hpp>

#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

MEND_BEGIN_NAMESPACE

// A pool of connections that removes broken ones, refills itself, and fails
// fast while the backend is down.
//
// Leasing: acquire() returns an RAII lease. Destroying the lease returns the
// connection; lease.fail(ec) reports it broken, and the pool destroys it.
// The pool removes broken connections and the idle ones opened no later than
// a connection that broke in use. It also removes those the validator
// rejects, those older than max_lifetime, and those idle longer than
// idle_timeout above min_size. Replacements bring it back to min_size. The
// pool never has more than max_size connections, counting those being
// created and those whose destructor is still running (also when that
// destructor throws).
//
// Waiting: with no idle connection and no free slot, acquire() waits. Every
// waiter ends with a connection, errc::pool_exhausted after acquire_timeout
// (a timer on the clock), or errc::pool_recovering. Code that runs inside a
// timer callback of the pool's clock must call try_acquire() instead, which
// never waits: the acquire_timeout timer cannot fire while that callback
// runs, so acquire() there waits until another thread returns a connection.
//
// Recovery mode: when no connection is left and creating one fails, acquire()
// returns errc::pool_recovering at once without calling the factory, and a
// timer makes exactly one creation attempt per recovery_interval (5 s by
// default). The first success ends recovery mode and the pool refills. The
// factory's error is never replaced by a generic one: last_error() and
// stats().last_error return it, and the recovery events carry it. Outside
// recovery mode, a failed creation also pauses creation for
// recovery_interval, so a failing backend sees no stampede.
//
// Threads: acquire() calls the factory and the validator on the caller's
// thread when it needs a new connection or checks an idle one. Refills, the
// recovery attempts, the idle check and leak reports run on the clock's timer
// thread (steady_clock_source), or inside advance() of a manual_clock; give
// the factory its own connect timeout, because a slow factory call there
// delays the other timers of the same clock. The factory and the validator
// may run on several threads at once. Events go to the sink from
// whichever thread made the change, under the pool's lock.
//
// Lifetime: leases may outlive the pool; a connection returned after the
// pool is destroyed is destroyed at once, without events. Destroy the pool
// only after every acquire() call returned and before the clock and the sink.
// The destructor waits for a refill or recovery attempt that is running.
//
//   mend::connection_pool<aif_session> pool{clock, [&] { return aif_session::open(endpoint); },
//                                           {.name = "aif", .min_size = 2, .max_size = 8}};
//   auto leased = pool.acquire();
//   if (!leased) return leased.error();  // pool_recovering: pool.last_error() says why
//   auto& session = leased.value();
//   if (auto sent = session->send(request); !sent) session.fail(sent.error());
template <class Connection>
class connection_pool {
  using core_type = detail::pool_core<Connection>;

 public:
  using connection_type = Connection;
  using options = connection_pool_options<Connection>;
  // Creates one connection or returns why it could not. It may throw, and an
  // exception counts as a failure with the code it carries.
  using factory_type = std::function<result<Connection>()>;

  // The right to use one connection until the lease is destroyed or released.
  class lease {
   public:
    lease(lease&& other) noexcept = default;
    lease& operator=(lease&& other) noexcept {
      if (this != &other) {
        release();
        core_ = std::move(other.core_);
        entry_ = std::move(other.entry_);
      }
      return *this;
    }
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;

    ~lease() { release(); }

    // The leased connection. Only valid while the lease holds one.
    Connection& get() const noexcept { return *entry_.connection.get(); }
    Connection& operator*() const noexcept { return get(); }
    Connection* operator->() const noexcept { return entry_.connection.get(); }

    // True while the lease holds a connection (not after release, fail or a move).
    explicit operator bool() const noexcept { return core_ != nullptr; }

    // Returns the connection to the pool now.
    void release() noexcept {
      if (auto core = std::move(core_)) core->give_back(std::move(entry_), false, {});
    }

    // Reports the connection broken by `ec` and gives it back now. The pool
    // destroys it and creates a replacement, and the lease is empty afterwards.
    void fail(std::error_code ec) noexcept {
      if (auto core = std::move(core_)) core->give_back(std::move(entry_), true, ec);
    }

   private:
    friend class connection_pool;
    lease(std::shared_ptr<core_type> core, typename core_type::entry e) noexcept
        : core_(std::move(core)), entry_(std::move(e)) {}

    std::shared_ptr<core_type> core_;
    typename core_type::entry entry_;
  };

  // Builds the pool and schedules the first fill to min_size on the clock.
  // Throws config_error for invalid options or an empty factory.
  connection_pool(clock& clk, factory_type factory, options opts = {})
      : core_(std::make_shared<core_type>(clk, checked(std::move(factory)), validated(std::move(opts)))) {
    core_->start();
  }

  explicit connection_pool(factory_type factory, options opts = {})
      : connection_pool(default_clock(), std::move(factory), std::move(opts)) {}

  connection_pool(const connection_pool&) = delete;
  connection_pool& operator=(const connection_pool&) = delete;

  // Stops the timers and destroys the idle connections. Leased ones are
  // destroyed when their lease returns them.
  ~connection_pool() { core_->shutdown(); }

  // Leases a connection: an idle one (validated first when validate_on_acquire
  // is set), else a new one from the factory, else the next one returned.
  // Errors: errc::pool_recovering at once in recovery mode (last_error() has
  // the factory's error), errc::pool_exhausted when none came within
  // acquire_timeout.
  result<lease> acquire() {
    auto leased = core_->acquire(detail::pool_wait::until_timeout);
    if (!leased) return leased.error();
    return lease{core_, std::move(leased).value()};
  }

  // Leases a connection like acquire() but never waits: when no connection is
  // idle and none can be created now, returns errc::pool_exhausted at once
  // (not counted as an acquire timeout). Safe inside a timer callback of the
  // pool's clock. It may still call the factory or the validator.
  result<lease> try_acquire() {
    auto leased = core_->acquire(detail::pool_wait::never);
    if (!leased) return leased.error();
    return lease{core_, std::move(leased).value()};
  }

  // Returns the factory's most recent error, which stays after recovery, or
  // an empty code if the factory never failed.
  std::error_code last_error() const { return core_->last_error(); }

  connection_pool_stats stats() const { return core_->stats(); }

  bool in_recovery() const { return core_->stats().in_recovery; }

  const std::string& name() const noexcept { return core_->options().name; }
  const options& config() const noexcept { return core_->options(); }

 private:
  static options validated(options opts) {
    detail::validate_pool_options(opts);
    return opts;
  }

  static factory_type checked(factory_type factory) {
    detail::require(static_cast<bool>(factory), "connection_pool", "factory", "empty function", "must be set");
    return factory;
  }

  std::shared_ptr<core_type> core_;
};

MEND_END_NAMESPACE

#endif  // MEND_CONNECTION_POOL_HPP
