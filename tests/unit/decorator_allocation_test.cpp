// Counts heap allocations on the success path of every decorator with a
// replaced global operator new, and requires none: users wrap every call to
// their backend, so an allocation there would be paid on every call.
//
// The replacement covers every replaceable form of operator new and delete
// (plain, array, nothrow, aligned and sized). It allocates with malloc, so
// AddressSanitizer, LeakSanitizer and ThreadSanitizer, which intercept
// malloc, still check these blocks. The first test checks that the counter
// counts each form, so a sanitizer runtime that kept its own operator new
// would fail that test instead of making the others pass without counting.
#include <mend/circuit_breaker.hpp>
#include <mend/connection_pool.hpp>
#include <mend/decorate.hpp>
#include <mend/manual_clock.hpp>
#include <mend/retry_policy.hpp>
#include <mend/trip_policy/consecutive_failures.hpp>
#include <mend/trip_policy/failure_rate.hpp>
#include <mend/trip_policy/failure_rate_over_time.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <stop_token>
#include <system_error>

using namespace std::chrono_literals;

namespace {

// Calls of any replaced operator new, from any thread.
std::atomic<std::size_t> allocations{0};

void* allocate(std::size_t size) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}

void* allocate_aligned(std::size_t size, std::align_val_t alignment) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  const auto align = static_cast<std::size_t>(alignment);
  // std::aligned_alloc requires a size that is a multiple of the alignment.
  const std::size_t rounded = size == 0 ? align : (size + align - 1) / align * align;
#ifdef _WIN32
  return _aligned_malloc(rounded, align);
#else
  return std::aligned_alloc(align, rounded);
#endif
}

void deallocate(void* block) noexcept { std::free(block); }

void deallocate_aligned(void* block) noexcept {
#ifdef _WIN32
  _aligned_free(block);
#else
  std::free(block);
#endif
}

void* allocate_or_throw(std::size_t size) {
  if (void* block = allocate(size)) return block;
  throw std::bad_alloc{};
}

void* allocate_aligned_or_throw(std::size_t size, std::align_val_t alignment) {
  if (void* block = allocate_aligned(size, alignment)) return block;
  throw std::bad_alloc{};
}

// Returns how many times operator new ran during `run()`. Keep Catch2's
// assertions out of `run`: they are not part of what is measured.
template <class F>
std::size_t allocations_during(F&& run) {
  const auto before = allocations.load(std::memory_order_relaxed);
  run();
  return allocations.load(std::memory_order_relaxed) - before;
}

// Stands for the call to a backend.
int read_order(int id) { return id + 1; }

bool holds(const mend::result<int>& out, int expected) { return out.has_value() && out.value() == expected; }

constexpr int calls = 1000;

struct connection {
  int id = 0;
};

}  // namespace

