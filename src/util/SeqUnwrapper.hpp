#pragma once
// Extends a wrapping N-bit counter (RTP sequence numbers, 16 bits; RTP timestamps,
// 32 bits) into a monotonic 64-bit one, choosing the candidate closest to the last
// value seen (RFC 3550 §A.1 arithmetic, generalised).
#include <cstdint>
#include <limits>

namespace sb::util {

template <typename T>
class SeqUnwrapper {
  static_assert(std::numeric_limits<T>::is_integer && !std::numeric_limits<T>::is_signed);
  static constexpr int64_t kRange = int64_t(1) << (sizeof(T) * 8);

 public:
  /// Returns the unwrapped value; the first call maps `v` to itself (+kRange, so
  /// that a slightly older packet after it never goes below zero).
  int64_t unwrap(T v) {
    if (!started_) {
      started_ = true;
      last_ = kRange + int64_t(v);
      return last_;
    }
    int64_t diff = int64_t(v) - int64_t(T(last_));
    if (diff > kRange / 2) diff -= kRange;
    else if (diff < -kRange / 2) diff += kRange;
    int64_t out = last_ + diff;
    if (out > last_) last_ = out;
    return out;
  }
  /// Unwraps without remembering (for looking up old values).
  int64_t peek(T v) const {
    if (!started_) return kRange + int64_t(v);
    int64_t diff = int64_t(v) - int64_t(T(last_));
    if (diff > kRange / 2) diff -= kRange;
    else if (diff < -kRange / 2) diff += kRange;
    return last_ + diff;
  }
  bool started() const { return started_; }
  int64_t last() const { return last_; }

 private:
  int64_t last_ = 0;
  bool started_ = false;
};

/// True if 16-bit sequence number a is newer than b (RFC 1982 serial arithmetic).
inline bool seq_newer(uint16_t a, uint16_t b) { return a != b && uint16_t(a - b) < 0x8000; }

}  // namespace sb::util
