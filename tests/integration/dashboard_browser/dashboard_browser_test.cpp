// Loads the status dashboard of a known event sequence in headless Chromium
// and checks what the browser made of it. The DOM must show the states,
// counts and plotted buckets, no name from the report may run as script, and
// the page must fit 1280 px and 390 px (phone) wide without horizontal
// scrolling.
//
// Chromium runs with --dump-dom, which prints the DOM after the load event.
// A probe script, added to a copy of the page for the test only, writes its
// measurements as JSON into a <pre id="probe"> that the dump contains. The
// phone layout is measured in a 390 px wide iframe, because a headless
// Chromium window is at least 500 px wide. Screenshots go to
// MEND_ARTIFACT_DIR.
#include <mend/adapters/status_dashboard.hpp>

#include <mend/manual_clock.hpp>
#include <mend/status_reporter.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "dashboard_sequence.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view hostile_breaker = "<script>document.documentElement.dataset.pwned = 1</script>";
constexpr std::string_view hostile_pool = R"(<img src=x onerror="document.documentElement.dataset.pwned = 1">)";

// Collects the measurements the test checks, inside the browser.
constexpr std::string_view probe_script = R"js(<script>
(() => {
  const all = (selector, root = document) => Array.from(root.querySelectorAll(selector));
  const badge = row => { const b = row.querySelector('.badge'); return b ? b.textContent : ''; };
  const visible = element => { const r = element.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const result = {
    scripts: document.scripts.length,
    pwned: document.documentElement.hasAttribute('data-pwned'),
    title: document.title,
    innerWidth: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    rows: all('tr[data-kind]').map(r => ({kind: r.dataset.kind, name: r.dataset.name,
                                         state: r.dataset.state || '', badge: badge(r)})),
    counts: Object.fromEntries(all('[id^="count-"]').map(e => [e.id, Number(e.textContent)])),
    plots: Object.fromEntries(all('svg.plot').map(p => [p.id, {
      buckets: Number(p.dataset.buckets),
      hits: all('rect.hit', p).length,
      visibleBars: all('rect.bar', p).filter(visible).length,
      width: p.getBoundingClientRect().width}])),
    timelines: Object.fromEntries(all('div.timeline').map(t => [t.dataset.name,
      all('rect.band', t).filter(visible).map(r => r.dataset.state)])),
    overflowing: all('body *').filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 &&
                                           !e.closest('.scroll'))
                     .slice(0, 10).map(e => e.tagName + '.' +
                                          (typeof e.className === 'string' ? e.className : e.className.baseVal)),
    openBadgeColor: getComputedStyle(document.querySelector('tr[data-state="open"] .badge')).color,
  };
  const out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify(result);
  (window.parent === window ? document : window.parent.document).body.appendChild(out);
})();
</script>)js";

// Runs `argv` with stdout going to `stdout_path`, killing it after `timeout`.
// Returns its exit status.
int run_process(const std::vector<std::string>& argv, const fs::path& stdout_path, const fs::path& stderr_path,
                std::chrono::seconds timeout) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) throw std::runtime_error("cannot start " + argv[0]);

  const auto give_up = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > give_up) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      throw std::runtime_error(argv[0] + " did not finish within " + std::to_string(timeout.count()) + " s");
    }
    std::this_thread::sleep_for(50ms);
  }
  return status;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

std::string replace_once(std::string text, std::string_view from, std::string_view to) {
  const auto at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("not found in the page: " + std::string(from));
  return text.replace(at, from.size(), to);
}

