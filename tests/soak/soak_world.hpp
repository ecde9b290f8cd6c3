// The whole mend stack on a manual clock against simulated endpoints, driven
// by a seeded fault schedule, with the bookkeeping that turns the run into
// recovery figures.
//
// The stack: a balancer over three endpoints with active health checks, one
// circuit breaker and one connection pool per endpoint, one retry policy
// around "pick an endpoint, then call it through its breaker and pool", and
// one status reporter that receives every event.
//
// Time: a simulation_clock (see simulation_clock.hpp). A timer starts a
// request every `request_interval`, on a worker thread, and the driver
// advances the clock from timer to timer, so a day takes seconds. A call that
// takes time (a slow response, a timeout, a retry's back-off) parks its
// worker until the clock reaches its end. The other requests run meanwhile
// with their own leases, as concurrent requests would. Exactly one thread
// runs at a time, so a seed replays exactly. At most `max_in_flight` requests
// run at once, and the others wait in a client-side queue.
//
// Recovery, per fault on endpoint E, from `start` until it clears at C, and
// watched until C + watch_window (the window):
// - E is "routable" while its health checks find it healthy and its breaker
//   is not open: it is in rotation, or its half-open breaker takes test calls.
//   E's routing is "affected" when E stopped being routable at some time in
//   [start, window end]. It has recovered when it is routable from some time
//   t until the window ends and a request on E succeeded after t. The
//   recovery time is t - R, where R is C or, when E stopped being routable or
//   its breaker opened again after C (a call in flight at C failed late, a
//   half-open test started before C failed after it, or the pool failed fast
//   until its next recovery tick), that later time: a breaker cannot return
//   before its open timeout ends. It counts as successful within 60 s for
//   faults shorter than the first open timeout (60 s), and within the open
//   timeout of the breaker's last opening for longer faults, because the
//   failed half-open tests of a long fault grow that timeout (120 s, 240 s).
//   The figures also give the time from C itself.
// - E's pool is "affected" when it entered recovery mode or removed a broken
//   or invalid connection in the same interval. It has recovered at the first
//   time t >= C from which, until the window ends, it is out of recovery mode
//   and holds at least one connection that works; the recovery time is t - C,
//   sampled every `watch_tick` (250 ms). It counts as successful under 30 s.
#ifndef MEND_TESTS_SOAK_SOAK_WORLD_HPP
#define MEND_TESTS_SOAK_SOAK_WORLD_HPP

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mend/balancer.hpp>
#include <mend/breaker_signal.hpp>
#include <mend/circuit_breaker.hpp>
#include <mend/connection_pool.hpp>
#include <mend/decorate.hpp>
#include <mend/health_checker.hpp>
#include <mend/metrics_sink.hpp>
#include <mend/retry_policy.hpp>
#include <mend/status_reporter.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fault_schedule.hpp"
#include "simulated_endpoint.hpp"
#include "simulation_clock.hpp"

namespace mend_soak {

struct soak_options {
  std::uint64_t seed = 1;
  duration simulated = std::chrono::hours{24};
  duration request_interval = std::chrono::milliseconds{200};
  std::size_t max_in_flight = 32;
  duration watch_tick = std::chrono::milliseconds{250};
  duration watch_window = std::chrono::minutes{6};
  // How long a request may take before the client gives up on it.
  duration client_timeout = std::chrono::seconds{3};
  std::size_t pool_max_size = 8;
  // Prints every event between these times (from the start of the run) to
  // stdout, to follow a failed recovery. Empty prints nothing.
  std::optional<std::pair<duration, duration>> trace{};
};

// The figures of one run.
struct soak_figures {
  std::uint64_t seed = 0;
  duration simulated{};

  std::uint64_t issued = 0;     // requests started
  std::uint64_t completed = 0;  // requests that ended with a value or an error
  std::uint64_t succeeded = 0;
  std::map<std::string, std::uint64_t> errors;  // by message

  std::map<fault_kind, std::uint64_t> faults;
  std::uint64_t wall_jumps = 0;

  std::uint64_t routing_affected = 0;
  std::uint64_t routing_recovered = 0;              // within the bound
  duration longest_routing_recovery_short_fault{};  // faults shorter than 60 s
  duration longest_routing_recovery_long_fault{};
  duration longest_return_after_clear_short_fault{};  // measured from C even after a late departure
  std::uint64_t late_departures = 0;                  // episodes whose recovery clock starts after C (see above)
  duration latest_departure_after_clear{};
  std::uint64_t pool_affected = 0;
  std::uint64_t pool_recovered = 0;  // within the bound
  duration longest_pool_recovery{};

