// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_DETAIL_POOL_CORE_HPP
#define MEND_DETAIL_POOL_CORE_HPP

#include <mend/clock.hpp>
#include <mend/connection_pool_options.hpp>
#include <mend/detail/make_event.hpp>
#include <mend/detail/owned_connection.hpp>
#include <mend/error.hpp>
#include <mend/event.hpp>
#include <mend/metrics_sink.hpp>
#include <mend/result.hpp>
#include <mend/version.hpp>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

MEND_BEGIN_NAMESPACE
namespace detail {

// Whether acquire() waits for a connection when none is free.
enum class pool_wait { until_timeout, never };

// The cause of a connection's removal, sent as the `reason` of
// pool_connection_removed. `stale`: idle, and opened no later than a
// connection that broke in use.
enum class removal_reason { broken, stale, invalid, expired, idle, closed };

constexpr std::string_view to_string(removal_reason reason) noexcept {
  switch (reason) {
    case removal_reason::broken: return "broken";
    case removal_reason::stale: return "stale";
    case removal_reason::invalid: return "invalid";
    case removal_reason::expired: return "expired";
    case removal_reason::idle: return "idle";
    case removal_reason::closed: return "closed";
  }
  return "unknown";
}

// The state of a connection_pool, shared by the pool object and its leases so
// that a lease returned after the pool is gone still finds it. The pool's
// destructor calls shutdown(); from then on returned connections are
// destroyed without touching the clock or the sink, which may be gone too.
//
// Accounting, all guarded by mutex_: every connection is in exactly one of
// idle_, active_ (leased or being validated), creating_ (a factory call in
// flight) or closing_ (destructor running). Their sum is total() and never
// exceeds max_size, because a slot is reserved before the factory runs and
// freed only after the destructor returned or threw.
template <class Connection>
class pool_core : public std::enable_shared_from_this<pool_core<Connection>> {
 public:
  using options_type = connection_pool_options<Connection>;
  using factory_type = std::function<result<Connection>()>;

  // One pooled connection with its bookkeeping.
  struct entry {
    owned_connection<Connection> connection;
    time_point created_at{};
    time_point idle_since{};
    std::uint64_t lease_id = 0;  // 0 while idle
  };

  pool_core(clock& clk, factory_type factory, options_type opts)
      : clock_(clk), factory_(std::move(factory)), options_(std::move(opts)) {
    idle_.reserve(options_.max_size);  // so returning a connection never allocates
  }

  pool_core(const pool_core&) = delete;
  pool_core& operator=(const pool_core&) = delete;

  // Schedules the first fill to min_size and the periodic idle check. Called
  // once, right after construction, when weak_from_this() works.
  void start() {
    std::lock_guard lock(mutex_);
    const auto now = clock_.now();
    schedule_refill_locked(now);
    if (options_.idle_check_interval > duration::zero()) schedule_idle_check_locked(now);
  }

  // Stops every timer (waiting for one that is running), fails the waiters
  // with errc::cancelled and destroys the idle connections. Leased ones are
  // destroyed when their lease returns them.
  void shutdown() noexcept {
    std::array<timer_id, 4> timers{};
    std::vector<entry> doomed;
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      closed_ = true;
      timers = {refill_timer_, recovery_timer_, idle_timer_, leak_timer_};
      doomed.swap(idle_);
      closing_ += doomed.size();
      fail_waiters_locked(make_error_code(errc::cancelled));
    }
    for (const auto id : timers)
      if (id != 0) clock_.cancel(id);

    std::unique_lock lock(mutex_);
    for (auto& e : doomed) destroy_detached_locked(lock, std::move(e), removal_reason::closed, {}, true);
  }

