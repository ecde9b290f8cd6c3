#include "mcp_session.hpp"
#include "server_config.hpp"

#include <mend/circuit_breaker.hpp>
#include <mend/manual_clock.hpp>
#include <mend/status_reporter.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using mcp_status::json;

// A reporter with one open breaker, and a session per caller.
struct fixture {
  mend::manual_clock clock;
  mend::status_reporter reporter{clock};
  mend::circuit_breaker breaker;
  std::vector<std::string> log;

  // The breaker is built here rather than by a default member initializer,
  // which makes GCC 12 crash (internal compiler error in nothrow_spec_p).
  fixture() : breaker(clock, {.name = "ax_connection", .sink = &reporter}) { breaker.force_open(); }

  mcp_status::session session_for(std::vector<std::string> roles) {
    return mcp_status::session{reporter, {"tester", std::move(roles)},
                               [this](std::string_view line) { log.emplace_back(line); }};
  }
};

json respond(mcp_status::session& session, std::string_view message) {
  const auto response = session.handle(message);
  REQUIRE(response);
  CHECK(response->find('\n') == std::string::npos);  // the stdio transport is one message per line
  return json::parse(*response);
}

int error_code_of(const json& response) { return response.at("error").at("code").get<int>(); }

const char* const call_status = R"({"jsonrpc":"2.0","id":3,"method":"tools/call",
  "params":{"name":"ax_get_self_healing_status","arguments":{}}})";

}  // namespace

TEST_CASE("initialize echoes a supported protocol version", "[mcp_session]") {
  fixture f;
  auto session = f.session_for({});

  auto response = respond(session, R"({"jsonrpc":"2.0","id":1,"method":"initialize",
    "params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})");
  CHECK(response["id"] == 1);
  CHECK(response["result"]["protocolVersion"] == "2025-03-26");
  CHECK(response["result"]["capabilities"]["tools"]["listChanged"] == false);
  CHECK(response["result"]["serverInfo"]["name"] == "mend-status-server");

  response = respond(session, R"({"jsonrpc":"2.0","id":2,"method":"initialize",
    "params":{"protocolVersion":"1999-01-01"}})");
  CHECK(response["result"]["protocolVersion"] == "2025-11-25");
}

TEST_CASE("initialized notification gets no response", "[mcp_session]") {
  fixture f;
  auto session = f.session_for({});
  CHECK_FALSE(session.initialized());
  CHECK_FALSE(session.handle(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"));
  CHECK(session.initialized());
  CHECK_FALSE(session.handle(R"({"jsonrpc":"2.0","method":"notifications/no_such_thing"})"));
  CHECK_FALSE(session.handle(R"({"jsonrpc":"2.0","id":9,"result":{}})"));  // a response from the client
}

TEST_CASE("ping returns an empty result", "[mcp_session]") {
  fixture f;
  auto session = f.session_for({});
  const auto response = respond(session, R"({"jsonrpc":"2.0","id":"ping-1","method":"ping"})");
  CHECK(response["id"] == "ping-1");
  CHECK(response["result"] == json::object());
}

TEST_CASE("tools list names the status tool", "[mcp_session]") {
  fixture f;
  auto session = f.session_for({});
  const auto response = respond(session, R"({"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}})");
  const auto& tools = response["result"]["tools"];
  REQUIRE(tools.size() == 1);
  CHECK(tools[0]["name"] == "ax_get_self_healing_status");
  CHECK(tools[0]["inputSchema"]["type"] == "object");
  CHECK(tools[0]["outputSchema"]["required"].size() == 5);
  CHECK(tools[0]["annotations"]["readOnlyHint"] == true);
}

TEST_CASE("admin call returns the report", "[mcp_session]") {
  fixture f;
  auto session = f.session_for({"MCP_Admin"});
  const auto response = respond(session, call_status);

  CHECK(response["id"] == 3);
  const auto& result = response["result"];
  CHECK(result["isError"] == false);
  const auto& report = result["structuredContent"];
  CHECK(report["circuit_breakers"][0]["name"] == "ax_connection");
  CHECK(report["circuit_breakers"][0]["state"] == "OPEN");
  CHECK(report["retry_stats"]["total_retries"] == 0);
  CHECK(report["history"]["entries"].size() == 1);
  // The text content carries the same report, for clients without structured output.
  CHECK(json::parse(result["content"][0]["text"].get<std::string>()) == report);
  CHECK(result["content"][0]["type"] == "text");
}

TEST_CASE("call without the role is refused", "[mcp_session]") {
  fixture f;
  auto session = f.session_for({"MCP_Viewer"});
  const auto raw = session.handle(call_status);
  REQUIRE(raw);
  const auto response = json::parse(*raw);

  CHECK(response["result"]["isError"] == true);
  CHECK(response["result"]["content"][0]["text"] ==
        "permission denied: caller 'tester' does not have the role MCP_Admin");
  CHECK_FALSE(response["result"].contains("structuredContent"));
  CHECK(raw->find("ax_connection") == std::string::npos);
  REQUIRE(f.log.size() == 1);
  CHECK(f.log[0] ==
        "denied ax_get_self_healing_status to caller 'tester': permission denied (requires role MCP_Admin)");
}