  std::uint64_t breaker_auto_recoveries = 0;   // half-open tests that closed a breaker
  std::uint64_t pool_recovery_exits = 0;       // pools that left recovery mode
  std::uint64_t health_recoveries = 0;         // endpoints healthy again
  std::uint64_t departures_without_fault = 0;  // endpoints no longer routable outside any fault's window

  std::size_t max_pool_size = 0;  // the largest total a pool reported
  std::size_t max_alive = 0;      // maximum number of connections alive to one endpoint
  std::size_t pool_max_size = 0;  // the configured maximum
  std::size_t max_in_flight = 0;  // maximum number of requests running at once
  std::size_t max_queued = 0;     // maximum length of the client-side queue

  std::uint64_t violations = 0;                // broken invariants
  std::vector<std::string> violation_log;      // the first few
  std::vector<std::string> failed_recoveries;  // each affected episode that did not recover within its bound

  std::uint64_t lost() const noexcept { return issued - completed; }
  std::uint64_t affected() const noexcept { return routing_affected + pool_affected; }
  std::uint64_t recovered() const noexcept { return routing_recovered + pool_recovered; }
  double success_rate() const noexcept {
    return affected() == 0 ? 1.0 : static_cast<double>(recovered()) / static_cast<double>(affected());
  }
};

class soak_world {
 public:
  static constexpr std::size_t endpoint_count = 3;
  static constexpr duration breaker_recovery_bound = std::chrono::seconds{60};
  static constexpr duration pool_recovery_bound = std::chrono::seconds{30};
  static constexpr duration first_open_timeout = std::chrono::seconds{60};

  explicit soak_world(soak_options options)
      : options_(options),
        random_(options.seed),
        start_(clock_.now()),
        end_(start_ + options.simulated),
        reporter_(clock_, {.history_capacity = 1000}),
        sink_({&reporter_, &monitor_}),
        retry_(clock_, {.name = "aif_call",
                        .jitter_mode = mend::jitter::equal,
                        .random = [this] { return random_.fraction(); },
                        .sink = &sink_}) {
    monitor_.world = this;
    static constexpr std::array<std::uint32_t, endpoint_count> weights{50, 30, 20};
    for (std::size_t i = 0; i < endpoint_count; ++i) {
      // The breakers of ax1 and ax3 test the endpoint themselves. The breaker
      // of ax2 gets its test calls from the balancer.
      stacks_.push_back(std::make_unique<endpoint_stack>(*this, fmt::format("ax{}", i + 1), i != 1));
      index_[stacks_.back()->backend.name()] = i;
      index_[stacks_.back()->breaker.name()] = i;
      index_[stacks_.back()->pool.name()] = i;
    }

    std::vector<mend::balancer::endpoint_config> endpoints;
    for (std::size_t i = 0; i < endpoint_count; ++i)
      endpoints.push_back({.name = stacks_[i]->backend.name(),
                           .weight = weights[i],
                           .breaker = mend::breaker_signal{stacks_[i]->breaker}});
    balancer_ = std::make_unique<mend::balancer>(
        clock_, mend::balancer::options{.name = "ax_servers", .endpoints = std::move(endpoints), .sink = &sink_});
    checker_ = std::make_unique<mend::health_checker>(
        clock_, mend::health_checker::options{.name = "ax_checks",
                                              .jitter = std::chrono::seconds{1},
                                              .random = [this] { return random_.fraction(); },
                                              .observers = {balancer_.get()},
                                              .sink = &sink_});
    for (auto& stack : stacks_) {
      auto* backend = &stack->backend;
      checker_->add(backend->name(),
                    [backend](const mend::probe_context& check) { return backend->ping(check.deadline); });
    }
  }

  soak_world(const soak_world&) = delete;
  soak_world& operator=(const soak_world&) = delete;

