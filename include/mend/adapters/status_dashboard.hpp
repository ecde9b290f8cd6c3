// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_ADAPTERS_STATUS_DASHBOARD_HPP
#define MEND_ADAPTERS_STATUS_DASHBOARD_HPP

// Renders a status report as one self-contained HTML page: inline CSS and
// SVG, no script, no external font, style or image. Needs only the core
// (C++20, Boost, fmt); adapters/status_http_server.hpp serves the page live.

#include <mend/circuit_state.hpp>
#include <mend/clock.hpp>
#include <mend/detail/dashboard_svg.hpp>
#include <mend/detail/html_escape.hpp>
#include <mend/detail/iso8601.hpp>
#include <mend/event.hpp>
#include <mend/status_reporter.hpp>
#include <mend/version.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

MEND_BEGIN_NAMESPACE

// Options of to_html().
struct dashboard_options {
  // The page title and heading.
  std::string title = "Self-healing status";
  // Live mode: the page reloads itself this often (a <meta http-equiv="refresh">).
  // Without it the page is static, e.g. a file written at the end of a run.
  std::optional<std::chrono::seconds> refresh = std::nullopt;
  // The rendering time the page shows. Defaults to the snapshot's generated_at.
  std::optional<wall_time> rendered_at = std::nullopt;
  // The newest history entries shown; the JSON report has all of them.
  std::size_t max_history_rows = 200;
  // With this many breakers or more, those without a transition in the span
  // are folded into one expandable list below the others.
  std::size_t fold_steady_breakers_from = 20;
  // A link to the JSON report shown in the header, e.g. "status.json"; none
  // when empty. Used as an attribute value, so it is escaped like any text.
  std::string json_href = {};
};