TEST_CASE("malformed json is a parse error", "[mcp_session]") {
  fixture f;
  auto session = f.session_for({});
  for (const auto* message : {"{", "{\"jsonrpc\":\"2.0\",", "not json", "", "{\"a\":1}}", "\xff\xfe"}) {
    const auto response = respond(session, message);
    CHECK(error_code_of(response) == -32700);
    CHECK(response["id"].is_null());
  }
}

TEST_CASE("invalid requests get invalid request errors", "[mcp_session]") {
  fixture f;
  auto session = f.session_for({});
  struct case_row {
    const char* message;
    json id;
  };
  const std::vector<case_row> rows{
      {"42", nullptr},
      {"\"ping\"", nullptr},
      {"null", nullptr},
      {"[]", nullptr},
      {R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])", nullptr},
      {R"({"jsonrpc":"2.0","id":1})", nullptr},
      {R"({"id":1,"method":"ping"})", 1},
      {R"({"jsonrpc":"1.0","id":1,"method":"ping"})", 1},
      {R"({"jsonrpc":2.0,"id":1,"method":"ping"})", 1},
      {R"({"jsonrpc":"2.0","id":1,"method":7})", 1},
      {R"({"jsonrpc":"2.0","id":1,"method":"ping","params":"x"})", 1},
      {R"({"jsonrpc":"2.0","id":{"a":1},"method":"ping"})", nullptr},
      {R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})", nullptr},
      {R"({"jsonrpc":"2.0","id":true,"method":"ping"})", nullptr},
      {R"({"jsonrpc":"2.0","id":null,"method":"ping"})", nullptr},
  };
  for (const auto& row : rows) {
    INFO(row.message);
    const auto response = respond(session, row.message);
    CHECK(error_code_of(response) == -32600);
    CHECK(response["id"] == row.id);
  }
}

TEST_CASE("logged method and tool names are escaped", "[mcp_session]") {
  fixture f;
  auto session = f.session_for({"MCP_Admin"});
  (void)respond(session, R"({"jsonrpc":"2.0","id":1,"method":"evil\u001b[2J\nforged line\u009b31m"})");
  (void)respond(session, R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"x\r\u0007y"}})");
  (void)respond(session, R"({"jsonrpc":"2.0","id":3,"method":")" + std::string(5000, 'm') + "\"}");

  REQUIRE(f.log.size() == 3);
  CHECK(f.log[0] == "unknown method 'evil\\x1b[2J\\nforged line\\u009b31m'");
  CHECK(f.log[1] == "unknown tool 'x\\r\\x07y'");
  CHECK(f.log[2] == "unknown method '" + std::string(80, 'm') + "...'");
}

TEST_CASE("printable keeps text and escapes controls", "[mcp_session]") {
  CHECK(mcp_status::printable("tools/list") == "tools/list");
  CHECK(mcp_status::printable("caf\xc3\xa9") == "caf\xc3\xa9");
  CHECK(mcp_status::printable("a\tb\x7f") == "a\\tb\\x7f");
  CHECK(mcp_status::printable(std::string_view{"nul\0end", 7}) == "nul\\x00end");
  CHECK(mcp_status::printable("abcdef", 3) == "abc...");
}

TEST_CASE("unknown method is method not found", "[mcp_session]") {
  fixture f;
  auto session = f.session_for({});
  const auto response = respond(session, R"({"jsonrpc":"2.0","id":"a-7","method":"resources/list"})");
  CHECK(error_code_of(response) == -32601);
  CHECK(response["error"]["message"] == "Method not found: resources/list");
  CHECK(response["id"] == "a-7");
}

TEST_CASE("bad tool calls are invalid params", "[mcp_session]") {
  fixture f;
  auto session = f.session_for({"MCP_Admin"});
  for (const auto* message : {
           R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"no_such_tool"}})",
           R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}})",
           R"({"jsonrpc":"2.0","id":1,"method":"tools/call"})",
           R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":5}})",
           R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":["ax_get_self_healing_status"]})",
           R"({"jsonrpc":"2.0","id":1,"method":"tools/call",
               "params":{"name":"ax_get_self_healing_status","arguments":[1]}})",
       }) {
    INFO(message);
    const auto response = respond(session, message);
    CHECK(error_code_of(response) == -32602);
    CHECK(response["id"] == 1);
  }
}