// A fresh temporary folder for the pages and Chromium's profile, removed at the end.
class browser_session {
 public:
  browser_session() {
    std::string pattern = (fs::temp_directory_path() / "mend-dashboard-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    fs::create_directories(MEND_ARTIFACT_DIR);
  }
  browser_session(const browser_session&) = delete;
  browser_session& operator=(const browser_session&) = delete;
  ~browser_session() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  const fs::path& dir() const { return dir_; }

  // Runs Chromium on `page` with `mode` (--dump-dom or --screenshot=...)
  // and returns its stdout; a failed run fails the test with its stderr.
  std::string chromium(const fs::path& page, const std::string& mode, std::string_view window_size) {
    const auto run = ++runs_;
    const auto profile = dir_ / ("profile-" + std::to_string(run));
    const auto out = dir_ / ("stdout-" + std::to_string(run));
    const auto err = dir_ / ("stderr-" + std::to_string(run));
    const std::vector<std::string> argv{MEND_CHROMIUM_PATH,
                                        "--headless",
                                        "--no-sandbox",
                                        "--disable-gpu",
                                        "--disable-quic",
                                        "--no-first-run",
                                        "--disable-background-networking",
                                        "--disable-component-update",
                                        "--disable-sync",
                                        "--disable-domain-reliability",
                                        "--no-pings",
                                        "--no-proxy-server",
                                        "--host-resolver-rules=MAP * ~NOTFOUND",
                                        "--hide-scrollbars",
                                        "--user-data-dir=" + profile.string(),
                                        "--window-size=" + std::string(window_size),
                                        mode,
                                        "file://" + page.string()};
    const int status = run_process(argv, out, err, 60s);
    INFO("chromium stderr: " << read_file(err));
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    return read_file(out);
  }

 private:
  fs::path dir_;
  int runs_ = 0;
};

// The page of the known sequence, with a breaker and a pool whose names are
// HTML that would run script if they were not escaped.
std::string known_page() {
  mend::manual_clock clock;
  mend::status_reporter status{clock, mend_test::dashboard_reporter_options()};
  status.add_breaker(hostile_breaker);
  status.add_pool(hostile_pool);
  mend_test::run_dashboard_sequence(clock, status);
  return mend::to_html(status);
}

// A copy of `page` that runs the probe: the page's own Content-Security-Policy,
// which would block it, is removed, so the test also shows that escaping
// alone keeps the report's names from running.
std::string probed_page(const std::string& page) {
  const auto csp_begin = page.find(R"(<meta http-equiv="Content-Security-Policy")");
  REQUIRE(csp_begin != std::string::npos);
  const auto csp_end = page.find('>', csp_begin);
  std::string copy = page;
  copy.erase(csp_begin, csp_end + 1 - csp_begin);
  return replace_once(copy, "</body>", std::string(probe_script) + "</body>");
}

// Puts `page` in a 390 px wide iframe, the width of a common phone screen.
std::string phone_frame(const std::string& page, int height) {
  return "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body style=\"margin:0\">"
         "<iframe style=\"border:0;display:block\" width=\"390\" height=\"" +
         std::to_string(height) + "\" srcdoc=\"" + mend::detail::html_escape(page) + "\"></iframe></body></html>";
}

// Returns the probe's measurements from a DOM dump.
nlohmann::json probe_result(const std::string& dom) {
  const std::string start = "<pre id=\"probe\">";
  const auto begin = dom.find(start);
  REQUIRE(begin != std::string::npos);
  const auto end = dom.find("</pre>", begin);
  std::string text = dom.substr(begin + start.size(), end - begin - start.size());
  // The serializer escapes &, < and > in text, and (for the iframe case) nothing else.
  for (const auto& [entity, character] : {std::pair{"&lt;", "<"}, std::pair{"&gt;", ">"}, std::pair{"&amp;", "&"}}) {
    for (auto at = text.find(entity); at != std::string::npos; at = text.find(entity, at + 1))
      text.replace(at, std::string_view(entity).size(), character);
  }
  return nlohmann::json::parse(text);
}

nlohmann::json desktop_probe(browser_session& browser) {
  const auto page = browser.dir() / "desktop.html";
  write_file(page, probed_page(known_page()));
  return probe_result(browser.chromium(page, "--dump-dom", "1280,1000"));
}

nlohmann::json row_of(const nlohmann::json& probe, std::string_view kind, std::string_view name) {
  for (const auto& row : probe["rows"])
    if (row["kind"] == kind && row["name"] == name) return row;
  FAIL("no " << kind << " row named " << name);
  return {};
}

// The width in a PNG's IHDR chunk.
std::uint32_t png_width(const std::string& png) {
  REQUIRE(png.size() > 24);
  REQUIRE(png.substr(0, 8) == "\x89PNG\r\n\x1a\n");
  std::uint32_t width = 0;
  for (int i = 16; i < 20; ++i) width = (width << 8) | static_cast<unsigned char>(png[static_cast<std::size_t>(i)]);
  return width;
}

}  // namespace

