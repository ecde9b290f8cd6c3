// The settings of the MCP status server and its JSON configuration file:
//
//   {"caller": "ops", "roles": ["MCP_Admin"], "required_role": "MCP_Admin",
//    "history_db": "/var/lib/connector/status.db"}
#ifndef MEND_EXAMPLES_MCP_SERVER_CONFIG_HPP
#define MEND_EXAMPLES_MCP_SERVER_CONFIG_HPP

#include "mcp_session.hpp"

#include <mend/status_reporter.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_status {

struct server_config {
  mend::caller_identity caller{"mcp-client", {}};
  std::string required_role = "MCP_Admin";
  std::string history_db;  // empty: history in memory only
};

namespace detail {

// The value of a field as it appears in the file, cut and escaped for a message.
inline std::string shown_value(const nlohmann::json& value) {
  return printable(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), 60);
}

}  // namespace detail

// Applies the JSON configuration `text`, read from `path`, to `config`.
// Returns an error message that names the file, the field and its value, or
// an empty string on success. Unknown fields are errors, so that a misspelt
// one is not silently ignored.
inline std::string parse_config(std::string_view path, std::string_view text, server_config& config) {
  const auto file = printable(path, 200);
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    return fmt::format("invalid configuration file '{}': not valid JSON at byte {}", file, e.byte);
  }
  if (!root.is_object())
    return fmt::format("invalid configuration file '{}': expected a JSON object, got {}", file,
                       detail::shown_value(root));

  const auto invalid = [&](std::string_view field, const nlohmann::json& value, std::string_view requirement) {
    return fmt::format("invalid configuration file '{}': \"{}\" = {} ({})", file, printable(field), detail::shown_value(value),
                       requirement);
  };
  for (const auto& [key, value] : root.items()) {
    if (key == "caller") {
      if (!value.is_string() || value.get_ref<const std::string&>().empty())
        return invalid(key, value, "must be a non-empty string");
      config.caller.name = value.get<std::string>();
    } else if (key == "roles") {
      if (!value.is_array()) return invalid(key, value, "must be an array of role names");
      std::vector<std::string> roles;
      for (const auto& role : value) {
        if (!role.is_string() || role.get_ref<const std::string&>().empty())
          return invalid(key, value, fmt::format("every role must be a non-empty string, not {}",
                                                 detail::shown_value(role)));
        roles.push_back(role.get<std::string>());
      }
      config.caller.roles = std::move(roles);
    } else if (key == "required_role") {
      if (!value.is_string() || value.get_ref<const std::string&>().empty())
        return invalid(key, value, "must be a non-empty string");
      config.required_role = value.get<std::string>();
    } else if (key == "history_db") {
      if (!value.is_string()) return invalid(key, value, "must be a path string");
      config.history_db = value.get<std::string>();
    } else {
      return invalid(key, value, "unknown field, expected caller, roles, required_role or history_db");
    }
  }
  return {};
}

// Reads the configuration file at `path` into `config`. Returns an error
// message, or an empty string on success.
inline std::string read_config_file(const std::string& path, server_config& config) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fmt::format("cannot open configuration file '{}'", printable(path, 200));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(path, text.str(), config);
}

}  // namespace mcp_status

#endif  // MEND_EXAMPLES_MCP_SERVER_CONFIG_HPP
