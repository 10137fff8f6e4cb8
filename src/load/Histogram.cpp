#include "load/Histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace sb::load {

size_t Histogram::bucket_of(uint64_t v) {
  if (v < kLinear) return size_t(v);
  int exp = std::bit_width(v) - 1;  // v in [2^exp, 2^(exp+1))
  if (exp >= kMaxExponent) return kBuckets - 1;
  uint64_t sub = (v >> (exp - kSubBucketBits)) & (kLinear - 1);
  return size_t(kLinear) + size_t(exp - kSubBucketBits) * size_t(kLinear) + size_t(sub);
}

uint64_t Histogram::bucket_upper(size_t b) {
  if (b < kLinear) return b;
  size_t i = b - size_t(kLinear);
  int exp = int(i / kLinear) + kSubBucketBits;
  uint64_t sub = i % kLinear;
  uint64_t lower = (uint64_t(1) << exp) + (sub << (exp - kSubBucketBits));
  return lower + (uint64_t(1) << (exp - kSubBucketBits)) - 1;
}

void Histogram::record(uint64_t value) {
  ++buckets_[bucket_of(value)];
  ++count_;
  sum_ += value;
  max_ = std::max(max_, value);
  min_ = std::min(min_, value);
}

void Histogram::merge(const Histogram& other) {
  for (size_t i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
  min_ = std::min(min_, other.min_);
}

uint64_t Histogram::quantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  uint64_t rank = std::max<uint64_t>(1, uint64_t(std::ceil(q * double(count_))));
  uint64_t seen = 0;
  for (size_t b = 0; b < kBuckets; ++b) {
    seen += buckets_[b];
    if (seen >= rank) return std::min(bucket_upper(b), max_);
  }
  return max_;
}

}  // namespace sb::load