  // Runs the whole simulated time and returns the figures.
  soak_figures run() {
    figures_.seed = options_.seed;
    figures_.simulated = options_.simulated;
    figures_.pool_max_size = options_.pool_max_size;

    schedule_faults();
    schedule_wall_jumps();
    schedule_request(start_ + options_.request_interval);
    schedule_audit(start_ + std::chrono::seconds{10});

    while (clock_.now() < end_) {
      const auto next = clock_.next_timer();
      clock_.advance_to(next && *next < end_ ? *next : end_);
    }
    // No request starts after the end. The running ones finish here.
    while (clock_.busy() > 0 || !clock_.backlog().empty()) {
      const auto next = clock_.next_timer();
      if (!next || *next > end_ + std::chrono::hours{1}) {
        violation(fmt::format("{} requests still running an hour after the end", clock_.busy()));
        break;
      }
      clock_.advance_to(*next);
    }
    finish();
    return figures_;
  }

 private:
  // --- the stack per endpoint ------------------------------------------------------

  struct episode {
    fault cause;
    bool routing_affected = false;
    bool pool_affected = false;
    std::optional<time_point> last_departure{};       // when E last stopped being routable
    std::optional<time_point> last_opening{};         // when E's breaker last opened
    duration last_open_timeout = first_open_timeout;  // of that opening
    std::optional<time_point> last_success{};         // of a request on E, after C
    std::optional<time_point> last_pool_bad{};        // the last watch tick with the pool unable to serve
    bool pool_ok_at_end = false;
  };

  struct endpoint_stack {
    endpoint_stack(soak_world& world, std::string name, bool with_probe)
        : backend(world.clock_, name, world.random_, world.options_.client_timeout),
          breaker(world.clock_, breaker_options(world, name, with_probe)),
          pool(world.clock_, [this] { return backend.connect(); },
               {.name = name + ".pool",
                .min_size = 2,
                .max_size = world.options_.pool_max_size,
                .acquire_timeout = duration::zero(),
                .validator = [](simulated_connection& c) { return !c.peer_closed(); },
                .sink = &world.sink_}),
          routable_since(world.clock_.now()) {}

    mend::circuit_breaker::options breaker_options(soak_world& world, const std::string& name, bool with_probe) {
      mend::circuit_breaker::options out{
          .name = name + ".breaker", .slow_call_threshold = std::chrono::seconds{2}, .sink = &world.sink_};
      if (with_probe) {
        out.probe = [this, &world] { return backend.ping(world.clock_.now() + std::chrono::seconds{5}); };
      }
      return out;
    }

    simulated_endpoint backend;
    mend::circuit_breaker breaker;
    mend::connection_pool<simulated_connection> pool;
    std::optional<std::size_t> episode;  // the fault being watched, an index into episodes_

    // Routability, from the events: healthy and the breaker not open.
    bool healthy = true;
    bool breaker_open = false;
    bool routable = true;
    time_point routable_since;
  };

  // --- requests --------------------------------------------------------------------

  void schedule_request(time_point slot) {
    if (slot >= end_) return;
    clock_.schedule_at(slot, [this, slot] { on_request_slot(slot); });
  }

  void on_request_slot(time_point slot) {
    schedule_request(slot + options_.request_interval);
    const auto id = figures_.issued++;
    done_.push_back(false);
    std::function<void()> job = [this, id] { run_request(id); };
    if (!clock_.start(job, options_.max_in_flight)) {
      clock_.backlog().push_back(std::move(job));
      figures_.max_queued = std::max(figures_.max_queued, clock_.backlog().size());
    }
  }

  // Runs on a worker thread.
  void run_request(std::uint64_t id) {
    figures_.max_in_flight = std::max(figures_.max_in_flight, clock_.busy());
    const auto outcome = retry_.execute([this]() -> mend::result<int> { return attempt(); });

    if (done_[id]) violation(fmt::format("request {} ended twice", id));
    done_[id] = true;
    ++figures_.completed;
    if (outcome) {
      ++figures_.succeeded;
      return;
    }
    const auto& ec = outcome.error();
    if (!expected_error(ec)) violation(fmt::format("request {} ended with an unexpected error: {}", id, ec.message()));
    ++figures_.errors[ec.message()];
  }

  // One attempt: pick an endpoint, then call it through its breaker and pool.
  mend::result<int> attempt() {
    const auto picked = balancer_->pick();
    if (!picked) return picked.error();
    auto& stack = stack_named(picked.value());
    check_routing(stack);
    return mend::decorate([this, &stack] { return call_through_pool(stack); }).with(stack.breaker)();
  }

