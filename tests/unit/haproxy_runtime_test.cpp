// The HAProxy adapter without HAProxy: the reply parsers on replies captured
// from HAProxy 2.6.12, and the client against a fake admin socket served by
// this test on a unix socket in a temporary directory.
#include <mend/adapters/haproxy_reply.hpp>

#if __has_include(<sys/un.h>)

#include <mend/adapters/haproxy_runtime.hpp>
#include <mend/config_error.hpp>
#include <mend/error.hpp>
#include <mend/traffic_switch.hpp>

#include <catch2/catch.hpp>

#include "../fuzz/haproxy_reply_checks.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using namespace std::chrono_literals;
namespace haproxy = mend::haproxy;
using strings = std::vector<std::string>;

namespace {

const std::string state_header =
    "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
    "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state "
    "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port "
    "srv_check_addr srv_agent_addr srv_agent_port\n";

// Blue UP with a passed layer 7 check, green DOWN after connection refused.
const std::string state_reply = "1\n" + state_header +
                                "3 app 1 blue 127.0.0.1 2 0 100 100 2 15 3 4 6 0 0 0 - 18091 - 0 0 - - 0\n"
                                "3 app 2 green 127.0.0.1 0 0 0 0 2 8 2 0 6 0 0 0 - 18092 - 0 0 - - 0\n\n";

// A fake HAProxy admin socket: accepts connections on a unix socket in a
// fresh temporary directory, reads one command line from each, records it,
// sends the reply that `reply` returns and closes the connection, as HAProxy
// does in non-interactive mode. A reply of std::nullopt keeps the connection
// open without sending anything, until the server is destroyed.
class fake_admin_socket {
 public:
  using responder = std::function<std::optional<std::string>(const std::string& command)>;

  explicit fake_admin_socket(responder reply) : reply_(std::move(reply)) {
    char pattern[] = "/tmp/mend-fake-XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    directory_ = pattern;
    path_ = directory_ + "/admin.sock";

    listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listener_ >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path_.c_str());
    REQUIRE(::bind(listener_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0);
    REQUIRE(::listen(listener_, 16) == 0);
    REQUIRE(::pipe(stop_pipe_) == 0);
    thread_ = std::thread([this] { serve(); });
  }

  fake_admin_socket(const fake_admin_socket&) = delete;
  fake_admin_socket& operator=(const fake_admin_socket&) = delete;

  ~fake_admin_socket() {
    const char byte = 0;
    (void)::write(stop_pipe_[1], &byte, 1);
    thread_.join();
    for (const int fd : held_) ::close(fd);
    ::close(listener_);
    ::close(stop_pipe_[0]);
    ::close(stop_pipe_[1]);
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
  }

  const std::string& path() const { return path_; }
  const std::string& directory() const { return directory_; }

  strings commands() const {
    std::lock_guard lock(mutex_);
    return commands_;
  }

