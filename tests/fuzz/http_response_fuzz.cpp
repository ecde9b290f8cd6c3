// libFuzzer target for the response handling of the HTTP connection adapter
// (include/mend/adapters/http_connection.hpp). It runs Boost.Beast's parser,
// the conversion to mend::http_response and its status_error(). See
// http_response_checks.hpp for what is checked.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http_response_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mend_test::check_http_response_parser(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
