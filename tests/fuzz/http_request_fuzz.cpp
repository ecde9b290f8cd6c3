// libFuzzer target for the request-head parser of the status HTTP server
// (include/mend/detail/http_request.hpp). See http_request_checks.hpp for
// what is checked.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http_request_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mend_test::check_http_request_parser(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