  // Returns a leased entry (active_ already counts it), or pool_recovering,
  // pool_exhausted, or cancelled after shutdown.
  result<entry> acquire(pool_wait wait) {
    std::unique_lock lock(mutex_);
    // One clock reading serves the deadline and the first checks; the loop
    // reads the clock again only after it released the lock.
    auto now = clock_.now();
    const auto deadline = clock::add_saturated(now, options_.acquire_timeout);
    for (bool first = true;; first = false) {
      if (!first) now = clock_.now();
      if (closed_) return make_error_code(errc::cancelled);
      if (recovering_) return make_error_code(errc::pool_recovering);

      if (!idle_.empty()) {
        if (auto leased = lease_idle_locked(lock, now)) return std::move(*leased);
        continue;  // the idle connection was removed; look again
      }

      if (can_create_locked(now)) {
        if (auto created = create_for_caller_locked(lock)) return std::move(*created);
        continue;  // the factory failed: recovery mode, or wait during the pause
      }

      if (wait == pool_wait::never) {
        schedule_refill_locked(now);
        return make_error_code(errc::pool_exhausted);
      }
      return wait_locked(lock, deadline);
    }
  }

  // Takes back a leased entry. A broken or expired connection is destroyed on
  // this thread; a good one goes to the oldest waiter or to the idle list.
  void give_back(entry e, bool broken, std::error_code ec) noexcept {
    std::unique_lock lock(mutex_);
    --active_;
    if (options_.leak_threshold > duration::zero()) leases_.erase(e.lease_id);
    e.lease_id = 0;
    if (closed_) {
      ++closing_;
      destroy_detached_locked(lock, std::move(e), removal_reason::closed, {}, false);
      return;
    }
    const auto now = clock_.now();
    if (broken) {
      const auto created_at = e.created_at;
      remove_locked(lock, std::move(e), removal_reason::broken, ec);
      if (!closed_) evict_idle_opened_before_locked(lock, created_at);
    } else if (expired(e, now)) {
      remove_locked(lock, std::move(e), removal_reason::expired, {});
    } else {
      hand_over_locked(std::move(e), now);
    }
  }

  connection_pool_stats stats() const {
    std::lock_guard lock(mutex_);
    connection_pool_stats out;
    out.active = active_;
    out.idle = idle_.size();
    out.creating = creating_;
    out.closing = closing_;
    out.total = total_locked();
    out.waiters = waiters_.size();
    out.in_recovery = recovering_;
    out.recovery_attempts = recovery_attempts_;
    out.connections_created = connections_created_;
    out.connections_removed = connections_removed_;
    out.acquire_timeouts = acquire_timeouts_;
    out.leaks_suspected = leaks_suspected_;
    out.last_error = last_error_;
    return out;
  }

  std::error_code last_error() const {
    std::lock_guard lock(mutex_);
    return last_error_;
  }

  const options_type& options() const noexcept { return options_; }

 private:
  // An acquire() call blocked until it gets a connection or an error.
  struct waiter {
    std::condition_variable ready;
    bool done = false;            // guarded by mutex_
    std::optional<entry> handed;  // guarded by mutex_
    std::error_code error;        // guarded by mutex_
  };

  struct lease_record {
    time_point acquired_at{};
    bool reported = false;
  };

  using lock_type = std::unique_lock<std::mutex>;

  // --- acquire helpers --------------------------------------------------

  // Takes the most recently returned idle connection, checks it, and returns
  // it leased, or nullopt after removing it as expired or invalid.
  std::optional<entry> lease_idle_locked(lock_type& lock, time_point now) {
    entry e = std::move(idle_.back());
    idle_.pop_back();
    ++active_;
    if (expired(e, now)) {
      --active_;
      remove_locked(lock, std::move(e), removal_reason::expired, {});
      return std::nullopt;
    }
    if (options_.validate_on_acquire && options_.validator) {
      lock.unlock();
      const bool valid = validate(e);
      lock.lock();
      if (!valid || closed_) {
        --active_;
        remove_locked(lock, std::move(e), closed_ ? removal_reason::closed : removal_reason::invalid, {});
        return std::nullopt;
      }
    }
    activate_locked(e);
    return e;
  }