TEST_CASE("unexpected tool arguments are a tool error", "[mcp_session]") {
  fixture f;
  auto session = f.session_for({"MCP_Admin"});
  const auto response = respond(session, R"({"jsonrpc":"2.0","id":1,"method":"tools/call",
    "params":{"name":"ax_get_self_healing_status","arguments":{"verbose":true}}})");
  CHECK(response["result"]["isError"] == true);
  CHECK(response["result"]["content"][0]["text"] ==
        "ax_get_self_healing_status takes no arguments; remove \"verbose\"");
}

TEST_CASE("hostile input never throws", "[mcp_session]") {
  fixture f;
  auto session = f.session_for({"MCP_Admin"});
  const std::string deep_array = std::string(100000, '[') + std::string(100000, ']');
  const std::string deep_params =
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":)" +
      std::string(50000, '[') + std::string(50000, ']') + "}}";
  const std::string with_nul = std::string(R"({"jsonrpc":"2.0","id":1,"method":"pi)") + '\0' + "ng\"}";
  const std::vector<std::string> messages{
      deep_array,
      deep_params,
      with_nul,
      R"({"jsonrpc":"2.0","id":99999999999999999999999,"method":"ping"})",
      R"({"jsonrpc":"2.0","id":-9223372036854775808,"method":"ping"})",
      R"({"jsonrpc":"2.0","id":"\ud800","method":"ping"})",
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":{}}})",
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":[]})",
      std::string(1000, ' '),
  };
  for (const auto& message : messages) {
    const auto response = session.handle(message);
    REQUIRE(response);
    CHECK(json::accept(*response));
  }
}

TEST_CASE("protocol notes are logged up to a limit", "[mcp_session]") {
  fixture f;
  auto session = f.session_for({});
  for (int i = 0; i < 150; ++i) (void)session.handle("not json");
  CHECK(f.log.size() == 101);
  CHECK(f.log.back() == "further protocol notes are counted, not logged");
}

TEST_CASE("oversized message is rejected with a null id", "[mcp_session]") {
  fixture f;
  auto session = f.session_for({});
  const auto response = json::parse(session.reject_oversized(1024));
  CHECK(error_code_of(response) == -32600);
  CHECK(response["id"].is_null());
  CHECK(response["error"]["message"] == "Invalid Request: message longer than 1024 bytes");
}

TEST_CASE("config file sets every field", "[mcp_session]") {
  mcp_status::server_config config;
  const auto error = mcp_status::parse_config(
      "server.json",
      R"({"caller": "ops", "roles": ["MCP_Admin", "MCP_Viewer"], "required_role": "MCP_Viewer",
          "history_db": "/tmp/status.db"})",
      config);

  CHECK(error.empty());
  CHECK(config.caller.name == "ops");
  CHECK(config.caller.roles == std::vector<std::string>{"MCP_Admin", "MCP_Viewer"});
  CHECK(config.required_role == "MCP_Viewer");
  CHECK(config.history_db == "/tmp/status.db");
}

TEST_CASE("config errors name file, field and value", "[mcp_session]") {
  struct config_case {
    std::string text;
    std::string error;
  };
  const std::vector<config_case> cases{
      {R"({"caller": 42})",
       R"(invalid configuration file 'server.json': "caller" = 42 (must be a non-empty string))"},
      {R"({"roles": ["MCP_Admin", 7]})",
       R"(invalid configuration file 'server.json': "roles" = ["MCP_Admin",7] (every role must be a non-empty )"
       R"(string, not 7))"},
      {R"({"roles": "MCP_Admin"})",
       R"(invalid configuration file 'server.json': "roles" = "MCP_Admin" (must be an array of role names))"},
      {R"({"required_role": ""})",
       R"(invalid configuration file 'server.json': "required_role" = "" (must be a non-empty string))"},
      {R"({"history_db": false})",
       R"(invalid configuration file 'server.json': "history_db" = false (must be a path string))"},
      {R"({"rolse": ["MCP_Admin"]})",
       R"(invalid configuration file 'server.json': "rolse" = ["MCP_Admin"] (unknown field, expected caller, )"
       R"(roles, required_role or history_db))"},
      {"[1, 2]", "invalid configuration file 'server.json': expected a JSON object, got [1,2]"},
      {R"({"caller": "ops",})", "invalid configuration file 'server.json': not valid JSON at byte 18"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    mcp_status::server_config config;
    CHECK(mcp_status::parse_config("server.json", c.text, config) == c.error);
  }
}

TEST_CASE("config value in an error is escaped", "[mcp_session]") {
  mcp_status::server_config config;
  const auto error = mcp_status::parse_config("server.json", "{\"caller\": [\"a\\u001b[31mb\"]}", config);
  CHECK(error == R"(invalid configuration file 'server.json': "caller" = ["a\u001b[31mb"] (must be a non-empty )"
                 R"(string))");
}

TEST_CASE("missing config file is named", "[mcp_session]") {
  mcp_status::server_config config;
  CHECK(mcp_status::read_config_file("/tmp/mend-no-such-dir/server.json", config) ==
        "cannot open configuration file '/tmp/mend-no-such-dir/server.json'");
}
