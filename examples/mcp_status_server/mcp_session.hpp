// An MCP server session over the stdio transport: JSON-RPC 2.0 messages, one
// per line, as the Model Context Protocol specifies (revisions 2024-11-05 to
// 2025-11-25). It exposes one tool, ax_get_self_healing_status, which returns
// the status report of a mend::status_reporter to callers with the required
// role.
#ifndef MEND_EXAMPLES_MCP_SESSION_HPP
#define MEND_EXAMPLES_MCP_SESSION_HPP

#include <mend/adapters/status_json.hpp>
#include <mend/status_reporter.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace mcp_status {

using json = nlohmann::ordered_json;

// JSON-RPC 2.0 error codes.
inline constexpr int parse_error = -32700;
inline constexpr int invalid_request = -32600;
inline constexpr int method_not_found = -32601;
inline constexpr int invalid_params = -32602;
inline constexpr int internal_error = -32603;

inline constexpr std::string_view tool_name = "ax_get_self_healing_status";

// The protocol revisions this server supports, newest first. The initialize
// response names the client's revision when it is listed, else the newest.
inline constexpr std::array<std::string_view, 4> protocol_versions{"2025-11-25", "2025-06-18", "2025-03-26",
                                                                   "2024-11-05"};

// Makes text from a client safe for one log line, cut to `max_bytes`
// (followed by "..."). Control characters become \n, \r, \t, \xNN or
// \uNNNN: C0, DEL and C1 (U+0080 to U+009F, which some terminals take as
// escapes). So a method or tool name cannot move the cursor, recolour the
// terminal or forge further log lines. Other bytes, including invalid
// UTF-8, pass unchanged.
inline std::string printable(std::string_view text, std::size_t max_bytes = 80) {
  std::string out;
  const auto head = text.substr(0, max_bytes);
  for (std::size_t i = 0; i < head.size(); ++i) {
    const auto byte = static_cast<unsigned char>(head[i]);
    if (byte == '\n') {
      out += "\\n";
    } else if (byte == '\r') {
      out += "\\r";
    } else if (byte == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte == 0x7f) {
      out += fmt::format("\\x{:02x}", byte);
    } else if (byte == 0xc2 && i + 1 < head.size() && static_cast<unsigned char>(head[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(head[i + 1]) <= 0x9f) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(head[i + 1]));
      ++i;
    } else {
      out += head[i];
    }
  }
  if (text.size() > max_bytes) out += "...";
  return out;
}

// One client connection. handle() takes each incoming message and returns the
// line to send back, if any. Requests are accepted before initialize, because
// the protocol leaves that to the server and refusing them helps no one.
//
// Not thread-safe: the stdio transport delivers one message at a time.
class session {
 public:
  // `log` receives one line per notable event (denied calls, protocol
  // errors); pass an empty function to discard them.
  session(const mend::status_reporter& reporter, mend::caller_identity caller,
          std::function<void(std::string_view)> log = {})
      : reporter_(reporter), caller_(std::move(caller)), log_(std::move(log)) {}

  // Handles one JSON-RPC message. Returns the response, without a trailing
  // newline, or nullopt for a notification or a response from the client.
  // Never throws: an unexpected failure becomes an internal error response.
  std::optional<std::string> handle(std::string_view message) noexcept {
    try {
      return handle_unchecked(message);
    } catch (const std::exception& e) {
      note(fmt::format("internal error: {}", e.what()));
      return serialize(error_response(nullptr, internal_error, "Internal error"));
    } catch (...) {
      note("internal error: unknown exception");
      return serialize(error_response(nullptr, internal_error, "Internal error"));
    }
  }

  // Returns the response to a message larger than the transport accepts; the
  // message is not parsed, so the response has a null id.
  std::string reject_oversized(std::size_t limit) {
    note(fmt::format("rejected a message longer than {} bytes", limit));
    return serialize(
        error_response(nullptr, invalid_request, fmt::format("Invalid Request: message longer than {} bytes", limit)));
  }

