#pragma once
// A fixed-size histogram of durations in microseconds, cheap enough to update
// for every forwarded packet (a count-leading-zeros and an increment, no
// allocation). Values below 32 µs have exact buckets; above, each power of two
// is split into 16 buckets, so a reported quantile is within 1/16 (6 %) of
// the true value. Up to 2^31 µs; larger values land in the last bucket.
#include <array>
#include <bit>
#include <cstdint>

namespace sb::util {

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 4;                   // 16 buckets per power of two
  static constexpr uint64_t kLinear = 2u << kSubBits;  // exact below 32 µs
  static constexpr size_t kBuckets = kLinear + (31 - kSubBits) * (1u << kSubBits);

  void add(uint64_t us) {
    ++counts_[index(us)];
    ++count_;
    if (us > max_) max_ = us;
  }
  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  uint64_t bucket_count(size_t i) const { return counts_[i]; }

  /// Bucket of a value.
  static size_t index(uint64_t us) {
    if (us < kLinear) return size_t(us);
    int msb = 63 - std::countl_zero(us);  // >= kSubBits + 1
    size_t i = kLinear + size_t(msb - kSubBits - 1) * (1u << kSubBits) +
               size_t((us >> (msb - kSubBits)) & ((1u << kSubBits) - 1));
    return i < kBuckets ? i : kBuckets - 1;
  }
  /// The largest value bucket `i` holds.
  static uint64_t upper_bound(size_t i) {
    if (i < kLinear) return i;
    size_t k = i - kLinear;
    int msb = int(k >> kSubBits) + kSubBits + 1;
    uint64_t sub = k & ((1u << kSubBits) - 1);
    uint64_t lo = (uint64_t(1) << msb) | (sub << (msb - kSubBits));
    return lo + (uint64_t(1) << (msb - kSubBits)) - 1;
  }
  /// The value below which a fraction `q` (0..1) of the samples fall, as the
  /// upper bound of its bucket (never above the largest sample); 0 when empty.
  uint64_t quantile(double q) const {
    if (count_ == 0) return 0;
    auto rank = uint64_t(q * double(count_));
    if (rank >= count_) rank = count_ - 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen > rank) return upper_bound(i) < max_ ? upper_bound(i) : max_;
    }
    return max_;
  }

 private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t max_ = 0;
};

}  // namespace sb::util
