#include <mend/adapters/status_dashboard.hpp>

#include <mend/circuit_breaker.hpp>
#include <mend/detail/html_escape.hpp>
#include <mend/manual_clock.hpp>
#include <mend/status_reporter.hpp>

#include <catch2/catch.hpp>

#include "dashboard_sequence.hpp"

#include <chrono>
#include <cstddef>
#include <random>
#include <string>
#include <string_view>
#include <vector>

using namespace std::chrono_literals;

namespace {

std::size_t count_of(std::string_view text, std::string_view needle) {
  std::size_t count = 0;
  for (auto pos = text.find(needle); pos != std::string_view::npos; pos = text.find(needle, pos + needle.size()))
    ++count;
  return count;
}

// The text from `start` (which must occur once) up to the next `end`.
std::string element(std::string_view html, std::string_view start, std::string_view end) {
  const auto begin = html.find(start);
  if (begin == std::string_view::npos) return {};
  const auto stop = html.find(end, begin);
  return std::string(html.substr(begin, stop == std::string_view::npos ? std::string_view::npos : stop - begin));
}

std::string table_row(std::string_view html, std::string_view kind, std::string_view name) {
  return element(html,
                 std::string("<tr data-kind=\"") + std::string(kind) + "\" data-name=\"" + std::string(name) + "\"",
                 "</tr>");
}

std::string svg_plot(std::string_view html, std::string_view id) {
  return element(html, std::string("<svg class=\"plot\" id=\"") + std::string(id) + "\"", "</svg>");
}

std::string known_sequence_page(const mend::dashboard_options& options = {}) {
  mend::manual_clock clock;
  mend::status_reporter status{clock, mend_test::dashboard_reporter_options()};
  mend_test::run_dashboard_sequence(clock, status);
  return mend::to_html(status, options);
}

mend::event breaker_event(std::string_view name, std::string_view from, std::string_view to,
                          const mend::manual_clock& clock) {
  auto e = mend_test::make_status_event(mend::event_kind::breaker_state_changed, name, clock);
  e.from = from;
  e.to = to;
  return e;
}

}  // namespace

