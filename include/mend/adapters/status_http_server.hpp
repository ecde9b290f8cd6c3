// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_ADAPTERS_STATUS_HTTP_SERVER_HPP
#define MEND_ADAPTERS_STATUS_HTTP_SERVER_HPP

// A small HTTP/1.1 server for the status dashboard: GET / serves the page
// (refreshing itself) and GET /status.json the JSON report. POSIX sockets;
// link mend::json.

#include <mend/adapters/status_dashboard.hpp>
#include <mend/adapters/status_json.hpp>
#include <mend/clock.hpp>
#include <mend/config_error.hpp>
#include <mend/detail/http_request.hpp>
#include <mend/http_error.hpp>
#include <mend/result.hpp>
#include <mend/status_reporter.hpp>
#include <mend/steady_clock_source.hpp>
#include <mend/version.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

MEND_BEGIN_NAMESPACE

// What a status_http_server has answered since it started.
struct status_http_server_stats {
  std::uint64_t accepted = 0;      // connections accepted
  std::uint64_t served = 0;        // 200 responses
  std::uint64_t not_found = 0;     // 404 and 405 responses
  std::uint64_t unauthorized = 0;  // 401 responses: bearer token missing or wrong
  std::uint64_t rejected = 0;      // malformed requests: 400, 431 and 505 responses
  std::uint64_t failed = 0;        // 500 responses: the snapshot provider threw
  std::uint64_t timed_out = 0;     // connections closed at request_timeout
};

namespace detail {

// Compares a presented secret with the expected one in a time that depends
// only on the expected secret's length, not on where they differ.
inline bool constant_time_equal(std::string_view presented, std::string_view expected) noexcept {
  unsigned char difference = presented.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const char p = i < presented.size() ? presented[i] : '\0';
    difference = static_cast<unsigned char>(difference |
                                            (static_cast<unsigned char>(p) ^ static_cast<unsigned char>(expected[i])));
  }
  // A volatile read keeps the compiler from turning the loop into an early exit.
  volatile unsigned char result = difference;
  return result == 0;
}

// RFC 6750 b64token: the characters a bearer token may contain.
inline bool is_bearer_token(std::string_view token) noexcept {
  std::size_t i = 0;
  for (; i < token.size(); ++i) {
    const char c = token[i];
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                         c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    if (!allowed) break;
  }
  if (i == 0) return false;
  for (; i < token.size(); ++i)
    if (token[i] != '=') return false;
  return true;
}

// Formats `t` as an HTTP date (IMF-fixdate): "Wed, 01 Jan 2025 00:00:00 GMT".
inline std::string http_date(wall_time t) {
  using namespace std::chrono;
  static constexpr std::string_view weekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::string_view months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto day = floor<days>(t);
  const year_month_day date{day};
  const hh_mm_ss time_of_day{floor<seconds>(t - day)};
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", weekdays[weekday{day}.c_encoding()],
                     static_cast<unsigned>(date.day()), months[static_cast<unsigned>(date.month()) - 1],
                     static_cast<int>(date.year()), time_of_day.hours().count(), time_of_day.minutes().count(),
                     time_of_day.seconds().count());
}

// The reason phrase of a status the server sends: those of http_error.hpp
// and the few only a server sends.
inline std::string_view response_reason_phrase(int status) noexcept {
  switch (status) {
    case 200: return "OK";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 505: return "HTTP Version Not Supported";
    default: return http_reason_phrase(status);
  }
}

// One HTTP response, ready to send; the connection closes after it.
struct http_response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers

  std::string serialize(wall_time now, bool head_only) const {
    std::string out = fmt::format("HTTP/1.1 {} {}\r\n", status, response_reason_phrase(status));
    out += fmt::format("Date: {}\r\n", http_date(now));
    out += fmt::format("Content-Type: {}\r\nContent-Length: {}\r\n", content_type, body.size());
    out +=
        "Cache-Control: no-store\r\nConnection: close\r\nX-Content-Type-Options: nosniff\r\n"
        "Referrer-Policy: no-referrer\r\n"
        "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'\r\n";
    for (const auto& [name, value] : headers) out += fmt::format("{}: {}\r\n", name, value);
    out += "\r\n";
    if (!head_only) out += body;
    return out;
  }
};

