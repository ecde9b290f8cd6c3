// Feeds one input, split into lines as the stdio transport splits it, to the
// JSON-RPC session of the MCP status server example
// (examples/mcp_status_server/mcp_session.hpp), once for an administrator and
// once for a caller without the role, and aborts when a response breaks
// JSON-RPC 2.0 or what the session promises. Shared by the libFuzzer target
// and the unit test that replays the seed corpus.
#ifndef MEND_TESTS_FUZZ_MCP_SESSION_CHECKS_HPP
#define MEND_TESTS_FUZZ_MCP_SESSION_CHECKS_HPP

#include <chrono>
#include <mend/circuit_breaker.hpp>
#include <mend/connection_pool.hpp>
#include <mend/manual_clock.hpp>
#include <mend/retry_policy.hpp>
#include <mend/status_reporter.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "fuzz_check.hpp"
#include "mcp_session.hpp"

namespace mend_test {

// A reporter with something in every section: an open breaker, a pool in
// recovery mode and a retry policy that gave up.
class mcp_fuzz_world {
 public:
  // The members are built here rather than by default member initializers,
  // with which GCC 12 leaves is_backend_failure undefined at link time.
  mcp_fuzz_world()
      : reporter_(clock_, {.history_capacity = 50}),
        breaker_(clock_, {.name = "ax_connection", .sink = &reporter_}),
        retry_(clock_, {.name = "aif_read", .sink = &reporter_}),
        pool_(clock_, []() -> mend::result<connection> { return std::make_error_code(std::errc::connection_refused); },
              {.name = "aif_pool", .sink = &reporter_}) {
    using namespace std::chrono_literals;
    breaker_.force_open("fuzz setup");
    clock_.run_due();
    (void)retry_.execute([]() -> mend::result<void> { return std::make_error_code(std::errc::timed_out); });
    clock_.advance(10s);
  }

  const mend::status_reporter& reporter() const noexcept { return reporter_; }

 private:
  struct connection {};

  mend::manual_clock clock_;
  mend::status_reporter reporter_;
  mend::circuit_breaker breaker_;
  mend::retry_policy retry_;
  mend::connection_pool<connection> pool_;
};

// Checks one response to `line`.
inline void check_mcp_response(std::string_view line, const std::optional<std::string>& response) {
  using mcp_status::json;
  const json request = json::parse(line.begin(), line.end(), nullptr, false);
  const bool is_object = !request.is_discarded() && request.is_object();

  if (!response) {
    // Only notifications and responses from the client go unanswered.
    MEND_FUZZ_CHECK(is_object);
    const bool notification = request.contains("method") && !request.contains("id");
    const bool client_response = !request.contains("method") && request.contains("id") &&
                                 (request.contains("result") || request.contains("error"));
    MEND_FUZZ_CHECK(notification || client_response);
    return;
  }

  // One message per line on the stdio transport.
  MEND_FUZZ_CHECK(response->find('\n') == std::string::npos);
  const json reply = json::parse(*response, nullptr, false);
  MEND_FUZZ_CHECK(!reply.is_discarded() && reply.is_object());
  MEND_FUZZ_CHECK(reply.value("jsonrpc", json()) == "2.0");
  MEND_FUZZ_CHECK(reply.contains("id"));
  MEND_FUZZ_CHECK(reply.contains("result") != reply.contains("error"));

  if (reply.contains("error")) {
    const auto& error = reply["error"];
    MEND_FUZZ_CHECK(error.is_object());
    MEND_FUZZ_CHECK(error.contains("code") && error["code"].is_number_integer());
    const int code = error["code"].get<int>();
    // An internal error means handle() caught an exception it did not expect.
    MEND_FUZZ_CHECK(code == mcp_status::parse_error || code == mcp_status::invalid_request ||
                    code == mcp_status::method_not_found || code == mcp_status::invalid_params);
    MEND_FUZZ_CHECK(error.contains("message") && error["message"].is_string());
  }

  // A request with a usable id gets it back.
  if (is_object && request.contains("method")) {
    const auto& id = request.contains("id") ? request["id"] : json();
    if (id.is_string() || id.is_number_integer()) MEND_FUZZ_CHECK(reply["id"] == id);
  }
}

inline void check_mcp_session(std::string_view input) {
  static const mcp_fuzz_world world;
  for (const bool admin : {true, false}) {
    mcp_status::session session{world.reporter(),
                                {"fuzzer", admin ? std::vector<std::string>{"MCP_Admin"} : std::vector<std::string>{}}};
    std::string_view rest = input;
    while (!rest.empty()) {
      const auto end = rest.find('\n');
      auto line = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.find_first_not_of(" \t") == std::string_view::npos) continue;  // the server skips blank lines
      check_mcp_response(line, session.handle(line));
    }
  }
}

}  // namespace mend_test

#endif  // MEND_TESTS_FUZZ_MCP_SESSION_CHECKS_HPP
