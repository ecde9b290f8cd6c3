// A program outside mend's tree: wraps a flaky call in a breaker and a retry
// and checks the result. Built by ctest against an installed mend and through
// add_subdirectory.
#include <mend/mend.hpp>

#include <chrono>
#include <cstdio>

using namespace std::chrono_literals;

int main() {
  mend::manual_clock clock;
  mend::circuit_breaker breaker{clock, {.name = "consumer"}};
  mend::retry_policy retry{clock, {.name = "consumer"}};

  int calls = 0;
  auto flaky = [&]() -> mend::result<int> {
    if (++calls < 3) return mend::http_error(503);
    return 42;
  };
  auto call = mend::decorate(flaky).with(breaker).with(retry);

  const mend::result<int> answer = call();
  const bool ok = answer && answer.value() == 42 && calls == 3 &&
                  clock.sleeps() == std::vector<mend::duration>{1s, 2s} &&
                  breaker.state() == mend::circuit_state::closed;
  std::printf("consumer: %s after %d calls\n", ok ? "ok" : "FAILED", calls);
  return ok ? 0 : 1;
}