void* operator new(std::size_t size) { return allocate_or_throw(size); }
void* operator new[](std::size_t size) { return allocate_or_throw(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return allocate(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return allocate(size); }
void* operator new(std::size_t size, std::align_val_t alignment) { return allocate_aligned_or_throw(size, alignment); }
void* operator new[](std::size_t size, std::align_val_t alignment) {
  return allocate_aligned_or_throw(size, alignment);
}
void* operator new(std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return allocate_aligned(size, alignment);
}
void* operator new[](std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return allocate_aligned(size, alignment);
}

void operator delete(void* block) noexcept { deallocate(block); }
void operator delete[](void* block) noexcept { deallocate(block); }
void operator delete(void* block, std::size_t) noexcept { deallocate(block); }
void operator delete[](void* block, std::size_t) noexcept { deallocate(block); }
void operator delete(void* block, const std::nothrow_t&) noexcept { deallocate(block); }
void operator delete[](void* block, const std::nothrow_t&) noexcept { deallocate(block); }
void operator delete(void* block, std::align_val_t) noexcept { deallocate_aligned(block); }
void operator delete[](void* block, std::align_val_t) noexcept { deallocate_aligned(block); }
void operator delete(void* block, std::size_t, std::align_val_t) noexcept { deallocate_aligned(block); }
void operator delete[](void* block, std::size_t, std::align_val_t) noexcept { deallocate_aligned(block); }
void operator delete(void* block, std::align_val_t, const std::nothrow_t&) noexcept { deallocate_aligned(block); }
void operator delete[](void* block, std::align_val_t, const std::nothrow_t&) noexcept { deallocate_aligned(block); }

// Direct calls of the allocation functions, which the compiler may not
// remove, unlike new-expressions.
TEST_CASE("counter counts every operator new form", "[allocation]") {
  constexpr auto alignment = std::align_val_t{64};

  CHECK(allocations_during([] { ::operator delete(::operator new(8)); }) == 1);
  CHECK(allocations_during([] { ::operator delete[](::operator new[](8)); }) == 1);
  CHECK(allocations_during([] { ::operator delete(::operator new(8, std::nothrow), std::nothrow); }) == 1);
  CHECK(allocations_during([] { ::operator delete[](::operator new[](8, std::nothrow), std::nothrow); }) == 1);
  CHECK(allocations_during([=] { ::operator delete(::operator new(8, alignment), alignment); }) == 1);
  CHECK(allocations_during([=] { ::operator delete[](::operator new[](8, alignment), alignment); }) == 1);
  CHECK(allocations_during([=] {
          ::operator delete(::operator new(8, alignment, std::nothrow), alignment, std::nothrow);
        }) == 1);
  CHECK(allocations_during([=] {
          ::operator delete[](::operator new[](8, alignment, std::nothrow), alignment, std::nothrow);
        }) == 1);

  void* aligned = ::operator new(8, alignment);
  CHECK(reinterpret_cast<std::uintptr_t>(aligned) % 64 == 0);
  ::operator delete(aligned, 8, alignment);
}

TEMPLATE_TEST_CASE("closed breaker call allocates nothing", "[allocation]", mend::consecutive_failures,
                   mend::failure_rate, mend::failure_rate_over_time) {
  mend::manual_clock clock;
  mend::basic_circuit_breaker<TestType> breaker{clock, {.name = "ax_connection"}};

  // Time moves between calls, so failure_rate_over_time also starts new
  // buckets (5 s wide by default) while it is counted.
  std::size_t counted = 0;
  int succeeded = 0;
  for (int i = 0; i < calls; ++i) {
    counted += allocations_during([&] { succeeded += holds(breaker.execute(read_order, i), i + 1); });
    clock.advance(1s);
  }
  CHECK(counted == 0);
  CHECK(succeeded == calls);

  SECTION("callables that return void, result<T> or std::error_code") {
    bool void_succeeded = false;
    bool result_succeeded = false;
    bool error_code_succeeded = false;
    const auto returned = allocations_during([&] {
      void_succeeded = breaker.execute([] {}).has_value();
      result_succeeded = holds(breaker.execute([]() -> mend::result<int> { return 7; }), 7);
      error_code_succeeded = breaker.execute([] { return std::error_code{}; }).has_value();
    });
    CHECK(returned == 0);
    CHECK(void_succeeded);
    CHECK(result_succeeded);
    CHECK(error_code_succeeded);
  }

  SECTION("a permit from try_acquire") {
    bool admitted = false;
    const auto permitted = allocations_during([&] {
      auto permit = breaker.try_acquire();
      admitted = permit.has_value();
      if (permit) permit->success();
    });
    CHECK(permitted == 0);
    CHECK(admitted);
  }

  CHECK(breaker.state() == mend::circuit_state::closed);
  CHECK(breaker.stats().failures == 0);
}

TEST_CASE("retry succeeding first time allocates nothing", "[allocation]") {
  mend::manual_clock clock;
  mend::retry_policy retry{clock, {.name = "ax_retry", .deadline = 10s}};
  std::stop_source stop;  // allocates its shared state here, before counting
  const std::stop_token token = stop.get_token();

  std::size_t counted = 0;
  int succeeded = 0;
  for (int i = 0; i < calls; ++i) {
    counted += allocations_during([&] {
      succeeded += holds(retry.execute(read_order, i), i + 1);
      succeeded += holds(retry.execute([](std::stop_token, int id) { return read_order(id); }, token, i), i + 1);
    });
  }
  CHECK(counted == 0);
  CHECK(succeeded == 2 * calls);
  CHECK(retry.stats().total_retries == 0);
}

TEST_CASE("decorated breaker and retry allocate nothing", "[allocation]") {
  mend::manual_clock clock;
  mend::circuit_breaker breaker{clock, {.name = "ax_connection"}};
  mend::retry_policy retry{clock, {.name = "ax_retry"}};
  auto call = mend::decorate(read_order).with(breaker).with(retry);

  std::size_t counted = 0;
  int succeeded = 0;
  for (int i = 0; i < calls; ++i) {
    counted += allocations_during([&] { succeeded += holds(call(i), i + 1); });
  }
  CHECK(counted == 0);
  CHECK(succeeded == calls);
  CHECK(retry.stats().total_retries == 0);
  CHECK(breaker.stats().failures == 0);
}

TEST_CASE("idle connection lease allocates nothing", "[allocation]") {
  mend::manual_clock clock;
  bool validated = false;
  mend::connection_pool<connection> pool{clock,
                                         [] { return mend::result<connection>{connection{}}; },
                                         {.name = "aif",
                                          .min_size = 2,
                                          .max_size = 2,
                                          .validator = [&](connection&) { return validated = true; }}};
  clock.run_due();  // the first fill creates both connections
  REQUIRE(pool.stats().idle == 2);

  std::size_t counted = 0;
  int leased = 0;
  for (int i = 0; i < calls; ++i) {
    counted += allocations_during([&] { leased += pool.acquire().has_value(); });
  }
  CHECK(counted == 0);
  CHECK(leased == calls);
  CHECK(validated);

  const auto stats = pool.stats();
  CHECK(stats.idle == 2);
  CHECK(stats.connections_created == 2);
  CHECK(stats.connections_removed == 0);
}
