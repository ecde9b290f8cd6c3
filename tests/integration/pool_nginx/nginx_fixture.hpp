// A real nginx from Debian (/usr/sbin/nginx) on 127.0.0.1, with its own
// configuration, pid file and error log in a fresh directory under /tmp. The
// test can stop it and start it again on the same port; every stop is by the
// PID of the process the fixture started.
#ifndef MEND_TESTS_POOL_NGINX_NGINX_FIXTURE_HPP
#define MEND_TESTS_POOL_NGINX_NGINX_FIXTURE_HPP

#include <mend/adapters/http_connection.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <fmt/format.h>

#include "../rollout_haproxy/child_process.hpp"

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace mend_test {

inline constexpr const char* nginx_path = "/usr/sbin/nginx";

// Returns a TCP port on 127.0.0.1 that was free a moment ago.
inline std::uint16_t free_loopback_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor{io, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  return acceptor.local_endpoint().port();
}

// An nginx.conf for a test server: one worker in the foreground, every file
// under `directory`, keep-alive on, and `http_body` (a map, the server
// block) inside the http block.
inline std::string nginx_config_with(const std::string& directory, const std::string& http_body) {
  return fmt::format(
      "daemon off;\n"
      "master_process on;\n"
      "worker_processes 1;\n"
      "pid {dir}/nginx.pid;\n"
      "error_log {dir}/error.log info;\n"
      "events {{ worker_connections 256; }}\n"
      "http {{\n"
      "  access_log off;\n"
      "  client_body_temp_path {dir}/client_body;\n"
      "  proxy_temp_path {dir}/proxy;\n"
      "  fastcgi_temp_path {dir}/fastcgi;\n"
      "  uwsgi_temp_path {dir}/uwsgi;\n"
      "  scgi_temp_path {dir}/scgi;\n"
      "  keepalive_timeout 75s;\n"
      "  keepalive_requests 100000;\n"
      "{body}"
      "}}\n",
      fmt::arg("dir", directory), fmt::arg("body", http_body));
}

// The configuration of the pool tests' server, with two locations. "/"
// returns nginx's own connection serial number and the request count on that
// connection, so a test can see that a connection was reused; "/close"
// responds with "Connection: close".
inline std::string nginx_config(const std::string& directory, std::uint16_t port) {
  return nginx_config_with(
      directory,
      fmt::format("  server {{\n"
                  "    listen 127.0.0.1:{port};\n"
                  "    default_type text/plain;\n"
                  "    location / {{ return 200 \"connection=$connection requests=$connection_requests\\n\"; }}\n"
                  "    location = /close {{ keepalive_timeout 0; return 200 \"closing\\n\"; }}\n"
                  "  }}\n",
                  fmt::arg("port", port)));
}

class nginx_fixture {
 public:
  // Writes the configuration and starts nginx. Throws with a message that
  // names the package to install when /usr/sbin/nginx is missing.
  nginx_fixture() {
    if (::access(nginx_path, X_OK) != 0)
      throw std::runtime_error(fmt::format(
          "nginx not found at {}: install the Debian package nginx (apt-get install nginx); this test needs it",
          nginx_path));
    char pattern[] = "/tmp/mend-nginx-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed for /tmp/mend-nginx-XXXXXX");
    directory_ = pattern;
    port_ = free_loopback_port();
    std::ofstream(directory_ + "/nginx.conf") << nginx_config(directory_, port_);
    start();
  }

  nginx_fixture(const nginx_fixture&) = delete;
  nginx_fixture& operator=(const nginx_fixture&) = delete;

  ~nginx_fixture() {
    process_.reset();
    if (std::getenv("MEND_KEEP_TEST_DIR") == nullptr) {
      std::error_code ignored;
      std::filesystem::remove_all(directory_, ignored);
    }
  }

  // Starts nginx and waits until it accepts connections (at most 10 s).
  void start() {
    process_ = std::make_unique<child_process>(
        std::vector<std::string>{nginx_path, "-p", directory_ + "/", "-c", directory_ + "/nginx.conf", "-e",
                                 directory_ + "/error.log"},
        directory_ + "/nginx.out");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
    for (;;) {
      if (!process_->running()) throw std::runtime_error("nginx exited at start:\n" + error_log());
      if (mend::http_connection::connect("127.0.0.1", port_, std::chrono::milliseconds{200})) return;
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("nginx did not accept connections within 10 s:\n" + error_log());
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
  }

  // Stops nginx with SIGTERM (nginx's fast shutdown: it closes every
  // connection) and reaps it. Returns its wait status.
  int stop() { return process_->stop(SIGTERM); }

  pid_t pid() const noexcept { return process_->pid(); }
  std::uint16_t port() const noexcept { return port_; }
  const std::string& directory() const noexcept { return directory_; }

  // nginx's error log so far, for a failing test's output.
  std::string error_log() const {
    std::ifstream in(directory_ + "/error.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  std::string directory_;
  std::uint16_t port_ = 0;
  std::unique_ptr<child_process> process_;
};

}  // namespace mend_test

#endif  // MEND_TESTS_POOL_NGINX_NGINX_FIXTURE_HPP
