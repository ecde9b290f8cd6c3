// Catch2 v2 assertions are not thread-safe, so worker threads must not call
// CHECK or REQUIRE. They record failed expectations here instead, and the test
// thread asserts that none failed:
//
//   mend::testing::concurrent_checks checks;
//   std::thread worker([&] { MEND_EXPECT(checks, value == 42); });
//   worker.join();
//   MEND_REQUIRE_NO_FAILURES(checks);
#ifndef MEND_TESTS_CONCURRENT_CHECKS_HPP
#define MEND_TESTS_CONCURRENT_CHECKS_HPP

#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

namespace mend::testing {

class concurrent_checks {
 public:
  // Records `what` when `ok` is false. Returns `ok`.
  bool expect(bool ok, const char* what, const char* file, int line) {
    if (!ok) {
      std::lock_guard lock(mutex_);
      ++failure_count_;
      // Keep the first few messages; the count tells how many there were.
      if (failures_.size() < 20) failures_.push_back(std::string(file) + ":" + std::to_string(line) + ": " + what);
    }
    return ok;
  }

  std::size_t failure_count() const {
    std::lock_guard lock(mutex_);
    return failure_count_;
  }

  std::string report() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& failure : failures_) out += failure + "\n";
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> failures_;  // guarded by mutex_
  std::size_t failure_count_ = 0;      // guarded by mutex_
};

}  // namespace mend::testing

#define MEND_EXPECT(checks, condition) (checks).expect(static_cast<bool>(condition), #condition, __FILE__, __LINE__)

#define MEND_REQUIRE_NO_FAILURES(checks) \
  do {                                   \
    INFO((checks).report());             \
    REQUIRE((checks).failure_count() == 0); \
  } while (false)

#endif  // MEND_TESTS_CONCURRENT_CHECKS_HPP
