// Runs the status server's request-head parser on one input and aborts when a
// result breaks what the parser promises. Shared by the libFuzzer target and
// the unit test that replays the seed corpus.
#ifndef MEND_TESTS_FUZZ_HTTP_REQUEST_CHECKS_HPP
#define MEND_TESTS_FUZZ_HTTP_REQUEST_CHECKS_HPP

#include <mend/detail/http_request.hpp>
#include <string_view>

#include "fuzz_check.hpp"

namespace mend_test {

inline void check_http_request_parser(std::string_view input) {
  namespace detail = mend::detail;

  // The server waits for a complete head: the first empty line ends it.
  const auto length = detail::http_head_length(input);
  MEND_FUZZ_CHECK(length <= input.size());
  if (length > 0) {
    MEND_FUZZ_CHECK(input[length - 1] == '\n');
    MEND_FUZZ_CHECK(detail::http_head_length(input.substr(0, length - 1)) == 0);
  }

  // The server parses only a complete head; the parser must also survive
  // the whole input.
  for (const auto head : {length > 0 ? input.substr(0, length) : input, input}) {
    const auto parsed = detail::parse_http_request_head(head);
    MEND_FUZZ_CHECK(parsed.status == 0 || parsed.status == 400 || parsed.status == 431 || parsed.status == 505);
    if (parsed.status != 0) {
      MEND_FUZZ_CHECK(!parsed.reason.empty());
      continue;
    }

    const auto& request = parsed.head;
    MEND_FUZZ_CHECK(detail::is_http_token(request.method));
    MEND_FUZZ_CHECK(request.version == "HTTP/1.0" || request.version == "HTTP/1.1");
    MEND_FUZZ_CHECK(!request.target.empty());
    for (const char c : request.target) {
      const auto byte = static_cast<unsigned char>(c);
      MEND_FUZZ_CHECK(byte > 0x20 && byte < 0x7F);
    }
    // The path routes the request, so it must be an absolute path without
    // the query or fragment.
    MEND_FUZZ_CHECK(!request.path.empty() && request.path.front() == '/');
    MEND_FUZZ_CHECK(request.path.find_first_of("?#") == std::string_view::npos);
    MEND_FUZZ_CHECK(request.target.find(request.path) != std::string_view::npos);

    MEND_FUZZ_CHECK(request.headers.size() <= detail::max_http_header_fields);
    for (const auto& [name, value] : request.headers) {
      MEND_FUZZ_CHECK(detail::is_http_token(name));
      MEND_FUZZ_CHECK(detail::ascii_lower(name) == name);
      MEND_FUZZ_CHECK(detail::is_http_field_value(value));
      MEND_FUZZ_CHECK(detail::trim_http_blanks(value) == value);
      MEND_FUZZ_CHECK(request.header(name).has_value());
      MEND_FUZZ_CHECK(request.header_count(name) >= 1);
    }
    if (request.version == "HTTP/1.1") MEND_FUZZ_CHECK(request.header_count("host") == 1);
  }
}

}  // namespace mend_test

#endif  // MEND_TESTS_FUZZ_HTTP_REQUEST_CHECKS_HPP