 private:
  void serve() {
    for (;;) {
      pollfd entries[2] = {{listener_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
      if (::poll(entries, 2, -1) < 0) continue;
      if (entries[1].revents != 0) return;
      const int connection = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (connection < 0) continue;
      handle(connection);
    }
  }

  void handle(int connection) {
    std::string line;
    char c = 0;
    while (::read(connection, &c, 1) == 1 && c != '\n') line += c;
    {
      std::lock_guard lock(mutex_);
      commands_.push_back(line);
    }
    const auto reply = reply_(line);
    if (!reply) {
      held_.push_back(connection);
      return;
    }
    std::size_t sent = 0;
    while (sent < reply->size()) {
      const auto n = ::send(connection, reply->data() + sent, reply->size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
    ::close(connection);
  }

  responder reply_;
  std::string directory_;
  std::string path_;
  int listener_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::thread thread_;
  std::vector<int> held_;  // used by the server thread only
  mutable std::mutex mutex_;
  strings commands_;  // guarded by mutex_
};

// The weights of backend "app" as HAProxy keeps them, for the switch tests.
class fake_haproxy_weights {
 public:
  std::map<std::string, int> weights{{"blue", 100}, {"green", 0}};
  std::set<std::string> read_only;  // servers whose `set weight` is rejected

  std::optional<std::string> reply(const std::string& command) {
    std::istringstream words(command);
    std::string verb, noun, target, value;
    words >> verb >> noun >> target >> value;
    const auto slash = target.find('/');
    const auto backend = target.substr(0, slash);
    const auto server = slash == std::string::npos ? std::string{} : target.substr(slash + 1);
    if (noun != "weight") return "Unknown command\n\n";
    if (backend != "app") return "No such backend.\n\n";
    const auto found = weights.find(server);
    if (found == weights.end()) return "No such server.\n\n";
    if (verb == "get") return std::to_string(found->second) + " (initial 0)\n\n";
    if (read_only.contains(server)) return "Permission denied\n\n";
    found->second = std::stoi(value);
    return "\n";
  }
};

haproxy::runtime_client client_for(const fake_admin_socket& server, mend::duration timeout = 2s) {
  return haproxy::runtime_client{{.socket_path = server.path(), .timeout = timeout}};
}

}  // namespace

// ---------------------------------------------------------------------------
// Parsers

TEST_CASE("empty command reply is success", "[haproxy]") {
  CHECK(haproxy::parse_command_reply("\n"));
  CHECK(haproxy::parse_command_reply(""));
}

TEST_CASE("command reply text is a rejection", "[haproxy]") {
  struct reply_case {
    std::string reply;
    std::error_code code;
    std::string message;
  };
  const std::vector<reply_case> cases{
      {"No such backend.\n\n", haproxy::runtime_errc::no_such_backend, "No such backend."},
      {"Can't find backend.\n\n", haproxy::runtime_errc::no_such_backend, "Can't find backend."},
      {"No such server.\n\n", haproxy::runtime_errc::no_such_server, "No such server."},
      {"Permission denied\n\n", haproxy::runtime_errc::permission_denied, "Permission denied"},
      {"Unknown command, but maybe one of the following ones is a better match:\n  help\n\n",
       haproxy::runtime_errc::unknown_command,
       "Unknown command, but maybe one of the following ones is a better match:"},
      {"Absolute weight can only be between 0 and 256 inclusive.\n\n", haproxy::runtime_errc::command_rejected,
       "Absolute weight can only be between 0 and 256 inclusive."},
      {"Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n\n",
       haproxy::runtime_errc::command_rejected,
       "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'."},
  };
  for (const auto& c : cases) {
    INFO(c.reply);
    std::string message;
    const auto outcome = haproxy::parse_command_reply(c.reply, &message);
    REQUIRE_FALSE(outcome);
    CHECK(outcome.error() == c.code);
    CHECK(message == c.message);
  }
}

TEST_CASE("reply text is escaped and bounded", "[haproxy]") {
  std::string message;
  REQUIRE_FALSE(haproxy::parse_command_reply("\x1b]0;owned\x07\x1b[2JNo such server.\r\n", &message));
  CHECK(message == "\\x1b]0;owned\\x07\\x1b[2JNo such server.");

  REQUIRE_FALSE(haproxy::parse_weight("Denied\x1b[31m\x7f\n", &message));
  CHECK(message == "Denied\\x1b[31m\\x7f");

  REQUIRE_FALSE(haproxy::parse_servers_state("Can't find backend.\x1b[A\n", &message));
  CHECK(message == "Can't find backend.\\x1b[A");

  const std::string huge(100'000, 'x');
  REQUIRE_FALSE(haproxy::parse_command_reply(huge + "\n", &message));
  CHECK(message == std::string(120, 'x') + "...");
}

TEST_CASE("get weight reply parses", "[haproxy]") {
  const auto weight = haproxy::parse_weight("10 (initial 0)\n\n");

  REQUIRE(weight);
  CHECK(weight.value().current == 10);
  CHECK(weight.value().initial == 0);
}

TEST_CASE("get weight error keeps HAProxy's text", "[haproxy]") {
  std::string message;
  const auto weight = haproxy::parse_weight("No such server.\n\n", &message);

  REQUIRE_FALSE(weight);
  CHECK(weight.error() == haproxy::runtime_errc::no_such_server);
  CHECK(message == "No such server.");
}

TEST_CASE("malformed get weight reply is a protocol error", "[haproxy]") {
  for (const std::string reply : {"10", "10 (initial )", "10 (initial 5", "10 (initial 5) extra", "300 (initial 0)",
                                  "10(initial 0)", "1x (initial 0)", ""}) {
    INFO(reply);
    std::string message;
    const auto weight = haproxy::parse_weight(reply, &message);
    REQUIRE_FALSE(weight);
    CHECK(weight.error() == mend::errc::protocol_error);
    CHECK_FALSE(message.empty());
  }
}

TEST_CASE("show servers state parses every server", "[haproxy]") {
  const auto servers = haproxy::parse_servers_state(state_reply);

  REQUIRE(servers);
  REQUIRE(servers.value().size() == 2);
  const auto& blue = servers.value()[0];
  CHECK(blue.backend_id == 3);
  CHECK(blue.backend == "app");
  CHECK(blue.server_id == 1);
  CHECK(blue.server == "blue");
  CHECK(blue.address == "127.0.0.1");
  CHECK(blue.operational == haproxy::op_state::running);
  CHECK(blue.admin == 0u);
  CHECK(blue.user_weight == 100);
  CHECK(blue.initial_weight == 100);
  CHECK(blue.seconds_since_change == 2);
  CHECK(blue.check_status == 15);
  CHECK(blue.check_result == 3);
  CHECK(blue.check_health == 4);
  CHECK(blue.check_state == 6u);
  CHECK(blue.port == 18091);
  CHECK(blue.up());
  CHECK(blue.summary() == "UP, last check L7OK (layer 7 check passed)");

  const auto& green = servers.value()[1];
  CHECK(green.server == "green");
  CHECK_FALSE(green.up());
  CHECK(green.summary() == "DOWN, last check L4CON (layer 4 connection problem)");
}

TEST_CASE("maintenance and drain come from the admin bits", "[haproxy]") {
  const auto reply = "1\n" + state_header +
                     "3 app 1 blue 127.0.0.1 2 1 100 100 17 15 3 4 14 0 0 0 - 18091 - 0 0 - - 0\n"
                     "3 app 2 green 127.0.0.1 2 8 7 0 0 15 3 4 6 0 0 0 - 18092 - 0 0 - - 0\n";

  const auto servers = haproxy::parse_servers_state(reply);

  REQUIRE(servers);
  const auto& blue = servers.value()[0];
  CHECK(blue.in_maintenance());
  CHECK_FALSE(blue.up());
  CHECK(blue.summary() == "MAINT");
  const auto& green = servers.value()[1];
  CHECK(green.draining());
  CHECK(green.up());
  CHECK(green.summary() == "UP, draining, last check L7OK (layer 7 check passed)");
}

TEST_CASE("show servers state finds columns by name", "[haproxy]") {
  // A later HAProxy may add or reorder columns; only names matter.
  const std::string reply =
      "1\n# srv_name be_name srv_future be_id srv_id srv_addr srv_op_state srv_admin_state srv_uweight "
      "srv_iweight srv_check_status srv_check_result srv_check_health srv_check_state\n"
      "green app x 3 2 ::1 2 0 50 0 15 3 4 6\n";

  const auto servers = haproxy::parse_servers_state(reply);

  REQUIRE(servers);
  REQUIRE(servers.value().size() == 1);
  CHECK(servers.value()[0].server == "green");
  CHECK(servers.value()[0].backend == "app");
  CHECK(servers.value()[0].address == "::1");
  CHECK(servers.value()[0].user_weight == 50);
  CHECK_FALSE(servers.value()[0].port);
}

TEST_CASE("show servers state of an empty backend", "[haproxy]") {
  const auto servers = haproxy::parse_servers_state("1\n" + state_header + "\n");

  REQUIRE(servers);
  CHECK(servers.value().empty());
}

TEST_CASE("show servers state error keeps HAProxy's text", "[haproxy]") {
  std::string message;
  const auto servers = haproxy::parse_servers_state("Can't find backend.\n\n", &message);

  REQUIRE_FALSE(servers);
  CHECK(servers.error() == haproxy::runtime_errc::no_such_backend);
  CHECK(message == "Can't find backend.");
}

TEST_CASE("malformed servers state is a protocol error", "[haproxy]") {
  const std::string good_line = "3 app 1 blue 127.0.0.1 2 0 100 100 2 15 3 4 6 0 0 0 - 18091 - 0 0 - - 0\n";
  struct malformed_case {
    std::string reply;
    std::string message;
  };
  const std::vector<malformed_case> cases{
      {"", "empty reply to show servers state"},
      {"2\n" + state_header, "unsupported show servers state format version 2 (expected 1)"},
      {"1\n", "show servers state reply has no header line after the version"},
      {"1\nbe_id be_name\n", "show servers state reply has no header line after the version"},
      {"1\n# be_id be_name srv_id\n3 app 1\n", "show servers state header has no column srv_name"},
      {"1\n" + state_header + "3 app 1 blue\n", "show servers state line 3 has 4 fields, the header names 25"},
      {"1\n" + state_header + "3 app 1 blue 127.0.0.1 7 0 100 100 2 15 3 4 6 0 0 0 - 18091 - 0 0 - - 0\n",
       "show servers state line 3: invalid srv_op_state '7'"},
      {"1\n" + state_header + "3 app 1 blue 127.0.0.1 2 0 257 100 2 15 3 4 6 0 0 0 - 18091 - 0 0 - - 0\n",
       "show servers state line 3: invalid srv_uweight '257'"},
      {"1\n" + state_header + good_line + "x app 1 blue 127.0.0.1 2 0 100 100 2 15 3 4 6 0 0 0 - 1 - 0 0 - - 0\n",
       "show servers state line 4: invalid be_id 'x'"},
  };
  for (const auto& c : cases) {
    INFO(c.reply);
    std::string message;
    const auto servers = haproxy::parse_servers_state(c.reply, &message);
    REQUIRE_FALSE(servers);
    CHECK(servers.error() == mend::errc::protocol_error);
    CHECK(message == c.message);
  }
}

TEST_CASE("check status names follow HAProxy 2.6", "[haproxy]") {
  CHECK(haproxy::check_status_name(8) == "L4CON");
  CHECK(haproxy::check_status_name(15) == "L7OK");
  CHECK(haproxy::check_status_name(17) == "L7STS");
  CHECK(haproxy::check_status_name(20) == "PROCOK");
  CHECK(haproxy::check_status_name(21) == "?");
  CHECK(haproxy::check_status_name(-1) == "?");
}

TEST_CASE("HAProxy names are validated", "[haproxy]") {
  CHECK(haproxy::is_valid_name("ax_aif-2.blue:1"));
  CHECK_FALSE(haproxy::is_valid_name(""));
  CHECK_FALSE(haproxy::is_valid_name("app;shutdown sessions"));
  CHECK_FALSE(haproxy::is_valid_name("app/blue"));
  CHECK_FALSE(haproxy::is_valid_name("blue\n"));
}

TEST_CASE("seed corpus passes the parser checks", "[haproxy]") {
  const std::filesystem::path corpus = MEND_HAPROXY_CORPUS_DIR;
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string input{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    INFO(entry.path().filename().string());
    mend_test::check_haproxy_reply_parsers(input);
    ++files;
  }
  CHECK(files >= 15);
}

// ---------------------------------------------------------------------------
// Client

TEST_CASE("client sends one command per connection", "[haproxy]") {
  fake_admin_socket server{[](const std::string&) { return std::string("\n"); }};
  const auto client = client_for(server);

  REQUIRE(client.set_weight("app", "green", 10));
  REQUIRE(client.set_server_state("app", "green", haproxy::admin_state::drain));
  REQUIRE(client.set_server_state("app", "green", haproxy::admin_state::maint));
  REQUIRE(client.set_server_state("app", "green", haproxy::admin_state::ready));
  REQUIRE(client.set_server_health("app", "green", haproxy::forced_health::up));
  REQUIRE(client.set_server_health("app", "green", haproxy::forced_health::stopping));
  REQUIRE(client.set_server_health("app", "green", haproxy::forced_health::down));

  CHECK(server.commands() == strings{"set weight app/green 10", "set server app/green state drain",
                                     "set server app/green state maint", "set server app/green state ready",
                                     "set server app/green health up", "set server app/green health stopping",
                                     "set server app/green health down"});
}

TEST_CASE("client returns HAProxy's refusal text", "[haproxy]") {
  fake_admin_socket server{[](const std::string&) { return std::string("No such server.\n\n"); }};
  const auto client = client_for(server);

  std::string message;
  const auto outcome = client.set_weight("app", "red", 10, &message);

  REQUIRE_FALSE(outcome);
  CHECK(outcome.error() == haproxy::runtime_errc::no_such_server);
  CHECK(message == "No such server.");
}

TEST_CASE("client reads weights and server states", "[haproxy]") {
  fake_admin_socket server{[](const std::string& command) -> std::optional<std::string> {
    if (command == "get weight app/green") return "10 (initial 0)\n\n";
    return state_reply;
  }};
  const auto client = client_for(server);

  const auto weight = client.get_weight("app", "green");
  const auto all = client.show_servers_state();
  const auto green = client.find_server_state("app", "green");
  std::string message;
  const auto missing = client.find_server_state("app", "red", &message);

  REQUIRE(weight);
  CHECK(weight.value().current == 10);
  REQUIRE(all);
  CHECK(all.value().size() == 2);
  REQUIRE(green);
  CHECK(green.value().server == "green");
  REQUIRE_FALSE(missing);
  CHECK(missing.error() == haproxy::runtime_errc::no_such_server);
  CHECK(message == "No such server red in backend app.");
  CHECK(server.commands() ==
        strings{"get weight app/green", "show servers state", "show servers state app", "show servers state app"});
}

TEST_CASE("client rejects names that could inject commands", "[haproxy]") {
  fake_admin_socket server{[](const std::string&) { return std::string("\n"); }};
  const auto client = client_for(server);

  std::string message;
  const auto outcome = client.set_weight("app", "green; shutdown sessions", 10, &message);
  const auto raw = client.execute("show info;show stat");
  const auto bad_weight = client.set_weight("app", "green", 257);

  REQUIRE_FALSE(outcome);
  CHECK(outcome.error() == mend::errc::invalid_argument);
  CHECK(message == "invalid HAProxy server name 'green; shutdown sessions' (use letters, digits, '.', '-', '_', ':')");
  REQUIRE_FALSE(raw);
  CHECK(raw.error() == mend::errc::invalid_argument);
  REQUIRE_FALSE(bad_weight);
  CHECK(bad_weight.error() == mend::errc::invalid_argument);
  CHECK(server.commands().empty());
}

TEST_CASE("client reports a missing socket", "[haproxy]") {
  const haproxy::runtime_client client{{.socket_path = "/tmp/mend-no-such-dir/admin.sock"}};

  std::string message;
  const auto outcome = client.execute("show info", &message);

  REQUIRE_FALSE(outcome);
  CHECK(outcome.error() == std::errc::no_such_file_or_directory);
  CHECK(message == "connecting to HAProxy failed (/tmp/mend-no-such-dir/admin.sock): " + outcome.error().message());
}

TEST_CASE("client reports a socket nobody listens on", "[haproxy]") {
  std::string path;
  {
    fake_admin_socket server{[](const std::string&) { return std::string("\n"); }};
    path = server.directory() + "/stale.sock";
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path.c_str());
    REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0);
    ::close(fd);  // the file stays, with no listener behind it

    const haproxy::runtime_client client{{.socket_path = path}};
    const auto outcome = client.execute("show info");

    REQUIRE_FALSE(outcome);
    CHECK(outcome.error() == std::errc::connection_refused);
  }
}

TEST_CASE("client times out on a silent HAProxy", "[haproxy]") {
  fake_admin_socket server{[](const std::string&) { return std::nullopt; }};
  const auto client = client_for(server, 50ms);

  std::string message;
  const auto outcome = client.execute("show info", &message);

  REQUIRE_FALSE(outcome);
  CHECK(outcome.error() == mend::errc::timed_out);
  CHECK(message == "reading the reply to 'show info' on " + server.path() + " timed out after 50ms");
}

TEST_CASE("client bounds the reply size", "[haproxy]") {
  fake_admin_socket server{[](const std::string&) { return std::string(10000, 'x'); }};
  const haproxy::runtime_client client{{.socket_path = server.path(), .max_reply_bytes = 4096}};

  std::string message;
  const auto outcome = client.execute("show stat", &message);

  REQUIRE_FALSE(outcome);
  CHECK(outcome.error() == mend::errc::protocol_error);
  CHECK(message == "HAProxy's reply to 'show stat' is longer than 4096 bytes");
}

TEST_CASE("client options are validated", "[haproxy]") {
  const auto field_of = [](haproxy::runtime_client::options options) {
    try {
      haproxy::runtime_client client{std::move(options)};
    } catch (const mend::config_error& e) {
      return e.field();
    }
    return std::string("accepted");
  };

  CHECK(field_of({.socket_path = ""}) == "socket_path");
  CHECK(field_of({.socket_path = "/tmp/" + std::string(120, 'a')}) == "socket_path");
  CHECK(field_of({.socket_path = "/tmp/a.sock", .timeout = 0s}) == "timeout");
  CHECK(field_of({.socket_path = "/tmp/a.sock", .max_reply_bytes = 0}) == "max_reply_bytes");
  CHECK(field_of({.socket_path = "/tmp/a.sock"}) == "accepted");
}

// ---------------------------------------------------------------------------
// Traffic switch and health signal

TEST_CASE("backend switch raises green before lowering blue", "[haproxy]") {
  fake_haproxy_weights haproxy_weights;
  fake_admin_socket server{[&](const std::string& command) { return haproxy_weights.reply(command); }};
  haproxy::backend_switch traffic{client_for(server), "app"};

  REQUIRE(traffic.apply({{"blue", 90}, {"green", 10}}));

  CHECK(haproxy_weights.weights == std::map<std::string, int>{{"blue", 90}, {"green", 10}});
  CHECK(server.commands() == strings{"get weight app/blue", "get weight app/green", "set weight app/green 10",
                                     "get weight app/green", "set weight app/blue 90", "get weight app/blue"});
}

TEST_CASE("backend switch reports HAProxy's text", "[haproxy]") {
  fake_haproxy_weights haproxy_weights;
  haproxy_weights.read_only.insert("blue");
  fake_admin_socket server{[&](const std::string& command) { return haproxy_weights.reply(command); }};
  haproxy::backend_switch traffic{client_for(server), "app"};

  const auto outcome = traffic.apply({{"blue", 90}, {"green", 10}});

  REQUIRE_FALSE(outcome);
  CHECK(outcome.error() == haproxy::runtime_errc::permission_denied);
  CHECK(traffic.last_error().message == "setting the weight of blue to 90 failed: Permission denied");
  CHECK(haproxy_weights.weights == std::map<std::string, int>{{"blue", 100}, {"green", 10}});
}

TEST_CASE("backend switch names a missing server", "[haproxy]") {
  fake_haproxy_weights haproxy_weights;
  fake_admin_socket server{[&](const std::string& command) { return haproxy_weights.reply(command); }};
  haproxy::backend_switch traffic{client_for(server), "app"};

  const auto outcome = traffic.weight("red");

  REQUIRE_FALSE(outcome);
  CHECK(outcome.error() == haproxy::runtime_errc::no_such_server);
  CHECK(traffic.last_error().message == "reading the weight of red failed: No such server.");
}

TEST_CASE("server health signal follows HAProxy's checks", "[haproxy]") {
  fake_admin_socket server{[](const std::string&) { return state_reply; }};
  const auto blue = haproxy::server_health_signal(client_for(server), "app", "blue");
  const auto green = haproxy::server_health_signal(client_for(server), "app", "green");

  const auto blue_reading = blue();
  const auto green_reading = green();

  CHECK(blue_reading.healthy);
  CHECK(blue_reading.reason == "UP, last check L7OK (layer 7 check passed)");
  CHECK_FALSE(green_reading.healthy);
  CHECK(green_reading.reason == "DOWN, last check L4CON (layer 4 connection problem)");
}

TEST_CASE("server no check has completed is unhealthy", "[haproxy]") {
  // HAProxy reports servers UP when it starts, before their first check.
  const auto reply = "1\n" + state_header + "3 app 2 green 127.0.0.1 2 0 0 0 0 1 0 2 6 0 0 0 - 18092 - 0 0 - - 0\n";
  fake_admin_socket server{[&](const std::string&) { return reply; }};
  const auto signal = haproxy::server_health_signal(client_for(server), "app", "green");

  const auto reading = signal();

  CHECK_FALSE(reading.healthy);
  CHECK(reading.reason == "UP, last check INI (initializing)");
}

TEST_CASE("server without active checks is unhealthy", "[haproxy]") {
  const auto reply = "1\n" + state_header + "3 app 2 green 127.0.0.1 2 0 0 0 0 1 0 2 0 0 0 0 - 18092 - 0 0 - - 0\n";
  fake_admin_socket server{[&](const std::string&) { return reply; }};
  const auto signal = haproxy::server_health_signal(client_for(server), "app", "green");

  const auto reading = signal();

  CHECK_FALSE(reading.healthy);
  CHECK(reading.reason == "UP, no active health check enabled");
}

TEST_CASE("unreadable state counts as unhealthy", "[haproxy]") {
  const auto signal = haproxy::server_health_signal(
      haproxy::runtime_client{{.socket_path = "/tmp/mend-no-such-dir/admin.sock"}}, "app", "green");

  const auto reading = signal();

  CHECK_FALSE(reading.healthy);
  CHECK(reading.reason.starts_with("reading the state of app/green failed: connecting to HAProxy failed"));
}

#endif  // __has_include(<sys/un.h>)
