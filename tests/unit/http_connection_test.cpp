#include <mend/adapters/http_connection.hpp>
#include <mend/config_error.hpp>
#include <mend/transient.hpp>

#include <catch2/catch.hpp>

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

#include <chrono>
#include <system_error>

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;

TEST_CASE("refused and reset connections stay transient", "[http]") {
  const auto refused = mend::detail::to_std_error(asio::error::connection_refused);
  CHECK(refused == std::errc::connection_refused);
  CHECK(mend::is_transient(refused));

  const auto reset = mend::detail::to_std_error(asio::error::connection_reset);
  CHECK(reset == std::errc::connection_reset);
  CHECK(mend::is_transient(reset));

  const auto broken_pipe = mend::detail::to_std_error(asio::error::broken_pipe);
  CHECK(broken_pipe == std::errc::broken_pipe);
  CHECK(mend::is_transient(broken_pipe));
}

TEST_CASE("server closing mid-exchange maps to connection_reset", "[http]") {
  for (const boost::system::error_code ec :
       {boost::system::error_code{asio::error::eof}, boost::system::error_code{beast::http::error::end_of_stream},
        boost::system::error_code{beast::http::error::partial_message}}) {
    INFO(ec.message());
    const auto mapped = mend::detail::to_std_error(ec);
    CHECK(mapped == std::errc::connection_reset);
    CHECK(mend::is_transient(mapped));
  }
}

TEST_CASE("timeouts map to timed_out", "[http]") {
  for (const boost::system::error_code ec : {boost::system::error_code{beast::error::timeout},
                                             boost::system::error_code{asio::error::operation_aborted}}) {
    const auto mapped = mend::detail::to_std_error(ec);
    CHECK(mapped == mend::errc::timed_out);
    CHECK(mend::is_transient(mapped));
  }
}

TEST_CASE("bad responses and unknown hosts", "[http]") {
  const auto bad = mend::detail::to_std_error(beast::http::error::bad_status);
  CHECK(bad == mend::errc::protocol_error);
  CHECK_FALSE(mend::is_transient(bad));

  const auto unknown_host = mend::detail::to_std_error(asio::error::host_not_found);
  CHECK(unknown_host == mend::errc::connect_failed);
  CHECK(mend::is_transient(unknown_host));

  CHECK_FALSE(mend::detail::to_std_error(boost::system::error_code{}));
}

TEST_CASE("response finds headers without case", "[http]") {
  mend::http_response response;
  response.headers = {{"Content-Type", "text/xml"}, {"Retry-After", "120"}};
  CHECK(response.header("content-type") == "text/xml");
  CHECK(response.header("RETRY-AFTER") == "120");
  CHECK(response.header("Location").empty());
}

TEST_CASE("response status_error carries status and Retry-After", "[http]") {
  const mend::wall_time now{std::chrono::seconds{1'735'689'600}};
  mend::http_response response;
  response.status = 200;
  CHECK_FALSE(response.status_error(now));

  response.status = 503;
  response.headers = {{"Retry-After", "120"}};
  const auto unavailable = response.status_error(now);
  CHECK(mend::http_status_of(unavailable) == 503);
  CHECK(mend::retry_after_of(unavailable) == 120s);
  CHECK(mend::is_transient(unavailable));

  response.status = 404;
  response.headers.clear();
  const auto not_found = response.status_error(now);
  CHECK(mend::http_status_of(not_found) == 404);
  CHECK_FALSE(mend::retry_after_of(not_found));
  CHECK_FALSE(mend::is_transient(not_found));
}

TEST_CASE("request on a closed connection fails", "[http]") {
  auto refused = mend::http_connection::connect("127.0.0.1", 1, 1s);
  REQUIRE_FALSE(refused);
  CHECK(refused.error() == std::errc::connection_refused);
}

TEST_CASE("connect validates host, port and timeouts", "[http]") {
  using mend::http_connection;
  CHECK_THROWS_MATCHES(http_connection::connect("", 8080, 1s), mend::config_error,
                       Catch::Message("http_connection: invalid host = \"\" (must name a host or an IP address)"));
  CHECK_THROWS_MATCHES(http_connection::connect("127.0.0.1", 0, 1s), mend::config_error,
                       Catch::Message("http_connection: invalid port = 0 (must be from 1 to 65535)"));
  CHECK_THROWS_MATCHES(http_connection::connect("127.0.0.1", 1, 0s), mend::config_error,
                       Catch::Message("http_connection: invalid connect timeout = 0s (must be greater than zero)"));
  CHECK_THROWS_MATCHES(http_connection::connect("127.0.0.1", 1, -5ms), mend::config_error,
                       Catch::Message("http_connection: invalid connect timeout = -5ms (must be greater than zero)"));
}

TEST_CASE("connect validates its options", "[http]") {
  using mend::http_connection;
  CHECK_THROWS_MATCHES(http_connection::connect("127.0.0.1", 1, 1s, {.request_timeout = 0s}), mend::config_error,
                       Catch::Message("http_connection: invalid request_timeout = 0s (must be greater than zero)"));
  CHECK_THROWS_MATCHES(http_connection::connect("127.0.0.1", 1, 1s, {.request_timeout = -1s}), mend::config_error,
                       Catch::Message("http_connection: invalid request_timeout = -1s (must be greater than zero)"));
  CHECK_THROWS_MATCHES(http_connection::connect("127.0.0.1", 1, 1s, {.body_limit = 0}), mend::config_error,
                       Catch::Message("http_connection: invalid body_limit = 0 (must be at least 1 byte)"));
  CHECK_THROWS_MATCHES(http_connection::connect("127.0.0.1", 1, 1s, {.user_agent = "mend\r\nX-Injected: 1"}),
                       mend::config_error,
                       Catch::Message("http_connection: invalid user_agent = \"mend\\x0d\\x0aX-Injected: 1\" (must not "
                                      "contain control characters such as CR or LF)"));
}

TEST_CASE("valid options reach the connection attempt", "[http]") {
  // Nothing listens on port 1 of 127.0.0.1 without root, so the attempt
  // fails with a connection error, not a config_error.
  const auto refused =
      mend::http_connection::connect("127.0.0.1", 1, 1s, {.request_timeout = 1ms, .body_limit = 1, .user_agent = ""});
  REQUIRE_FALSE(refused);
  CHECK(refused.error() == std::errc::connection_refused);
}
