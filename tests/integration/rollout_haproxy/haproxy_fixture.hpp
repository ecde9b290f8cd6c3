// A real HAProxy in front of two test backends (blue and green), started for
// one test and stopped by PID when it ends.
#ifndef MEND_TESTS_ROLLOUT_HAPROXY_HAPROXY_FIXTURE_HPP
#define MEND_TESTS_ROLLOUT_HAPROXY_HAPROXY_FIXTURE_HPP

#include <mend/adapters/haproxy_runtime.hpp>

#include <fmt/format.h>

#include "child_process.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace mend_test {

// The HAProxy settings a test runs with.
enum class haproxy_settings {
  // What the adapter's documentation recommends for zero failed requests:
  // retries with redispatch, retry-on, fast checks and a backup server.
  recommended,
  // The same checks without retries, redispatch or a backup server, to show
  // what those settings are worth.
  bare,
};

inline std::string haproxy_config(haproxy_settings settings, const std::string& socket_path, int port, int blue_port,
                                  int green_port) {
  const bool recommended = settings == haproxy_settings::recommended;
  std::string config = fmt::format(
      "global\n"
      "  stats socket {socket} mode 600 level admin\n"
      "  log stderr format short local0 info\n"
      "\n"
      "defaults\n"
      "  mode http\n"
      "  log global\n"
      "  option httplog\n"
      "  timeout connect 1s\n"
      "  timeout client 30s\n"
      "  timeout server 10s\n"
      "  timeout http-keep-alive 30s\n"
      "  timeout check 1s\n"
      "{retries}"
      "\n"
      "frontend web\n"
      "  bind 127.0.0.1:{port}\n"
      "  default_backend app\n"
      "\n"
      "backend app\n"
      "  balance roundrobin\n"
      "  option httpchk GET /health\n"
      "  default-server check inter 200ms fastinter 100ms downinter 500ms fall 2 rise 2\n"
      "  server blue 127.0.0.1:{blue} weight 100\n"
      "  server green 127.0.0.1:{green} weight 0\n"
      "{backup}",
      fmt::arg("socket", socket_path), fmt::arg("port", port), fmt::arg("blue", blue_port),
      fmt::arg("green", green_port),
      fmt::arg("retries", recommended ? "  retries 3\n"
                                        "  option redispatch 1\n"
                                        "  retry-on conn-failure empty-response response-timeout\n"
                                      : "  retries 0\n"),
      fmt::arg("backup", recommended ? fmt::format("  server blue_backup 127.0.0.1:{} backup\n", blue_port) : ""));
  return config;
}

// Returns a TCP port on 127.0.0.1 that was free a moment ago.
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot bind a free port on 127.0.0.1");
  }
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

// Starts blue, green and HAProxy in a fresh directory under /tmp (short, so
// the admin socket path stays far below the 107-byte limit of unix sockets)
// and waits until HAProxy's checks report both servers UP. The destructor
// stops every process it started, by PID, and removes the directory.
class haproxy_fixture {
 public:
  explicit haproxy_fixture(haproxy_settings settings = haproxy_settings::recommended) {
    char pattern[] = "/tmp/mend-rh-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
    directory_ = pattern;
    socket_path_ = directory_ + "/admin.sock";

    blue_ = start_backend("blue", blue_port_);
    green_ = start_backend("green", green_port_);

    // The frontend port was free when picked but may be taken before HAProxy
    // binds it; HAProxy then exits, and another port is tried.
    for (int attempt = 1;; ++attempt) {
      port_ = free_port();
      const auto config_path = directory_ + "/haproxy.cfg";
      std::ofstream(config_path) << haproxy_config(settings, socket_path_, port_, blue_port_, green_port_);
      haproxy_ = std::make_unique<child_process>(std::vector<std::string>{MEND_HAPROXY_PATH, "-db", "-f", config_path},
                                                 directory_ + "/haproxy.log");
      if (wait_until_both_up()) return;
      if (attempt == 3) throw std::runtime_error("haproxy exited three times:\n" + haproxy_log());
    }
  }

  haproxy_fixture(const haproxy_fixture&) = delete;
  haproxy_fixture& operator=(const haproxy_fixture&) = delete;

  ~haproxy_fixture() {
    haproxy_.reset();
    green_.reset();
    blue_.reset();
    if (std::getenv("MEND_KEEP_TEST_DIR") == nullptr) {
      std::error_code ignored;
      std::filesystem::remove_all(directory_, ignored);
    }
  }

  // The port HAProxy's frontend listens on, at 127.0.0.1.
  int port() const noexcept { return port_; }
  const std::string& socket_path() const noexcept { return socket_path_; }
  const std::string& directory() const noexcept { return directory_; }

  mend::haproxy::runtime_client runtime() const { return mend::haproxy::runtime_client{{.socket_path = socket_path_}}; }

  // Kills green (SIGKILL, like a crash) and reaps it.
  void kill_green() { green_->stop(SIGKILL); }

  // HAProxy's log so far, for a failing test's output.
  std::string haproxy_log() const {
    std::ifstream in(directory_ + "/haproxy.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  std::unique_ptr<child_process> start_backend(const std::string& name, int& port) {
    const auto port_file = directory_ + "/" + name + ".port";
    auto process = std::make_unique<child_process>(
        std::vector<std::string>{MEND_BACKEND_SERVER_PATH, "--name", name, "--port-file", port_file},
        directory_ + "/" + name + ".log");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
    while (!std::filesystem::exists(port_file)) {
      if (!process->running() || std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("backend " + name + " did not start");
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    std::ifstream(port_file) >> port;
    return process;
  }

  // Returns true once HAProxy reports both servers UP after a completed
  // check, false when HAProxy exited; throws after 15 s.
  bool wait_until_both_up() {
    const auto client = runtime();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{15};
    std::string last;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!haproxy_->running()) return false;
      std::string message;
      const auto servers = client.show_servers_state("app", &message);
      if (servers) {
        int up = 0;
        last.clear();
        for (const auto& server : servers.value()) {
          if ((server.server == "blue" || server.server == "green") && server.up() && server.check_completed()) ++up;
          last += server.server + ": " + server.summary() + "; ";
        }
        if (up == 2) return true;
      } else {
        last = message;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    }
    throw std::runtime_error("blue and green did not both come UP within 15 s (" + last + ")\n" + haproxy_log());
  }

  std::string directory_;
  std::string socket_path_;
  int port_ = 0;
  int blue_port_ = 0;
  int green_port_ = 0;
  std::unique_ptr<child_process> blue_;
  std::unique_ptr<child_process> green_;
  std::unique_ptr<child_process> haproxy_;
};

}  // namespace mend_test

#endif  // MEND_TESTS_ROLLOUT_HAPROXY_HAPROXY_FIXTURE_HPP