  mend::result<int> call_through_pool(endpoint_stack& stack) {
    auto leased = stack.pool.acquire();
    check_pool(stack);
    if (!leased) return leased.error();
    auto& lease = leased.value();
    auto response = stack.backend.call(lease.get());
    if (!response) {
      // A client closes a connection after a reset or a timeout.
      const auto& ec = response.error();
      if (ec == std::errc::connection_reset || ec == mend::errc::timed_out) lease.fail(ec);
      return response;
    }
    on_success(stack);
    return response;
  }

  static bool expected_error(const std::error_code& ec) {
    if (mend::http_status_of(ec) >= 500) return true;
    return ec == std::errc::connection_reset || ec == mend::errc::timed_out || ec == mend::errc::circuit_open ||
           ec == mend::errc::no_healthy_endpoint || ec == mend::errc::pool_exhausted ||
           ec == mend::errc::pool_recovering;
  }

  void on_success(endpoint_stack& stack) {
    if (!stack.episode) return;
    auto& e = episodes_[*stack.episode];
    if (clock_.now() >= e.cause.clear) e.last_success = clock_.now();
  }

  // --- faults ------------------------------------------------------------------------

  void schedule_faults() {
    const auto faults = make_fault_schedule(
        random_, {.endpoints = endpoint_count, .start = start_, .end = end_, .watch_window = options_.watch_window});
    for (const auto& f : faults) {
      ++figures_.faults[f.kind];
      clock_.schedule_at(f.start, [this, f] { begin_fault(f); });
    }
  }

  void begin_fault(const fault& f) {
    auto& stack = *stacks_[f.endpoint];
    auto& backend = stack.backend;
    if (stack.episode) violation(fmt::format("{}: a fault began while the previous one was watched", backend.name()));
    stack.episode = episodes_.size();
    episodes_.push_back({.cause = f});

    switch (f.kind) {
      case fault_kind::outage:
        backend.go_down();
        break;
      case fault_kind::flapping:
        flap(f.endpoint, f.start, f.phases, 0);
        break;
      case fault_kind::error_burst:
        backend.fail_calls_with(f.status, f.retry_after);
        break;
      case fault_kind::timeouts:
        backend.hang(true);
        break;
      case fault_kind::slow_responses:
        backend.respond_slowly(f.slow_low, f.slow_high);
        break;
      case fault_kind::dropped_connections:
        backend.drop_connections();
        break;
    }
    clock_.schedule_at(f.clear, [this, index = f.endpoint] { clear_fault(index); });
  }

  // Runs phase `phase` of a flapping fault: even phases down, odd ones up.
  void flap(std::size_t index, time_point at, const std::vector<duration>& phases, std::size_t phase) {
    auto& backend = stacks_[index]->backend;
    if (phase % 2 == 0) {
      backend.go_down();
    } else {
      backend.come_up();
    }
    if (phase + 1 < phases.size()) {
      const auto next = at + phases[phase];
      clock_.schedule_at(next, [this, index, next, phases, phase] { flap(index, next, phases, phase + 1); });
    }
  }

  void clear_fault(std::size_t index) {
    stacks_[index]->backend.clear();
    watch(index, clock_.now());
  }

  // --- watching recoveries -------------------------------------------------------------

  void watch(std::size_t index, time_point tick) {
    auto& stack = *stacks_[index];
    auto& e = episodes_[*stack.episode];

    // The balancer learns of breaker changes when it is asked.
    balancer_->refresh();
    const bool pool_ok = !stack.pool.in_recovery() && stack.backend.working() >= 1;
    if (!pool_ok) e.last_pool_bad = tick;
    check_breaker(stack);
    check_pool(stack);

    if (tick >= e.cause.clear + options_.watch_window) {
      e.pool_ok_at_end = pool_ok;
      close_episode(stack, e);
      stack.episode.reset();
      return;
    }
    const auto next = tick + options_.watch_tick;
    clock_.schedule_at(next, [this, index, next] { watch(index, next); });
  }