  // Calls the factory on the caller's thread. Returns the new connection
  // leased, or nullopt after recording the failure.
  std::optional<entry> create_for_caller_locked(lock_type& lock) {
    auto made = create_in_slot_locked(lock);
    const auto now = clock_.now();
    if (!made) {
      if (!closed_) on_create_failed_locked(made.error(), now);
      return std::nullopt;
    }
    if (closed_) {
      lock.unlock();
      { auto doomed = std::move(made).value(); }  // destroyed without the lock
      lock.lock();
      return std::nullopt;
    }
    entry e{std::move(made).value(), now, now, 0};
    ++active_;
    activate_locked(e);
    on_created_locked(now);
    return e;
  }

  // Blocks until a connection is handed over, the deadline passes
  // (pool_exhausted) or recovery mode starts (pool_recovering). The deadline
  // is a timer on the clock, so a manual clock decides when it passes.
  result<entry> wait_locked(lock_type& lock, time_point deadline) {
    const auto now = clock_.now();
    if (now >= deadline) {
      report_timeout_locked(now);
      return make_error_code(errc::pool_exhausted);
    }
    auto w = std::make_shared<waiter>();
    waiters_.push_back(w);
    schedule_refill_locked(now);
    const timer_id timer =
        clock_.schedule_at(deadline, [weak = this->weak_from_this(), w] {
          if (auto self = weak.lock()) self->on_waiter_deadline(w);
        });
    w->ready.wait(lock, [&] { return w->done; });
    lock.unlock();
    clock_.cancel(timer);  // no-op when the timer fired; never under mutex_, which the timer takes

    if (w->handed) return std::move(*w->handed);
    return w->error;
  }

  void on_waiter_deadline(const std::shared_ptr<waiter>& w) {
    std::lock_guard lock(mutex_);
    if (closed_ || w->done) return;
    std::erase(waiters_, w);
    w->done = true;
    w->error = make_error_code(errc::pool_exhausted);
    report_timeout_locked(clock_.now());
    w->ready.notify_one();
  }

  void report_timeout_locked(time_point now) {
    ++acquire_timeouts_;
    event e = base_event(event_kind::pool_acquire_timed_out, now);
    e.level = severity::warning;
    e.error = make_error_code(errc::pool_exhausted);
    e.delay = options_.acquire_timeout;
    detail::emit(options_.sink, e);
    emit_gauges_locked(now);
  }

  void fail_waiters_locked(std::error_code ec) {
    for (auto& w : waiters_) {
      w->done = true;
      w->error = ec;
      w->ready.notify_one();
    }
    waiters_.clear();
  }

  // Gives a connection to the oldest waiter, or puts it on the idle list.
  void hand_over_locked(entry e, time_point idle_since) {
    if (!waiters_.empty()) {
      auto w = std::move(waiters_.front());
      waiters_.pop_front();
      ++active_;
      activate_locked(e);
      w->handed.emplace(std::move(e));
      w->done = true;
      w->ready.notify_one();
      return;
    }
    e.idle_since = idle_since;
    idle_.push_back(std::move(e));
  }

  // Marks an entry as leased: a new lease id, and a leak record when leak
  // reports are on.
  void activate_locked(entry& e) {
    e.lease_id = ++last_lease_id_;
    if (options_.leak_threshold <= duration::zero()) return;
    const auto now = clock_.now();
    leases_.emplace(e.lease_id, lease_record{now, false});
    if (!leak_timer_pending_) schedule_leak_check_locked(clock::add_saturated(now, options_.leak_threshold));
  }

  // --- creation -----------------------------------------------------------

  bool can_create_locked(time_point now) const noexcept {
    return !closed_ && total_locked() < options_.max_size && creating_ < options_.max_concurrent_creations &&
           now >= backoff_until_;
  }

