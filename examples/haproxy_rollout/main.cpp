// haproxy_rollout: moves traffic from blue to green through HAProxy's Runtime
// API with mend::rollout, and back to blue at once when HAProxy's own health
// checks mark green DOWN.
//
//   haproxy_rollout --socket /run/haproxy/admin.sock --backend ax_aif --hold 60s
//
// Prints one line per step and a last line with the outcome. Exit status: 0
// when green was promoted, 1 when the rollout rolled back (the last line gives
// the reason), 2 for invalid options. SIGINT or SIGTERM rolls back and exits 1.
#include "../common/command_line.hpp"

#include <mend/adapters/haproxy_runtime.hpp>
#include <mend/config_error.hpp>
#include <mend/event.hpp>
#include <mend/metrics_sink.hpp>
#include <mend/rollout.hpp>
#include <mend/steady_clock_source.hpp>

#include <fmt/format.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <pthread.h>
#include <signal.h>
#include <time.h>

namespace {

constexpr std::string_view usage = R"(usage: haproxy_rollout --socket PATH --backend NAME [options]

Moves traffic from the blue server to the green server of one HAProxy backend,
step by step, through HAProxy's Runtime API. Green gets no traffic until
HAProxy's health checks report it UP; whenever they report it DOWN (or it goes
into maintenance), blue gets all traffic back at once and the rollout ends.

Options:
  --socket PATH           HAProxy's admin socket (stats socket ... level admin); required
  --backend NAME          the backend that holds both servers; required
  --blue NAME             the live server (default: blue)
  --green NAME            the new server (default: green)
  --steps LIST            green's weight at each step, comma-separated, increasing
                          and ending at 100 (default: 10,50,100)
  --hold DURATION         how long green holds each step while it stays UP (default: 30s)
  --health-interval DURATION
                          how often green's state is read from HAProxy (default: 1s)
  --health-timeout DURATION
                          how long green may take to come UP before it gets any
                          traffic (default: 2m)
  --timeout DURATION      the timeout of each Runtime API command (default: 2s)
  --help                  print this help and exit

A DURATION is a number with the unit ms, s or m (500ms, 30s, 2m) of at most
525600m (365 days); a bare number counts seconds. Only --hold may be 0.
Green's health is HAProxy's own check status of the green server, so the
backend needs active checks (option httpchk, check).

Exit status: 0 when green was promoted, 1 when the rollout rolled back or
could not start, 2 for invalid options.
)";

struct settings {
  std::string socket;
  std::string backend;
  std::string blue = "blue";
  std::string green = "green";
  std::vector<int> steps{10, 50, 100};
  mend::duration hold = std::chrono::seconds{30};
  mend::duration health_interval = std::chrono::seconds{1};
  mend::duration health_timeout = std::chrono::minutes{2};
  mend::duration timeout = std::chrono::seconds{2};
};

using example_options::parse_duration;
using example_options::usage_error;

std::vector<int> parse_steps(std::string_view text) {
  std::vector<int> steps;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto item = text.substr(0, comma);
    int step = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), step);
    if (ec != std::errc{} || end != item.data() + item.size())
      throw usage_error(fmt::format("invalid --steps item '{}': expected a number from 1 to 100", item));
    steps.push_back(step);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  return steps;
}

// Returns nullopt for --help.
std::optional<settings> parse_arguments(int argc, char** argv) {
  settings out;
  for (int i = 1; i < argc; ++i) {
    const std::string_view option = argv[i];
    if (option == "--help" || option == "-h") return std::nullopt;
    if (i + 1 >= argc) throw usage_error(fmt::format("missing value after {}", option));
    const std::string_view value = argv[++i];
    if (option == "--socket") {
      out.socket = value;
    } else if (option == "--backend") {
      out.backend = value;
    } else if (option == "--blue") {
      out.blue = value;
    } else if (option == "--green") {
      out.green = value;
    } else if (option == "--steps") {
      out.steps = parse_steps(value);
    } else if (option == "--hold") {
      out.hold = parse_duration(option, value, /*allow_zero=*/true);
    } else if (option == "--health-interval") {
      out.health_interval = parse_duration(option, value);
    } else if (option == "--health-timeout") {
      out.health_timeout = parse_duration(option, value);
    } else if (option == "--timeout") {
      out.timeout = parse_duration(option, value);
    } else {
      throw usage_error(fmt::format("unknown option {}", option));
    }
  }
  if (out.socket.empty()) throw usage_error("missing --socket");
  if (out.backend.empty()) throw usage_error("missing --backend");
  return out;
}

// Prints one progress line per step of the rollout. Runs on the clock's
// timer thread; stdout is flushed after each line so a reader on a pipe gets it at once.
class progress_printer final : public mend::metrics_sink {
 public:
  explicit progress_printer(std::size_t step_count) : step_count_(step_count) {}