// A numeric IPv4 or IPv6 address and port as a socket address.
struct socket_address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  bool loopback = false;

  static std::optional<socket_address> parse(std::string_view text, std::uint16_t port) {
    std::string host(text);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    socket_address out;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
    if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      v4->sin_port = htons(port);
      out.length = sizeof(sockaddr_in);
      out.loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;  // 127.0.0.0/8
      return out;
    }
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons(port);
      out.length = sizeof(sockaddr_in6);
      out.loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
      return out;
    }
    return std::nullopt;
  }
};

// "127.0.0.1:41234" or "[::1]:41234".
inline std::string format_peer(const sockaddr_storage& address) {
  char host[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    ::inet_ntop(AF_INET, &v4->sin_addr, host, sizeof(host));
    return fmt::format("{}:{}", host, ntohs(v4->sin_port));
  }
  if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof(host));
    return fmt::format("[{}]:{}", host, ntohs(v6->sin6_port));
  }
  return "unknown peer";
}

inline bool set_nonblocking_cloexec(int fd) noexcept {
  const int flags = ::fcntl(fd, F_GETFL, 0);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return false;
  return ::fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;
}

inline std::error_code last_system_error() noexcept { return {errno, std::system_category()}; }

// The write end of the pipe that wakes the server's poll loop. Shared with
// clock timers, which may fire after the server stopped: the mutex and the
// closed flag keep a late timer from writing to a reused descriptor.
class wake_channel {
 public:
  explicit wake_channel(int write_fd) : write_fd_(write_fd) {}

  void wake() noexcept {
    std::lock_guard lock(mutex_);
    if (write_fd_ < 0) return;
    const char byte = 1;
    // A full pipe already contains a pending wake-up, so EAGAIN loses nothing.
    [[maybe_unused]] const auto written = ::write(write_fd_, &byte, 1);
  }

  void close() noexcept {
    std::lock_guard lock(mutex_);
    if (write_fd_ >= 0) ::close(write_fd_);
    write_fd_ = -1;
  }

 private:
  std::mutex mutex_;
  int write_fd_;  // guarded by mutex_
};

}  // namespace detail

// Serves the status dashboard and the JSON report over HTTP/1.1:
//   GET /             the page of adapters/status_dashboard.hpp, refreshing itself
//   GET /status.json  the JSON report of adapters/status_json.hpp
// HEAD works on both; other methods get 405 and other paths 404. With a
// bearer_token, every request needs "Authorization: Bearer <token>" or gets
// 401 with WWW-Authenticate. Each response closes its connection.
//
// One thread runs a poll() loop over non-blocking sockets, so a slow client
// delays no other one. A request head larger than max_header_bytes gets 431,
// a malformed one 400, and a connection that has not received its request
// and sent its response within request_timeout is closed. At most
// max_connections are open at once and further clients wait in the listen
// backlog, so that many idle clients can hold off others until they time
// out. Timeouts use the injected clock's timers, so tests on a manual clock
// can expire them.
//
// NOTE: a browser sends no Authorization header by itself, so with a bearer
// token the page needs a client or a proxy that adds it to every refresh.
//
// The snapshot provider runs on the server thread, once per request, so it
// must be thread-safe (status_reporter::snapshot() is) and must not call
// stop(). The server binds 127.0.0.1 by default. Another address needs
// allow_non_loopback, and then a bearer token is strongly advised. It speaks
// plain HTTP, so the token crosses the network in clear text: put a TLS
// proxy in front for remote use.
//
//   mend::status_http_server server{[&] { return status.snapshot(); }, {.port = 8080}};
//   if (auto started = server.start(); !started) ...;  // started.error(), e.g. address in use
//   // http://127.0.0.1:8080/ until server.stop() or destruction
class status_http_server {
 public:
  using snapshot_provider = std::function<status_snapshot()>;
  using log_writer = std::function<void(std::string_view line)>;

