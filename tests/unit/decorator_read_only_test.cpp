// Checks that a successful call through a closed breaker (consecutive_failures)
// and through a retry writes nothing to the breaker or policy object, so
// threads that share one of them share its cache lines read-only. Each object
// lives on pages of its own that are made read-only while the calls run: a
// write ends the test with SIGSEGV. Needs mmap and mprotect (POSIX).
#include <mend/circuit_breaker.hpp>
#include <mend/decorate.hpp>
#include <mend/manual_clock.hpp>
#include <mend/retry_policy.hpp>

#include <catch2/catch.hpp>

#if __has_include(<sys/mman.h>) && __has_include(<unistd.h>)
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstddef>
#include <new>
#include <utility>

namespace {

// One object on pages of its own, which can be made read-only.
template <class T>
class page_protected {
 public:
  template <class... Args>
  explicit page_protected(Args&&... args) {
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    size_ = (sizeof(T) + page - 1) / page * page;
    memory_ = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory_ == MAP_FAILED) throw std::bad_alloc{};
    object_ = new (memory_) T(std::forward<Args>(args)...);
  }

  page_protected(const page_protected&) = delete;
  page_protected& operator=(const page_protected&) = delete;

  ~page_protected() {
    make_writable();
    object_->~T();
    ::munmap(memory_, size_);
  }

  T& get() noexcept { return *object_; }

  bool make_read_only() noexcept { return ::mprotect(memory_, size_, PROT_READ) == 0; }
  bool make_writable() noexcept { return ::mprotect(memory_, size_, PROT_READ | PROT_WRITE) == 0; }

 private:
  std::size_t size_ = 0;
  void* memory_ = nullptr;
  T* object_ = nullptr;
};

// Stands for the call to a backend.
int read_order(int id) { return id + 1; }

bool holds(const mend::result<int>& out, int expected) { return out.has_value() && out.value() == expected; }

constexpr int calls = 1000;

}  // namespace

TEST_CASE("read-only page faults on write", "[read_only]") {
  // The check itself, in a child process: a write to a protected object must
  // end it. The child drops the SIGSEGV handlers of Catch2 and the
  // sanitizers, so the fault kills it quietly.
  page_protected<int> value{0};
  REQUIRE(value.make_read_only());
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::signal(SIGSEGV, SIG_DFL);
    *static_cast<volatile int*>(&value.get()) = 1;
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGSEGV);
  REQUIRE(value.make_writable());
}

TEST_CASE("closed breaker success writes nothing", "[read_only]") {
  mend::manual_clock clock;
  page_protected<mend::circuit_breaker> breaker{clock, mend::circuit_breaker::options{.name = "ax_connection"}};

  REQUIRE(breaker.make_read_only());
  int succeeded = 0;
  for (int i = 0; i < calls; ++i) succeeded += holds(breaker.get().execute(read_order, i), i + 1);
  REQUIRE(breaker.make_writable());

  CHECK(succeeded == calls);
  CHECK(breaker.get().state() == mend::circuit_state::closed);
}

TEST_CASE("retry success writes nothing", "[read_only]") {
  mend::manual_clock clock;
  page_protected<mend::retry_policy> retry{clock, mend::retry_policy::options{.name = "ax_retry"}};

  REQUIRE(retry.make_read_only());
  int succeeded = 0;
  for (int i = 0; i < calls; ++i) succeeded += holds(retry.get().execute(read_order, i), i + 1);
  REQUIRE(retry.make_writable());

  CHECK(succeeded == calls);
  CHECK(retry.get().stats().total_retries == 0);
}

TEST_CASE("decorated breaker and retry write nothing", "[read_only]") {
  mend::manual_clock clock;
  page_protected<mend::circuit_breaker> breaker{clock, mend::circuit_breaker::options{.name = "ax_connection"}};
  page_protected<mend::retry_policy> retry{clock, mend::retry_policy::options{.name = "ax_retry"}};
  auto call = mend::decorate(read_order).with(breaker.get()).with(retry.get());

  REQUIRE(breaker.make_read_only());
  REQUIRE(retry.make_read_only());
  int succeeded = 0;
  for (int i = 0; i < calls; ++i) succeeded += holds(call(i), i + 1);
  REQUIRE(breaker.make_writable());
  REQUIRE(retry.make_writable());

  CHECK(succeeded == calls);
}

#endif  // POSIX