  void close_episode(const endpoint_stack& stack, const episode& e) {
    const auto clear = e.cause.clear;
    const auto describe = [&](std::string_view what) {
      return fmt::format("{} on ax{} from {:.1f} s for {:.1f} s: {}", to_string(e.cause.kind), e.cause.endpoint + 1,
                         seconds_since_start(e.cause.start), seconds(e.cause.length()), what);
    };

    if (e.routing_affected) {
      ++figures_.routing_affected;
      const bool short_fault = e.cause.length() < first_open_timeout;
      const auto bound = short_fault ? breaker_recovery_bound : std::max(breaker_recovery_bound, e.last_open_timeout);
      const auto from = std::max({clear, e.last_departure.value_or(clear), e.last_opening.value_or(clear)});
      if (from > clear) {
        ++figures_.late_departures;
        figures_.latest_departure_after_clear = std::max(figures_.latest_departure_after_clear, from - clear);
      }
      if (!stack.routable || !e.last_success || *e.last_success < stack.routable_since) {
        figures_.failed_recoveries.push_back(describe("not routable and serving when the watch ended"));
      } else {
        const auto took = std::max(stack.routable_since, from) - from;
        auto& longest =
            short_fault ? figures_.longest_routing_recovery_short_fault : figures_.longest_routing_recovery_long_fault;
        longest = std::max(longest, took);
        if (short_fault) {
          figures_.longest_return_after_clear_short_fault =
              std::max(figures_.longest_return_after_clear_short_fault, std::max(stack.routable_since, clear) - clear);
        }
        if (took <= bound) {
          ++figures_.routing_recovered;
        } else {
          figures_.failed_recoveries.push_back(describe(fmt::format(
              "routable {:.2f} s after {}, bound {:.0f} s (the breaker last opened for {:.0f} s)", seconds(took),
              from > clear ? fmt::format("its departure at C + {:.2f} s", seconds(from - clear)) : std::string{"C"},
              seconds(bound), seconds(e.last_open_timeout))));
        }
      }
    }

    if (e.pool_affected) {
      ++figures_.pool_affected;
      if (!e.pool_ok_at_end) {
        figures_.failed_recoveries.push_back(describe("pool not serving when the watch ended"));
      } else {
        const auto took = e.last_pool_bad ? *e.last_pool_bad + options_.watch_tick - clear : duration::zero();
        figures_.longest_pool_recovery = std::max(figures_.longest_pool_recovery, took);
        if (took < pool_recovery_bound) {
          ++figures_.pool_recovered;
        } else {
          figures_.failed_recoveries.push_back(describe(fmt::format("pool serving after {:.2f} s", seconds(took))));
        }
      }
    }
  }

  // --- events -------------------------------------------------------------------------

  // Receives every event next to the status reporter.
  struct event_monitor final : mend::metrics_sink {
    void record(const mend::event& e) override { world->on_event(e); }
    soak_world* world = nullptr;
  };

  void on_event(const mend::event& e) {
    using kind = mend::event_kind;
    if (options_.trace && e.at - start_ >= options_.trace->first && e.at - start_ <= options_.trace->second &&
        e.kind != kind::pool_gauges)
      fmt::print("{:10.3f} {:<26} {:<12} {:<4} {}{}{} {}{}\n", seconds_since_start(e.at), mend::to_string(e.kind),
                 e.component, e.target, e.from, e.from.empty() ? "" : " -> ", e.to, e.reason,
                 e.error ? fmt::format(" ({})", e.error.message()) : std::string{});
    switch (e.kind) {
      case kind::endpoint_health_changed: {
        if (e.to == "healthy") ++figures_.health_recoveries;
        auto& stack = *stacks_[stack_index(e.target)];
        stack.healthy = e.to == "healthy";
        update_routable(stack, e.at);
        break;
      }
      case kind::breaker_state_changed: {
        auto& stack = *stacks_[stack_index(e.component)];
        stack.breaker_open = e.to == "open";
        if (stack.breaker_open && stack.episode) {
          auto& watched = episodes_[*stack.episode];
          watched.last_opening = e.at;
          watched.last_open_timeout = e.delay;
        }
        update_routable(stack, e.at);
        break;
      }
      case kind::pool_recovery_entered:
        mark_pool_affected(stack_index(e.component));
        break;
      case kind::pool_recovery_exited:
        ++figures_.pool_recovery_exits;
        break;
      case kind::pool_connection_removed:
        if (e.reason == "broken" || e.reason == "invalid") mark_pool_affected(stack_index(e.component));
        break;
      case kind::pool_gauges:
        figures_.max_pool_size =
            std::max(figures_.max_pool_size,
                     static_cast<std::size_t>(std::max<std::int64_t>(e.metric_or(mend::metric::total, 0), 0)));
        break;
      default:
        break;
    }
  }

