// libFuzzer target for the JSON-RPC input of the MCP status server example
// (mcp_status::session::handle()). See mcp_session_checks.hpp for what is
// checked.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mcp_session_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mend_test::check_mcp_session(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