  // True when the pool is short of connections: below min_size, or fewer
  // idle and incoming connections than waiters.
  bool wants_more_locked() const noexcept {
    if (closed_ || recovering_) return false;
    const std::size_t target = std::max(options_.min_size, active_ + waiters_.size());
    return live_locked() + creating_ < target;
  }

  // Calls the factory without the lock, in a slot counted by creating_ so
  // that max_size holds while it runs. A thrown exception becomes an error.
  result<owned_connection<Connection>> create_in_slot_locked(lock_type& lock) {
    ++creating_;
    lock.unlock();
    auto made = invoke_as_result([this]() -> result<owned_connection<Connection>> {
      auto created = factory_();
      if (!created) return created.error();
      return owned_connection<Connection>(std::move(created).value());
    });
    lock.lock();
    --creating_;
    return made;
  }

  bool validate(entry& e) noexcept {
    try {
      return options_.validator(*e.connection.get());
    } catch (...) {
      return false;
    }
  }

  void on_created_locked(time_point now) {
    ++connections_created_;
    backoff_until_ = time_point{};
    event e = base_event(event_kind::pool_connection_created, now);
    detail::emit(options_.sink, e);
    emit_gauges_locked(now);
    if (recovering_) {
      exit_recovery_locked(now);
    } else {
      schedule_refill_locked(now);
    }
  }

  // Records a failed factory call outside recovery ticks: no new attempt for
  // recovery_interval, and recovery mode when no connection is left.
  void on_create_failed_locked(std::error_code ec, time_point now) {
    last_error_ = ec;
    backoff_until_ = clock::add_saturated(now, options_.recovery_interval);
    event e = base_event(event_kind::pool_create_failed, now);
    e.level = severity::warning;
    e.error = ec;
    detail::emit(options_.sink, e);
    if (!recovering_ && live_locked() == 0) {
      enter_recovery_locked(now);
    } else {
      schedule_refill_locked(now);
    }
  }

  // --- refill (timer thread) -----------------------------------------------

  void schedule_refill_locked(time_point now) {
    if (refill_pending_ || !wants_more_locked()) return;
    if (total_locked() >= options_.max_size || creating_ >= options_.max_concurrent_creations) return;
    refill_pending_ = true;
    refill_timer_ = clock_.schedule_at(std::max(now, backoff_until_), [weak = this->weak_from_this()] {
      if (auto self = weak.lock()) self->on_refill_timer();
    });
  }

  // One refill round: creates up to max_concurrent_creations connections,
  // one after another, then schedules the next round so that other timers of
  // the clock run in between.
  void on_refill_timer() {
    lock_type lock(mutex_);
    // refill_pending_ stays set during the round, so creations finishing in
    // it do not schedule a second round.
    for (std::size_t round = 0; round < options_.max_concurrent_creations; ++round) {
      if (!wants_more_locked() || !can_create_locked(clock_.now())) break;
      auto made = create_in_slot_locked(lock);
      const auto now = clock_.now();
      if (closed_) {
        refill_pending_ = false;
        lock.unlock();
        return;  // `made` destroys its connection without the lock
      }
      if (!made) {
        refill_pending_ = false;
        on_create_failed_locked(made.error(), now);
        return;
      }
      hand_over_locked(entry{std::move(made).value(), now, now, 0}, now);
      on_created_locked(now);
    }
    refill_pending_ = false;
    schedule_refill_locked(clock_.now());
  }

  // --- recovery mode --------------------------------------------------------

  // Every connection is gone and the last creation failed: fail waiters and
  // new calls fast, and try one creation per recovery_interval.
  void enter_recovery_locked(time_point now) {
    recovering_ = true;
    ++recovery_generation_;
    recovery_started_ = now;
    episode_attempts_ = 0;
    fail_waiters_locked(make_error_code(errc::pool_recovering));

    event e = base_event(event_kind::pool_recovery_entered, now);
    e.level = severity::error;
    e.error = last_error_;
    e.delay = options_.recovery_interval;
    detail::emit(options_.sink, e);
    emit_gauges_locked(now);
    schedule_recovery_tick_locked(std::max(backoff_until_, now));
  }

