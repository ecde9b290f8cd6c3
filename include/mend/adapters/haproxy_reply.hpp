// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_ADAPTERS_HAPROXY_REPLY_HPP
#define MEND_ADAPTERS_HAPROXY_REPLY_HPP

// Parsing of HAProxy Runtime API replies: pure functions on strings, with no
// socket and no POSIX header, so they are unit-tested and fuzzed on their own.
// haproxy_runtime.hpp sends the commands. Formats are those of HAProxy 2.6,
// checked against the replies of Debian 12's haproxy 2.6.12.

#include <mend/error.hpp>
#include <mend/result.hpp>
#include <mend/version.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

MEND_BEGIN_NAMESPACE
namespace haproxy {

// The reason HAProxy rejected a command, taken from the text of its reply
// (category "mend.haproxy"). A reply that cannot be parsed is
// errc::protocol_error instead.
enum class runtime_errc {
  no_such_backend = 1,  // "No such backend." or "Can't find backend."
  no_such_server,       // "No such server."
  permission_denied,    // "Permission denied": the socket's level is below admin
  unknown_command,      // "Unknown command...": not a command of this HAProxy version
  command_rejected,     // any other text, e.g. "Absolute weight can only be between 0 and 256 inclusive."
};

namespace detail {

class runtime_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "mend.haproxy"; }

  std::string message(int value) const override {
    switch (static_cast<runtime_errc>(value)) {
      case runtime_errc::no_such_backend: return "HAProxy has no such backend";
      case runtime_errc::no_such_server: return "HAProxy has no such server";
      case runtime_errc::permission_denied: return "HAProxy admin socket lacks the admin level";
      case runtime_errc::unknown_command: return "HAProxy does not know the command";
      case runtime_errc::command_rejected: return "HAProxy rejected the command";
    }
    return "unknown HAProxy runtime error " + std::to_string(value);
  }
};

}  // namespace detail

inline const std::error_category& runtime_category() noexcept {
  static const detail::runtime_category category;
  return category;
}

inline std::error_code make_error_code(runtime_errc value) noexcept {
  return {static_cast<int>(value), runtime_category()};
}

}  // namespace haproxy
MEND_END_NAMESPACE

template <>
struct std::is_error_code_enum<mend::haproxy::runtime_errc> : std::true_type {};