TEST_CASE("browser shows states and counts", "[dashboard_browser]") {
  browser_session browser;
  const auto probe = desktop_probe(browser);

  CHECK(row_of(probe, "breaker", "aif_batch")["state"] == "open");
  CHECK(row_of(probe, "breaker", "aif_batch")["badge"] == "open");
  CHECK(row_of(probe, "breaker", "ax_connection")["badge"] == "closed");
  CHECK(row_of(probe, "pool", "aif_pool")["badge"] == "healthy");
  CHECK(row_of(probe, "endpoint", "aos-1")["badge"] == "unhealthy");
  CHECK(row_of(probe, "endpoint", "aos-2")["badge"] == "healthy");
  CHECK(probe["openBadgeColor"] == "rgb(164, 14, 38)");

  const auto& counts = probe["counts"];
  CHECK(counts["count-breakers"] == 3);
  CHECK(counts["count-breakers-open"] == 1);
  CHECK(counts["count-pools"] == 2);
  CHECK(counts["count-endpoints"] == 2);
  CHECK(counts["count-endpoints-unhealthy"] == 1);
  CHECK(counts["count-retries"] == 1);
  CHECK(counts["count-retries-successful"] == 1);
  CHECK(counts["count-retries-failed"] == 0);
  CHECK(counts["count-failures"] == 3);
  CHECK(counts["count-recoveries"] == 3);
  CHECK(counts["count-rejections"] == 1);

  const auto& timelines = probe["timelines"];
  CHECK(timelines["ax_connection"] == nlohmann::json::array({"closed", "open", "closed"}));
  CHECK(timelines["aif_batch"] == nlohmann::json::array({"closed", "open"}));
}

TEST_CASE("browser plots every bucket", "[dashboard_browser]") {
  browser_session browser;
  const auto probe = desktop_probe(browser);

  struct expected_plot {
    const char* id;
    int bars;
  };
  for (const auto& plot : {expected_plot{"plot-failures", 2}, expected_plot{"plot-retries", 1},
                           expected_plot{"plot-recoveries", 3}, expected_plot{"plot-rejections", 1}}) {
    INFO(plot.id);
    const auto& measured = probe["plots"][plot.id];
    CHECK(measured["buckets"] == 4);
    CHECK(measured["hits"] == plot.bars);
    CHECK(measured["visibleBars"] == plot.bars);
    CHECK(measured["width"].get<double>() > 400);
  }
}

TEST_CASE("browser runs no script from the report", "[dashboard_browser]") {
  browser_session browser;
  const auto probe = desktop_probe(browser);

  CHECK(probe["scripts"] == 1);  // the probe itself
  CHECK(probe["pwned"] == false);
  CHECK(probe["title"] == "Self-healing status");
  CHECK(row_of(probe, "breaker", hostile_breaker)["badge"] == "closed");
  CHECK(row_of(probe, "pool", hostile_pool)["badge"] == "healthy");
}

TEST_CASE("page fits desktop and phone widths", "[dashboard_browser]") {
  browser_session browser;
  const auto desktop = desktop_probe(browser);
  CHECK(desktop["innerWidth"] == 1280);
  CHECK(desktop["scrollWidth"].get<int>() <= 1280);
  CHECK(desktop["overflowing"] == nlohmann::json::array());

  const auto page = browser.dir() / "phone.html";
  write_file(page, phone_frame(probed_page(known_page()), 844));
  const auto phone = probe_result(browser.chromium(page, "--dump-dom", "500,844"));
  CHECK(phone["innerWidth"] == 390);
  CHECK(phone["scrollWidth"].get<int>() <= 390);
  CHECK(phone["overflowing"] == nlohmann::json::array());
  CHECK(phone["plots"]["plot-failures"]["width"].get<double>() <= 390);
}

TEST_CASE("browser saves screenshots", "[dashboard_browser]") {
  browser_session browser;
  const fs::path artifacts = MEND_ARTIFACT_DIR;
  const auto page = browser.dir() / "dashboard.html";
  write_file(page, known_page());
  const auto desktop_png = artifacts / "dashboard-desktop.png";
  fs::remove(desktop_png);
  browser.chromium(page, "--screenshot=" + desktop_png.string(), "1280,2400");
  CHECK(png_width(read_file(desktop_png)) == 1280);

  const auto phone_page = browser.dir() / "dashboard-phone.html";
  write_file(phone_page, phone_frame(known_page(), 2400));
  const auto phone_png = artifacts / "dashboard-phone.png";
  fs::remove(phone_png);
  browser.chromium(phone_page, "--screenshot=" + phone_png.string(), "390,2400");
  CHECK(png_width(read_file(phone_png)) == 390);
  // Also keep the page itself next to its screenshots.
  write_file(artifacts / "dashboard.html", known_page());
}
