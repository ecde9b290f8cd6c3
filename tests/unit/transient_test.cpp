#include <mend/error.hpp>
#include <mend/http_error.hpp>
#include <mend/transient.hpp>

#include <catch2/catch.hpp>

#include <system_error>

using namespace std::chrono_literals;

TEST_CASE("timeouts and broken connections are transient", "[errors]") {
  for (const auto code : {std::errc::timed_out, std::errc::connection_refused, std::errc::connection_reset,
                          std::errc::connection_aborted, std::errc::host_unreachable, std::errc::network_unreachable,
                          std::errc::broken_pipe, std::errc::resource_unavailable_try_again}) {
    INFO(std::make_error_code(code).message());
    CHECK(mend::is_transient(std::make_error_code(code)));
  }
  CHECK(mend::is_transient(mend::make_error_code(mend::errc::timed_out)));
  CHECK(mend::is_transient(mend::make_error_code(mend::errc::connect_failed)));
  CHECK(mend::is_transient(mend::make_error_code(mend::errc::pool_exhausted)));
}

TEST_CASE("http 5xx 408 and 429 are transient", "[errors]") {
  for (const int status : {500, 502, 503, 504, 599, 408, 429}) {
    INFO("HTTP " << status);
    CHECK(mend::is_transient(mend::http_error(status)));
  }
  for (const int status : {400, 401, 403, 404, 409, 422, 501, 505}) {
    INFO("HTTP " << status);
    CHECK_FALSE(mend::is_transient(mend::http_error(status)));
  }
}

TEST_CASE("fail-fast errors are not transient", "[errors]") {
  for (const auto code : {mend::errc::circuit_open, mend::errc::pool_recovering, mend::errc::no_healthy_endpoint,
                          mend::errc::cancelled, mend::errc::invalid_argument, mend::errc::permission_denied,
                          mend::errc::unexpected_exception}) {
    INFO(mend::make_error_code(code).message());
    CHECK_FALSE(mend::is_transient(mend::make_error_code(code)));
  }
  CHECK_FALSE(mend::is_transient(std::error_code{}));
  CHECK_FALSE(mend::is_transient(std::make_error_code(std::errc::invalid_argument)));
}

TEST_CASE("backend failures include the fail-fast pool errors", "[errors]") {
  CHECK(mend::is_backend_failure(mend::make_error_code(mend::errc::pool_recovering)));
  CHECK(mend::is_backend_failure(mend::make_error_code(mend::errc::no_healthy_endpoint)));
  CHECK(mend::is_backend_failure(mend::http_error(503)));
  CHECK_FALSE(mend::is_backend_failure(mend::make_error_code(mend::errc::circuit_open)));
  CHECK_FALSE(mend::is_backend_failure(mend::http_error(404)));
}

TEST_CASE("mend errors compare with portable conditions", "[errors]") {
  CHECK(mend::make_error_code(mend::errc::timed_out) == std::errc::timed_out);
  CHECK(mend::make_error_code(mend::errc::cancelled) == std::errc::operation_canceled);
  CHECK(mend::make_error_code(mend::errc::invalid_argument) == std::errc::invalid_argument);
  CHECK(mend::make_error_code(mend::errc::circuit_open).message() == "circuit breaker is open");
  CHECK(std::string(mend::make_error_code(mend::errc::circuit_open).category().name()) == "mend");
}

TEST_CASE("http error carries status and Retry-After", "[errors][http]") {
  const auto plain = mend::http_error(503);
  CHECK(mend::http_status_of(plain) == 503);
  CHECK_FALSE(mend::retry_after_of(plain));
  CHECK(plain.message() == "HTTP 503 Service Unavailable");

  const auto hinted = mend::http_error(429, 1500ms);
  CHECK(mend::http_status_of(hinted) == 429);
  CHECK(mend::retry_after_of(hinted) == 2s);  // rounded up to whole seconds
  CHECK(hinted.message() == "HTTP 429 Too Many Requests (retry after 2 s)");

  CHECK(mend::http_status_of(std::make_error_code(std::errc::timed_out)) == 0);
  CHECK(mend::http_status_of(mend::http_error(42)) == 100);  // clamped into 100-999
  CHECK(mend::retry_after_of(mend::http_error(503, 10000h)) == std::chrono::seconds{2'147'482});
}

TEST_CASE("Retry-After header parses seconds and dates", "[errors][http]") {
  // Thu, 01 Jan 2026 00:00:00 GMT
  const std::chrono::system_clock::time_point now{std::chrono::seconds{1'767'225'600}};
  CHECK(mend::parse_retry_after("120", now) == 120s);
  CHECK(mend::parse_retry_after("  7 ", now) == 7s);
  CHECK(mend::parse_retry_after("Thu, 01 Jan 2026 00:01:30 GMT", now) == 90s);
  CHECK(mend::parse_retry_after("Wed, 31 Dec 2025 23:00:00 GMT", now) == 0s);
  CHECK(mend::parse_retry_after("99999999999999999999999", now) == std::chrono::seconds{2'147'482});

  CHECK_FALSE(mend::parse_retry_after("", now));
  CHECK_FALSE(mend::parse_retry_after("-5", now));
  CHECK_FALSE(mend::parse_retry_after("soon", now));
  CHECK_FALSE(mend::parse_retry_after("Thu, 32 Jan 2026 00:00:00 GMT", now));
  CHECK_FALSE(mend::parse_retry_after("Thu, 01 Foo 2026 00:00:00 GMT", now));
  CHECK_FALSE(mend::parse_retry_after("Thu, 01 Jan 2026 00:00:00 UTC", now));
}