  struct options {
    // Names the server in logs and configuration errors.
    std::string name = "status_http_server";
    // A numeric IPv4 or IPv6 address. Binding anything but loopback
    // (127.0.0.0/8, ::1) needs allow_non_loopback.
    std::string bind_address = "127.0.0.1";
    // 0 picks a free port; port() returns the one bound.
    std::uint16_t port = 0;
    // Lets bind_address be a non-loopback address such as 0.0.0.0.
    bool allow_non_loopback = false;
    // When not empty, every request must carry "Authorization: Bearer <token>".
    // RFC 6750 token characters, at least 16 of them; it never reaches a log.
    std::string bearer_token = {};
    // How often the page reloads itself.
    std::chrono::seconds refresh = std::chrono::seconds{5};
    // How long a connection may take to send its request and receive the response.
    duration request_timeout = std::chrono::seconds{10};
    // The largest request head accepted, in bytes (request line and headers).
    std::size_t max_header_bytes = 8192;
    // Connections served at once; more wait in the listen backlog.
    std::size_t max_connections = 32;
    // The page's title and history length; refresh and json_href are set by the server.
    dashboard_options page = {};
    // Receives log lines: start, stop, failures, and the first 100 rejected
    // requests and timeouts (later ones are only counted in stats()).
    // Called from the server thread and from the threads that call start()
    // and stop(), possibly at the same time. Prints to stderr when empty.
    log_writer log = {};
  };

  // Log lines about rejected requests and timeouts after this many are dropped.
  static constexpr std::uint64_t max_logged_rejections = 100;

  status_http_server(clock& clk, snapshot_provider provider, options opts)
      : clock_(clk), provider_(std::move(provider)), options_(validated(std::move(opts))) {
    if (!options_.log) options_.log = [](std::string_view line) { fmt::print(stderr, "{}\n", line); };
    detail::require(static_cast<bool>(provider_), options_.name, "provider", "empty", "must be a callable");
  }

  explicit status_http_server(snapshot_provider provider)
      : status_http_server(default_clock(), std::move(provider), options{}) {}

  status_http_server(snapshot_provider provider, options opts)
      : status_http_server(default_clock(), std::move(provider), std::move(opts)) {}

  status_http_server(const status_http_server&) = delete;
  status_http_server& operator=(const status_http_server&) = delete;

  ~status_http_server() { stop(); }

