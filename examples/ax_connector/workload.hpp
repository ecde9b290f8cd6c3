// The steady workload of the connector: requests issued at a fixed rate by a
// few worker threads, and the accounting that proves every request ended.
#ifndef AX_CONNECTOR_WORKLOAD_HPP
#define AX_CONNECTOR_WORKLOAD_HPP

#include "aif_messages.hpp"
#include "connector.hpp"

#include <mend/clock.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

namespace ax {

// Builds request number `index`: three reads for every create, and every
// 25th read requests an order that does not exist, which AIF rejects with a
// business fault. `run_id` makes the MessageIds unique across runs.
inline aif_request make_request(std::uint64_t index, std::uint32_t run_id, const std::string& company) {
  aif_request out;
  out.company = company;
  out.message_id = fmt::format("{{{:08X}-4D45-4E44-8000-{:012X}}}", run_id, index);
  if (index % 4 == 3) {
    out.operation = aif_operation::create;
    out.customer = fmt::format("US-{:03}", 1 + index % 30);
    out.item = fmt::format("{}", 1000 + index % 50);
    out.quantity = static_cast<int>(1 + index % 5);
    out.purchase_order = fmt::format("PO-{:06}", index);
    return out;
  }
  out.operation = aif_operation::read;
  const auto read_number = index - index / 4;  // counts reads only
  out.sales_id = read_number % 25 == 24 ? std::string{"SO-999999"} : fmt::format("SO-{:06}", 100 + (index * 37) % 900);
  return out;
}

// The outcomes of the requests of a run, and the requests still running.
class workload_stats {
 public:
  explicit workload_stats(mend::duration deadline) : deadline_(deadline) {}

  void issued(std::uint64_t id, mend::time_point at) {
    std::lock_guard lock(mutex_);
    ++issued_;
    in_flight_.emplace(id, at);
  }

  // Records the outcome of request `id`; returns true when it is the first
  // failure logged within the last second (the caller then logs it).
  bool completed(std::uint64_t id, const request_outcome& outcome, mend::time_point at) {
    std::lock_guard lock(mutex_);
    const auto it = in_flight_.find(id);
    const auto took = it == in_flight_.end() ? mend::duration{} : at - it->second;
    if (it != in_flight_.end()) in_flight_.erase(it);
    ++completed_;
    max_latency_ = std::max(max_latency_, took);
    if (took > deadline_) ++late_;
    if (outcome.reply) {
      ++succeeded_;
      if (outcome.attempts > 1) ++succeeded_after_retry_;
      return false;
    }
    if (outcome.reply.error() == aif_errc::business_fault) {
      ++business_faults_;
      return false;
    }
    ++failed_;
    ++failure_causes_[outcome.reply.error().message()];
    if (at - last_failure_logged_ < std::chrono::seconds{1}) {
      ++failures_not_logged_;
      return false;
    }
    last_failure_logged_ = at;
    return true;
  }

  struct counts {
    std::uint64_t issued = 0, completed = 0, succeeded = 0, succeeded_after_retry = 0, business_faults = 0,
                  failed = 0, late = 0, in_flight = 0, overdue = 0, failures_not_logged = 0;
    mend::duration max_latency{};
    std::map<std::string, std::uint64_t> failure_causes;  // final error message -> requests
  };

  // A snapshot; `overdue` counts requests in flight for longer than the deadline at `now`.
  counts snapshot(mend::time_point now) const {
    std::lock_guard lock(mutex_);
    counts out{issued_, completed_, succeeded_, succeeded_after_retry_, business_faults_, failed_, late_,
               in_flight_.size(), 0, failures_not_logged_, max_latency_, failure_causes_};
    for (const auto& [id, started] : in_flight_)
      if (now - started > deadline_) ++out.overdue;
    return out;
  }

  mend::duration deadline() const noexcept { return deadline_; }

 private:
  const mend::duration deadline_;
  mutable std::mutex mutex_;
  std::map<std::uint64_t, mend::time_point> in_flight_;  // request id -> issued at; guarded by mutex_
  std::uint64_t issued_ = 0, completed_ = 0, succeeded_ = 0, succeeded_after_retry_ = 0;  // guarded by mutex_
  std::uint64_t business_faults_ = 0, failed_ = 0, late_ = 0, failures_not_logged_ = 0;   // guarded by mutex_
  mend::duration max_latency_{};                                                          // guarded by mutex_
  mend::time_point last_failure_logged_{};                                                // guarded by mutex_
  std::map<std::string, std::uint64_t> failure_causes_;                                   // guarded by mutex_
};

// The schedule the workers share: request n is due at start + n / rate, and
// none is issued at or after `end`. A worker that falls behind issues its
// next request at once.
struct workload_plan {
  mend::time_point start{};
  mend::time_point end{};
  double rate = 20.0;  // requests per second
  std::uint32_t run_id = 0;
  std::string company;
};

// One worker thread's loop: takes the next request number, waits for its
// time, sends it and records the outcome, until the plan ends or `stop`.
inline void run_worker(aif_connector& connector, mend::clock& clock, const workload_plan& plan,
                       std::atomic<std::uint64_t>& next_request, workload_stats& stats, std::stop_token stop) {
  for (;;) {
    const auto index = next_request.fetch_add(1);
    const auto due = plan.start + std::chrono::duration_cast<mend::duration>(
                                      std::chrono::duration<double>(static_cast<double>(index) / plan.rate));
    if (due >= plan.end || stop.stop_requested()) return;
    if (const auto now = clock.now(); due > now && !clock.sleep_for(due - now, stop)) return;

    const auto request = make_request(index, plan.run_id, plan.company);
    stats.issued(index, clock.now());
    const auto outcome = connector.send(request);
    if (stats.completed(index, outcome, clock.now())) {
      fmt::print(stderr, "request {} ({} {}) failed after {} attempt{}: {}{}\n", index, to_string(request.operation),
                 request.operation == aif_operation::read ? request.sales_id : request.purchase_order,
                 outcome.attempts, outcome.attempts == 1 ? "" : "s", outcome.reply.error().message(),
                 outcome.detail.empty() ? std::string{} : fmt::format(" (last attempt: {})", outcome.detail));
    }
  }
}

}  // namespace ax

#endif  // AX_CONNECTOR_WORKLOAD_HPP
