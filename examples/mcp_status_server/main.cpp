// An MCP server over stdio that exposes the tool ax_get_self_healing_status.
//
// It runs a short simulated workload (a breaker, a retry policy and a pool on
// a manual clock) so the report has something to show. Then it reads JSON-RPC
// messages from stdin, one per line, and writes each response to stdout,
// until stdin closes. The caller's identity
// and roles come from the command line or a JSON configuration file:
//
//   mcp_status_server --caller ops --role MCP_Admin
//   mcp_status_server --config server.json
//
//   {"caller": "ops", "roles": ["MCP_Admin"], "required_role": "MCP_Admin",
//    "history_db": "/var/lib/connector/status.db"}
//
// Logs go to stderr; stdout carries only protocol messages.
#include "mcp_session.hpp"
#include "server_config.hpp"
#include "simulated_workload.hpp"

#include <mend/adapters/sqlite_history.hpp>
#include <mend/manual_clock.hpp>
#include <mend/status_reporter.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

// The maximum message size, in bytes. A longer line gets an invalid-request
// error response and is skipped.
constexpr std::size_t max_message_bytes = 1 << 20;

using mcp_status::server_config;

// Writes one log line to stderr. Lines pass through printable() again, so
// that a caller name or path with control characters cannot forge lines.
void log_line(std::string_view line) {
  fmt::print(stderr, "mcp_status_server: {}\n", mcp_status::printable(line, 2048));
}

const char* const usage =
    "usage: mcp_status_server [--caller NAME] [--role ROLE]... [--required-role ROLE]\n"
    "                         [--history-db PATH] [--config FILE]\n"
    "  --caller NAME         the caller's name in logs (default mcp-client)\n"
    "  --role ROLE           a role the caller has; repeat for several\n"
    "  --required-role ROLE  the role the status tool requires (default MCP_Admin)\n"
    "  --history-db PATH     keep the status history in this SQLite file\n"
    "  --config FILE         read these settings from a JSON file: caller, roles,\n"
    "                        required_role, history_db; later options override it\n";

// Parses the command line. Returns nullopt (after printing why) when the
// server should not start.
std::optional<server_config> parse_arguments(int argc, char** argv, int& exit_code) {
  server_config config;
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto option = args[i];
    if (option == "--help" || option == "-h") {
      fmt::print("{}", usage);
      exit_code = 0;
      return std::nullopt;
    }
    if (i + 1 >= args.size()) {
      fmt::print(stderr, "mcp_status_server: missing value for {}\n{}", option, usage);
      exit_code = 2;
      return std::nullopt;
    }
    const std::string value(args[++i]);
    if (option == "--caller") {
      config.caller.name = value;
    } else if (option == "--role") {
      config.caller.roles.push_back(value);
    } else if (option == "--required-role") {
      config.required_role = value;
    } else if (option == "--history-db") {
      config.history_db = value;
    } else if (option == "--config") {
      if (auto error = mcp_status::read_config_file(value, config); !error.empty()) {
        log_line(error);
        exit_code = 2;
        return std::nullopt;
      }
    } else {
      fmt::print(stderr, "mcp_status_server: unknown option {}\n{}", option, usage);
      exit_code = 2;
      return std::nullopt;
    }
  }
  if (config.required_role.empty()) {
    log_line("invalid --required-role: must not be empty");
    exit_code = 2;
    return std::nullopt;
  }
  return config;
}

// Reads one line of at most max_message_bytes into `line`. Returns false at
// the end of input; sets `oversized` when the line was longer and skipped.
bool read_message(std::istream& in, std::string& line, bool& oversized) {
  line.clear();
  oversized = false;
  char c = 0;
  bool any = false;
  while (in.get(c)) {
    any = true;
    if (c == '\n') break;
    if (line.size() < max_message_bytes) {
      line.push_back(c);
    } else {
      oversized = true;
    }
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return any;
}

}  // namespace

int main(int argc, char** argv) {
  int exit_code = 0;
  const auto config = parse_arguments(argc, argv, exit_code);
  if (!config) return exit_code;

  // The workload runs on a manual clock whose wall time starts now, so the
  // report's timestamps look like today's.
  const auto wall_now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  mend::manual_clock clock{{.wall_start = mend::wall_time{wall_now.time_since_epoch()}}};

  std::unique_ptr<mend::sqlite_history> store;
  if (!config->history_db.empty()) {
    store = std::make_unique<mend::sqlite_history>(mend::sqlite_history::options{.path = config->history_db});
    if (!store->ok()) log_line(store->error());
  }
  mend::status_reporter reporter{clock, {.required_role = config->required_role, .store = store.get()}};
  mcp_status::simulated_workload workload{clock, reporter};
  workload.run();

  log_line(fmt::format("serving {} on stdio for caller '{}' with roles [{}]", mcp_status::tool_name,
                       config->caller.name, fmt::join(config->caller.roles, ", ")));
  mcp_status::session session{reporter, config->caller, log_line};

  std::ios::sync_with_stdio(false);
  std::string line;
  bool oversized = false;
  while (read_message(std::cin, line, oversized)) {
    std::optional<std::string> response;
    if (oversized) {
      response = session.reject_oversized(max_message_bytes);
    } else if (line.find_first_not_of(" \t") == std::string::npos) {
      continue;  // blank lines carry no message
    } else {
      response = session.handle(line);
    }
    if (response) {
      std::cout << *response << '\n';
      std::cout.flush();
    }
  }
  log_line("stdin closed; stopping");
  return 0;
}