  void exit_recovery_locked(time_point now) {
    recovering_ = false;
    ++recovery_generation_;
    event e = base_event(event_kind::pool_recovery_exited, now);
    e.attempt = episode_attempts_;
    e.delay = now - recovery_started_;
    detail::emit(options_.sink, e);
    emit_gauges_locked(now);
    schedule_refill_locked(now);
  }

  void schedule_recovery_tick_locked(time_point at) {
    recovery_timer_ = clock_.schedule_at(at, [weak = this->weak_from_this(), generation = recovery_generation_] {
      if (auto self = weak.lock()) self->on_recovery_tick(generation);
    });
  }

  // One creation attempt in recovery mode, on the clock's timer thread. The
  // next tick is scheduled recovery_interval after this attempt ends, so
  // attempts never overlap or bunch up behind a slow factory.
  void on_recovery_tick(std::uint64_t generation) {
    lock_type lock(mutex_);
    if (closed_ || !recovering_ || generation != recovery_generation_) return;
    if (total_locked() >= options_.max_size) {
      // Every slot is held by a creation or a destructor still running.
      schedule_recovery_tick_locked(clock::add_saturated(clock_.now(), options_.recovery_interval));
      return;
    }
    ++recovery_attempts_;
    const auto attempt = ++episode_attempts_;
    auto made = create_in_slot_locked(lock);
    const auto now = clock_.now();
    if (closed_) {
      lock.unlock();
      return;  // `made` destroys its connection without the lock
    }

    event e = base_event(event_kind::pool_recovery_attempt, now);
    e.attempt = attempt;
    const std::array samples{metric_sample{metric::recovery_attempts, static_cast<std::int64_t>(recovery_attempts_)}};
    e.metrics = samples;
    if (!made) {
      last_error_ = made.error();
      backoff_until_ = clock::add_saturated(now, options_.recovery_interval);
      e.level = severity::warning;
      e.error = made.error();
      detail::emit(options_.sink, e);
      if (recovering_ && generation == recovery_generation_) {
        schedule_recovery_tick_locked(backoff_until_);
      } else {
        schedule_refill_locked(now);
      }
      return;
    }
    detail::emit(options_.sink, e);
    hand_over_locked(entry{std::move(made).value(), now, now, 0}, now);
    on_created_locked(now);  // exits recovery mode and schedules the refill
  }

  // --- removal ----------------------------------------------------------------

  // Destroys a connection that is no longer idle or active.
  void remove_locked(lock_type& lock, entry e, removal_reason reason, std::error_code ec) {
    ++closing_;
    destroy_detached_locked(lock, std::move(e), reason, ec, !closed_);
  }

  // Destroys a connection already counted in closing_, without the lock, then
  // frees its slot. An exception from the destructor is caught and reported;
  // the slot is freed all the same.
  void destroy_detached_locked(lock_type& lock, entry e, removal_reason reason, std::error_code ec, bool report) {
    lock.unlock();
    const std::error_code destructor_error = e.connection.destroy();
    lock.lock();
    --closing_;
    ++connections_removed_;
    if (!report) return;

    const auto now = clock_.now();
    event ev = base_event(event_kind::pool_connection_removed, now);
    ev.reason = to_string(reason);
    ev.error = ec ? ec : destructor_error;
    if (reason == removal_reason::broken || destructor_error) ev.level = severity::warning;
    detail::emit(options_.sink, ev);
    emit_gauges_locked(now);
    if (closed_) return;

    // The last connection failed while creation is paused after a failure:
    // nothing works and nothing can be created, which is recovery mode.
    if (!recovering_ && live_locked() == 0 && now < backoff_until_) {
      enter_recovery_locked(now);
      return;
    }
    schedule_refill_locked(now);
  }

