// Replays the seed corpus of every fuzz target in tests/fuzz/ through the
// same checks the fuzzer runs, so each crash the fuzzer found and that was
// saved as a seed stays a regression test in every build, with any compiler.
// (corpus/haproxy is replayed by haproxy_runtime_test.) The named test cases
// below spell out the findings.
#define MEND_FUZZ_CHECK_THROWS  // report each failing seed instead of aborting
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mend/adapters/http_connection.hpp>
#include <mend/http_error.hpp>
#include <string>
#include <string_view>
#include <thread>

#include "../fuzz/http_request_checks.hpp"
#include "../fuzz/http_response_checks.hpp"
#include "../fuzz/mcp_session_checks.hpp"
#include "../fuzz/retry_after_checks.hpp"

using namespace std::chrono_literals;

namespace {

// Runs `check` on every file of corpus/<target>/ and returns how many there
// were. A failed check, or any exception, fails the test case and names the
// file. A sanitizer finding aborts the program instead, so the file name goes
// to stderr first, where ctest shows it.
int replay(std::string_view target, const std::function<void(std::string_view)>& check) {
  const std::filesystem::path corpus = std::filesystem::path{MEND_FUZZ_CORPUS_DIR} / target;
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    std::string input(entry.file_size(), '\0');
    std::ifstream in(entry.path(), std::ios::binary);
    in.read(input.data(), static_cast<std::streamsize>(input.size()));
    REQUIRE(in);
    std::fprintf(stderr, "replaying %s\n", entry.path().string().c_str());
    try {
      check(input);
    } catch (const std::exception& e) {
      FAIL_CHECK(entry.path().filename().string() << ": " << e.what());
    }
    ++files;
  }
  return files;
}

const mend::wall_time new_year_2025{std::chrono::seconds{1'735'689'600}};

const std::chrono::seconds max_hint{mend::detail::max_retry_after_seconds};

}  // namespace

TEST_CASE("http request seeds pass the parser checks", "[fuzz]") {
  CHECK(replay("http_request", mend_test::check_http_request_parser) >= 12);
}

TEST_CASE("retry after seeds pass the parser checks", "[fuzz]") {
  CHECK(replay("retry_after", mend_test::check_retry_after_parser) >= 12);
}

TEST_CASE("http response seeds pass the parser checks", "[fuzz]") {
  CHECK(replay("http_response", mend_test::check_http_response_parser) >= 8);
}

TEST_CASE("mcp session seeds pass the protocol checks", "[fuzz]") {
  CHECK(replay("mcp_session", mend_test::check_mcp_session) >= 12);
}

// Found by retry_after_fuzz: "99999999999999999" fits a std::int64_t, so
// parse_retry_after() returned it unchanged. Converting it to the nanoseconds
// that http_error() takes overflowed, which is undefined behaviour and in
// practice gave a garbage hint or none.
TEST_CASE("Retry-After delay beyond nanoseconds caps the hint", "[fuzz][http]") {
  mend::http_response response;
  response.status = 503;
  response.headers = {{"Retry-After", "99999999999999999"}};
  const auto unavailable = response.status_error(new_year_2025);
  CHECK(mend::http_status_of(unavailable) == 503);
  CHECK(mend::retry_after_of(unavailable) == max_hint);
}

// Found by http_response_fuzz: parse_retry_after() subtracted the reading
// time in nanoseconds from the date, which overflows for any date after
// 2262-04-11 (undefined behaviour).
TEST_CASE("Retry-After date after 2262 caps the hint", "[fuzz][http]") {
  mend::http_response response;
  response.status = 429;
  response.headers = {{"Retry-After", "Wed, 01 Jan 4450 00:00:00 GMT"}};
  const auto throttled = response.status_error(new_year_2025);
  CHECK(mend::http_status_of(throttled) == 429);
  CHECK(mend::retry_after_of(throttled) == max_hint);
}

TEST_CASE("Retry-After date keeps whole seconds until the cap", "[fuzz][http]") {
  const auto now = std::chrono::system_clock::time_point{std::chrono::seconds{1'735'689'600} + 250ms};
  // 59.75 s away rounds up to 60 s, as before.
  CHECK(mend::parse_retry_after("Wed, 01 Jan 2025 00:01:00 GMT", now) == 60s);
  CHECK(mend::parse_retry_after("Tue, 31 Dec 2024 23:00:00 GMT", now) == 0s);
}

// Found by http_response_fuzz: a response whose Content-Length exceeds the
// body limit, with body bytes in the same read, made request() throw
// std::bad_alloc instead of returning an error. Boost.Beast 1.74's
// basic_parser::put goes on past its own body_limit error when eager() is
// set, which async_read does, and then reserves the declared length for the
// body. The server here runs on 127.0.0.1.
TEST_CASE("huge Content-Length is an error, not an exception", "[fuzz][http]") {
  namespace asio = boost::asio;
  asio::io_context server_io;
  asio::ip::tcp::acceptor acceptor{server_io, {asio::ip::make_address("127.0.0.1"), 0}};
  const auto port = acceptor.local_endpoint().port();
  std::thread server([&] {
    asio::ip::tcp::socket socket{server_io};
    acceptor.accept(socket);
    std::string request;
    boost::system::error_code ec;
    asio::read_until(socket, asio::dynamic_buffer(request), "\r\n\r\n", ec);
    const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 3333333333333333330\r\n\r\nx";
    asio::write(socket, asio::buffer(response), ec);
    // Holds the connection open until the client gives up or closes it.
    char byte = 0;
    socket.read_some(asio::buffer(&byte, 1), ec);
  });

  auto connection = mend::http_connection::connect("127.0.0.1", port, 2s, {.request_timeout = 2s});
  REQUIRE(connection);
  mend::result<mend::http_response> response = mend::http_response{};
  CHECK_NOTHROW(response = connection.value().request("GET", "/aif/OrderService"));
  CHECK_FALSE(response);
  connection.value().close();
  server.join();
}
