// The seeded schedule of faults the soak test injects: per endpoint, faults
// of six kinds separated by quiet periods, plus jumps of the wall clock.
#ifndef MEND_TESTS_SOAK_FAULT_SCHEDULE_HPP
#define MEND_TESTS_SOAK_FAULT_SCHEDULE_HPP

#include <array>
#include <chrono>
#include <cstddef>
#include <mend/clock.hpp>
#include <string_view>
#include <vector>

#include "simulated_endpoint.hpp"

namespace mend_soak {

enum class fault_kind {
  outage,               // down: connections refused, open ones closed by the endpoint
  flapping,             // down and up again every few seconds
  error_burst,          // every call and check returns HTTP 5xx, some with Retry-After
  timeouts,             // calls and checks hang until the caller's timeout
  slow_responses,       // calls and checks succeed after 0.5 s to 2.8 s
  dropped_connections,  // every open connection is dropped silently, at one instant
};

inline constexpr std::array<fault_kind, 6> all_fault_kinds{fault_kind::outage,         fault_kind::flapping,
                                                           fault_kind::error_burst,    fault_kind::timeouts,
                                                           fault_kind::slow_responses, fault_kind::dropped_connections};

constexpr std::string_view to_string(fault_kind kind) noexcept {
  switch (kind) {
    case fault_kind::outage:
      return "outage";
    case fault_kind::flapping:
      return "flapping";
    case fault_kind::error_burst:
      return "5xx burst";
    case fault_kind::timeouts:
      return "timeouts";
    case fault_kind::slow_responses:
      return "slow responses";
    case fault_kind::dropped_connections:
      return "dropped connections";
  }
  return "unknown";
}

// One fault on one endpoint, from `start` until `clear` (equal for dropped
// connections, which happen at one instant).
struct fault {
  fault_kind kind{};
  std::size_t endpoint = 0;
  time_point start{};
  time_point clear{};
  int status = 0;                // error_burst: the HTTP status
  duration retry_after{};        // error_burst: the Retry-After hint, zero for none
  std::vector<duration> phases;  // flapping: down, up, down, ... lengths, summing to clear - start
  duration slow_low{};           // slow_responses: the range of one response's time
  duration slow_high{};

  duration length() const noexcept { return clear - start; }
};

// A jump of the wall clock alone.
struct wall_jump {
  time_point at{};
  duration by{};
};

struct schedule_options {
  std::size_t endpoints = 3;
  time_point start{};
  time_point end{};
  // After a fault clears, the endpoint stays healthy for at least this long,
  // so the recovery can be watched without the next fault in the way.
  duration watch_window = std::chrono::minutes{6};
  // A further quiet time, drawn uniformly, before the next fault.
  duration min_extra_gap = std::chrono::minutes{1};
  duration max_extra_gap = std::chrono::minutes{19};
};

inline fault make_fault(random_source& random, std::size_t endpoint, time_point start) {
  fault f;
  f.endpoint = endpoint;
  f.start = start;
  f.kind = all_fault_kinds[random.between(0, all_fault_kinds.size() - 1)];
  duration length{};
  switch (f.kind) {
    case fault_kind::outage:
      length = random.log_between(2s, 10min);
      break;
    case fault_kind::flapping: {
      const auto total = random.between(duration{1min}, duration{5min});
      for (bool down = true; length < total; down = !down) {
        const auto phase =
            down ? random.between(duration{2s}, duration{15s}) : random.between(duration{2s}, duration{20s});
        f.phases.push_back(std::min<duration>(phase, total - length));
        length += f.phases.back();
      }
      break;
    }
    case fault_kind::error_burst: {
      static constexpr std::array<int, 4> statuses{500, 502, 503, 504};
      f.status = statuses[random.between(0, statuses.size() - 1)];
      if (random.chance(0.3)) f.retry_after = std::chrono::seconds{random.between(1, 3)};
      length = random.log_between(5s, 3min);
      break;
    }
    case fault_kind::timeouts:
      length = random.log_between(10s, 3min);
      break;
    case fault_kind::slow_responses:
      f.slow_low = 500ms;
      f.slow_high = 2800ms;
      length = random.between(duration{30s}, duration{5min});
      break;
    case fault_kind::dropped_connections:
      break;
  }
  f.clear = start + length;
  return f;
}

// Returns the faults of every endpoint, sorted by start. Each is followed by
// a quiet time that ends before the next fault of that endpoint, and the last
// watch window of each endpoint ends before `end`.
inline std::vector<fault> make_fault_schedule(random_source& random, const schedule_options& options) {
  std::vector<fault> out;
  for (std::size_t endpoint = 0; endpoint < options.endpoints; ++endpoint) {
    auto start = options.start + random.between(duration{1min}, options.max_extra_gap);
    for (;;) {
      auto f = make_fault(random, endpoint, start);
      if (f.clear + options.watch_window >= options.end) break;
      start = f.clear + options.watch_window + random.between(options.min_extra_gap, options.max_extra_gap);
      out.push_back(std::move(f));
    }
  }
  std::sort(out.begin(), out.end(), [](const fault& a, const fault& b) { return a.start < b.start; });
  return out;
}

// Returns wall-clock jumps every 1 to 4 hours, forward or back by 1 minute
// to 6 hours.
inline std::vector<wall_jump> make_wall_jumps(random_source& random, time_point start, time_point end) {
  std::vector<wall_jump> out;
  for (auto at = start + random.between(duration{1h}, duration{4h}); at < end;
       at += random.between(duration{1h}, duration{4h})) {
    const auto by = random.log_between(1min, 6h);
    out.push_back({at, random.chance(0.5) ? by : -by});
  }
  return out;
}

}  // namespace mend_soak

#endif  // MEND_TESTS_SOAK_FAULT_SCHEDULE_HPP