  // Removes the idle connections opened with or before one that broke in use.
  // They most likely broke too (a server restart, a firewall or NAT dropping
  // every flow), and a validator cannot always tell. Without this, callers
  // would pick them up and fail on them one at a time.
  void evict_idle_opened_before_locked(lock_type& lock, time_point created_at) {
    std::vector<entry> doomed;
    for (auto it = idle_.begin(); it != idle_.end();) {
      if (it->created_at <= created_at) {
        doomed.push_back(std::move(*it));
        it = idle_.erase(it);
        ++closing_;  // counted until destroyed, so the slot is not reused early
      } else {
        ++it;
      }
    }
    for (auto& old : doomed) destroy_detached_locked(lock, std::move(old), removal_reason::stale, {}, !closed_);
  }

  bool expired(const entry& e, time_point now) const noexcept {
    return options_.max_lifetime > duration::zero() && now - e.created_at >= options_.max_lifetime;
  }

  // --- idle check (timer thread) ------------------------------------------------

  void schedule_idle_check_locked(time_point now) {
    idle_timer_ = clock_.schedule_at(clock::add_saturated(now, options_.idle_check_interval),
                                     [weak = this->weak_from_this()] {
                                       if (auto self = weak.lock()) self->on_idle_check();
                                     });
  }

  // Removes expired idle connections and those idle longer than idle_timeout
  // above min_size, validates the rest, refills, and schedules the next check.
  void on_idle_check() {
    lock_type lock(mutex_);
    if (closed_) return;
    remove_stale_idle_locked(lock);
    if (options_.validator) validate_idle_locked(lock);
    if (closed_) return;
    const auto now = clock_.now();
    schedule_refill_locked(now);
    schedule_idle_check_locked(now);
  }

  void remove_stale_idle_locked(lock_type& lock) {
    const auto now = clock_.now();
    std::vector<std::pair<entry, removal_reason>> doomed;
    for (auto it = idle_.begin(); it != idle_.end();) {
      const bool idle_too_long = options_.idle_timeout > duration::zero() &&
                                 now - it->idle_since >= options_.idle_timeout &&
                                 live_locked() > options_.min_size;
      if (expired(*it, now) || idle_too_long) {
        doomed.emplace_back(std::move(*it), expired(*it, now) ? removal_reason::expired : removal_reason::idle);
        it = idle_.erase(it);
        ++closing_;  // counted until destroyed, so the slot is not reused early
      } else {
        ++it;
      }
    }
    for (auto& [e, reason] : doomed) destroy_detached_locked(lock, std::move(e), reason, {}, !closed_);
  }

  // Validates each connection that was idle when the check started, oldest
  // first, one at a time without the lock.
  void validate_idle_locked(lock_type& lock) {
    for (std::size_t remaining = idle_.size(); remaining > 0 && !idle_.empty() && !closed_; --remaining) {
      entry e = std::move(idle_.front());
      idle_.erase(idle_.begin());
      ++active_;
      lock.unlock();
      const bool valid = validate(e);
      lock.lock();
      --active_;
      if (!valid || closed_) {
        remove_locked(lock, std::move(e), closed_ ? removal_reason::closed : removal_reason::invalid, {});
      } else {
        const auto since = e.idle_since;
        hand_over_locked(std::move(e), since);
      }
    }
  }

  // --- leak reports (timer thread) -------------------------------------------

  void schedule_leak_check_locked(time_point at) {
    leak_timer_pending_ = true;
    leak_timer_ = clock_.schedule_at(at, [weak = this->weak_from_this()] {
      if (auto self = weak.lock()) self->on_leak_check();
    });
  }

