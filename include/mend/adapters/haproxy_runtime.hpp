// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_ADAPTERS_HAPROXY_RUNTIME_HPP
#define MEND_ADAPTERS_HAPROXY_RUNTIME_HPP

// The HAProxy Runtime API over the admin unix socket, and a traffic_switch
// and a health_signal built on it, so a mend::rollout can drive a real
// HAProxy. POSIX only (unix sockets, poll). Written against HAProxy 2.6 and
// checked against the replies of Debian 12's haproxy 2.6.12.
//
// The zero-failure rollout depends on these HAProxy settings, which are all
// in the backend (or its defaults section):
//
//   balance roundrobin        # a dynamic algorithm: with static-rr, first or
//                             # map-based hashing, `set weight` accepts only
//                             # 0% and 100%
//   option httpchk GET /health
//   default-server check inter 500ms fastinter 200ms downinter 1s fall 2 rise 2
//                             # HAProxy's own checks take a dead server out
//                             # of rotation within about fall * fastinter
//   retries 3
//   option redispatch 1       # every retry may go to another server, so a
//                             # request sent to a dead green ends on blue
//   retry-on conn-failure empty-response response-timeout
//                             # conn-failure is always safe (the request never
//                             # reached the server); the other two may send a
//                             # non-idempotent request (a POST) twice
//   timeout connect 1s
//   server blue  127.0.0.1:8081 weight 100
//   server green 127.0.0.1:8082 weight 0
//   server blue_backup 127.0.0.1:8081 backup
//                             # serves when no active server is up, e.g. green
//                             # died at 100 % while blue's weight was 0
//
// NOTE: at the 100 % step a request that HAProxy sends to green in the very
// instant green dies can still fail: its redispatched retries go at once to
// the only server with a weight, green, before HAProxy marks it DOWN. The
// integration test measured this in 3 of 56 runs (one request each).
//
// The admin socket needs `stats socket <path> mode 600 level admin` in the
// global section; `level operator` cannot change weights. Each command uses
// its own connection (HAProxy's non-interactive mode: it sends the reply and
// closes), so no session state is shared between calls and a slow reply
// cannot be mistaken for the next one.
//
//   mend::haproxy::runtime_client runtime{{.socket_path = "/run/haproxy/admin.sock"}};
//   mend::haproxy::backend_switch traffic{runtime, "ax_aif"};
//   mend::rollout deploy{clock, traffic,
//                        {.green_health = mend::haproxy::server_health_signal(runtime, "ax_aif", "green")}};

#include <mend/adapters/haproxy_reply.hpp>
#include <mend/clock.hpp>
#include <mend/config_error.hpp>
#include <mend/error.hpp>
#include <mend/health_signal.hpp>
#include <mend/result.hpp>
#include <mend/traffic_switch.hpp>
#include <mend/version.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

MEND_BEGIN_NAMESPACE
namespace haproxy {

// The administrative state `set server <backend>/<server> state` sets.
enum class admin_state { ready, drain, maint };

// The health `set server <backend>/<server> health` forces. HAProxy accepts
// it even while checks run; the next checks then move the server as usual.
enum class forced_health { up, stopping, down };

// Sends Runtime API commands to HAProxy's admin socket, one connection per
// command. Copyable and stateless between calls, so one client can serve
// several threads.
//
// Every call returns a result; on failure, the optional `message` receives
// HAProxy's own text for a refused command, or what went wrong on the socket.
// A call waits at most `timeout` for each step (connect, send, each read), so
// a HAProxy that stops replying cannot block the caller for long. This uses
// poll() timeouts, not the mend clock: the wait is I/O, not a schedule.
class runtime_client {
 public:
  struct options {
    // The path of HAProxy's `stats socket ... level admin`; at most 107 bytes
    // on Linux (the size of sockaddr_un::sun_path, less the terminating NUL).
    std::string socket_path;
    // The maximum wait for the socket to accept the connection, take the
    // command, or send the next part of the reply.
    duration timeout = std::chrono::seconds{2};
    // Longer replies fail with errc::protocol_error instead of growing without bound.
    std::size_t max_reply_bytes = std::size_t{4} << 20;
  };

