// The faults the built-in AIF stand-in servers inject in the default mode,
// as time windows per endpoint.
#ifndef AX_CONNECTOR_FAULT_SCRIPT_HPP
#define AX_CONNECTOR_FAULT_SCRIPT_HPP

#include <mend/clock.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ax {

enum class fault_kind {
  http_500,            // HTTP 500 with IIS's HTML error page, no SOAP fault
  soap_server_fault,   // HTTP 500 with WCF's InternalServiceFault
  http_503,            // HTTP 503 with "Retry-After: 1"
  dropped_connection,  // the server closes the connection instead of responding
  no_answer,           // the server keeps the connection open and never responds
  slow_answer,         // the response is sent after slow_answer_delay
  down,                // the listener is closed: connections are refused
};

inline std::string_view to_string(fault_kind kind) noexcept {
  switch (kind) {
    case fault_kind::http_500: return "HTTP 500";
    case fault_kind::soap_server_fault: return "SOAP server fault";
    case fault_kind::http_503: return "HTTP 503";
    case fault_kind::dropped_connection: return "dropped connection";
    case fault_kind::no_answer: return "no answer";
    case fault_kind::slow_answer: return "slow answer";
    case fault_kind::down: return "down";
  }
  return "unknown";
}

// How long a slow answer is held back.
inline constexpr std::chrono::milliseconds slow_answer_delay{600};

// One fault on one endpoint for a time.
struct fault_window {
  std::string endpoint;
  mend::duration from{};  // since the start of the run
  mend::duration to{};
  fault_kind kind{};
  // The fault hits every n-th sales order request the endpoint receives in
  // the window; 1 hits all of them, health checks included. Ignored for
  // `down`.
  std::uint32_t every = 1;
};

struct fault_script {
  std::vector<fault_window> windows;

  // Returns the index of the window of `endpoint` in force at `elapsed`
  // that changes answers (all kinds but `down`), or nullopt.
  std::optional<std::size_t> answer_fault_at(std::string_view endpoint, mend::duration elapsed) const {
    for (std::size_t i = 0; i < windows.size(); ++i) {
      const auto& w = windows[i];
      if (w.endpoint == endpoint && w.kind != fault_kind::down && elapsed >= w.from && elapsed < w.to) return i;
    }
    return std::nullopt;
  }

  // The end of the last window: the faults have all cleared by then.
  mend::duration end() const {
    mend::duration out{};
    for (const auto& w : windows) out = std::max(out, w.to);
    return out;
  }
};

// [snippet:fault-script]
// The default mode's script on a reference timeline of 45 s, stretched or
// shrunk to `length`. It needs exactly two endpoints. The windows overlap,
// so one endpoint fails while the other carries the traffic, and for a while
// both have trouble.
inline fault_script demo_fault_script(const std::string& aos1, const std::string& aos2, mend::duration length) {
  using namespace std::chrono_literals;
  const double scale = std::chrono::duration<double>(length) / 45s;
  const auto at = [&](double seconds) {
    return std::chrono::duration_cast<mend::duration>(std::chrono::duration<double>(seconds * scale));
  };
  return {{
      {aos1, at(4), at(9), fault_kind::http_500, 3},
      {aos2, at(7), at(13), fault_kind::http_503, 1},
      {aos1, at(14), at(18), fault_kind::dropped_connection, 2},
      {aos2, at(17), at(29), fault_kind::down, 1},
      {aos1, at(20), at(24), fault_kind::no_answer, 4},
      {aos1, at(26), at(30), fault_kind::slow_answer, 1},
      {aos1, at(32), at(37), fault_kind::soap_server_fault, 1},
      {aos2, at(38), at(42), fault_kind::no_answer, 2},
  }};
}
// [/snippet]

// One line per window, e.g. "  aos1   3.2 s -  7.2 s  HTTP 500 (every 3rd request)".
inline std::string describe(const fault_script& script) {
  std::string out;
  for (const auto& w : script.windows) {
    std::string share;
    if (w.kind == fault_kind::slow_answer) share = fmt::format(" ({} delay)", slow_answer_delay);
    if (w.kind != fault_kind::down && w.every > 1) {
      std::string_view suffix = "th";
      if (w.every == 2) suffix = "nd";
      if (w.every == 3) suffix = "rd";
      share = fmt::format(" (every {}{} request)", w.every, suffix);
    } else if (w.kind != fault_kind::down && w.kind != fault_kind::slow_answer) {
      share = " (every request)";
    }
    out += fmt::format("  {:<6} {:5.1f} s - {:5.1f} s  {}{}\n", w.endpoint,
                       std::chrono::duration<double>(w.from).count(), std::chrono::duration<double>(w.to).count(),
                       to_string(w.kind), share);
  }
  return out;
}

}  // namespace ax

#endif  // AX_CONNECTOR_FAULT_SCRIPT_HPP