namespace detail {

// The health class of a state. The CSS gives each a colour and a symbol,
// and the state's own name is always shown as text next to it.
enum class health_level { ok, warn, bad, unknown };

constexpr std::string_view to_string(health_level level) noexcept {
  switch (level) {
    case health_level::ok: return "ok";
    case health_level::warn: return "warn";
    case health_level::bad: return "bad";
    case health_level::unknown: return "unknown";
  }
  return "unknown";
}

// Orders rows so that the components that need attention come first.
constexpr int attention_rank(health_level level) noexcept {
  switch (level) {
    case health_level::bad: return 0;
    case health_level::warn: return 1;
    case health_level::unknown: return 2;
    case health_level::ok: return 3;
  }
  return 3;
}

constexpr health_level health_of(circuit_state state) noexcept {
  switch (state) {
    case circuit_state::closed: return health_level::ok;
    case circuit_state::half_open: return health_level::warn;
    case circuit_state::open: return health_level::bad;
  }
  return health_level::unknown;
}

constexpr health_level health_of(pool_health health) noexcept {
  switch (health) {
    case pool_health::healthy: return health_level::ok;
    case pool_health::degraded: return health_level::warn;
    case pool_health::recovering: return health_level::bad;
  }
  return health_level::unknown;
}

// Endpoint health and rotation as the health checker and balancer spell them.
inline health_level endpoint_health_level(std::string_view health) noexcept {
  if (health.empty()) return health_level::unknown;
  if (health == "healthy") return health_level::ok;
  if (health == "unhealthy") return health_level::bad;
  return health_level::warn;
}

inline health_level rotation_level(std::string_view rotation) noexcept {
  if (rotation.empty()) return health_level::unknown;
  if (rotation == "in") return health_level::ok;
  if (rotation == "out") return health_level::bad;
  return health_level::warn;
}

// The worse of an endpoint's health and rotation; unknown only if both are.
inline health_level health_of(const endpoint_status& endpoint) noexcept {
  const auto health = endpoint_health_level(endpoint.health);
  const auto rotation = rotation_level(endpoint.rotation);
  if (health == health_level::unknown) return rotation;
  if (rotation == health_level::unknown) return health;
  return attention_rank(health) <= attention_rank(rotation) ? health : rotation;
}

inline health_level rollout_level(std::string_view phase) noexcept {
  if (phase == "promoted") return health_level::ok;
  if (phase == "rolled_back") return health_level::bad;
  if (phase == "in_progress") return health_level::warn;
  return health_level::unknown;
}

// The em dash shown for a value the report does not have.
inline constexpr std::string_view no_value = "\xE2\x80\x94";

// "half_open" reads "half-open".
inline std::string state_label(std::string_view state) {
  std::string label(state);
  std::replace(label.begin(), label.end(), '_', '-');
  return label;
}

// "breaker_state_changed" reads "breaker state changed".
inline std::string event_label(event_kind kind) {
  std::string label(to_string(kind));
  std::replace(label.begin(), label.end(), '_', ' ');
  return label;
}

// The CSS of the page. Colours pass WCAG AA contrast on their backgrounds.
inline constexpr std::string_view dashboard_css = R"css(
:root{color-scheme:light;--fg:#1f2328;--muted:#59636e;--bg:#f6f8fa;--panel:#fff;--line:#d1d9e0;
--ok:#116329;--ok-bg:#dafbe1;--warn:#7d4e00;--warn-bg:#fff1c2;--bad:#a40e26;--bad-bg:#ffebe9;
--unknown:#424a53;--unknown-bg:#eaeef2;--closed:#2da44e;--half:#d4a72c;--open:#cf222e;
--success:#2da44e;--failure:#cf222e;--recovery:#0969da;--rejection:#8250df}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
.page{max-width:1240px;margin:0 auto;padding:16px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:16px;margin:0 0 10px}
.meta{color:var(--muted);margin:0 0 12px}
.meta a{color:var(--recovery)}
time{font-variant-numeric:tabular-nums}
section{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:14px 16px;margin:0 0 16px;
min-width:0}
.banner{border:1px solid;border-radius:8px;padding:10px 14px;margin:0 0 16px;font-weight:600}
.banner.ok{color:var(--ok);background:var(--ok-bg)}
.banner.warn{color:var(--warn);background:var(--warn-bg)}
.banner.bad{color:var(--bad);background:var(--bad-bg)}
.banner.unknown{color:var(--unknown);background:var(--unknown-bg)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(128px,1fr));gap:10px}
.card{border:1px solid var(--line);border-radius:6px;padding:8px 10px;min-width:0}
.card .value{display:block;font-size:24px;font-weight:600;font-variant-numeric:tabular-nums}
.card .label{display:block;color:var(--muted);font-size:12px}
.card .detail{display:block;font-size:12px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;color:var(--muted);font-weight:600;white-space:nowrap}
.num{text-align:right;font-variant-numeric:tabular-nums}
td.name{font-weight:600;overflow-wrap:anywhere;min-width:10em}
td.text{overflow-wrap:anywhere;min-width:10em}
td.time{white-space:nowrap}
tfoot td{font-weight:600}
.badge{display:inline-block;white-space:nowrap;border:1px solid;border-radius:999px;padding:0 8px;font-size:12px;
font-weight:600}
.badge.ok{color:var(--ok);background:var(--ok-bg)}
.badge.warn{color:var(--warn);background:var(--warn-bg)}
.badge.bad{color:var(--bad);background:var(--bad-bg)}
.badge.unknown{color:var(--unknown);background:var(--unknown-bg)}
.badge.ok::before,.banner.ok::before{content:"\2713\00a0"}
.badge.warn::before,.banner.warn::before{content:"!\00a0"}
.badge.bad::before,.banner.bad::before{content:"\2715\00a0"}
.badge.unknown::before,.banner.unknown::before{content:"?\00a0"}
.muted,.empty{color:var(--muted)}
.empty{margin:0}
.plots{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,440px),1fr));gap:16px}
figure{margin:0;min-width:0}
figcaption{font-weight:600;margin:0 0 4px}
svg.plot{display:block;width:100%;height:auto}
svg.plot text{font-size:13px;fill:var(--muted)}
svg.plot .axis{stroke:#6e7781}
svg.plot .grid{stroke:#eaeef2}
svg.plot .hit{fill:transparent}
.bar.failures,.bar.failed,.swatch.failures,.swatch.failed{fill:var(--failure);background:var(--failure)}
.bar.successful,.swatch.successful{fill:var(--success);background:var(--success)}
.bar.recoveries,.swatch.recoveries{fill:var(--recovery);background:var(--recovery)}
.bar.rejections,.swatch.rejections{fill:var(--rejection);background:var(--rejection)}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;color:var(--muted);margin:6px 0 0;padding:0;
list-style:none}
.swatch{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-2px;margin-right:4px}
.swatch.closed{background:var(--closed)}
.swatch.half_open{background:repeating-linear-gradient(-45deg,var(--half) 0 3px,#f5e0a3 3px 5px)}
.swatch.open{background:repeating-linear-gradient(45deg,var(--open) 0 3px,#f2a7ad 3px 5px)}
.timelines{display:grid;grid-template-columns:16em minmax(0,1fr);gap:2px 12px;align-items:center}
.timelines .name{font-weight:600;overflow-wrap:anywhere}
.timelines .note{grid-column:2;font-size:12px;color:var(--muted);margin-bottom:6px}
svg.bands{display:block;width:100%;height:18px;border-radius:3px}
.band{fill:#8c959f}
.band.band-closed{fill:var(--closed)}
.band.band-half_open{fill:url(#mend-stripes-half-open)}
.band.band-open{fill:url(#mend-stripes-open)}
.future{fill:#eaeef2}
.axis-row{position:relative;height:18px;font-size:12px;color:var(--muted)}
.axis-row span{position:absolute;top:0;white-space:nowrap}
details>summary{cursor:pointer;color:var(--muted);padding:8px 0}
tr.recovery td:first-child{box-shadow:inset 3px 0 var(--closed)}
footer{color:var(--muted);font-size:12px;margin:0 0 24px}
@media (max-width:640px){
.page{padding:8px}
section{padding:10px;border-radius:6px}
h1{font-size:19px}
.cards{grid-template-columns:repeat(2,minmax(0,1fr))}
.card .value{font-size:20px}
.timelines{grid-template-columns:minmax(0,1fr)}
.timelines .note{grid-column:1}
.timelines .spacer{display:none}
}
)css";

// Patterns that tell the open and half-open bands apart without colour.
inline constexpr std::string_view dashboard_svg_defs =
    R"(<svg width="0" height="0" style="position:absolute" aria-hidden="true" focusable="false"><defs>)"
    R"(<pattern id="mend-stripes-open" width="8" height="8" patternUnits="userSpaceOnUse" )"
    R"svg(patternTransform="rotate(45)"><rect width="8" height="8" fill="#cf222e"/>)svg"
    R"(<rect width="3" height="8" fill="#f2a7ad"/></pattern>)"
    R"(<pattern id="mend-stripes-half-open" width="8" height="8" patternUnits="userSpaceOnUse" )"
    R"svg(patternTransform="rotate(-45)"><rect width="8" height="8" fill="#d4a72c"/>)svg"
    R"(<rect width="2" height="8" fill="#f5e0a3"/></pattern>)"
    R"(</defs></svg>)";

// Builds the page section by section into one string.
class dashboard_page {
 public:
  dashboard_page(const status_snapshot& snapshot, const dashboard_options& options) : s_(snapshot), options_(options) {}

  std::string render() {
    out_.reserve(32 * 1024 + 600 * (s_.circuit_breakers.size() + s_.connection_pools.size() + s_.endpoints.size()) +
                 300 * std::min(s_.history.size(), options_.max_history_rows));
    head();
    out_ += "<body>";
    out_ += dashboard_svg_defs;
    out_ += R"(<div class="page">)";
    header();
    out_ += "<main>";
    summary();
    breakers();
    timelines();
    trends();
    pools();
    endpoints();
    history();
    retry_policies();
    rollouts();
    out_ += "</main>";
    footer();
    out_ += "</div></body></html>\n";
    return std::move(out_);
  }

 private:
  using level = health_level;

  template <class... Args>
  void put(fmt::format_string<Args...> format, Args&&... args) {
    fmt::format_to(std::back_inserter(out_), format, std::forward<Args>(args)...);
  }

  void text(std::string_view value) { append_html_escaped(out_, value); }

  void badge(level health, std::string_view state_attribute, std::string_view label) {
    put(R"(<span class="badge {}" data-state="{}">)", to_string(health), html_escape(state_attribute));
    text(label);
    out_ += "</span>";
  }

  void time_cell(const std::optional<wall_time>& t) {
    if (!t) {
      put(R"(<td class="time muted">{}</td>)", no_value);
      return;
    }
    put(R"(<td class="time"><time datetime="{0}">{0}</time></td>)", to_iso8601(*t));
  }

  void text_cell(std::string_view value, std::string_view field) {
    put(R"(<td class="text" data-field="{}">)", field);
    if (value.empty()) {
      put(R"(<span class="muted">{}</span>)", no_value);
    } else {
      text(value);
    }
    out_ += "</td>";
  }

  template <class Number>
  void number_cell(Number value, std::string_view field) {
    put(R"(<td class="num" data-field="{}">{}</td>)", field, value);
  }

  void section_start(std::string_view id, std::string_view heading, std::size_t count) {
    put(R"(<section id="{}" data-count="{}"><h2>{}</h2>)", id, count, heading);
  }

  void empty_note(std::string_view message) { put(R"(<p class="empty">{}</p>)", message); }

  // Starts a section; when it has no items, closes it with `empty_message`
  // and returns false.
  bool section_with_items(std::string_view id, std::string_view heading, std::size_t count,
                          std::string_view empty_message) {
    section_start(id, heading, count);
    if (count > 0) return true;
    empty_note(empty_message);
    out_ += "</section>";
    return false;
  }

  // Starts a state row: the name cell, then the state badge cell.
  void state_row_start(std::string_view kind, std::string_view name, std::string_view state, level health,
                       std::string_view label) {
    const auto escaped = html_escape(name);
    put(R"(<tr data-kind="{}" data-name="{}" data-state="{}" data-health="{}"><td class="name">{}</td><td>)", kind,
        escaped, html_escape(state), to_string(health), escaped);
    badge(health, state, label);
    out_ += "</td>";
  }

  // --- page frame ---------------------------------------------------------

  wall_time rendered_at() const { return options_.rendered_at.value_or(s_.generated_at); }

  bool has_span() const { return s_.trends.to > s_.trends.from && s_.trends.bucket_width > duration::zero(); }

  void head() {
    out_ += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
    out_ += R"(<meta name="viewport" content="width=device-width, initial-scale=1">)";
    // Even if a name slipped through unescaped, no script would run.
    out_ += R"(<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">)";
    out_ += R"(<meta name="referrer" content="no-referrer">)";
    if (options_.refresh)
      put(R"(<meta http-equiv="refresh" content="{}">)", std::max<std::int64_t>(1, options_.refresh->count()));
    out_ += "<title>";
    text(options_.title);
    out_ += "</title><style>";
    out_ += dashboard_css;
    out_ += "</style></head>";
  }

  void header() {
    out_ += "<header><h1>";
    text(options_.title);
    out_ += R"(</h1><p class="meta">Rendered <time id="rendered-at" datetime=")";
    const auto rendered = to_iso8601(rendered_at());
    put(R"({0}">{0}</time>)", rendered);
    if (has_span()) {
      put(R"(. Covers <time id="span-from" datetime="{0}">{0}</time> to <time id="span-to" datetime="{1}">{1}</time> )"
          R"((<span id="span-length" data-ms="{2}">{3}</span> in {4} buckets).)",
          to_iso8601(s_.trends.from), to_iso8601(s_.trends.to),
          std::chrono::duration_cast<std::chrono::milliseconds>(s_.trends.span).count(), format_span(s_.trends.span),
          format_span(s_.trends.bucket_width));
    } else {
      out_ += ". The report has no trend span.";
    }
    if (options_.refresh) {
      put(R"( <span id="refresh" data-seconds="{0}">Refreshes every {0} s.</span>)",
          std::max<std::int64_t>(1, options_.refresh->count()));
    }
    if (!options_.json_href.empty()) {
      out_ += R"( <a id="json-link" href=")";
      text(options_.json_href);
      out_ += R"(">JSON report</a>)";
    }
    out_ += "</p></header>";
  }

  void footer() {
    put(R"(<footer><p>History keeps the newest {} entries; {} older ones were dropped. )", s_.history_capacity,
        s_.history_dropped);
    if (s_.persistence) {
      const auto& p = *s_.persistence;
      out_ += R"(History store <span id="store-location">)";
      text(p.location);
      put(R"(</span>: <span class="badge {}" id="store-state">{}</span>, {} written, {} dropped.)", p.ok ? "ok" : "bad",
          p.ok ? "ok" : "failing", p.written, p.dropped);
      if (!p.error.empty()) {
        out_ += R"( Last error: <span id="store-error">)";
        text(p.error);
        out_ += "</span>.";
      }
    } else {
      out_ += "History is kept in memory only.";
    }
    out_ += "</p></footer>";
  }

  // --- summary ------------------------------------------------------------

  void card(std::string_view id, std::uint64_t value, std::string_view label) {
    put(R"(<div class="card"><span class="value" id="{0}" data-value="{1}">{1}</span><span class="label">{2}</span>)",
        id, value, label);
  }

  void summary() {
    std::uint64_t open = 0, half_open = 0, recovering = 0, degraded = 0, unhealthy = 0, out_of_rotation = 0;
    std::uint64_t auto_recoveries = 0;
    for (const auto& b : s_.circuit_breakers) {
      open += b.state == circuit_state::open;
      half_open += b.state == circuit_state::half_open;
      auto_recoveries += b.auto_recoveries;
    }
    for (const auto& p : s_.connection_pools) {
      recovering += p.status == pool_health::recovering;
      degraded += p.status == pool_health::degraded;
    }
    for (const auto& e : s_.endpoints) {
      unhealthy += endpoint_health_level(e.health) == level::bad;
      out_of_rotation += rotation_level(e.rotation) == level::bad;
    }
    banner(open, half_open, recovering, degraded, unhealthy, out_of_rotation);

    section_start("summary", "Summary", 0);
    out_ += R"(<div class="cards">)";
    card("count-breakers", s_.circuit_breakers.size(), "circuit breakers");
    put(R"(<span class="detail"><span id="count-breakers-open" data-value="{0}">{0}</span> open, )"
        R"(<span id="count-breakers-half-open" data-value="{1}">{1}</span> half-open</span></div>)",
        open, half_open);
    card("count-pools", s_.connection_pools.size(), "connection pools");
    put(R"(<span class="detail"><span id="count-pools-recovering" data-value="{0}">{0}</span> recovering, )"
        R"(<span id="count-pools-degraded" data-value="{1}">{1}</span> degraded</span></div>)",
        recovering, degraded);
    card("count-endpoints", s_.endpoints.size(), "endpoints");
    put(R"(<span class="detail"><span id="count-endpoints-unhealthy" data-value="{0}">{0}</span> unhealthy, )"
        R"(<span id="count-endpoints-out" data-value="{1}">{1}</span> out of rotation</span></div>)",
        unhealthy, out_of_rotation);
    card("count-retries", s_.retry_stats.total_retries, "retries");
    put(R"(<span class="detail"><span id="count-retries-successful" data-value="{0}">{0}</span> successful, )"
        R"(<span id="count-retries-failed" data-value="{1}">{1}</span> failed</span></div>)",
        s_.retry_stats.successful_retries, s_.retry_stats.failed_retries);
    card("count-auto-recoveries", auto_recoveries, "breaker auto recoveries");
    out_ += "</div>";
    const auto& totals = s_.trends.totals;
    card("count-failures", totals.failures, "failures in the span");
    out_ += "</div>";
    card("count-recoveries", totals.recoveries, "recoveries in the span");
    out_ += "</div>";
    card("count-rejections", totals.rejections, "rejections in the span");
    out_ += "</div></div></section>";
  }

  void banner(std::uint64_t open, std::uint64_t half_open, std::uint64_t recovering, std::uint64_t degraded,
              std::uint64_t unhealthy, std::uint64_t out_of_rotation) {
    const auto components = s_.circuit_breakers.size() + s_.connection_pools.size() + s_.endpoints.size();
    std::vector<std::string> problems;
    const auto add = [&](std::uint64_t count, std::string_view one, std::string_view many) {
      if (count > 0) problems.push_back(fmt::format("{} {}", count, count == 1 ? one : many));
    };
    add(open, "open breaker", "open breakers");
    add(half_open, "half-open breaker", "half-open breakers");
    add(recovering, "recovering pool", "recovering pools");
    add(degraded, "degraded pool", "degraded pools");
    add(unhealthy, "unhealthy endpoint", "unhealthy endpoints");
    add(out_of_rotation, "endpoint out of rotation", "endpoints out of rotation");

    level overall = level::ok;
    if (components == 0) overall = level::unknown;
    if (half_open + degraded > 0) overall = level::warn;
    if (open + recovering + unhealthy + out_of_rotation > 0) overall = level::bad;
    put(R"(<p id="overall" class="banner {}" data-health="{}" role="status">)", to_string(overall), to_string(overall));
    if (components == 0) {
      out_ += "No component has reported yet.";
    } else if (problems.empty()) {
      put("All {} components are healthy.", components);
    } else {
      put("Needs attention: {}.", fmt::join(problems, ", "));
    }
    out_ += "</p>";
  }

  // --- current state tables ---------------------------------------------

  template <class Status, class HealthOf>
  static std::vector<const Status*> by_attention(const std::vector<Status>& items, HealthOf health_of_item) {
    std::vector<const Status*> sorted;
    sorted.reserve(items.size());
    for (const auto& item : items) sorted.push_back(&item);
    std::stable_sort(sorted.begin(), sorted.end(), [&](const Status* a, const Status* b) {
      return attention_rank(health_of_item(*a)) < attention_rank(health_of_item(*b));
    });
    return sorted;
  }

  void breakers() {
    if (!section_with_items("breakers", "Circuit breakers", s_.circuit_breakers.size(),
                            "No circuit breaker has reported yet."))
      return;
    out_ += R"(<div class="scroll"><table id="breaker-table"><thead><tr><th>Name</th><th>State</th>)"
            R"(<th class="num">Failures</th><th class="num">Rejections</th><th class="num">Auto recoveries</th>)"
            R"(<th>Last recovery</th><th class="num">Open timeout</th><th>Last change</th><th>Reason</th></tr>)"
            R"(</thead><tbody>)";
    for (const auto* b :
         by_attention(s_.circuit_breakers, [](const breaker_status& x) { return health_of(x.state); })) {
      const auto state = to_string(b->state);
      state_row_start("breaker", b->name, state, health_of(b->state), state_label(state));
      number_cell(b->failures, "failures");
      number_cell(b->rejections, "rejections");
      number_cell(b->auto_recoveries, "auto_recoveries");
      time_cell(b->last_recovery);
      put(R"(<td class="num" data-field="open_timeout" data-ms="{}">{}</td>)",
          std::chrono::duration_cast<std::chrono::milliseconds>(b->open_timeout).count(),
          b->open_timeout > duration::zero() ? format_span(b->open_timeout) : std::string(no_value));
      time_cell(b->last_change);
      text_cell(b->last_reason, "last_reason");
      out_ += "</tr>";
    }
    out_ += "</tbody></table></div></section>";
  }

  void pools() {
    if (!section_with_items("pools", "Connection pools", s_.connection_pools.size(),
                            "No connection pool has reported yet."))
      return;
    out_ +=
        R"(<div class="scroll"><table id="pool-table"><thead><tr><th>Name</th><th>Status</th>)"
        R"(<th class="num">Active</th><th class="num">Idle</th><th class="num">Total</th><th class="num">Waiters</th>)"
        R"(<th class="num">Recovery attempts</th><th class="num">Recoveries</th><th>Last recovery</th>)"
        R"(<th>Last error</th></tr></thead><tbody>)";
    for (const auto* p : by_attention(s_.connection_pools, [](const pool_status& x) { return health_of(x.status); })) {
      const auto status = to_string(p->status);
      state_row_start("pool", p->name, status, health_of(p->status), status);
      number_cell(p->active_connections, "active_connections");
      number_cell(p->idle_connections, "idle_connections");
      number_cell(p->total_connections, "total_connections");
      number_cell(p->waiters, "waiters");
      number_cell(p->recovery_attempts, "recovery_attempts");
      number_cell(p->recoveries, "recoveries");
      time_cell(p->last_recovery);
      text_cell(p->last_error, "last_error");
      out_ += "</tr>";
    }
    out_ += "</tbody></table></div></section>";
  }

  void endpoints() {
    if (!section_with_items("endpoints", "Endpoints", s_.endpoints.size(), "No endpoint has reported yet.")) return;
    out_ += R"(<div class="scroll"><table id="endpoint-table"><thead><tr><th>Target</th><th>Health</th>)"
            R"(<th>Rotation</th><th class="num">Weight</th><th>Last change</th><th>Reason</th></tr></thead><tbody>)";
    for (const auto* e : by_attention(s_.endpoints, [](const endpoint_status& x) { return health_of(x); })) {
      const auto target = html_escape(e->target);
      put(R"(<tr data-kind="endpoint" data-name="{}" data-state="{}" data-rotation="{}" data-health="{}">)"
          R"(<td class="name">{}</td><td>)",
          target, html_escape(e->health), html_escape(e->rotation), to_string(health_of(*e)), target);
      badge(endpoint_health_level(e->health), e->health, e->health.empty() ? "unknown" : e->health);
      out_ += "</td><td>";
      const std::string rotation = e->rotation == "in"    ? "in rotation"
                                   : e->rotation == "out" ? "out of rotation"
                                   : e->rotation.empty()  ? "unknown"
                                                          : e->rotation;
      badge(rotation_level(e->rotation), e->rotation, rotation);
      out_ += "</td>";
      if (e->weight) {
        number_cell(*e->weight, "weight");
      } else {
        put(R"(<td class="num muted" data-field="weight">{}</td>)", no_value);
      }
      time_cell(e->last_change);
      text_cell(e->last_reason, "last_reason");
      out_ += "</tr>";
    }
    out_ += "</tbody></table></div></section>";
  }

  void retry_policies() {
    if (!section_with_items("retries", "Retry policies", s_.retry_policies.size(), "No retry policy has reported yet."))
      return;
    out_ += R"(<div class="scroll"><table id="retry-table"><thead><tr><th>Name</th><th class="num">Retries</th>)"
            R"(<th class="num">Successful</th><th class="num">Failed</th><th class="num">Gave up</th>)"
            R"(<th>Last reason for giving up</th></tr></thead><tbody>)";
    for (const auto& r : s_.retry_policies) {
      const auto name = html_escape(r.name);
      put(R"(<tr data-kind="retry" data-name="{}"><td class="name">{}</td>)", name, name);
      number_cell(r.counts.total_retries, "total_retries");
      number_cell(r.counts.successful_retries, "successful_retries");
      number_cell(r.counts.failed_retries, "failed_retries");
      number_cell(r.gave_up, "gave_up");
      text_cell(r.last_give_up_reason, "last_give_up_reason");
      out_ += "</tr>";
    }
    out_ += R"(</tbody><tfoot><tr data-kind="retry-total"><td>All policies</td>)";
    number_cell(s_.retry_stats.total_retries, "total_retries");
    number_cell(s_.retry_stats.successful_retries, "successful_retries");
    number_cell(s_.retry_stats.failed_retries, "failed_retries");
    out_ += "<td></td><td></td></tr></tfoot></table></div></section>";
  }

  void rollouts() {
    if (!section_with_items("rollouts", "Blue-green rollouts", s_.rollouts.size(), "No rollout has reported yet."))
      return;
    out_ += R"(<div class="scroll"><table id="rollout-table"><thead><tr><th>Name</th><th>Phase</th><th>Step</th>)"
            R"(<th>Last change</th><th>Reason</th></tr></thead><tbody>)";
    for (const auto& r : s_.rollouts) {
      state_row_start("rollout", r.name, r.phase, rollout_level(r.phase), state_label(r.phase));
      text_cell(r.step, "step");
      time_cell(r.last_change);
      text_cell(r.last_reason, "last_reason");
      out_ += "</tr>";
    }
    out_ += "</tbody></table></div></section>";
  }

  // --- timelines ----------------------------------------------------------

  // The time the bands end: the snapshot, or the end of the span if earlier.
  wall_time bands_until() const { return std::min(s_.trends.to, std::max(s_.trends.from, s_.generated_at)); }

  // Breaker transitions recorded by this process, by breaker name, oldest
  // first. Restored entries are left out: the breakers of an earlier process
  // started over when this one began.
  std::map<std::string_view, std::vector<const history_entry*>, std::less<>> transitions_by_breaker() const {
    std::map<std::string_view, std::vector<const history_entry*>, std::less<>> out;
    for (const auto& entry : s_.history) {
      if (entry.kind != event_kind::breaker_state_changed || entry.restored) continue;
      out[entry.component].push_back(&entry);
    }
    for (auto& [name, entries] : out) {
      std::stable_sort(entries.begin(), entries.end(),
                       [](const history_entry* a, const history_entry* b) { return a->wall_at < b->wall_at; });
    }
    return out;
  }

  void timeline_axis() {
    if (!has_span()) return;
    const auto& t = s_.trends;
    const bool seconds = t.bucket_width < std::chrono::minutes{1};
    const bool date = t.span > std::chrono::hours{24};
    const auto middle = t.from + (t.to - t.from) / 2;
    put(R"(<div class="spacer"></div><div class="axis-row" aria-hidden="true"><span style="left:0">{}</span>)"
        R"html(<span style="left:50%;transform:translateX(-50%)">{}</span>)html"
        R"(<span style="right:0">{}</span></div>)",
        format_axis_time(t.from, seconds, date), format_axis_time(middle, seconds, date),
        format_axis_time(t.to, seconds, date));
  }

  void timeline_row(const breaker_status& b, std::span<const history_entry* const> transitions,
                    const std::vector<state_band>& bands) {
    const auto name = html_escape(b.name);
    const auto count = std::count_if(transitions.begin(), transitions.end(), [&](const history_entry* e) {
      return e->wall_at > s_.trends.from && e->wall_at <= bands_until();
    });
    put(R"(<div class="name" data-name="{}">{}</div><div class="timeline" data-name="{}" data-transitions="{}">)", name,
        name, name, count);
    append_timeline_svg(out_, bands, s_.trends.from, s_.trends.to, fmt::format("{} states over the span", b.name));
    out_ += "</div>";

    duration open{}, half_open{};
    for (const auto& band : bands) {
      if (band.state == "open") open += band.to - band.from;
      if (band.state == "half_open") half_open += band.to - band.from;
    }
    put(R"(<div class="note">{} {}; open {}, half-open {}; now {}.</div>)", count,
        count == 1 ? "transition" : "transitions", format_span(open), format_span(half_open),
        state_label(to_string(b.state)));
  }

  void timelines() {
    section_start("timelines", "Breaker states over the span", s_.circuit_breakers.size());
    if (s_.circuit_breakers.empty() || !has_span()) {
      empty_note(s_.circuit_breakers.empty() ? "No circuit breaker has reported yet."
                                             : "The report has no trend span.");
      out_ += "</section>";
      return;
    }
    out_ += R"(<ul class="legend"><li><span class="swatch closed"></span>closed</li>)"
            R"(<li><span class="swatch half_open"></span>half-open (test calls)</li>)"
            R"(<li><span class="swatch open"></span>open (calls rejected)</li>)"
            R"(<li><span class="swatch" style="background:#eaeef2"></span>after the snapshot</li></ul>)";

    const auto transitions = transitions_by_breaker();
    const auto until = bands_until();
    struct row {
      const breaker_status* breaker;
      std::span<const history_entry* const> transitions;
      std::vector<state_band> bands;
    };
    std::vector<row> changed, steady;
    for (const auto* b :
         by_attention(s_.circuit_breakers, [](const breaker_status& x) { return health_of(x.state); })) {
      std::span<const history_entry* const> own;
      if (const auto it = transitions.find(b->name); it != transitions.end()) own = it->second;
      auto bands = breaker_state_bands(to_string(b->state), own, s_.trends.from, until);
      const bool moved = bands.size() > 1 || (!bands.empty() && bands.front().state != to_string(b->state));
      (moved ? changed : steady).push_back({b, own, std::move(bands)});
    }
    const bool fold = s_.circuit_breakers.size() >= options_.fold_steady_breakers_from && !steady.empty();

    out_ += R"(<div class="timelines">)";
    timeline_axis();
    for (const auto& r : changed) timeline_row(*r.breaker, r.transitions, r.bands);
    if (!fold) {
      for (const auto& r : steady) timeline_row(*r.breaker, r.transitions, r.bands);
    }
    out_ += "</div>";
    if (fold) {
      put(R"(<details id="steady-breakers" data-count="{0}"><summary>{0} breakers without a state change in the )"
          R"(span</summary><div class="timelines">)",
          steady.size());
      for (const auto& r : steady) timeline_row(*r.breaker, r.transitions, r.bands);
      out_ += "</div></details>";
    }
    out_ += "</section>";
  }

  // --- trends ---------------------------------------------------------------

  void plot(std::string_view id, std::string_view title, std::span<const plot_series> series) {
    out_ += "<figure><figcaption>";
    text(title);
    out_ += "</figcaption>";
    append_trend_plot(out_, s_.trends, id, title, series);
    if (series.size() > 1) {
      out_ += R"(<ul class="legend">)";
      for (const auto& s : series) put(R"(<li><span class="swatch {}"></span>{}</li>)", s.css_class, s.label);
      out_ += "</ul>";
    }
    out_ += "</figure>";
  }

  void trends() {
    section_start("trends", "Trends", s_.trends.buckets.size());
    if (!has_span()) {
      empty_note("The report has no trend span.");
      out_ += "</section>";
      return;
    }
    const auto per_bucket = fmt::format(" per {} bucket", format_span(s_.trends.bucket_width));
    static constexpr std::array failures{plot_series{"failures", "failures", &trend_counts::failures}};
    static constexpr std::array retries{
        plot_series{"successful retries", "successful", &trend_counts::successful_retries},
        plot_series{"failed retries", "failed", &trend_counts::failed_retries}};
    static constexpr std::array recoveries{plot_series{"recoveries", "recoveries", &trend_counts::recoveries}};
    static constexpr std::array rejections{plot_series{"rejections", "rejections", &trend_counts::rejections}};
    out_ += R"(<div class="plots">)";
    plot("plot-failures", "Failures" + per_bucket, failures);
    plot("plot-retries", "Retries" + per_bucket, retries);
    plot("plot-recoveries", "Recoveries" + per_bucket, recoveries);
    plot("plot-rejections", "Rejections" + per_bucket, rejections);
    out_ += "</div></section>";
  }

  // --- history --------------------------------------------------------------

  void history() {
    const auto shown = std::min(s_.history.size(), options_.max_history_rows);
    if (!section_with_items("history", "Recovery history, newest first", s_.history.size(),
                            "No transition or recovery has been recorded yet."))
      return;
    if (shown < s_.history.size()) {
      put(R"(<p class="muted">The newest {} of {} entries; the JSON report has all of them.</p>)", shown,
          s_.history.size());
    }
    put(R"(<div class="scroll"><table id="history-table" data-rows="{}"><thead><tr><th>Time (UTC)</th>)"
        R"(<th>Component</th><th>Event</th><th>Change</th><th>Reason</th><th>Error</th></tr></thead><tbody>)",
        shown);
    for (std::size_t i = 0; i < shown; ++i) history_row(s_.history[s_.history.size() - 1 - i]);
    out_ += "</tbody></table></div></section>";
  }

  void history_row(const history_entry& entry) {
    const auto kind = to_string(entry.kind);
    put(R"(<tr class="{}" data-kind="{}" data-component="{}" data-recovery="{}" data-severity="{}">)",
        entry.recovery ? "recovery" : "entry", kind, html_escape(entry.component), entry.recovery,
        to_string(entry.level));
    put(R"(<td class="time"><time datetime="{0}">{0}</time>{1}</td><td class="name">)", to_iso8601(entry.wall_at, true),
        entry.restored ? R"( <span class="muted">(restored)</span>)" : "");
    text(entry.component);
    if (!entry.target.empty()) {
      out_ += R"( <span class="muted">)";
      text(entry.target);
      out_ += "</span>";
    }
    put(R"(</td><td>{} <span class="muted">{}</span></td><td>)", event_label(entry.kind), to_string(entry.level));
    if (!entry.from.empty() || !entry.to.empty()) {
      text(entry.from);
      out_ += " \xE2\x86\x92 ";  // a right arrow
      text(entry.to);
    }
    if (entry.recovery) out_ += R"( <span class="badge ok">recovered</span>)";
    out_ += "</td>";
    text_cell(entry.reason, "reason");
    text_cell(entry.error, "error");
    out_ += "</tr>";
  }

  const status_snapshot& s_;
  const dashboard_options& options_;
  std::string out_;
};

}  // namespace detail

// Renders `snapshot` as one self-contained HTML page: a banner and summary
// counts, every breaker, pool and endpoint with its state (a coloured badge
// with the state's name), each breaker's states over the trend span as SVG
// bands, bar plots per trend bucket of failures, retries (successful and
// failed), recoveries and rejections, the history newest first, and the
// retry policies and rollouts. Every name and message is HTML-escaped.
//
// Elements that tests and scripts may rely on: rows carry data-kind,
// data-name, data-state and data-health; numbers carry data-field or an id
// such as count-breakers-open with data-value; each plot's <svg> (id
// plot-failures, plot-retries, plot-recoveries, plot-rejections) carries
// data-buckets and data-bars; #rendered-at, #span-from and #span-to hold the
// times in ISO 8601 UTC.
inline std::string to_html(const status_snapshot& snapshot, const dashboard_options& options = {}) {
  return detail::dashboard_page(snapshot, options).render();
}

// Renders the reporter's current snapshot, without an access check.
inline std::string to_html(const status_reporter& reporter, const dashboard_options& options = {}) {
  return to_html(reporter.snapshot(), options);
}

MEND_END_NAMESPACE

#endif  // MEND_ADAPTERS_STATUS_DASHBOARD_HPP