  void update_routable(endpoint_stack& stack, time_point at) {
    const bool routable = stack.healthy && !stack.breaker_open;
    if (routable == stack.routable) return;
    stack.routable = routable;
    if (routable) {
      stack.routable_since = at;
      return;
    }
    if (!stack.episode) {
      ++figures_.departures_without_fault;
      return;
    }
    auto& e = episodes_[*stack.episode];
    e.routing_affected = true;
    e.last_departure = at;
  }

  void mark_pool_affected(std::size_t index) {
    auto& stack = *stacks_[index];
    if (stack.episode) episodes_[*stack.episode].pool_affected = true;
  }

  // --- invariants ------------------------------------------------------------------------

  void violation(std::string what) {
    ++figures_.violations;
    if (figures_.violation_log.size() < 20)
      figures_.violation_log.push_back(fmt::format("at {:.3f} s: {}", seconds_since_start(clock_.now()), what));
  }

  // The balancer routes only to an endpoint in rotation (healthy, breaker
  // closed) or, for its test call, to a healthy one whose half-open breaker
  // admits a call now.
  void check_routing(endpoint_stack& stack) {
    const auto health = checker_->health(stack.backend.name());
    const auto state = stack.breaker.state();
    const bool healthy = health == mend::endpoint_health::healthy;
    const bool closed = state == mend::circuit_state::closed;
    const bool test_call = state == mend::circuit_state::half_open && !stack.breaker.would_reject();
    if (!healthy || !(closed || test_call))
      violation(fmt::format("picked {} while {} with its breaker {}", stack.backend.name(),
                            healthy ? "healthy" : "unhealthy", mend::to_string(state)));
  }

  // open_until() is set exactly while the breaker is open and not isolated.
  void check_breaker(endpoint_stack& stack) {
    const auto state = stack.breaker.state();
    const auto until = stack.breaker.open_until();
    if (until.has_value() != (state == mend::circuit_state::open))
      violation(fmt::format("{}: state {} but open_until {}", stack.breaker.name(), mend::to_string(state),
                            until ? "set" : "empty"));
    if (until && *until <= clock_.now())
      violation(fmt::format("{}: open although its open timeout expired", stack.breaker.name()));
  }

  void check_pool(endpoint_stack& stack) {
    const auto s = stack.pool.stats();
    if (s.total != s.active + s.idle + s.creating + s.closing)
      violation(fmt::format("{}: total {} is not the sum of its parts", stack.pool.name(), s.total));
    if (s.total > options_.pool_max_size)
      violation(fmt::format("{}: total {} exceeds max_size", stack.pool.name(), s.total));
    if (stack.backend.alive() > options_.pool_max_size)
      violation(fmt::format("{}: {} connections alive", stack.backend.name(), stack.backend.alive()));
    figures_.max_pool_size = std::max(figures_.max_pool_size, s.total);
  }

  // Checks every component every 10 s of simulated time.
  void schedule_audit(time_point at) {
    if (at >= end_) return;
    clock_.schedule_at(at, [this, at] {
      for (auto& stack : stacks_) {
        check_breaker(*stack);
        check_pool(*stack);
      }
      schedule_audit(at + std::chrono::seconds{10});
    });
  }

  // --- wall-clock jumps -------------------------------------------------------------------

  void schedule_wall_jumps() {
    for (const auto& jump : make_wall_jumps(random_, start_, end_))
      clock_.schedule_at(jump.at, [this, jump] { jump_wall(jump.by); });
  }

  // Moves the wall clock and checks that no deadline moved with it.
  void jump_wall(duration by) {
    ++figures_.wall_jumps;
    std::vector<std::optional<time_point>> open_until;
    std::vector<std::optional<time_point>> next_check;
    for (auto& stack : stacks_) {
      open_until.push_back(stack->breaker.open_until());
      next_check.push_back(checker_->status(stack->backend.name())->next_check);
    }
    const auto now = clock_.now();
    const auto wall_before = clock_.wall_now();
    clock_.jump_wall(by);

    if (clock_.now() != now) violation("a wall-clock jump moved the monotonic clock");
    if (clock_.wall_now() - wall_before != by) violation("the wall clock did not jump by the requested amount");
    for (std::size_t i = 0; i < stacks_.size(); ++i) {
      if (stacks_[i]->breaker.open_until() != open_until[i])
        violation(fmt::format("a wall-clock jump moved the open timeout of {}", stacks_[i]->breaker.name()));
      if (checker_->status(stacks_[i]->backend.name())->next_check != next_check[i])
        violation(fmt::format("a wall-clock jump moved the next check of {}", stacks_[i]->backend.name()));
    }
    const auto report = reporter_.get_self_healing_status({"soak", {"MCP_Admin"}});
    if (!report) violation("the status report was denied to MCP_Admin");
    if (reporter_.get_self_healing_status({"soak", {}}))
      violation("the status report was given to a caller without MCP_Admin");
  }