  // Binds, listens and starts the server thread. Returns the system error
  // when the address cannot be bound (e.g. address in use) and logs it with
  // the address. Does nothing when already running.
  result<void> start() {
    std::lock_guard lifecycle(lifecycle_mutex_);
    if (thread_.joinable()) return success();

    auto address = *detail::socket_address::parse(options_.bind_address, options_.port);
    const auto fail = [&](std::string_view step, int fd_to_close) -> result<void> {
      const auto error = detail::last_system_error();
      if (fd_to_close >= 0) ::close(fd_to_close);
      log(fmt::format("{}: cannot {} {}:{}: {}", options_.name, step, options_.bind_address, options_.port,
                      error.message()));
      return error;
    };

    const int listener = ::socket(address.storage.ss_family, SOCK_STREAM, 0);
    if (listener < 0) return fail("create a socket for", -1);
    const int on = 1;
    ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (address.storage.ss_family == AF_INET6) ::setsockopt(listener, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
    if (!detail::set_nonblocking_cloexec(listener)) return fail("configure the socket for", listener);
    if (::bind(listener, reinterpret_cast<const sockaddr*>(&address.storage), address.length) != 0)
      return fail("bind", listener);
    if (::listen(listener, 64) != 0) return fail("listen on", listener);

    sockaddr_storage bound{};
    socklen_t bound_length = sizeof(bound);
    if (::getsockname(listener, reinterpret_cast<sockaddr*>(&bound), &bound_length) != 0)
      return fail("read the port of", listener);
    const auto bound_port = bound.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port
                                                        : reinterpret_cast<const sockaddr_in*>(&bound)->sin_port;

    int pipe_fds[2] = {-1, -1};
    if (::pipe(pipe_fds) != 0) return fail("create the wake-up pipe for", listener);
    if (!detail::set_nonblocking_cloexec(pipe_fds[0]) || !detail::set_nonblocking_cloexec(pipe_fds[1])) {
      ::close(pipe_fds[0]);
      ::close(pipe_fds[1]);
      return fail("configure the wake-up pipe for", listener);
    }

    listen_fd_ = listener;
    wake_read_fd_ = pipe_fds[0];
    wake_ = std::make_shared<detail::wake_channel>(pipe_fds[1]);
    port_.store(ntohs(bound_port));
    stopping_.store(false);
    thread_ = std::thread([this] { run(); });
    log(fmt::format("{}: serving the status page on {}{}", options_.name, url(),
                    options_.bearer_token.empty() ? "" : " (bearer token required)"));
    return success();
  }

  // Stops serving: closes the listener and every open connection and joins
  // the server thread. Safe to call more than once.
  void stop() noexcept {
    std::lock_guard lifecycle(lifecycle_mutex_);
    if (!thread_.joinable()) return;
    stopping_.store(true);
    wake_->wake();
    thread_.join();
    // The server thread is gone, so armed_timer_ is ours. The callback takes
    // no lock that is held here.
    if (armed_timer_ != 0) clock_.cancel(armed_timer_);
    armed_timer_ = 0;
    wake_->close();
    ::close(wake_read_fd_);
    ::close(listen_fd_);
    wake_read_fd_ = listen_fd_ = -1;
    const auto counts = stats();
    log(
        fmt::format("{}: stopped serving {}; {} served, {} not found, {} unauthorized, {} rejected, {} failed, "
                    "{} timed out",
                    options_.name, url(), counts.served, counts.not_found, counts.unauthorized, counts.rejected,
                    counts.failed, counts.timed_out));
  }

  // The bound port; 0 before start().
  std::uint16_t port() const noexcept { return port_.load(); }

  // The address of the page, e.g. "http://127.0.0.1:8080/".
  std::string url() const {
    const bool v6 = options_.bind_address.find(':') != std::string::npos;
    std::string host = options_.bind_address;
    if (v6 && host.front() != '[') host = "[" + host + "]";
    return fmt::format("http://{}:{}/", host, port());
  }

  status_http_server_stats stats() const {
    std::lock_guard lock(stats_mutex_);
    return stats_;
  }

  const options& config() const noexcept { return options_; }

 private:
  struct connection {
    enum class phase { reading, writing, draining };

    int fd = -1;
    std::string peer;
    std::string input;
    std::string output;
    std::size_t sent = 0;
    std::size_t drained = 0;
    phase state = phase::reading;
    time_point deadline{};
  };

  // After the response, up to this much of what the client still sends is
  // read and dropped, so closing does not reset the connection before the
  // client has read the response.
  static constexpr std::size_t max_drain_bytes = 64 * 1024;

  static options validated(options opts) {
    const std::string_view component = opts.name;
    const auto address = detail::socket_address::parse(opts.bind_address, opts.port);
    detail::require(address.has_value(), component, "bind_address", opts.bind_address,
                    "must be a numeric IPv4 or IPv6 address such as 127.0.0.1 or ::1");
    detail::require(address->loopback || opts.allow_non_loopback, component, "bind_address", opts.bind_address,
                    "is not a loopback address; set allow_non_loopback = true to serve other hosts");
    // The token itself never appears in the message.
    detail::require(opts.bearer_token.empty() || detail::is_bearer_token(opts.bearer_token), component, "bearer_token",
                    "(hidden)", "may contain only letters, digits and -._~+/ with trailing =");
    detail::require(opts.bearer_token.empty() || opts.bearer_token.size() >= 16, component, "bearer_token",
                    fmt::format("({} characters, hidden)", opts.bearer_token.size()),
                    "must have at least 16 characters");
    detail::require(opts.refresh >= std::chrono::seconds{1}, component, "refresh", opts.refresh, "must be at least 1s");
    detail::require(opts.request_timeout > duration::zero(), component, "request_timeout", opts.request_timeout,
                    "must be greater than zero");
    detail::require(opts.max_header_bytes >= 512 && opts.max_header_bytes <= 1024 * 1024, component, "max_header_bytes",
                    opts.max_header_bytes, "must be between 512 and 1048576");
    detail::require(opts.max_connections >= 1 && opts.max_connections <= 1024, component, "max_connections",
                    opts.max_connections, "must be between 1 and 1024");
    return opts;
  }

  void log(const std::string& line) const noexcept {
    try {
      options_.log(line);
    } catch (...) {
      // A failing log writer must not stop the server.
    }
  }

  // Logs a rejected request or a timeout, up to max_logged_rejections of them.
  void log_rejection(const std::string& line) {
    ++logged_rejections_;
    if (logged_rejections_ <= max_logged_rejections) log(line);
    if (logged_rejections_ == max_logged_rejections)
      log(fmt::format("{}: further rejected requests and timeouts are counted in stats(), not logged", options_.name));
  }

  template <class Field>
  void count(Field field) {
    std::lock_guard lock(stats_mutex_);
    ++(stats_.*field);
  }

  // --- the poll loop (server thread) ------------------------------------------

  void run() {
    std::vector<connection> connections;
    std::vector<pollfd> fds;
    while (!stopping_.load()) {
      const bool accepting = connections.size() < options_.max_connections;
      fds.clear();
      fds.push_back({wake_read_fd_, POLLIN, 0});
      fds.push_back({accepting ? listen_fd_ : -1, POLLIN, 0});  // poll() skips a negative fd
      for (const auto& c : connections)
        fds.push_back({c.fd, static_cast<short>(c.state == connection::phase::writing ? POLLOUT : POLLIN), 0});
      // Waits without a timeout: the armed clock timer wakes the loop at the
      // earliest deadline, and a deadline already passed skips the wait.
      const bool expired = !arm_timer(connections);

      if (::poll(fds.data(), static_cast<nfds_t>(fds.size()), expired ? 0 : -1) < 0) {
        if (errno == EINTR) continue;
        log(fmt::format("{}: poll failed: {}; the server stops serving", options_.name,
                        detail::last_system_error().message()));
        break;
      }
      if (fds[0].revents != 0) drain_wake_pipe();

      for (std::size_t i = 0; i < connections.size(); ++i) {
        if (fds[i + 2].revents != 0) handle_io(connections[i]);
      }
      const auto now = clock_.now();
      for (auto& c : connections) {
        if (c.fd < 0 || c.deadline > now) continue;
        if (c.state != connection::phase::draining) {
          count(&status_http_server_stats::timed_out);
          log_rejection(fmt::format("{}: closed the connection from {}: no complete exchange within {}", options_.name,
                                    c.peer, detail::format_span(options_.request_timeout)));
        }
        close_connection(c);
      }
      std::erase_if(connections, [](const connection& c) { return c.fd < 0; });
      if (accepting && (fds[1].revents & POLLIN) != 0) accept_connections(connections, now);
    }
    for (auto& c : connections) close_connection(c);
  }

  // Keeps one clock timer armed for the earliest connection deadline.
  // Returns false when that deadline has already passed. The callback only
  // wakes the poll loop, so a stale timer costs one spurious wake-up and
  // needs no generation check.
  bool arm_timer(const std::vector<connection>& connections) {
    std::optional<time_point> earliest;
    for (const auto& c : connections)
      if (!earliest || c.deadline < *earliest) earliest = c.deadline;
    if (!earliest) return true;
    const auto now = clock_.now();
    if (*earliest <= now) return false;
    const bool armed = armed_timer_ != 0 && armed_deadline_ > now;
    if (armed && armed_deadline_ <= *earliest) return true;
    if (armed) clock_.cancel(armed_timer_);
    armed_deadline_ = *earliest;
    armed_timer_ = clock_.schedule_at(*earliest, [channel = wake_] { channel->wake(); });
    return true;
  }

  void drain_wake_pipe() noexcept {
    char buffer[64];
    while (::read(wake_read_fd_, buffer, sizeof(buffer)) > 0) {
    }
  }

  void accept_connections(std::vector<connection>& connections, time_point now) {
    while (connections.size() < options_.max_connections) {
      sockaddr_storage peer{};
      socklen_t peer_length = sizeof(peer);
      const int fd = ::accept(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &peer_length);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          // e.g. EMFILE: the pending client stays in the backlog and is retried on the next wake-up.
          log_rejection(fmt::format("{}: accept failed: {}", options_.name, detail::last_system_error().message()));
        }
        return;
      }
      if (!detail::set_nonblocking_cloexec(fd)) {
        ::close(fd);
        continue;
      }
      count(&status_http_server_stats::accepted);
      connection c;
      c.fd = fd;
      c.peer = detail::format_peer(peer);
      c.deadline = clock::add_saturated(now, options_.request_timeout);
      connections.push_back(std::move(c));
    }
  }

  void close_connection(connection& c) noexcept {
    if (c.fd >= 0) ::close(c.fd);
    c.fd = -1;
  }

  void handle_io(connection& c) {
    if (c.state == connection::phase::writing) {
      write_some(c);
      return;
    }
    char buffer[4096];
    for (;;) {
      const auto received = ::recv(c.fd, buffer, sizeof(buffer), 0);
      if (received < 0 && errno == EINTR) continue;
      if (received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (received <= 0) {  // the client closed, or the connection failed
        close_connection(c);
        return;
      }
      if (c.state == connection::phase::draining) {
        c.drained += static_cast<std::size_t>(received);
        if (c.drained > max_drain_bytes) {
          close_connection(c);
          return;
        }
        continue;
      }
      c.input.append(buffer, static_cast<std::size_t>(received));
      const auto head_length = detail::http_head_length(c.input);
      if (head_length > options_.max_header_bytes || (head_length == 0 && c.input.size() > options_.max_header_bytes)) {
        reject(c, 431, fmt::format("request head larger than {} bytes", options_.max_header_bytes));
        return;
      }
      if (head_length > 0) {
        respond(c, std::string_view{c.input}.substr(0, head_length));
        return;
      }
    }
  }

  void start_response(connection& c, const detail::http_response& response, bool head_only) {
    c.output = response.serialize(clock_.wall_now(), head_only);
    c.sent = 0;
    c.input.clear();
    c.state = connection::phase::writing;
    write_some(c);
  }

  void reject(connection& c, int status, const std::string& reason) {
    count(&status_http_server_stats::rejected);
    log_rejection(fmt::format("{}: rejected a request from {} with {}: {}", options_.name, c.peer, status, reason));
    detail::http_response response;
    response.status = status;
    response.body = fmt::format("{} {}: {}\n", status, detail::response_reason_phrase(status), reason);
    start_response(c, response, false);
  }

  void write_some(connection& c) {
    while (c.sent < c.output.size()) {
      int flags = 0;
#ifdef MSG_NOSIGNAL
      flags = MSG_NOSIGNAL;  // a client that went away must not raise SIGPIPE
#endif
      const auto sent = ::send(c.fd, c.output.data() + c.sent, c.output.size() - c.sent, flags);
      if (sent < 0 && errno == EINTR) continue;
      if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (sent < 0) {
        close_connection(c);
        return;
      }
      c.sent += static_cast<std::size_t>(sent);
    }
    ::shutdown(c.fd, SHUT_WR);
    c.output.clear();
    c.state = connection::phase::draining;
  }

  // --- requests -----------------------------------------------------------------

  void respond(connection& c, std::string_view head_text) {
    auto parsed = detail::parse_http_request_head(head_text);
    if (parsed.status != 0) {
      reject(c, parsed.status, parsed.reason);
      return;
    }
    const auto& request = parsed.head;
    const bool head_only = request.method == "HEAD";

    if (!options_.bearer_token.empty()) {
      if (auto denied = check_token(request)) {
        count(&status_http_server_stats::unauthorized);
        log_rejection(fmt::format("{}: rejected a request from {} for {} with 401: {}", options_.name, c.peer,
                                  request.path, denied->body));
        start_response(c, *denied, head_only);
        return;
      }
    }

    detail::http_response response;
    if (request.method != "GET" && request.method != "HEAD") {
      count(&status_http_server_stats::not_found);
      response.status = 405;
      response.body = "405 Method Not Allowed: use GET or HEAD\n";
      response.headers.emplace_back("Allow", "GET, HEAD");
    } else if (request.path == "/" || request.path == "/status.json") {
      response = render(request.path == "/", c.peer);
    } else {
      count(&status_http_server_stats::not_found);
      response.status = 404;
      response.body = "404 Not Found: the status server serves / and /status.json\n";
    }
    start_response(c, response, head_only);
  }

  // Returns the 401 response for a request without the right bearer token,
  // or nullopt when the token matches.
  std::optional<detail::http_response> check_token(const detail::http_request_head& request) const {
    const auto credentials = request.header("authorization");
    std::string_view presented;
    bool well_formed = false;
    if (credentials && request.header_count("authorization") == 1) {
      const auto space = credentials->find(' ');
      if (space != std::string_view::npos && detail::ascii_lower(credentials->substr(0, space)) == "bearer") {
        presented = detail::trim_http_blanks(credentials->substr(space + 1));
        well_formed = !presented.empty();
      }
    }
    if (well_formed && detail::constant_time_equal(presented, options_.bearer_token)) return std::nullopt;

    detail::http_response response;
    response.status = 401;
    if (credentials) {
      response.body = "invalid bearer token";
      response.headers.emplace_back("WWW-Authenticate", R"(Bearer realm="mend status", error="invalid_token")");
    } else {
      response.body = "missing bearer token";
      response.headers.emplace_back("WWW-Authenticate", R"(Bearer realm="mend status")");
    }
    return response;
  }

  detail::http_response render(bool page, const std::string& peer) {
    detail::http_response response;
    try {
      const auto snapshot = provider_();
      if (page) {
        auto page_options = options_.page;
        page_options.refresh = options_.refresh;
        page_options.json_href = "status.json";
        response.content_type = "text/html; charset=utf-8";
        response.body = to_html(snapshot, page_options);
      } else {
        response.content_type = "application/json";
        // Invalid UTF-8 in a name becomes U+FFFD instead of an exception.
        response.body = to_json(snapshot).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
        response.body += '\n';
      }
      count(&status_http_server_stats::served);
    } catch (const std::exception& e) {
      count(&status_http_server_stats::failed);
      log(fmt::format("{}: rendering the status for {} failed: {}", options_.name, peer, e.what()));
      response = {};
      response.status = 500;
      response.body = "500 Internal Server Error: the status report could not be rendered\n";
    }
    return response;
  }

  clock& clock_;
  snapshot_provider provider_;
  options options_;

  std::mutex lifecycle_mutex_;  // serializes start() and stop()
  std::thread thread_;          // guarded by lifecycle_mutex_
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint16_t> port_{0};

  // Set by start() before the thread starts and released by stop() after it
  // is joined; the server thread only reads them.
  int listen_fd_ = -1;
  int wake_read_fd_ = -1;
  std::shared_ptr<detail::wake_channel> wake_;

  // Server thread only, and stop() after joining it.
  timer_id armed_timer_ = 0;
  time_point armed_deadline_{};
  std::uint64_t logged_rejections_ = 0;

  mutable std::mutex stats_mutex_;
  status_http_server_stats stats_;  // guarded by stats_mutex_
};

MEND_END_NAMESPACE

#endif  // MEND_ADAPTERS_STATUS_HTTP_SERVER_HPP