MEND_BEGIN_NAMESPACE
namespace haproxy {

// Each parser takes an optional `message` that receives, on failure,
// HAProxy's own text or a description of what could not be parsed.

namespace detail {

inline void set_message(std::string* out, std::string text) {
  if (out != nullptr) *out = std::move(text);
}

inline bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

inline std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// The first line of `text`, without its line ending.
inline std::string_view first_line(std::string_view text) noexcept {
  const auto end = text.find('\n');
  auto line = text.substr(0, end);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// Splits `line` at runs of spaces and tabs.
inline std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t pos = 0;
  while (pos < line.size()) {
    while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
    const auto begin = pos;
    while (pos < line.size() && line[pos] != ' ' && line[pos] != '\t') ++pos;
    if (pos > begin) fields.push_back(line.substr(begin, pos - begin));
  }
  return fields;
}

// Parses all of `text` as a decimal integer.
template <class Int>
std::optional<Int> to_integer(std::string_view text) noexcept {
  Int value{};
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end || text.empty()) return std::nullopt;
  return value;
}

// Makes reply text safe for one log line. Control characters become escapes
// such as \n or \x1b, so that a hostile or broken reply cannot move the
// cursor, recolour a terminal or forge log lines. Text beyond 120 bytes is
// cut and ends in "..." (HAProxy 2.6's refusal texts are shorter).
inline std::string printable_excerpt(std::string_view text) {
  constexpr std::size_t max_length = 120;
  std::string out;
  for (const char c : text.substr(0, max_length)) {
    if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  if (text.size() > max_length) out += "...";
  return out;
}

// printable_excerpt() in single quotes.
inline std::string quoted_excerpt(std::string_view text) { return "'" + printable_excerpt(text) + "'"; }

}  // namespace detail

// Maps the text of a refused command to a runtime_errc.
inline std::error_code classify_message(std::string_view text) noexcept {
  text = detail::trim(text);
  if (text.starts_with("No such backend") || text.starts_with("Can't find backend"))
    return runtime_errc::no_such_backend;
  if (text.starts_with("No such server")) return runtime_errc::no_such_server;
  if (text.starts_with("Permission denied")) return runtime_errc::permission_denied;
  if (text.starts_with("Unknown command")) return runtime_errc::unknown_command;
  return runtime_errc::command_rejected;
}

// Parses the reply to a command that prints nothing when it succeeds (`set
// weight`, `set server`). Any text is HAProxy refusing the command: the error
// is classify_message() of it, and `message` gets its first line through
// detail::printable_excerpt() (for an unknown command HAProxy lists its
// commands after that line).
inline result<void> parse_command_reply(std::string_view reply, std::string* message = nullptr) {
  const auto text = detail::trim(reply);
  if (text.empty()) return success();
  detail::set_message(message, detail::printable_excerpt(detail::first_line(text)));
  return classify_message(text);
}

// A server's weight as `get weight` reports it.
struct weight_reading {
  int current = 0;  // the weight in force, 0-256
  int initial = 0;  // the weight from the configuration
};

// Parses the reply to `get weight <backend>/<server>`: "<current> (initial
// <initial>)". A reply that starts with anything but a digit is HAProxy's
// error text ("No such server.").
inline result<weight_reading> parse_weight(std::string_view reply, std::string* message = nullptr) {
  const auto text = detail::trim(reply);
  if (text.empty()) {
    detail::set_message(message, "empty reply to get weight");
    return make_error_code(errc::protocol_error);
  }
  if (text.front() < '0' || text.front() > '9') {
    detail::set_message(message, detail::printable_excerpt(detail::first_line(text)));
    return classify_message(text);
  }

  const auto malformed = [&] {
    detail::set_message(message, fmt::format("unexpected reply to get weight: {}", detail::quoted_excerpt(text)));
    return make_error_code(errc::protocol_error);
  };
  constexpr std::string_view middle = " (initial ";
  const auto space = text.find(middle);
  if (space == std::string_view::npos || text.back() != ')') return malformed();
  const auto current = detail::to_integer<int>(text.substr(0, space));
  const auto initial_begin = space + middle.size();
  const auto initial = detail::to_integer<int>(text.substr(initial_begin, text.size() - 1 - initial_begin));
  constexpr int max_haproxy_weight = 256;
  if (!current || !initial || *current < 0 || *current > max_haproxy_weight || *initial < 0 ||
      *initial > max_haproxy_weight)
    return malformed();
  return weight_reading{*current, *initial};
}

// A server's operational state (srv_op_state), as HAProxy numbers it.
enum class op_state {
  stopped = 0,   // DOWN: the checks failed, or a forced health down
  starting = 1,  // UP and in its slow start
  running = 2,   // UP
  stopping = 3,  // UP but taking no new connections (NOLB, agent or health "stopping")
};

// The bits of srv_admin_state.
namespace admin_flags {
inline constexpr unsigned forced_maint = 0x01;     // `set server ... state maint` or `disable server`
inline constexpr unsigned inherited_maint = 0x02;  // from a tracked server
inline constexpr unsigned config_maint = 0x04;     // `disabled` in the configuration
inline constexpr unsigned forced_drain = 0x08;     // `set server ... state drain`
inline constexpr unsigned inherited_drain = 0x10;  // from a tracked server
inline constexpr unsigned resolver_maint = 0x20;   // address resolution failed
inline constexpr unsigned fqdn_set = 0x40;         // FQDN set from the socket; not a maintenance
inline constexpr unsigned any_maint = forced_maint | inherited_maint | config_maint | resolver_maint;
inline constexpr unsigned any_drain = forced_drain | inherited_drain;
}  // namespace admin_flags

// The short name HAProxy's stats page uses for a check status
// (srv_check_status): "L7OK", "L4CON", ... Numbered as in HAProxy 2.6
// (enum healthcheck_status in include/haproxy/check-t.h).
constexpr std::string_view check_status_name(int status) noexcept {
  constexpr std::array<std::string_view, 21> names{
      "UNK",   "INI",    "START", "CHECKED", "HANA", "SOCKERR", "L4OK",  "L4TOUT",  "L4CON",    "L6OK",  "L6TOUT",
      "L6RSP", "L7TOUT", "L7RSP", "L57DATA", "L7OK", "L7OKC",   "L7STS", "PROCERR", "PROCTOUT", "PROCOK"};
  if (status < 0 || status >= static_cast<int>(names.size())) return "?";
  return names[static_cast<std::size_t>(status)];
}

// Returns the meaning of a check status, as HAProxy's stats page words it.
constexpr std::string_view check_status_description(int status) noexcept {
  constexpr std::array<std::string_view, 21> descriptions{"unknown",
                                                          "initializing",
                                                          "check started",
                                                          "checked",
                                                          "health analyze",
                                                          "socket error",
                                                          "layer 4 check passed",
                                                          "layer 4 timeout",
                                                          "layer 4 connection problem",
                                                          "layer 6 check passed",
                                                          "layer 6 timeout",
                                                          "layer 6 invalid response",
                                                          "layer 7 timeout",
                                                          "layer 7 invalid response",
                                                          "layer 5-7 data",
                                                          "layer 7 check passed",
                                                          "layer 7 check conditionally passed",
                                                          "layer 7 wrong status",
                                                          "external check error",
                                                          "external check timeout",
                                                          "external check passed"};
  if (status < 0 || status >= static_cast<int>(descriptions.size())) return "unknown check status";
  return descriptions[static_cast<std::size_t>(status)];
}

// One line of `show servers state`, format version 1.
struct server_state {
  int backend_id = 0;
  std::string backend;
  int server_id = 0;
  std::string server;
  std::string address;
  op_state operational = op_state::stopped;
  unsigned admin = 0;                     // admin_flags bits
  int user_weight = 0;                    // the weight in force (what `set weight` sets), 0-256
  int initial_weight = 0;                 // the weight from the configuration
  std::int64_t seconds_since_change = 0;  // since the last operational or admin change
  int check_status = 0;                   // see check_status_name()
  int check_result = 0;                   // 0 unknown, 1 neutral, 2 failed, 3 passed, 4 passed conditionally
  int check_health = 0;                   // HAProxy's rise/fall counter
  unsigned check_state = 0;               // 0x02 configured, 0x04 enabled, 0x08 paused
  std::optional<int> port;                // srv_port, when the header has it and it is a number

