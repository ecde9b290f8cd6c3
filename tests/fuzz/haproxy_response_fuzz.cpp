// libFuzzer target for the HAProxy Runtime API reply parsers: every input is
// run through all of them (see haproxy_reply_checks.hpp for what is checked).
#include "haproxy_reply_checks.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mend_test::check_haproxy_reply_parsers(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
