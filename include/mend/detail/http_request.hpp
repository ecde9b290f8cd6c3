// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_DETAIL_HTTP_REQUEST_HPP
#define MEND_DETAIL_HTTP_REQUEST_HPP

// A strict parser for the head of an HTTP/1.x request (RFC 9112), for the
// status server. Pure functions on strings, so tests and fuzzers call them
// without sockets.

#include <mend/version.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

MEND_BEGIN_NAMESPACE
namespace detail {

// The parts of a request head the status server uses.
struct http_request_head {
  std::string method;
  std::string target;   // as sent, e.g. "/status.json?x=1"
  std::string path;     // the target up to '?' or '#'; for the absolute form, the part after the authority
  std::string version;  // "HTTP/1.0" or "HTTP/1.1"
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case, values without surrounding blanks

  // Returns the value of the header `lower_name`, or nullopt when absent.
  std::optional<std::string_view> header(std::string_view lower_name) const {
    for (const auto& [name, value] : headers)
      if (name == lower_name) return std::string_view{value};
    return std::nullopt;
  }

  std::size_t header_count(std::string_view lower_name) const {
    std::size_t count = 0;
    for (const auto& [name, value] : headers) count += name == lower_name;
    return count;
  }
};

// The outcome of parsing: a head, or the status code to reject it with and
// a short reason for the log.
struct http_parse_result {
  int status = 0;  // 0 when `head` is valid; else 400, 431 or 505
  std::string reason;
  http_request_head head;
};

// The maximum number of header fields in a request.
inline constexpr std::size_t max_http_header_fields = 100;

// Returns the length of the request head in `buffer`, including the empty
// line that ends it (CRLF CRLF, or LF LF as RFC 9112 lets a server accept),
// or 0 when the head is not complete yet.
inline std::size_t http_head_length(std::string_view buffer) noexcept {
  for (std::size_t i = 0; i < buffer.size(); ++i) {
    if (buffer[i] != '\n') continue;
    if (i + 1 < buffer.size() && buffer[i + 1] == '\n') return i + 2;
    if (i + 2 < buffer.size() && buffer[i + 1] == '\r' && buffer[i + 2] == '\n') return i + 3;
  }
  return 0;
}

// RFC 9110 tchar, the characters of a method or a header name.
constexpr bool is_http_token_char(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~': return true;
    default: return false;
  }
}

constexpr bool is_http_token(std::string_view text) noexcept {
  if (text.empty()) return false;
  for (const char c : text)
    if (!is_http_token_char(c)) return false;
  return true;
}

// A field value may hold visible characters, spaces, tabs and bytes >= 0x80.
constexpr bool is_http_field_value(std::string_view value) noexcept {
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte == '\t') continue;
    if (byte < 0x20 || byte == 0x7F) return false;
  }
  return true;
}

inline std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

inline std::string_view trim_http_blanks(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Splits `head` (as measured by http_head_length) into lines, accepting
// CRLF or a bare LF as the line end; a CR anywhere else is an error.
inline std::optional<std::vector<std::string_view>> split_http_lines(std::string_view head) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  for (std::size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '\r' && (i + 1 >= head.size() || head[i + 1] != '\n')) return std::nullopt;
    if (head[i] != '\n') continue;
    auto line = head.substr(start, i - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = i + 1;
  }
  return lines;
}

// The path of a request target: origin form ("/a?b") or absolute form
// ("http://host/a?b"); nullopt for the authority and asterisk forms.
inline std::optional<std::string> http_target_path(std::string_view target) {
  if (target.empty()) return std::nullopt;
  for (const char c : target) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7F) return std::nullopt;
  }
  if (target.front() != '/') {
    const auto lower = ascii_lower(target.substr(0, 8));
    std::size_t scheme = 0;
    if (lower.starts_with("http://")) scheme = 7;
    if (lower.starts_with("https://")) scheme = 8;
    if (scheme == 0) return std::nullopt;
    const auto slash = target.find('/', scheme);
    target = slash == std::string_view::npos ? std::string_view{"/"} : target.substr(slash);
  }
  const auto end = target.find_first_of("?#");
  return std::string(target.substr(0, end));
}

// Parses a request head: the request line "METHOD target HTTP/1.x" and the
// header fields. Rejects with 400 a malformed line, a field without a colon
// or with blanks before it, a folded line, control characters, and an
// HTTP/1.1 request without exactly one Host; with 431 more than
// max_http_header_fields fields; with 505 a version other than 1.0 and 1.1.
inline http_parse_result parse_http_request_head(std::string_view head) {
  http_parse_result out;
  const auto reject = [&](int status, std::string reason) {
    out.status = status;
    out.reason = std::move(reason);
    return out;
  };

  auto lines = split_http_lines(head);
  if (!lines) return reject(400, "bare CR in the request head");
  // RFC 9112 section 2.2: ignore empty lines received before the request line.
  std::size_t first = 0;
  while (first < lines->size() && (*lines)[first].empty()) ++first;
  if (first == lines->size()) return reject(400, "empty request");

  const auto request_line = (*lines)[first];
  const auto space1 = request_line.find(' ');
  const auto space2 = space1 == std::string_view::npos ? space1 : request_line.find(' ', space1 + 1);
  if (space2 == std::string_view::npos || request_line.find(' ', space2 + 1) != std::string_view::npos)
    return reject(400, "malformed request line");
  const auto method = request_line.substr(0, space1);
  const auto target = request_line.substr(space1 + 1, space2 - space1 - 1);
  const auto version = request_line.substr(space2 + 1);
  if (!is_http_token(method)) return reject(400, "malformed method");
  const auto path = http_target_path(target);
  if (!path) return reject(400, "malformed request target");
  if (version.size() != 8 || !version.starts_with("HTTP/") || version[6] != '.' || version[5] < '0' ||
      version[5] > '9' || version[7] < '0' || version[7] > '9')
    return reject(400, "malformed HTTP version");
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return reject(505, "unsupported HTTP version");

  out.head.method = std::string(method);
  out.head.target = std::string(target);
  out.head.path = *path;
  out.head.version = std::string(version);

  for (std::size_t i = first + 1; i < lines->size(); ++i) {
    const auto line = (*lines)[i];
    if (line.empty()) break;  // the end of the head
    if (line.front() == ' ' || line.front() == '\t') return reject(400, "folded header line");
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return reject(400, "header line without a colon");
    const auto name = line.substr(0, colon);
    if (!is_http_token(name)) return reject(400, "malformed header name");
    const auto value = trim_http_blanks(line.substr(colon + 1));
    if (!is_http_field_value(value)) return reject(400, "control character in a header value");
    if (out.head.headers.size() == max_http_header_fields) return reject(431, "too many header fields");
    out.head.headers.emplace_back(ascii_lower(name), std::string(value));
  }

  if (out.head.version == "HTTP/1.1" && out.head.header_count("host") != 1)
    return reject(400, "HTTP/1.1 request without exactly one Host header");
  return out;
}

}  // namespace detail
MEND_END_NAMESPACE

#endif  // MEND_DETAIL_HTTP_REQUEST_HPP