  bool in_maintenance() const noexcept { return (admin & admin_flags::any_maint) != 0; }
  bool draining() const noexcept { return (admin & admin_flags::any_drain) != 0; }
  // True when checks are configured, enabled and not paused (HAProxy pauses them in maintenance).
  bool checks_enabled() const noexcept { return (check_state & 0x0e) == 0x06; }

  // True once a health check of the server has completed since HAProxy
  // started. Before that HAProxy reports a server UP without having checked
  // it, with the check status INI.
  bool check_completed() const noexcept { return check_status >= 3; }

  // True when HAProxy counts the server as UP (running or in slow start) and
  // it is not in maintenance. A draining server is up: it keeps its sessions.
  bool up() const noexcept {
    return !in_maintenance() && (operational == op_state::running || operational == op_state::starting);
  }

  // A few words for logs: "UP, last check L7OK (layer 7 check passed)".
  std::string summary() const {
    std::string out;
    if (in_maintenance()) {
      out = "MAINT";
    } else {
      switch (operational) {
        case op_state::stopped: out = "DOWN"; break;
        case op_state::starting: out = "UP (slow start)"; break;
        case op_state::running: out = "UP"; break;
        case op_state::stopping: out = "NOLB"; break;
      }
      if (draining()) out += ", draining";
    }
    if (checks_enabled())
      out +=
          fmt::format(", last check {} ({})", check_status_name(check_status), check_status_description(check_status));
    return out;
  }
};

// Parses the reply to `show servers state [<backend>]`: the format version
// ("1"), a header line "# be_id be_name ..." naming the columns, then one
// line per server. Columns are found by name, so extra columns of later
// HAProxy versions are ignored. A reply that does not start with a version
// number is HAProxy's error text ("Can't find backend.").
inline result<std::vector<server_state>> parse_servers_state(std::string_view reply, std::string* message = nullptr) {
  const auto text = detail::trim(reply);
  const auto protocol_error = [&](std::string what) {
    detail::set_message(message, std::move(what));
    return make_error_code(errc::protocol_error);
  };
  if (text.empty()) return protocol_error("empty reply to show servers state");

  std::vector<std::string_view> lines;
  for (std::size_t pos = 0; pos <= text.size();) {
    const auto end = std::min(text.find('\n', pos), text.size());
    auto line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    pos = end + 1;
  }

  const auto version = detail::to_integer<int>(detail::trim(lines[0]));
  if (!version) {
    detail::set_message(message, detail::printable_excerpt(lines[0]));
    return classify_message(text);
  }
  if (*version != 1)
    return protocol_error(fmt::format("unsupported show servers state format version {} (expected 1)", *version));
  if (lines.size() < 2 || !lines[1].starts_with('#'))
    return protocol_error("show servers state reply has no header line after the version");

  const auto columns = detail::split_fields(lines[1].substr(1));
  const auto column = [&](std::string_view name) -> std::optional<std::size_t> {
    const auto found = std::find(columns.begin(), columns.end(), name);
    if (found == columns.end()) return std::nullopt;
    return static_cast<std::size_t>(found - columns.begin());
  };
  static constexpr std::array<std::string_view, 13> required{
      "be_id",           "be_name",     "srv_id",      "srv_name",         "srv_addr",         "srv_op_state",
      "srv_admin_state", "srv_uweight", "srv_iweight", "srv_check_status", "srv_check_result", "srv_check_health",
      "srv_check_state"};
  std::array<std::size_t, required.size()> at{};
  for (std::size_t i = 0; i < required.size(); ++i) {
    const auto index = column(required[i]);
    if (!index) return protocol_error(fmt::format("show servers state header has no column {}", required[i]));
    at[i] = *index;
  }
  const auto since_change_at = column("srv_time_since_last_change");
  const auto port_at = column("srv_port");

  std::vector<server_state> servers;
  for (std::size_t n = 2; n < lines.size(); ++n) {
    const auto line = detail::trim(lines[n]);
    if (line.empty() || line.starts_with('#')) continue;
    const auto fields = detail::split_fields(line);
    if (fields.size() < columns.size())
      return protocol_error(fmt::format("show servers state line {} has {} fields, the header names {}", n + 1,
                                        fields.size(), columns.size()));

    const auto bad_field = [&](std::string_view name) {
      return protocol_error(fmt::format("show servers state line {}: invalid {} {}", n + 1, name,
                                        detail::quoted_excerpt(fields[*column(name)])));
    };
    const auto integer = [&](std::size_t which, long long low, long long high) -> std::optional<long long> {
      const auto value = detail::to_integer<long long>(fields[at[which]]);
      if (!value || *value < low || *value > high) return std::nullopt;
      return value;
    };

    server_state server;
    constexpr long long max_id = INT_MAX;
    constexpr long long max_weight = 256;
    const auto backend_id = integer(0, 0, max_id);
    if (!backend_id) return bad_field(required[0]);
    const auto server_id = integer(2, 0, max_id);
    if (!server_id) return bad_field(required[2]);
    const auto operational = integer(5, 0, 3);
    if (!operational) return bad_field(required[5]);
    const auto admin = integer(6, 0, 0xff);
    if (!admin) return bad_field(required[6]);
    const auto user_weight = integer(7, 0, max_weight);
    if (!user_weight) return bad_field(required[7]);
    const auto initial_weight = integer(8, 0, max_weight);
    if (!initial_weight) return bad_field(required[8]);
    const auto check_status = integer(9, 0, 0xff);
    if (!check_status) return bad_field(required[9]);
    const auto check_result = integer(10, 0, 0xff);
    if (!check_result) return bad_field(required[10]);
    const auto check_health = integer(11, 0, max_id);
    if (!check_health) return bad_field(required[11]);
    const auto check_state = integer(12, 0, 0xffff);
    if (!check_state) return bad_field(required[12]);

    server.backend_id = static_cast<int>(*backend_id);
    server.backend = std::string(fields[at[1]]);
    server.server_id = static_cast<int>(*server_id);
    server.server = std::string(fields[at[3]]);
    server.address = std::string(fields[at[4]]);
    server.operational = static_cast<op_state>(*operational);
    server.admin = static_cast<unsigned>(*admin);
    server.user_weight = static_cast<int>(*user_weight);
    server.initial_weight = static_cast<int>(*initial_weight);
    server.check_status = static_cast<int>(*check_status);
    server.check_result = static_cast<int>(*check_result);
    server.check_health = static_cast<int>(*check_health);
    server.check_state = static_cast<unsigned>(*check_state);
    if (since_change_at) {
      if (const auto seconds = detail::to_integer<std::int64_t>(fields[*since_change_at]); seconds && *seconds >= 0)
        server.seconds_since_change = *seconds;
    }
    if (port_at) {
      if (const auto port = detail::to_integer<int>(fields[*port_at]); port && *port >= 0 && *port <= 65535)
        server.port = *port;
    }
    servers.push_back(std::move(server));
  }
  return servers;
}

// True for a name HAProxy accepts for a backend or server: letters, digits,
// '.', '-', '_' and ':'. Checked before a name goes into a command, so a name
// cannot smuggle a second command (';' separates commands) or break the line.
constexpr bool is_valid_name(std::string_view name) noexcept {
  if (name.empty()) return false;
  for (const char c : name) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                         c == '-' || c == '_' || c == ':';
    if (!allowed) return false;
  }
  return true;
}

}  // namespace haproxy
MEND_END_NAMESPACE

#endif  // MEND_ADAPTERS_HAPROXY_REPLY_HPP