TEST_CASE("html escape covers text and attributes", "[status_dashboard]") {
  CHECK(mend::detail::html_escape("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;");
  CHECK(mend::detail::html_escape(R"(a "b" & 'c')") == "a &quot;b&quot; &amp; &#39;c&#39;");
  CHECK(mend::detail::html_escape("tab\tnew\nline") == "tab\tnew\nline");
  CHECK(mend::detail::html_escape("caf\xC3\xA9 \xE2\x86\x92") == "caf\xC3\xA9 \xE2\x86\x92");
}

TEST_CASE("html escape replaces control bytes and invalid utf-8", "[status_dashboard]") {
  const std::string replacement = "\xEF\xBF\xBD";
  CHECK(mend::detail::html_escape(std::string_view("a\0b", 3)) == "a" + replacement + "b");
  CHECK(mend::detail::html_escape("\x1b[31m") == replacement + "[31m");
  CHECK(mend::detail::html_escape("\xC3") == replacement);                                      // truncated sequence
  CHECK(mend::detail::html_escape("\xC0\xBC") == replacement + replacement);                    // overlong '<'
  CHECK(mend::detail::html_escape("\xED\xA0\x80") == replacement + replacement + replacement);  // surrogate
  CHECK(mend::detail::html_escape("\xF4\x90\x80\x80") == replacement + replacement + replacement + replacement);
  CHECK(mend::detail::html_escape("\xF0\x9F\x98\x80") == "\xF0\x9F\x98\x80");
}

TEST_CASE("dashboard escapes names in text attributes and svg", "[status_dashboard]") {
  mend::manual_clock clock;
  mend::status_reporter status{clock, mend_test::dashboard_reporter_options()};
  const std::string script = "<script>alert(1)</script>";
  const std::string quotes = R"~(q" onmouseover="alert(2)" x='y' & z)~";
  status.add_breaker(script);
  status.add_pool(quotes);
  status.add_retry_policy(script);

  clock.advance(30s);
  auto e = breaker_event(script, "closed", "<svg onload=alert(3)>", clock);
  e.reason = quotes;
  status.record(e);
  auto endpoint = mend_test::make_status_event(mend::event_kind::endpoint_health_changed, "health", clock);
  endpoint.target = "<img src=x onerror=alert(4)>";
  endpoint.from = "healthy";
  endpoint.to = "unhealthy";
  endpoint.reason = "</td></tr></table><script>alert(5)</script>";
  status.record(endpoint);
  auto pool = mend_test::make_status_event(mend::event_kind::pool_recovery_entered, quotes, clock);
  pool.error = make_error_code(mend::errc::connect_failed);
  status.record(pool);
  clock.advance(30s);

  const auto html = mend::to_html(status, {.title = "<b>ops</b>", .json_href = R"(x" onclick="alert(6))"});

  // Nothing from the report became markup.
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<svg onload") == std::string::npos);
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("onmouseover=\"") == std::string::npos);
  CHECK(html.find("onclick=\"") == std::string::npos);
  CHECK(html.find("<b>ops") == std::string::npos);
  CHECK(html.find("x='y'") == std::string::npos);

  // Text contexts.
  CHECK(html.find("<td class=\"name\">&lt;script&gt;alert(1)&lt;/script&gt;</td>") != std::string::npos);
  CHECK(html.find("&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;script&gt;alert(5)&lt;/script&gt;") != std::string::npos);
  CHECK(html.find("<title>&lt;b&gt;ops&lt;/b&gt;</title>") != std::string::npos);
  // Attribute contexts.
  CHECK(html.find(R"(data-name="&lt;script&gt;alert(1)&lt;/script&gt;")") != std::string::npos);
  CHECK(html.find(R"(data-name="q&quot; onmouseover=&quot;alert(2)&quot; x=&#39;y&#39; &amp; z")") !=
        std::string::npos);
  CHECK(html.find(R"(data-name="&lt;img src=x onerror=alert(4)&gt;")") != std::string::npos);
  CHECK(html.find(R"~(href="x&quot; onclick=&quot;alert(6)")~") != std::string::npos);
  // SVG contexts: the timeline's label and the band's class and title.
  CHECK(html.find(R"(aria-label="&lt;script&gt;alert(1)&lt;/script&gt; states over the span")") != std::string::npos);
  CHECK(html.find(R"(data-state="&lt;svg onload=alert(3)&gt;")") != std::string::npos);
  CHECK(html.find("<title>&lt;svg onload=alert(3)&gt;: ") != std::string::npos);
}

TEST_CASE("dashboard of an empty snapshot", "[status_dashboard]") {
  const auto html = mend::to_html(mend::status_snapshot{});

  CHECK(html.starts_with("<!DOCTYPE html>"));
  CHECK(html.ends_with("</html>\n"));
  CHECK(html.find(R"(id="overall" class="banner unknown" data-health="unknown")") != std::string::npos);
  CHECK(html.find("No component has reported yet.") != std::string::npos);
  CHECK(html.find(R"(<section id="breakers" data-count="0">)") != std::string::npos);
  CHECK(html.find(R"(<section id="history" data-count="0">)") != std::string::npos);
  CHECK(html.find("The report has no trend span.") != std::string::npos);
  CHECK(html.find("<svg class=\"plot\"") == std::string::npos);
  CHECK(html.find(R"(id="rendered-at" datetime="1970-01-01T00:00:00Z")") != std::string::npos);
  CHECK(html.find("http-equiv=\"refresh\"") == std::string::npos);
}

TEST_CASE("dashboard of a reporter without events", "[status_dashboard]") {
  mend::manual_clock clock;
  mend::status_reporter status{clock, mend_test::dashboard_reporter_options()};
  const auto html = mend::to_html(status);

  for (const auto* id : {"plot-failures", "plot-retries", "plot-recoveries", "plot-rejections"}) {
    const auto plot = svg_plot(html, id);
    INFO(id);
    REQUIRE_FALSE(plot.empty());
    CHECK(plot.find(R"(data-buckets="0" data-bars="0" data-total="0" data-max="0")") != std::string::npos);
    CHECK(plot.find("none in this span") != std::string::npos);
  }
  CHECK(html.find(R"(id="span-from" datetime="2024-12-31T23:51:00Z")") != std::string::npos);
  CHECK(html.find(R"(id="span-to" datetime="2025-01-01T00:01:00Z")") != std::string::npos);
}

