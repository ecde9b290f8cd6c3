// The code samples of README.md, compiled and run. ctest checks that the
// README shows exactly the regions between the [snippet:...] markers.
#include <mend/mend.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;

namespace {

struct sales_order {
  int id;
  std::string customer;
};

// Stands in for a connector's AIF client.
struct aif_client {
  mend::result<sales_order> read_sales_order(int id) const { return sales_order{id, "CUST-0042"}; }
};

void log_error(const std::string& message) { std::fprintf(stderr, "error: %s\n", message.c_str()); }

}  // namespace

int main() {
  aif_client aif;
  bool ok = true;

  {
    // [snippet:use]
    mend::circuit_breaker breaker{{.name = "ax_sales_orders"}};
    mend::retry_policy retry{{.name = "ax_sales_orders"}};

    auto read_order = mend::decorate([&](int id) { return aif.read_sales_order(id); })
                          .with(breaker)   // inner: every attempt goes through the breaker
                          .with(retry);    // outer: 3 retries after 1 s, 2 s, 4 s

    mend::result<sales_order> order = read_order(42);
    if (!order) log_error(order.error().message());
    // [/snippet]
    ok = ok && order && order.value().id == 42;
  }

  {
    // [snippet:test]
    mend::manual_clock clock;
    mend::circuit_breaker breaker{clock, {}};
    for (int i = 0; i < 5; ++i) {
      auto failed = breaker.execute([] { return mend::result<void>{mend::http_error(503)}; });
    }
    clock.advance(60s);  // the open timeout expires: the breaker is half-open
    // breaker.state() == mend::circuit_state::half_open
    // [/snippet]
    ok = ok && breaker.state() == mend::circuit_state::half_open;
  }

  std::puts(ok ? "quick_start: ok" : "quick_start: FAILED");
  return ok ? 0 : 1;
}
