// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_DETAIL_HTML_ESCAPE_HPP
#define MEND_DETAIL_HTML_ESCAPE_HPP

#include <mend/version.hpp>

#include <cstddef>
#include <string>
#include <string_view>

MEND_BEGIN_NAMESPACE
namespace detail {

// The length of the valid UTF-8 sequence at the start of `text`, or 0 when
// it starts with an invalid one (a stray continuation byte, an overlong form,
// a surrogate, a code point above U+10FFFF or a truncated sequence).
inline std::size_t utf8_sequence_length(std::string_view text) noexcept {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const auto continuation = [&](std::size_t i) { return i < text.size() && (byte(i) & 0xC0) == 0x80; };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  if (lead < 0xC2) return 0;  // continuation byte, or an overlong two-byte form
  if (lead < 0xE0) return continuation(1) ? 2 : 0;
  if (lead < 0xF0) {
    if (!continuation(1) || !continuation(2)) return 0;
    if (lead == 0xE0 && byte(1) < 0xA0) return 0;  // overlong
    if (lead == 0xED && byte(1) >= 0xA0) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (lead < 0xF5) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
    if (lead == 0xF0 && byte(1) < 0x90) return 0;  // overlong
    if (lead == 0xF4 && byte(1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

// Appends `text` escaped for HTML: safe in element content, in a
// double- or single-quoted attribute value and in the text of inline SVG.
// & < > " ' become character references. Invalid UTF-8 and C0 control
// characters other than tab, line feed and carriage return become U+FFFD, so
// the page stays valid UTF-8 whatever a component name contains.
inline void append_html_escaped(std::string& out, std::string_view text) {
  constexpr std::string_view replacement = "\xEF\xBF\xBD";
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    switch (c) {
      case '&': out += "&amp;"; ++i; continue;
      case '<': out += "&lt;"; ++i; continue;
      case '>': out += "&gt;"; ++i; continue;
      case '"': out += "&quot;"; ++i; continue;
      case '\'': out += "&#39;"; ++i; continue;
      case '\t':
      case '\n':
      case '\r': out += c; ++i; continue;
      default: break;
    }
    if (static_cast<unsigned char>(c) < 0x20) {
      out += replacement;
      ++i;
      continue;
    }
    const auto length = utf8_sequence_length(text.substr(i));
    if (length == 0) {
      out += replacement;
      ++i;
      continue;
    }
    out.append(text.substr(i, length));
    i += length;
  }
}

inline std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_html_escaped(out, text);
  return out;
}

}  // namespace detail
MEND_END_NAMESPACE

#endif  // MEND_DETAIL_HTML_ESCAPE_HPP