TEST_CASE("dashboard shows the states of a known sequence", "[status_dashboard]") {
  const auto html = known_sequence_page();

  CHECK(table_row(html, "breaker", "ax_connection").find(R"(data-state="closed" data-health="ok")") !=
        std::string::npos);
  CHECK(table_row(html, "breaker", "aif_batch").find(R"(data-state="open" data-health="bad")") != std::string::npos);
  CHECK(table_row(html, "pool", "aif_pool").find(R"(data-state="healthy" data-health="ok")") != std::string::npos);
  CHECK(table_row(html, "endpoint", "aos-1").find(R"(data-state="unhealthy" data-rotation="out" data-health="bad")") !=
        std::string::npos);
  CHECK(table_row(html, "endpoint", "aos-2").find(R"(data-state="healthy" data-rotation="" data-health="ok")") !=
        std::string::npos);
  CHECK(html.find(R"(id="overall" class="banner bad")") != std::string::npos);
  CHECK(html.find("Needs attention: 1 open breaker, 1 unhealthy endpoint, 1 endpoint out of rotation.") !=
        std::string::npos);
  // The open breaker comes first.
  CHECK(html.find(R"(data-name="aif_batch")") < html.find(R"(data-name="ax_connection")"));
}

TEST_CASE("dashboard shows the counters of a known sequence", "[status_dashboard]") {
  const auto html = known_sequence_page();

  const auto breaker = table_row(html, "breaker", "ax_connection");
  CHECK(breaker.find(R"(data-field="failures">2<)") != std::string::npos);
  CHECK(breaker.find(R"(data-field="rejections">1<)") != std::string::npos);
  CHECK(breaker.find(R"(data-field="auto_recoveries">1<)") != std::string::npos);
  CHECK(breaker.find(R"(data-field="open_timeout" data-ms="60000">1 min<)") != std::string::npos);
  CHECK(breaker.find(R"(<time datetime="2025-01-01T00:01:00Z">)") != std::string::npos);

  const auto pool = table_row(html, "pool", "aif_pool");
  CHECK(pool.find(R"(data-field="active_connections">3<)") != std::string::npos);
  CHECK(pool.find(R"(data-field="idle_connections">1<)") != std::string::npos);
  CHECK(pool.find(R"(data-field="total_connections">4<)") != std::string::npos);
  CHECK(pool.find(R"(data-field="recovery_attempts">2<)") != std::string::npos);
  CHECK(pool.find(R"(data-field="recoveries">1<)") != std::string::npos);
  CHECK(pool.find(R"(data-field="last_error">connection failed<)") != std::string::npos);

  const auto retry = table_row(html, "retry", "aif_read");
  CHECK(retry.find(R"(data-field="total_retries">1<)") != std::string::npos);
  CHECK(retry.find(R"(data-field="successful_retries">1<)") != std::string::npos);
  CHECK(retry.find(R"(data-field="failed_retries">0<)") != std::string::npos);

  CHECK(html.find(R"(id="count-breakers" data-value="2")") != std::string::npos);
  CHECK(html.find(R"(id="count-breakers-open" data-value="1")") != std::string::npos);
  CHECK(html.find(R"(id="count-breakers-half-open" data-value="0")") != std::string::npos);
  CHECK(html.find(R"(id="count-pools" data-value="1")") != std::string::npos);
  CHECK(html.find(R"(id="count-endpoints-unhealthy" data-value="1")") != std::string::npos);
  CHECK(html.find(R"(id="count-retries" data-value="1")") != std::string::npos);
  CHECK(html.find(R"(id="count-retries-successful" data-value="1")") != std::string::npos);
  CHECK(html.find(R"(id="count-failures" data-value="3")") != std::string::npos);
  CHECK(html.find(R"(id="count-recoveries" data-value="3")") != std::string::npos);
  CHECK(html.find(R"(id="count-rejections" data-value="1")") != std::string::npos);
  CHECK(html.find(R"(id="count-auto-recoveries" data-value="1")") != std::string::npos);
}

