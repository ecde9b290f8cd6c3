// An HTTP load generator that counts every request it sends and how it
// ended, so the rollout test can assert an exact number of failed requests.
#ifndef MEND_TESTS_ROLLOUT_HAPROXY_LOAD_CLIENT_HPP
#define MEND_TESTS_ROLLOUT_HAPROXY_LOAD_CLIENT_HPP

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace mend_test {

// The counts of one stretch of load.
struct load_counts {
  std::uint64_t requests = 0;   // requests sent (each one counted once, whatever happened to it)
  std::uint64_t succeeded = 0;  // got status 200
  std::uint64_t failed = 0;     // anything else: another status, a reset, a timeout, a refused connection
  std::map<std::string, std::uint64_t> served_by;  // X-Served-By of the successful ones

  std::uint64_t served(const std::string& name) const {
    const auto found = served_by.find(name);
    return found == served_by.end() ? 0 : found->second;
  }

  // The counts since `earlier`.
  load_counts since(const load_counts& earlier) const {
    load_counts out;
    out.requests = requests - earlier.requests;
    out.succeeded = succeeded - earlier.succeeded;
    out.failed = failed - earlier.failed;
    for (const auto& [name, count] : served_by) out.served_by[name] = count - earlier.served(name);
    return out;
  }

  std::string describe() const {
    std::string out = std::to_string(requests) + " requests, " + std::to_string(failed) + " failed";
    for (const auto& [name, count] : served_by) out += ", " + name + " " + std::to_string(count);
    return out;
  }
};

// Sends GET requests to 127.0.0.1:<port> over `connections` keep-alive
// connections, each paced to `requests_per_second / connections`, until
// stop() or until `max_duration` has passed (a bound, so a hung test cannot
// load the machine forever). A request fails when it gets any status but 200.
// It also fails when its connection fails or times out (`request_timeout`)
// before the whole response arrived, and the next request then reconnects.
class load_client {
 public:
  struct options {
    int port = 0;
    int connections = 4;
    int requests_per_second = 800;
    std::chrono::milliseconds request_timeout{5000};
    std::chrono::seconds max_duration{120};
  };

  explicit load_client(options opts) : options_(opts) {
    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < options_.connections; ++i) workers_.emplace_back([this, started] { run(started); });
  }

  load_client(const load_client&) = delete;
  load_client& operator=(const load_client&) = delete;
  ~load_client() { stop(); }

  void stop() {
    stopping_ = true;
    for (auto& worker : workers_)
      if (worker.joinable()) worker.join();
  }

  load_counts counts() const {
    std::lock_guard lock(mutex_);
    return counts_;
  }

  // Up to ten descriptions of failed requests, for the test's output.
  std::vector<std::string> failures() const {
    std::lock_guard lock(mutex_);
    return failures_;
  }

 private:
  // One request's outcome: the status (0 when no complete response arrived),
  // the X-Served-By header, and whether the connection can carry the next one.
  struct outcome {
    int status = 0;
    std::string served_by;
    std::string error;
    bool keep_alive = false;
  };

  void run(std::chrono::steady_clock::time_point started) {
    using clock = std::chrono::steady_clock;
    const auto interval = std::chrono::microseconds{1'000'000LL * options_.connections / options_.requests_per_second};
    auto next = clock::now();
    int fd = -1;
    std::string buffer;  // bytes received on fd and not yet consumed
    while (!stopping_ && clock::now() - started < options_.max_duration) {
      std::this_thread::sleep_until(next);
      next += interval;
      if (fd < 0) {
        fd = connect_to_frontend();
        buffer.clear();
      }
      const auto result =
          fd < 0 ? outcome{0, {}, "connect failed: " + std::string(std::strerror(errno)), false} : request(fd, buffer);
      record(result);
      if (!result.keep_alive && fd >= 0) {
        ::close(fd);
        fd = -1;
      }
    }
    if (fd >= 0) ::close(fd);
  }

  int connect_to_frontend() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    timeval timeout{};
    timeout.tv_sec = static_cast<time_t>(options_.request_timeout.count() / 1000);
    timeout.tv_usec = static_cast<suseconds_t>((options_.request_timeout.count() % 1000) * 1000);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    const int no_delay = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &no_delay, sizeof(no_delay));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(options_.port));
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
      const int saved = errno;
      ::close(fd);
      errno = saved;
      return -1;
    }
    return fd;
  }

  outcome request(int fd, std::string& buffer) {
    static constexpr std::string_view get = "GET / HTTP/1.1\r\nHost: rollout.test\r\n\r\n";
    std::string_view pending = get;
    while (!pending.empty()) {
      const auto sent = ::send(fd, pending.data(), pending.size(), MSG_NOSIGNAL);
      if (sent < 0 && errno == EINTR) continue;
      if (sent <= 0) return {0, {}, "send failed: " + std::string(std::strerror(errno)), false};
      pending.remove_prefix(static_cast<std::size_t>(sent));
    }

    // Read the header block, then exactly Content-Length bytes of body.
    std::size_t header_end;
    while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (const int error = receive(fd, buffer); error >= 0)
        return {0, {}, describe_receive_error(fd, buffer, error), false};
    }
    const std::string headers = buffer.substr(0, header_end + 2);
    outcome result;
    if (headers.size() >= 12 && headers.starts_with("HTTP/1.")) result.status = std::atoi(headers.c_str() + 9);
    const auto length = header_value(headers, "content-length");
    const std::size_t body_length =
        length.empty() ? 0 : static_cast<std::size_t>(std::strtoull(length.c_str(), nullptr, 10));
    while (buffer.size() < header_end + 4 + body_length) {
      if (const int error = receive(fd, buffer); error >= 0)
        return {0, {}, describe_receive_error(fd, buffer, error), false};
    }
    buffer.erase(0, header_end + 4 + body_length);
    result.served_by = header_value(headers, "x-served-by");
    if (result.status == 0) result.error = "unparsable response: " + headers.substr(0, 40);
    // After "Connection: close" the next request needs a new connection.
    result.keep_alive = result.status != 0 && header_value(headers, "connection") != "close";
    return result;
  }

  static std::string header_value(const std::string& headers, std::string_view name) {
    std::string lower = headers;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const auto at = lower.find("\r\n" + std::string(name) + ":");
    if (at == std::string::npos) return {};
    auto begin = at + 2 + name.size() + 1;
    const auto end = headers.find("\r\n", begin);
    while (begin < end && headers[begin] == ' ') ++begin;
    return headers.substr(begin, end - begin);
  }

  // Appends what arrives on `fd` to `buffer`. Returns -1 when something
  // arrived, 0 when the peer closed the connection, or the errno of a failure.
  static int receive(int fd, std::string& buffer) {
    char chunk[4096];
    for (;;) {
      const auto received = ::recv(fd, chunk, sizeof(chunk), 0);
      if (received > 0) {
        buffer.append(chunk, static_cast<std::size_t>(received));
        return -1;
      }
      if (received < 0 && errno == EINTR) continue;
      return received == 0 ? 0 : errno;
    }
  }

  // Describes a failed receive, naming the connection by its local port so
  // that it can be found in HAProxy's log.
  static std::string describe_receive_error(int fd, std::string& buffer, int error) {
    const bool partial = !buffer.empty();
    buffer.clear();
    sockaddr_in local{};
    socklen_t length = sizeof(local);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length);
    const auto port = " (local port " + std::to_string(ntohs(local.sin_port)) + ")";
    if (error == 0) return (partial ? "connection closed mid-response" : "connection closed before a response") + port;
    if (error == EAGAIN || error == EWOULDBLOCK) return "timed out" + port;
    return "receive failed: " + std::string(std::strerror(error)) + port;
  }

  void record(const outcome& result) {
    std::lock_guard lock(mutex_);
    ++counts_.requests;
    if (result.status == 200) {
      ++counts_.succeeded;
      ++counts_.served_by[result.served_by.empty() ? std::string("unknown") : result.served_by];
      return;
    }
    ++counts_.failed;
    if (failures_.size() < 10)
      failures_.push_back(result.status != 0 ? "status " + std::to_string(result.status) : result.error);
  }

  const options options_;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> workers_;

  mutable std::mutex mutex_;
  load_counts counts_;                 // guarded by mutex_
  std::vector<std::string> failures_;  // guarded by mutex_
};

}  // namespace mend_test

#endif  // MEND_TESTS_ROLLOUT_HAPROXY_LOAD_CLIENT_HPP
