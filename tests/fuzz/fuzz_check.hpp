// The check macro of the fuzz targets and of the unit tests that replay their
// seed corpora. A broken promise aborts with the failed condition, which
// libFuzzer reports as a crash and saves the input for. With
// MEND_FUZZ_CHECK_THROWS defined it throws std::runtime_error instead, so a
// unit test reports every failing seed and goes on.
#ifndef MEND_TESTS_FUZZ_FUZZ_CHECK_HPP
#define MEND_TESTS_FUZZ_FUZZ_CHECK_HPP

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace mend_test {

[[noreturn]] inline void fuzz_check_failed(const char* condition, const char* file, int line) {
#ifdef MEND_FUZZ_CHECK_THROWS
  throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": check failed: " + condition);
#else
  std::fprintf(stderr, "%s:%d: check failed: %s\n", file, line, condition);
  std::abort();
#endif
}

}  // namespace mend_test

#define MEND_FUZZ_CHECK(condition)                                                  \
  do {                                                                              \
    if (!(condition)) mend_test::fuzz_check_failed(#condition, __FILE__, __LINE__); \
  } while (false)

#endif  // MEND_TESTS_FUZZ_FUZZ_CHECK_HPP