TEST_CASE("dashboard plots each bucket of a known sequence", "[status_dashboard]") {
  const auto html = known_sequence_page();

  const auto failures = svg_plot(html, "plot-failures");
  CHECK(failures.find(R"(data-buckets="4" data-bars="2" data-total="3" data-max="2")") != std::string::npos);
  CHECK(failures.find(R"(data-start="2025-01-01T00:00:00Z" data-value="2")") != std::string::npos);
  CHECK(failures.find(R"(data-start="2025-01-01T00:02:00Z" data-value="1")") != std::string::npos);
  CHECK(count_of(failures, "class=\"bar failures\"") == 2);

  const auto retries = svg_plot(html, "plot-retries");
  CHECK(retries.find(R"(data-buckets="4" data-bars="1" data-total="1" data-max="1")") != std::string::npos);
  CHECK(retries.find(R"(data-start="2025-01-01T00:01:00Z" data-value="1")") != std::string::npos);
  CHECK(count_of(retries, "class=\"bar successful\"") == 1);
  CHECK(count_of(retries, "class=\"bar failed\"") == 0);

  const auto recoveries = svg_plot(html, "plot-recoveries");
  CHECK(recoveries.find(R"(data-buckets="4" data-bars="3" data-total="3" data-max="1")") != std::string::npos);

  const auto rejections = svg_plot(html, "plot-rejections");
  CHECK(rejections.find(R"(data-buckets="4" data-bars="1" data-total="1" data-max="1")") != std::string::npos);
  CHECK(rejections.find(R"(data-start="2025-01-01T00:00:00Z" data-value="1")") != std::string::npos);

  // Ten one-minute buckets 43 units wide from x = 40: the 00:00 bucket is the seventh,
  // and its count of 2 is the top of the scale.
  CHECK(failures.find(R"(<rect class="bar failures" x="302.30" y="10.00" width="34.40" height="144.00"/>)") !=
        std::string::npos);
}

TEST_CASE("dashboard timeline bands of a known sequence", "[status_dashboard]") {
  const auto html = known_sequence_page();

  const auto timeline = element(html, R"(<div class="timeline" data-name="ax_connection")", "</div>");
  REQUIRE_FALSE(timeline.empty());
  CHECK(timeline.find(R"(data-transitions="3")") != std::string::npos);
  CHECK(timeline.find(R"(data-bands="3")") != std::string::npos);
  CHECK(timeline.find(R"(data-state="closed" data-from="2024-12-31T23:54:00Z" data-to="2025-01-01T00:00:00Z")") !=
        std::string::npos);
  CHECK(timeline.find(R"(data-state="open" data-from="2025-01-01T00:00:00Z" data-to="2025-01-01T00:01:00Z")") !=
        std::string::npos);
  CHECK(timeline.find(R"(data-state="closed" data-from="2025-01-01T00:01:00Z" data-to="2025-01-01T00:03:30Z")") !=
        std::string::npos);
  CHECK(html.find("3 transitions; open 1 min, half-open 0 s; now closed.") != std::string::npos);

  const auto isolated = element(html, R"(<div class="timeline" data-name="aif_batch")", "</div>");
  CHECK(isolated.find(R"(data-bands="2")") != std::string::npos);
  CHECK(isolated.find(R"(data-state="open" data-from="2025-01-01T00:00:00Z" data-to="2025-01-01T00:03:30Z")") !=
        std::string::npos);
}