  bool initialized() const noexcept { return initialized_; }
  const mend::caller_identity& caller() const noexcept { return caller_; }

 private:
  std::optional<std::string> handle_unchecked(std::string_view message) {
    json request = json::parse(message.begin(), message.end(), nullptr, false);
    if (request.is_discarded()) {
      note("rejected a message that is not valid JSON");
      return serialize(error_response(nullptr, parse_error, "Parse error"));
    }
    if (request.is_array()) {
      note("rejected a JSON-RPC batch");
      return serialize(error_response(nullptr, invalid_request, "Invalid Request: batches are not supported"));
    }
    if (!request.is_object()) return invalid(nullptr, "a message must be a JSON object");

    const auto method = request.find("method");
    const auto id = request.find("id");
    if (method == request.end()) {
      // A response from the client: this server sends no requests, so there
      // is nothing to match it with.
      if (id != request.end() && (request.contains("result") || request.contains("error"))) return std::nullopt;
      return invalid(nullptr, "missing \"method\"");
    }

    json id_value = nullptr;
    if (id != request.end()) {
      if (!id->is_string() && !id->is_number_integer()) return invalid(nullptr, "\"id\" must be a string or an integer");
      id_value = *id;
    }
    if (request.value("jsonrpc", json()) != "2.0") return invalid(id_value, "\"jsonrpc\" must be \"2.0\"");
    if (!method->is_string()) return invalid(id_value, "\"method\" must be a string");

    const auto params = request.find("params");
    if (params != request.end() && !params->is_object() && !params->is_array())
      return invalid(id_value, "\"params\" must be an object or an array");

    const std::string name = method->get<std::string>();
    if (id == request.end()) {
      handle_notification(name);
      return std::nullopt;
    }
    const json no_params = json::object();
    return serialize(handle_request(id_value, name, params != request.end() ? *params : no_params));
  }

  void handle_notification(const std::string& method) {
    if (method == "notifications/initialized") initialized_ = true;
    // Other notifications (cancelled, progress, roots changed) need nothing
    // from a server whose only tool returns at once.
  }

  json handle_request(const json& id, const std::string& method, const json& params) {
    if (method == "initialize") return result_response(id, initialize_result(params));
    if (method == "ping") return result_response(id, json::object());
    if (method == "tools/list") return result_response(id, json{{"tools", json::array({tool_description()})}});
    if (method == "tools/call") return call_tool(id, params);
    note(fmt::format("unknown method '{}'", printable(method)));
    return error_response(id, method_not_found, fmt::format("Method not found: {}", method));
  }

  json initialize_result(const json& params) const {
    std::string_view version = protocol_versions.front();
    if (params.is_object()) {
      const auto requested = params.find("protocolVersion");
      if (requested != params.end() && requested->is_string()) {
        for (const auto supported : protocol_versions)
          if (requested->get_ref<const std::string&>() == supported) version = supported;
      }
    }
    return json{{"protocolVersion", version},
                {"capabilities", {{"tools", {{"listChanged", false}}}}},
                {"serverInfo", {{"name", "mend-status-server"}, {"version", "0.1.0"}}},
                {"instructions",
                 "Call ax_get_self_healing_status to see circuit breakers, connection pools, retries, the "
                 "history of recoveries and trends of the AX connector. It requires the administrator role."}};
  }

