#pragma once
// A fixed-memory log-linear histogram of non-negative integers (delays in µs,
// join times in ms): values below kLinear are exact, larger ones fall into
// kSubBuckets buckets per power of two (under 2% error). Recording is a few
// instructions and never allocates, so it sits on the receive path.
#include <array>
#include <cstddef>
#include <cstdint>

namespace sb::load {

class Histogram {
 public:
  static constexpr int kSubBucketBits = 6;
  static constexpr uint64_t kLinear = uint64_t(1) << kSubBucketBits;  ///< exact below this
  static constexpr int kMaxExponent = 40;                              ///< values up to 2^40 (saturating)
  static constexpr size_t kBuckets = size_t(kLinear) + size_t(kMaxExponent - kSubBucketBits) * size_t(kLinear);

  void record(uint64_t value);
  void merge(const Histogram& other);
  void reset() { *this = Histogram{}; }

  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  double mean() const { return count_ ? double(sum_) / double(count_) : 0; }
  /// The value at quantile q in [0, 1] (the bucket's upper edge, capped at max()); 0 when empty.
  uint64_t quantile(double q) const;

 private:
  static size_t bucket_of(uint64_t v);
  static uint64_t bucket_upper(size_t b);

  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
  uint64_t min_ = UINT64_MAX;
};

}  // namespace sb::load