  explicit runtime_client(options opts) : options_(validated(std::move(opts))) {}

  // Sends one command and returns HAProxy's whole reply. Fails with
  // errc::invalid_argument for an empty command or one that contains a line
  // break or ';', with the socket's error (e.g. ECONNREFUSED, ENOENT), with
  // errc::timed_out, or with errc::protocol_error for an oversized reply.
  result<std::string> execute(std::string_view command, std::string* message = nullptr) const {
    if (command.empty() || command.find_first_of(std::string_view{"\n\r;\0", 4}) != std::string_view::npos) {
      detail::set_message(message, fmt::format("invalid HAProxy command {}", detail::quoted_excerpt(command)));
      return make_error_code(errc::invalid_argument);
    }

    socket_fd socket{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
    if (!socket.valid()) return system_failure("creating a unix socket failed", message);

    if (auto connected = connect(socket.get(), message); !connected) return connected.error();

    const std::string line = std::string(command) + "\n";
    if (auto sent = send_all(socket.get(), line, command, message); !sent) return sent.error();
    return receive_all(socket.get(), command, message);
  }

  // `set weight <backend>/<server> <weight>`: sets the weight in force, 0-256.
  result<void> set_weight(std::string_view backend, std::string_view server, int weight,
                          std::string* message = nullptr) const {
    if (auto valid = check_names(backend, server, message); !valid) return valid;
    constexpr int max_haproxy_weight = 256;
    if (weight < 0 || weight > max_haproxy_weight) {
      detail::set_message(message, fmt::format("invalid weight {} (HAProxy accepts 0 to 256)", weight));
      return make_error_code(errc::invalid_argument);
    }
    auto reply = execute(fmt::format("set weight {}/{} {}", backend, server, weight), message);
    if (!reply) return reply.error();
    return parse_command_reply(reply.value(), message);
  }

  // `get weight <backend>/<server>`.
  result<weight_reading> get_weight(std::string_view backend, std::string_view server,
                                    std::string* message = nullptr) const {
    if (auto valid = check_names(backend, server, message); !valid) return valid.error();
    auto reply = execute(fmt::format("get weight {}/{}", backend, server), message);
    if (!reply) return reply.error();
    return parse_weight(reply.value(), message);
  }

  // `show servers state [<backend>]`: every server, or those of one backend.
  result<std::vector<server_state>> show_servers_state(std::string_view backend = {},
                                                       std::string* message = nullptr) const {
    if (!backend.empty() && !is_valid_name(backend)) return invalid_name("backend", backend, message);
    auto reply = execute(
        backend.empty() ? std::string("show servers state") : fmt::format("show servers state {}", backend), message);
    if (!reply) return reply.error();
    return parse_servers_state(reply.value(), message);
  }

  // The state of one server; fails with runtime_errc::no_such_server when the
  // backend has no server of that name.
  result<server_state> find_server_state(std::string_view backend, std::string_view server,
                                         std::string* message = nullptr) const {
    if (auto valid = check_names(backend, server, message); !valid) return valid.error();
    auto servers = show_servers_state(backend, message);
    if (!servers) return servers.error();
    for (auto& state : servers.value()) {
      if (state.server == server) return std::move(state);
    }
    detail::set_message(message, fmt::format("No such server {} in backend {}.", server, backend));
    return runtime_errc::no_such_server;
  }

  // `set server <backend>/<server> state ready|drain|maint`.
  result<void> set_server_state(std::string_view backend, std::string_view server, admin_state state,
                                std::string* message = nullptr) const {
    const std::string_view word = state == admin_state::ready   ? "ready"
                                  : state == admin_state::drain ? "drain"
                                                                : "maint";
    return set_server(backend, server, "state", word, message);
  }

  // `set server <backend>/<server> health up|stopping|down`.
  result<void> set_server_health(std::string_view backend, std::string_view server, forced_health health,
                                 std::string* message = nullptr) const {
    const std::string_view word = health == forced_health::up         ? "up"
                                  : health == forced_health::stopping ? "stopping"
                                                                      : "down";
    return set_server(backend, server, "health", word, message);
  }

  const options& config() const noexcept { return options_; }

 private:
  // Owns a file descriptor and closes it.
  class socket_fd {
   public:
    explicit socket_fd(int fd) noexcept : fd_(fd) {}
    socket_fd(const socket_fd&) = delete;
    socket_fd& operator=(const socket_fd&) = delete;
    ~socket_fd() {
      if (fd_ >= 0) ::close(fd_);
    }
    bool valid() const noexcept { return fd_ >= 0; }
    int get() const noexcept { return fd_; }

   private:
    int fd_;
  };

  // Sends `set server <backend>/<server> <field> <value>`, which prints
  // nothing when it succeeds.
  result<void> set_server(std::string_view backend, std::string_view server, std::string_view field,
                          std::string_view value, std::string* message) const {
    if (auto valid = check_names(backend, server, message); !valid) return valid;
    auto reply = execute(fmt::format("set server {}/{} {} {}", backend, server, field, value), message);
    if (!reply) return reply.error();
    return parse_command_reply(reply.value(), message);
  }

  static options validated(options opts) {
    const std::string_view component = "haproxy::runtime_client";
    mend::detail::require(!opts.socket_path.empty(), component, "socket_path", "\"\"",
                          "must name HAProxy's admin socket");
    mend::detail::require(
        opts.socket_path.size() < sizeof(sockaddr_un::sun_path), component, "socket_path", opts.socket_path,
        fmt::format("must be shorter than {} bytes, the limit of a unix socket path", sizeof(sockaddr_un::sun_path)));
    mend::detail::require(opts.timeout > duration::zero(), component, "timeout", opts.timeout,
                          "must be greater than zero");
    mend::detail::require(opts.max_reply_bytes > 0, component, "max_reply_bytes", opts.max_reply_bytes,
                          "must be greater than zero");
    return opts;
  }

  static std::error_code invalid_name(std::string_view what, std::string_view name, std::string* message) {
    detail::set_message(message, fmt::format("invalid HAProxy {} name {} (use letters, digits, '.', '-', '_', ':')",
                                             what, detail::quoted_excerpt(name)));
    return make_error_code(errc::invalid_argument);
  }

  static result<void> check_names(std::string_view backend, std::string_view server, std::string* message) {
    if (!is_valid_name(backend)) return invalid_name("backend", backend, message);
    if (!is_valid_name(server)) return invalid_name("server", server, message);
    return success();
  }

  std::error_code system_failure(std::string_view what, std::string* message) const {
    const std::error_code code{errno, std::system_category()};
    detail::set_message(message, fmt::format("{} ({}): {}", what, options_.socket_path, code.message()));
    return code;
  }

  std::error_code timed_out(std::string_view what, std::string* message) const {
    detail::set_message(message, fmt::format("{} on {} timed out after {}", what, options_.socket_path,
                                             std::chrono::duration_cast<std::chrono::milliseconds>(options_.timeout)));
    return make_error_code(errc::timed_out);
  }

  // Waits for `events` on `fd`; false when the timeout passed first.
  result<bool> wait_for(int fd, short events) const {
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(options_.timeout).count();
    const int timeout_ms = static_cast<int>(std::clamp<std::int64_t>(millis, 1, INT_MAX));
    pollfd entry{fd, events, 0};
    for (;;) {
      const int ready = ::poll(&entry, 1, timeout_ms);
      if (ready > 0) return true;
      if (ready == 0) return false;
      if (errno != EINTR) return std::error_code{errno, std::system_category()};
    }
  }

  result<void> connect(int fd, std::string* message) const {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, options_.socket_path.data(), options_.socket_path.size());
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0) return success();
    if (errno != EINPROGRESS && errno != EINTR) return system_failure("connecting to HAProxy failed", message);