  static json tool_description() {
    json output_schema = {
        {"type", "object"},
        {"properties",
         {{"circuit_breakers", {{"type", "array"}}},
          {"connection_pools", {{"type", "array"}}},
          {"retry_stats",
           {{"type", "object"},
            {"properties",
             {{"total_retries", {{"type", "integer"}}},
              {"successful_retries", {{"type", "integer"}}},
              {"failed_retries", {{"type", "integer"}}}}},
            {"required", {"total_retries", "successful_retries", "failed_retries"}}}},
          {"history", {{"type", "object"}}},
          {"trends", {{"type", "object"}}}}},
        {"required", {"circuit_breakers", "connection_pools", "retry_stats", "history", "trends"}}};
    return json{{"name", tool_name},
                {"title", "AX connector self-healing status"},
                {"description",
                 "Returns the state of every circuit breaker and connection pool of the AX connector, retry "
                 "counts, the recent history of transitions and recoveries, and per-minute trends. Requires the "
                 "administrator role."},
                {"inputSchema", {{"type", "object"}, {"properties", json::object()}, {"additionalProperties", false}}},
                {"outputSchema", std::move(output_schema)},
                {"annotations", {{"readOnlyHint", true}, {"idempotentHint", true}, {"openWorldHint", false}}}};
  }

  json call_tool(const json& id, const json& params) {
    if (!params.is_object()) return error_response(id, invalid_params, "Invalid params: expected an object");
    const auto name = params.find("name");
    if (name == params.end() || !name->is_string())
      return error_response(id, invalid_params, "Invalid params: \"name\" must be a string");
    if (name->get_ref<const std::string&>() != tool_name) {
      note(fmt::format("unknown tool '{}'", printable(name->get_ref<const std::string&>())));
      return error_response(id, invalid_params, fmt::format("Unknown tool: {}", name->get_ref<const std::string&>()));
    }
    const auto arguments = params.find("arguments");
    if (arguments != params.end() && !arguments->is_null()) {
      if (!arguments->is_object())
        return error_response(id, invalid_params, "Invalid params: \"arguments\" must be an object");
      // Tool input errors go back as a tool result, so the model can read them.
      if (!arguments->empty())
        return result_response(id, tool_error(fmt::format("{} takes no arguments; remove \"{}\"", tool_name,
                                                           arguments->begin().key())));
    }

    auto report = mend::get_self_healing_status_json(reporter_, caller_);
    if (!report) {
      note(fmt::format("denied {} to caller '{}': {} (requires role {})", tool_name, caller_.name,
                       report.error().message(), reporter_.required_role()));
      return result_response(id, tool_error(fmt::format("permission denied: caller '{}' does not have the role {}",
                                                         caller_.name, reporter_.required_role())));
    }
    json result;
    result["content"] = json::array({{{"type", "text"}, {"text", serialize(report.value())}}});
    result["structuredContent"] = std::move(report).value();
    result["isError"] = false;
    return result_response(id, std::move(result));
  }

  static json tool_error(std::string text) {
    return json{{"content", json::array({{{"type", "text"}, {"text", std::move(text)}}})}, {"isError", true}};
  }

  static json result_response(const json& id, json result) {
    return json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
  }

  static json error_response(const json& id, int code, std::string message) {
    return json{{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", std::move(message)}}}};
  }

  std::optional<std::string> invalid(const json& id, std::string_view why) {
    note(fmt::format("rejected an invalid request: {}", why));
    return serialize(error_response(id, invalid_request, fmt::format("Invalid Request: {}", why)));
  }

  // One line of JSON; invalid UTF-8 (say, in a configured caller name) is
  // replaced rather than thrown on.
  static std::string serialize(const json& value) {
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
  }

  // Logs the first max_logged notes, then only counts them, so a client that
  // floods the server with bad messages cannot flood the log. Each line goes
  // through printable() as well, because exception texts and the caller's
  // name can also carry control characters.
  void note(std::string_view line) {
    ++notes_;
    if (!log_ || notes_ > max_logged) return;
    log_(printable(line, max_note_bytes));
    if (notes_ == max_logged) log_("further protocol notes are counted, not logged");
  }

  static constexpr std::uint64_t max_logged = 100;
  static constexpr std::size_t max_note_bytes = 1024;

  const mend::status_reporter& reporter_;
  const mend::caller_identity caller_;
  std::function<void(std::string_view)> log_;
  bool initialized_ = false;
  std::uint64_t notes_ = 0;
};

}  // namespace mcp_status

#endif  // MEND_EXAMPLES_MCP_SESSION_HPP
