// Runs parse_retry_after() on one Retry-After header value, at a few
// reading times, and carries each hint through http_error() the way
// http_response::status_error() does. Aborts when a result breaks what
// the functions promise. Shared by the libFuzzer target and the unit test
// that replays the seed corpus.
#ifndef MEND_TESTS_FUZZ_RETRY_AFTER_CHECKS_HPP
#define MEND_TESTS_FUZZ_RETRY_AFTER_CHECKS_HPP

#include <algorithm>
#include <array>
#include <chrono>
#include <mend/http_error.hpp>
#include <string_view>

#include "fuzz_check.hpp"

namespace mend_test {

inline void check_retry_after_parser(std::string_view value) {
  using namespace std::chrono;
  // The epoch, the time the unit tests use, and a reading far in the future.
  const std::array<system_clock::time_point, 3> readings{system_clock::time_point{},
                                                         system_clock::time_point{seconds{1'735'689'600}},
                                                         system_clock::time_point{sys_days{year{2200} / 1 / 1}}};

  for (const auto now : readings) {
    const auto hint = mend::parse_retry_after(value, now);
    if (!hint) continue;
    MEND_FUZZ_CHECK(*hint >= seconds::zero());

    // The hint travels inside an HTTP error, rounded up to whole seconds
    // and capped, whatever its size.
    const auto ec = mend::http_error(503, *hint);
    MEND_FUZZ_CHECK(mend::http_status_of(ec) == 503);
    const auto carried = mend::retry_after_of(ec);
    if (*hint == seconds::zero()) {
      MEND_FUZZ_CHECK(!carried);
    } else {
      MEND_FUZZ_CHECK(carried.has_value());
      MEND_FUZZ_CHECK(carried->count() == std::min<std::int64_t>(hint->count(), mend::detail::max_retry_after_seconds));
    }
  }
}

}  // namespace mend_test

#endif  // MEND_TESTS_FUZZ_RETRY_AFTER_CHECKS_HPP
