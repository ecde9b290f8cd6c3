// Parses one input as an HTTP/1.1 response the way http_connection::request()
// does (Boost.Beast's response parser, then mend::http_response and its
// status_error()), and aborts when a result breaks what the adapter promises.
// Shared by the libFuzzer target and the unit test that replays the seed
// corpus.
#ifndef MEND_TESTS_FUZZ_HTTP_RESPONSE_CHECKS_HPP
#define MEND_TESTS_FUZZ_HTTP_RESPONSE_CHECKS_HPP

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mend/adapters/http_connection.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"

namespace mend_test {

// Feeds `input` to a response parser as one read would, and returns the
// response as http_connection::request() builds it, or nullopt when the
// parser rejects the input or needs more of it.
// NOTE: this copies the conversion in http_connection::request(), which
// keeps it inline; keep the two in step.
inline std::optional<mend::http_response> parse_http_response(std::string_view input, std::size_t body_limit) {
  namespace http = boost::beast::http;
  http::response_parser<http::string_body> parser;
  parser.body_limit(body_limit);

  // The header first, then the body, as request() reads them.
  boost::beast::error_code ec;
  for (const bool eager : {false, true}) {
    parser.eager(eager);
    while (!input.empty() && !parser.is_done() && (eager || !parser.is_header_done())) {
      const auto used = parser.put(boost::asio::buffer(input.data(), input.size()), ec);
      if (ec == http::error::need_more) break;
      if (ec) return std::nullopt;
      if (used == 0) break;
      input.remove_prefix(used);
    }
  }
  if (!parser.is_done()) {
    // Nothing arrived: Beast's read ends with end_of_stream without asking
    // the parser, whose put_eof() requires some input.
    if (!parser.got_some()) return std::nullopt;
    // The server closed the connection: a body without a length ends here.
    ec = {};
    parser.put_eof(ec);
    if (ec || !parser.is_done()) return std::nullopt;
  }

  auto& res = parser.get();
  mend::http_response out;
  out.status = static_cast<int>(res.result_int());
  out.reason = std::string{res.reason()};
  for (const auto& field : res) out.headers.emplace_back(std::string{field.name_string()}, std::string{field.value()});
  out.body = std::move(res.body());
  return out;
}

inline void check_http_response_parser(std::string_view input) {
  constexpr std::size_t body_limit = 64 * 1024;
  const auto response = parse_http_response(input, body_limit);
  if (!response) return;

  MEND_FUZZ_CHECK(response->status >= 0 && response->status <= 999);
  MEND_FUZZ_CHECK(response->body.size() <= body_limit);
  // header() returns the first field of a name, compared without case.
  const auto same_name = [](std::string_view a, std::string_view b) {
    const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
  };
  for (const auto& field : response->headers) {
    const auto first = std::find_if(response->headers.begin(), response->headers.end(),
                                    [&](const auto& other) { return same_name(other.first, field.first); });
    MEND_FUZZ_CHECK(response->header(field.first) == first->second);
  }

  // The same response read at different wall times: a Retry-After date
  // gives a hint relative to the reading, never a negative one.
  const auto unix_time = [](std::int64_t s) { return mend::wall_time{std::chrono::seconds{s}}; };
  for (const auto now : {unix_time(0), unix_time(1'735'689'600), unix_time(7'258'118'400)}) {
    const auto ec = response->status_error(now);
    if (response->status < 400) {
      MEND_FUZZ_CHECK(!ec);
      continue;
    }
    MEND_FUZZ_CHECK(ec.category() == mend::http_category());
    MEND_FUZZ_CHECK(mend::http_status_of(ec) == std::clamp(response->status, 100, 999));
    if (const auto hint = mend::retry_after_of(ec)) {
      MEND_FUZZ_CHECK(hint->count() > 0 && hint->count() <= mend::detail::max_retry_after_seconds);
      MEND_FUZZ_CHECK(!response->header("Retry-After").empty());
    }
  }
}

}  // namespace mend_test

#endif  // MEND_TESTS_FUZZ_HTTP_RESPONSE_CHECKS_HPP