TEST_CASE("breaker bands before the span and without transitions", "[status_dashboard]") {
  mend::manual_clock clock;
  const auto from = clock.wall_now();
  const auto until = from + 10min;

  CHECK(mend::detail::breaker_state_bands("open", {}, from, until).size() == 1);
  CHECK(mend::detail::breaker_state_bands("open", {}, from, until).front().state == "open");
  CHECK(mend::detail::breaker_state_bands("open", {}, from, from).empty());

  mend::history_entry before;
  before.from = "closed";
  before.to = "open";
  before.wall_at = from - 1min;
  mend::history_entry inside;
  inside.from = "open";
  inside.to = "half_open";
  inside.wall_at = from + 4min;
  const std::vector<const mend::history_entry*> transitions{&before, &inside};
  const auto bands = mend::detail::breaker_state_bands("half_open", transitions, from, until);
  REQUIRE(bands.size() == 2);
  CHECK(bands[0].state == "open");
  CHECK(bands[0].to - bands[0].from == 4min);
  CHECK(bands[1].state == "half_open");
  CHECK(bands[1].to == until);
}

TEST_CASE("dashboard history is newest first", "[status_dashboard]") {
  const auto html = known_sequence_page();

  const auto table = element(html, "<table id=\"history-table\"", "</table>");
  CHECK(table.find(R"(data-rows="9")") != std::string::npos);
  CHECK(count_of(table, "<tr class=\"recovery\"") == 3);
  CHECK(count_of(table, "<tr class=\"entry\"") == 6);
  const auto newest = table.find(R"(data-component="health" data-recovery="true")");
  const auto oldest = table.find(R"(<time datetime="2025-01-01T00:00:00.000Z">)");
  CHECK(newest < oldest);
  CHECK(table.find("healthy \xE2\x86\x92 recovering") != std::string::npos);

  const auto limited = known_sequence_page({.max_history_rows = 2});
  CHECK(element(limited, "<table id=\"history-table\"", "</table>").find(R"(data-rows="2")") != std::string::npos);
  CHECK(limited.find("The newest 2 of 9 entries") != std::string::npos);
}

