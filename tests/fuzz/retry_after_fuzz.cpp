// libFuzzer target for the Retry-After header parser (mend::parse_retry_after
// in include/mend/http_error.hpp). See retry_after_checks.hpp for what is
// checked.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "retry_after_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mend_test::check_retry_after_parser(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
