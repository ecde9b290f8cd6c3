// The retry policy's options, each checked on the manual clock. The regions
// between [snippet:...] markers are shown in docs/retry.md; ctest checks that
// the guide and this file agree.
#include <mend/mend.hpp>

#include <chrono>
#include <cstdio>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

int failures = 0;

void expect(bool ok, const char* description) {
  if (!ok) {
    std::fprintf(stderr, "retry_basics: expectation failed: %s\n", description);
    ++failures;
  }
}

// Stands in for an AIF call that fails `failures_left` times with `error`.
struct create_order_call {
  int failures_left;
  std::error_code error = mend::http_error(503);
  int calls = 0;

  mend::result<std::string> operator()() {
    ++calls;
    if (failures_left-- > 0) return error;
    return std::string{"SO-1001"};
  }
};

}  // namespace

int main() {
  {
    mend::manual_clock clock;
    create_order_call create_order{.failures_left = 2};
    // [snippet:defaults]
    mend::retry_policy retry{clock, {.name = "aif_create_order"}};
    auto order = retry.execute(create_order);
    // Two 503 responses, then success: the policy slept 1 s and 2 s.
    // clock.sleeps() == {1s, 2s}
    // [/snippet]
    expect(order.value() == "SO-1001", "third attempt succeeds");
    expect(clock.sleeps() == std::vector<mend::duration>{1s, 2s}, "slept 1 s and 2 s");
    expect(retry.stats().successful_retries == 1, "one successful retry");
  }

  {
    mend::manual_clock clock;
    // [snippet:options]
    mend::retry_policy retry{
        clock, {.name = "aif_reads",
                .max_retries = 5,
                .backoff = mend::exponential_backoff{.initial = 200ms, .multiplier = 3.0, .max = 10s},
                .jitter_mode = mend::jitter::full,     // spread clients that failed together
                .random = [] { return 0.5; },          // injected, so the delays are exact here
                .deadline = 15s,                       // the whole call, sleeps included
                .max_retry_after = 30s}};
    // [/snippet]
    create_order_call call{.failures_left = 100};
    auto outcome = retry.execute(call);
    expect(!outcome, "keeps failing");
    // Full jitter with a draw of 0.5: half of 200 ms, 600 ms, 1.8 s, 5.4 s, 10 s.
    expect(clock.sleeps() == std::vector<mend::duration>{100ms, 300ms, 900ms, 2700ms, 5s}, "jittered delays");
    expect(call.calls == 6, "six attempts");
  }

  {
    mend::manual_clock clock;
    mend::retry_policy retry{clock, {.name = "aif_throttled"}};
    // [snippet:retry-after]
    // A server that responds 429 or 503 with "Retry-After: 20" requests a pause,
    // so carry the hint in the error and the retry waits at least that long.
    create_order_call throttled{.failures_left = 1, .error = mend::http_error(429, 20s)};
    auto order = retry.execute(throttled);
    // clock.sleeps() == {20s}
    // [/snippet]
    expect(order.has_value(), "succeeds after the pause");
    expect(clock.sleeps() == std::vector<mend::duration>{20s}, "waited for the hint");
  }

  {
    mend::manual_clock clock{{.auto_advance = false}};
    mend::retry_policy retry{clock, {.name = "aif_cancel"}};
    bool cancelled = false;
    // [snippet:cancel]
    std::stop_source stop;
    std::thread worker([&] {
      // A std::stop_token as the first argument cancels the retries, and is
      // passed on to the call.
      auto order = retry.execute([](std::stop_token) -> mend::result<int> { return mend::http_error(503); },
                                 stop.get_token());
      cancelled = order.error() == mend::errc::cancelled;
    });
    clock.wait_for_sleepers(1);  // only on the manual clock: let the retry reach its sleep
    stop.request_stop();         // the sleeping retry returns at once
    worker.join();
    // [/snippet]
    expect(cancelled, "cancelled during the sleep");
  }

  if (failures == 0) std::puts("retry_basics: all expectations met");
  return failures == 0 ? 0 : 1;
}