    auto ready = wait_for(fd, POLLOUT);
    if (!ready) return system_failure("waiting for HAProxy to accept failed", message);
    if (!ready.value()) return timed_out("connecting to HAProxy", message);
    int error = 0;
    socklen_t length = sizeof(error);
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0)
      return system_failure("connecting to HAProxy failed", message);
    if (error != 0) {
      errno = error;
      return system_failure("connecting to HAProxy failed", message);
    }
    return success();
  }

  result<void> send_all(int fd, std::string_view data, std::string_view command, std::string* message) const {
    while (!data.empty()) {
      const auto sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (sent > 0) {
        data.remove_prefix(static_cast<std::size_t>(sent));
        continue;
      }
      if (sent < 0 && errno == EINTR) continue;
      if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        return system_failure(fmt::format("sending '{}' to HAProxy failed", command), message);
      auto ready = wait_for(fd, POLLOUT);
      if (!ready) return system_failure(fmt::format("sending '{}' to HAProxy failed", command), message);
      if (!ready.value()) return timed_out(fmt::format("sending '{}'", command), message);
    }
    return success();
  }

  result<std::string> receive_all(int fd, std::string_view command, std::string* message) const {
    std::string reply;
    std::array<char, 4096> buffer{};
    for (;;) {
      const auto received = ::recv(fd, buffer.data(), buffer.size(), 0);
      if (received == 0) return reply;
      if (received > 0) {
        reply.append(buffer.data(), static_cast<std::size_t>(received));
        if (reply.size() > options_.max_reply_bytes) {
          detail::set_message(message, fmt::format("HAProxy's reply to '{}' is longer than {} bytes", command,
                                                   options_.max_reply_bytes));
          return make_error_code(errc::protocol_error);
        }
        continue;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        return system_failure(fmt::format("reading HAProxy's reply to '{}' failed", command), message);
      auto ready = wait_for(fd, POLLIN);
      if (!ready) return system_failure(fmt::format("reading HAProxy's reply to '{}' failed", command), message);
      if (!ready.value()) return timed_out(fmt::format("reading the reply to '{}'", command), message);
    }
  }

  options options_;
};