  void record(const mend::event& e) override {
    std::lock_guard lock(mutex_);
    if (e.kind == mend::event_kind::rollout_started) {
      fmt::print("waiting for {} to pass its health checks\n", e.target);
    } else if (e.kind == mend::event_kind::rollout_step_changed) {
      ++steps_;
      fmt::print("step {}/{}: {} {} ({})\n", steps_, step_count_, e.target, e.to, e.reason);
    }
    std::fflush(stdout);
  }

 private:
  const std::size_t step_count_;
  std::mutex mutex_;
  std::size_t steps_ = 0;  // guarded by mutex_
};

// Rolls the rollout back when SIGINT or SIGTERM arrives. The signals are
// blocked in every thread and taken here with sigtimedwait, so the handling
// runs as ordinary code instead of in a signal handler.
class signal_watcher {
 public:
  explicit signal_watcher(mend::rollout& deploy) : thread_([this, &deploy] { watch(deploy); }) {}
  ~signal_watcher() {
    done_ = true;
    thread_.join();
  }

  static void block_signals() {
    sigset_t set = signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
  }

 private:
  static sigset_t signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
  }

  void watch(mend::rollout& deploy) {
    const sigset_t set = signals();
    const timespec poll_interval{0, 200'000'000};
    while (!done_) {
      const int signal = sigtimedwait(&set, nullptr, &poll_interval);
      if (signal > 0) {
        (void)deploy.rollback(signal == SIGINT ? "interrupted (SIGINT)" : "terminated (SIGTERM)");
        return;
      }
    }
  }

  std::atomic<bool> done_{false};
  std::thread thread_;
};

// Checks that `path` is a unix socket before the rollout starts, so that a
// wrong --socket gets a message that names it instead of a rollback that
// ends in errno text. Returns the problem, or an empty string.
std::string check_admin_socket(const std::string& path) {
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (status.type() == std::filesystem::file_type::not_found)
    return fmt::format("HAProxy's admin socket {} does not exist: check --socket and the `stats socket` line "
                       "in haproxy.cfg, and that HAProxy is running",
                       path);
  if (error) return fmt::format("cannot read HAProxy's admin socket {}: {}", path, error.message());
  if (status.type() != std::filesystem::file_type::socket)
    return fmt::format("--socket {} is not a unix socket: give the path of HAProxy's `stats socket`", path);
  return {};
}

int run(const settings& config) {
  progress_printer progress{config.steps.size()};

  // [snippet:rollout]
  mend::steady_clock_source clock;
  const mend::haproxy::runtime_client runtime{{.socket_path = config.socket, .timeout = config.timeout}};
  mend::haproxy::backend_switch traffic{runtime, config.backend};

  mend::rollout deploy{clock,
                       traffic,
                       {.name = "haproxy_rollout",
                        .blue = config.blue,
                        .green = config.green,
                        .steps = config.steps,
                        .hold = config.hold,
                        .health_interval = config.health_interval,
                        .health_timeout = config.health_timeout,
                        .green_health = mend::haproxy::server_health_signal(runtime, config.backend, config.green),
                        .sink = &progress}};
  // [/snippet]
  // The socket is checked after the rollout validated its options, so that option errors come first.
  if (const auto problem = check_admin_socket(config.socket); !problem.empty()) {
    fmt::print(stderr, "haproxy_rollout: {}\n", problem);
    return 1;
  }
  signal_watcher signals{deploy};

  // [snippet:run]
  (void)deploy.start();  // a failure ends the rollout as rolled back, which the status below reports
  const auto state = deploy.wait();
  const auto status = deploy.status();
  // [/snippet]
  if (state == mend::rollout_state::promoted) {
    fmt::print("promoted: {}\n", status.reason);
    return 0;
  }
  fmt::print("rolled back: {}\n", status.reason);
  if (!status.traffic_restored)
    fmt::print("warning: {} does not have all traffic yet: {}\n", config.blue, status.last_switch_error.message);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  signal_watcher::block_signals();  // before any thread starts, so every thread inherits the mask

  std::optional<settings> config;
  try {
    config = parse_arguments(argc, argv);
  } catch (const usage_error& e) {
    fmt::print(stderr, "haproxy_rollout: {}\nRun haproxy_rollout --help for the options.\n", e.what());
    return 2;
  }
  if (!config) {
    fmt::print("{}", usage);
    return 0;
  }

  try {
    return run(*config);
  } catch (const mend::config_error& e) {
    fmt::print(stderr, "haproxy_rollout: {}\n", e.what());
    return 2;
  }
}