TEST_CASE("dashboard states render time and span", "[status_dashboard]") {
  const auto html = known_sequence_page();
  CHECK(html.find(R"(id="rendered-at" datetime="2025-01-01T00:03:30Z">2025-01-01T00:03:30Z</time>)") !=
        std::string::npos);
  CHECK(html.find(R"(id="span-from" datetime="2024-12-31T23:54:00Z")") != std::string::npos);
  CHECK(html.find(R"(id="span-to" datetime="2025-01-01T00:04:00Z")") != std::string::npos);
  CHECK(html.find(R"(<span id="span-length" data-ms="600000">10 min</span> in 1 min buckets)") != std::string::npos);
  CHECK(html.find(R"(<meta name="viewport" content="width=device-width, initial-scale=1">)") != std::string::npos);

  const auto later = known_sequence_page({.rendered_at = mend::wall_time{std::chrono::seconds{1'735'689'900}}});
  CHECK(later.find(R"(id="rendered-at" datetime="2025-01-01T00:05:00Z")") != std::string::npos);
}

TEST_CASE("dashboard refreshes only in live mode", "[status_dashboard]") {
  CHECK(known_sequence_page().find("http-equiv=\"refresh\"") == std::string::npos);
  const auto live = known_sequence_page({.refresh = 7s});
  CHECK(live.find(R"(<meta http-equiv="refresh" content="7">)") != std::string::npos);
  CHECK(live.find(R"(<span id="refresh" data-seconds="7">)") != std::string::npos);
}

TEST_CASE("dashboard is self-contained", "[status_dashboard]") {
  const auto html = known_sequence_page({.refresh = 5s, .json_href = "status.json"});
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("@import") == std::string::npos);
  CHECK(html.find("http://") == std::string::npos);
  CHECK(html.find("https://") == std::string::npos);
  CHECK(html.find("src=") == std::string::npos);
  CHECK(html.find("url(") == html.find("url(#mend-stripes-half-open)"));
  CHECK(count_of(html, "url(") == 2);
}

TEST_CASE("dashboard with hundreds of components", "[status_dashboard]") {
  mend::manual_clock clock;
  mend::status_reporter status{clock, mend_test::dashboard_reporter_options()};
  for (int i = 0; i < 300; ++i) status.add_breaker(fmt::format("breaker-{:03}", i));
  for (int i = 0; i < 200; ++i) status.add_pool(fmt::format("pool-{:03}", i));
  for (int i = 0; i < 150; ++i) {
    auto e = mend_test::make_status_event(mend::event_kind::endpoint_health_changed, "health", clock);
    const auto target = fmt::format("aos-{:03}", i);
    e.target = target;
    e.from = "healthy";
    e.to = i % 10 == 0 ? "unhealthy" : "healthy";
    status.record(e);
  }
  clock.advance(1min);
  for (int i = 0; i < 300; i += 50)
    status.record(breaker_event(fmt::format("breaker-{:03}", i), "closed", "open", clock));
  clock.advance(1min);

  const auto html = mend::to_html(status);

  CHECK(count_of(html, "<tr data-kind=\"breaker\"") == 300);
  CHECK(count_of(html, "<tr data-kind=\"pool\"") == 200);
  CHECK(count_of(html, "<tr data-kind=\"endpoint\"") == 150);
  CHECK(count_of(html, "<div class=\"timeline\"") == 300);
  CHECK(count_of(html, "<tr data-kind=\"breaker\" data-name=\"breaker-050\" data-state=\"open\"") == 1);
  CHECK(html.find(R"(id="count-breakers" data-value="300")") != std::string::npos);
  CHECK(html.find(R"(id="count-breakers-open" data-value="6")") != std::string::npos);
  CHECK(html.find(R"(id="count-endpoints-unhealthy" data-value="15")") != std::string::npos);
  CHECK(html.find(R"(<details id="steady-breakers" data-count="294">)") != std::string::npos);
  // Changed breakers are listed before the fold.
  CHECK(html.find(R"(<div class="timeline" data-name="breaker-250")") < html.find("<details id=\"steady-breakers\""));
  CHECK(html.find("Needs attention: 6 open breakers, 15 unhealthy endpoints.") != std::string::npos);
  CHECK(html.size() < 1'000'000);
}

TEST_CASE("plot scale rounds up to few steps", "[status_dashboard]") {
  const auto check = [](std::uint64_t max, std::uint64_t top, std::uint64_t step) {
    const auto scale = mend::detail::scale_for(max);
    INFO(max);
    CHECK(scale.top == top);
    CHECK(scale.step == step);
  };
  check(0, 1, 1);
  check(1, 1, 1);
  check(3, 3, 1);
  check(5, 5, 1);
  check(7, 8, 2);
  check(12, 15, 5);
  check(1000, 1000, 200);
  check(1001, 1500, 500);
}

TEST_CASE("span formatting for people", "[status_dashboard]") {
  CHECK(mend::detail::format_span(0s) == "0 s");
  CHECK(mend::detail::format_span(1min) == "1 min");
  CHECK(mend::detail::format_span(90min) == "1 h 30 min");
  CHECK(mend::detail::format_span(24h) == "24 h");
  CHECK(mend::detail::format_span(250ms) == "250 ms");
  CHECK(mend::detail::format_span(61s) == "1 min 1 s");
  CHECK(mend::detail::format_span(std::chrono::microseconds{5}) == "< 1 ms");
}

TEST_CASE("html escape of random bytes", "[status_dashboard]") {
  std::mt19937 random{20250101};  // fixed seed: the same inputs in every run
  std::uniform_int_distribution<int> byte{0, 255};
  std::uniform_int_distribution<int> length{0, 64};
  for (int run = 0; run < 2000; ++run) {
    std::string input(static_cast<std::size_t>(length(random)), '\0');
    for (auto& c : input) c = static_cast<char>(byte(random));
    const auto escaped = mend::detail::html_escape(input);
    INFO("input bytes: " << input.size());
    CHECK(escaped.find_first_of("<>\"'") == std::string::npos);
    // Valid UTF-8 throughout, and no control character but tab, LF and CR.
    for (std::size_t i = 0; i < escaped.size();) {
      const auto sequence = mend::detail::utf8_sequence_length(std::string_view(escaped).substr(i));
      REQUIRE(sequence > 0);
      const auto first = static_cast<unsigned char>(escaped[i]);
      CHECK((first >= 0x20 || first == '\t' || first == '\n' || first == '\r'));
      i += sequence;
    }
  }
}