  // --- the end -----------------------------------------------------------------------------

  void finish() {
    if (clock_.escaped()) violation("an exception escaped a request");
    for (std::size_t i = 0; i < done_.size(); ++i)
      if (!done_[i]) violation(fmt::format("request {} never ended", i));

    const auto report = reporter_.snapshot();
    for (auto& stack : stacks_) {
      check_breaker(*stack);
      check_pool(*stack);
      figures_.max_alive = std::max(figures_.max_alive, stack->backend.max_alive());

      const auto stats = stack->breaker.stats();
      figures_.breaker_auto_recoveries += stats.auto_recoveries;
      const auto reported = std::find_if(report.circuit_breakers.begin(), report.circuit_breakers.end(),
                                         [&](const auto& b) { return b.name == stack->breaker.name(); });
      if (stats.times_opened > 0 && reported == report.circuit_breakers.end()) {
        violation(fmt::format("the status report lacks {}", stack->breaker.name()));
      } else if (reported != report.circuit_breakers.end()) {
        if (reported->auto_recoveries != stats.auto_recoveries)
          violation(fmt::format("the status report counts {} auto recoveries of {}, the breaker {}",
                                reported->auto_recoveries, stack->breaker.name(), stats.auto_recoveries));
        if (reported->state != stats.state)
          violation(fmt::format("the status report shows {} {}, the breaker is {}", stack->breaker.name(),
                                mend::to_string(reported->state), mend::to_string(stats.state)));
      }

      const auto pool = stack->pool.stats();
      const auto reported_pool = std::find_if(report.connection_pools.begin(), report.connection_pools.end(),
                                              [&](const auto& p) { return p.name == stack->pool.name(); });
      if (reported_pool == report.connection_pools.end()) {
        violation(fmt::format("the status report lacks {}", stack->pool.name()));
      } else if (reported_pool->recovery_attempts != pool.recovery_attempts) {
        violation(fmt::format("the status report counts {} recovery attempts of {}, the pool {}",
                              reported_pool->recovery_attempts, stack->pool.name(), pool.recovery_attempts));
      }
    }

    const auto retries = retry_.stats();
    if (report.retry_stats.total_retries != retries.total_retries ||
        report.retry_stats.successful_retries != retries.successful_retries ||
        report.retry_stats.failed_retries != retries.failed_retries)
      violation(fmt::format("the status report counts {} retries, the policy {}", report.retry_stats.total_retries,
                            retries.total_retries));
    if (report.history.size() > report.history_capacity) violation("the status history exceeds its capacity");
  }

  // --- helpers --------------------------------------------------------------------------------

  endpoint_stack& stack_named(std::string_view name) { return *stacks_[stack_index(name)]; }

  std::size_t stack_index(std::string_view name) const {
    const auto it = index_.find(name);
    return it == index_.end() ? 0 : it->second;
  }

  static double seconds(duration d) { return std::chrono::duration<double>(d).count(); }
  double seconds_since_start(time_point t) const { return seconds(t - start_); }

  const soak_options options_;
  random_source random_;
  simulation_clock clock_;
  const time_point start_;
  const time_point end_;

  soak_figures figures_;
  std::vector<episode> episodes_;
  std::vector<bool> done_;  // per request id: ended

  event_monitor monitor_;
  mend::status_reporter reporter_;
  mend::fanout_sink sink_;
  mend::retry_policy retry_;
  std::vector<std::unique_ptr<endpoint_stack>> stacks_;
  std::map<std::string, std::size_t, std::less<>> index_;
  std::unique_ptr<mend::balancer> balancer_;
  std::unique_ptr<mend::health_checker> checker_;
};

}  // namespace mend_soak

#endif  // MEND_TESTS_SOAK_SOAK_WORLD_HPP