// ---------------------------------------------------------------------------
// The traffic switch and the health signal.

// A traffic_switch over the servers of one HAProxy backend: a target is a
// server name, and its weight is set with `set weight` and read back with
// `get weight`. HAProxy weights run 0-256; the switch uses 0-100, so blue
// 90 / green 10 sends green 10 % of the new requests. The backend must use
// a dynamic algorithm (roundrobin, leastconn, random, consistent hashing).
// HAProxy's refusal text (e.g. "No such server.") reaches last_error().
class backend_switch final : public traffic_switch {
 public:
  backend_switch(runtime_client client, std::string backend)
      : client_(std::move(client)), backend_(std::move(backend)) {
    mend::detail::require(is_valid_name(backend_), "haproxy::backend_switch", "backend", backend_,
                          "must be a valid HAProxy backend name");
  }

  const std::string& backend() const noexcept { return backend_; }

 protected:
  result<void> write_weight(std::string_view target, int weight, std::string& message) override {
    return client_.set_weight(backend_, target, weight, &message);
  }

  result<int> read_weight(std::string_view target, std::string& message) override {
    auto reading = client_.get_weight(backend_, target, &message);
    if (!reading) return reading.error();
    return reading.value().current;
  }

 private:
  runtime_client client_;
  std::string backend_;
};

// Reads a server's health from HAProxy's own checks: healthy while
// `show servers state` reports it UP, not in maintenance, with active checks
// enabled and at least one of them completed. The last condition matters
// because HAProxy reports every server UP when it starts, before any check
// ran. The reason is the state summary, e.g. "DOWN, last check L4CON (layer
// 4 connection problem)". A failed read counts as unhealthy, with the error
// as the reason, so a rollout never moves traffic on a state it could not see.
inline health_signal server_health_signal(runtime_client client, std::string backend, std::string server) {
  return [client = std::move(client), backend = std::move(backend), server = std::move(server)] {
    std::string message;
    auto state = client.find_server_state(backend, server, &message);
    if (!state)
      return health_reading{false, fmt::format("reading the state of {}/{} failed: {}", backend, server, message)};
    const auto& found = state.value();
    if (!found.checks_enabled()) return health_reading{false, found.summary() + ", no active health check enabled"};
    return health_reading{found.up() && found.check_completed(), found.summary()};
  };
}

}  // namespace haproxy
MEND_END_NAMESPACE

#endif  // MEND_ADAPTERS_HAPROXY_RUNTIME_HPP
