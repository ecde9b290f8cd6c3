// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_DETAIL_TREND_RING_HPP
#define MEND_DETAIL_TREND_RING_HPP

#include <mend/clock.hpp>
#include <mend/version.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

MEND_BEGIN_NAMESPACE

// Event counts of one trend bucket or of a whole span.
struct trend_counts {
  std::uint64_t failures = 0;            // failed calls, connection creations and health checks
  std::uint64_t retries = 0;             // retry attempts made
  std::uint64_t successful_retries = 0;  // retry attempts that succeeded
  std::uint64_t failed_retries = 0;      // retry attempts that failed
  std::uint64_t recoveries = 0;          // breakers, pools and endpoints that recovered
  std::uint64_t rejections = 0;          // calls a breaker rejected without running them

  bool empty() const noexcept { return *this == trend_counts{}; }

  trend_counts& operator+=(const trend_counts& other) noexcept {
    failures += other.failures;
    retries += other.retries;
    successful_retries += other.successful_retries;
    failed_retries += other.failed_retries;
    recoveries += other.recoveries;
    rejections += other.rejections;
    return *this;
  }

  friend bool operator==(const trend_counts&, const trend_counts&) = default;
};

namespace detail {

// Fixed-width buckets of trend_counts over a sliding span of monotonic time,
// kept in a ring: recording touches one slot and never allocates.
//
// Bucket k covers [origin + k * width, origin + (k + 1) * width). A slot
// contains the newest bucket that maps to it, so buckets older than the span
// are overwritten as time moves on. A late event for an overwritten bucket is
// dropped. Not thread-safe: the owner locks.
class trend_ring {
 public:
  trend_ring(time_point origin, duration width, std::size_t buckets)
      : origin_(origin), width_(width), slots_(buckets) {}

  // The index of the bucket that contains `t`; negative before the origin.
  std::int64_t index_of(time_point t) const noexcept {
    const auto offset = (t - origin_).count();
    const auto width = width_.count();
    auto index = offset / width;
    if (offset % width != 0 && offset < 0) --index;  // round toward minus infinity
    return index;
  }

  // Returns the counts of the bucket that contains `t`, or nullptr when that
  // bucket has already left the span.
  trend_counts* bucket_at(time_point t) noexcept {
    const auto index = index_of(t);
    auto& slot = slots_[slot_of(index)];
    if (!slot.used || slot.index < index) {
      slot = {index, true, {}};
    } else if (slot.index > index) {
      return nullptr;
    }
    return &slot.counts;
  }

  // Calls visit(index, counts) for every non-empty bucket whose index lies in
  // (last - size(), last] or later, oldest first.
  template <class Visit>
  void for_each_since(std::int64_t last, Visit&& visit) const {
    const auto first = last - static_cast<std::int64_t>(slots_.size()) + 1;
    std::vector<const bucket_slot*> live;
    for (const auto& s : slots_)
      if (s.used && s.index >= first && !s.counts.empty()) live.push_back(&s);
    std::sort(live.begin(), live.end(), [](const bucket_slot* a, const bucket_slot* b) { return a->index < b->index; });
    for (const auto* s : live) visit(s->index, s->counts);
  }

  std::size_t size() const noexcept { return slots_.size(); }
  duration width() const noexcept { return width_; }

 private:
  struct bucket_slot {
    std::int64_t index = 0;
    bool used = false;
    trend_counts counts;
  };

  std::size_t slot_of(std::int64_t index) const noexcept {
    const auto n = static_cast<std::int64_t>(slots_.size());
    return static_cast<std::size_t>(((index % n) + n) % n);
  }

  time_point origin_;
  duration width_;
  std::vector<bucket_slot> slots_;
};

}  // namespace detail
MEND_END_NAMESPACE

#endif  // MEND_DETAIL_TREND_RING_HPP