  // Reports, once each, the leases held past leak_threshold, and schedules
  // the check for the next lease that will reach it. Lease ids grow with
  // acquisition time, so the map is in deadline order.
  void on_leak_check() {
    std::lock_guard lock(mutex_);
    leak_timer_pending_ = false;
    if (closed_) return;
    const auto now = clock_.now();
    for (auto& [id, record] : leases_) {
      const auto due = clock::add_saturated(record.acquired_at, options_.leak_threshold);
      if (due > now) {
        schedule_leak_check_locked(due);
        return;
      }
      if (record.reported) continue;
      record.reported = true;
      ++leaks_suspected_;
      event e = base_event(event_kind::pool_leak_suspected, now);
      e.level = severity::warning;
      e.delay = now - record.acquired_at;
      detail::emit(options_.sink, e);
    }
  }

  // --- events -------------------------------------------------------------------

  std::size_t live_locked() const noexcept { return idle_.size() + active_; }
  std::size_t total_locked() const noexcept { return live_locked() + creating_ + closing_; }

  event base_event(event_kind kind, time_point now) const noexcept {
    return detail::make_event(kind, options_.name, {}, clock_, now);
  }

  void emit_gauges_locked(time_point now) {
    const std::array samples{
        metric_sample{metric::active, static_cast<std::int64_t>(active_)},
        metric_sample{metric::idle, static_cast<std::int64_t>(idle_.size())},
        metric_sample{metric::total, static_cast<std::int64_t>(total_locked())},
        metric_sample{metric::waiters, static_cast<std::int64_t>(waiters_.size())},
        metric_sample{metric::recovery_attempts, static_cast<std::int64_t>(recovery_attempts_)}};
    event e = base_event(event_kind::pool_gauges, now);
    e.level = severity::debug;
    e.metrics = samples;
    detail::emit(options_.sink, e);
  }

  clock& clock_;
  const factory_type factory_;
  const options_type options_;

  mutable std::mutex mutex_;
  std::vector<entry> idle_;                      // guarded by mutex_; most recently returned last
  std::size_t active_ = 0;                       // guarded by mutex_
  std::size_t creating_ = 0;                     // guarded by mutex_
  std::size_t closing_ = 0;                      // guarded by mutex_
  std::deque<std::shared_ptr<waiter>> waiters_;  // guarded by mutex_; oldest first
  bool closed_ = false;                          // guarded by mutex_

  // Recovery mode: acquire() fails fast and one timer tick per
  // recovery_interval tries to create a connection.
  bool recovering_ = false;                 // guarded by mutex_
  std::uint64_t recovery_generation_ = 0;   // guarded by mutex_; stale ticks compare it
  time_point recovery_started_{};           // guarded by mutex_
  std::uint64_t episode_attempts_ = 0;      // guarded by mutex_; attempts in this recovery
  // No creation starts before this time, after a failed one.
  time_point backoff_until_{};              // guarded by mutex_
  std::error_code last_error_;              // guarded by mutex_

  bool refill_pending_ = false;             // guarded by mutex_
  bool leak_timer_pending_ = false;         // guarded by mutex_
  timer_id refill_timer_ = 0;               // guarded by mutex_
  timer_id recovery_timer_ = 0;             // guarded by mutex_
  timer_id idle_timer_ = 0;                 // guarded by mutex_
  timer_id leak_timer_ = 0;                 // guarded by mutex_

  std::uint64_t last_lease_id_ = 0;                  // guarded by mutex_
  std::map<std::uint64_t, lease_record> leases_;     // guarded by mutex_; only with leak reports on

  std::uint64_t recovery_attempts_ = 0;     // guarded by mutex_
  std::uint64_t connections_created_ = 0;   // guarded by mutex_
  std::uint64_t connections_removed_ = 0;   // guarded by mutex_
  std::uint64_t acquire_timeouts_ = 0;      // guarded by mutex_
  std::uint64_t leaks_suspected_ = 0;       // guarded by mutex_
};

}  // namespace detail
MEND_END_NAMESPACE

#endif  // MEND_DETAIL_POOL_CORE_HPP
