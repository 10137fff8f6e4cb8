#pragma once
// Replay list of one SRTP or SRTCP stream (RFC 3711 §3.3.2): the highest packet index
// accepted so far and a bitmap of which of the kSize indices below it were seen.
#include <array>
#include <cstddef>
#include <cstdint>

namespace sb::srtp {

class ReplayWindow {
 public:
  /// Packets, a multiple of 64. RFC 3711 §3.3.2 asks for at least 64; video under loss
  /// and retransmission reorders far more.
  static constexpr uint64_t kSize = 1024;

  enum class Verdict : uint8_t {
    kFresh,      ///< not seen: newer than the highest, or inside the window and unseen
    kDuplicate,  ///< inside the window and already accepted
    kTooOld,     ///< below the window: can no longer be told apart from a replay
  };

  /// True until the first accept().
  bool empty() const { return empty_; }
  /// The highest accepted index (0 while empty).
  uint64_t highest() const { return highest_; }

  Verdict check(uint64_t index) const {
    if (empty_ || index > highest_) return Verdict::kFresh;
    uint64_t age = highest_ - index;
    if (age >= kSize) return Verdict::kTooOld;
    return seen(index) ? Verdict::kDuplicate : Verdict::kFresh;
  }

  /// Records `index` as received; only call after check() said kFresh (or for an
  /// allowed resend) and the packet authenticated.
  void accept(uint64_t index) {
    if (empty_) {
      empty_ = false;
      highest_ = index;
    } else if (index > highest_) {
      uint64_t advance = index - highest_;
      if (advance >= kSize) {
        bits_.fill(0);
      } else {
        // Forget the slots the window slides over; they now stand for new indices.
        for (uint64_t i = highest_ + 1; i < index; ++i) clear(i);
      }
      highest_ = index;
    } else if (highest_ - index >= kSize) {
      return;
    }
    set(index);
  }

 private:
  // The bitmap is a ring indexed by index mod kSize: sliding costs one bit per step.
  static constexpr size_t kWords = kSize / 64;
  bool seen(uint64_t i) const { return (bits_[(i % kSize) / 64] >> (i % 64)) & 1u; }
  void set(uint64_t i) { bits_[(i % kSize) / 64] |= uint64_t(1) << (i % 64); }
  void clear(uint64_t i) { bits_[(i % kSize) / 64] &= ~(uint64_t(1) << (i % 64)); }

  std::array<uint64_t, kWords> bits_{};
  uint64_t highest_ = 0;
  bool empty_ = true;
};

/// Estimates the 48-bit SRTP packet index i = 2^16 * ROC + SEQ of a packet with
/// sequence number `seq`, given the highest index of the stream so far (RFC 3711
/// §3.3.1 and Appendix A): the candidate among ROC-1, ROC, ROC+1 closest to it.
/// While the stream is young (ROC 0), a guess of ROC-1 is taken as ROC 0, as libsrtp
/// does: the sender started at ROC 0.
inline uint64_t estimate_packet_index(const ReplayWindow& w, uint16_t seq) {
  if (w.empty()) return seq;
  uint64_t roc = w.highest() >> 16;
  uint16_t s_l = uint16_t(w.highest());
  uint64_t v = roc;
  if (s_l < 0x8000) {
    if (seq > s_l && seq - s_l > 0x8000 && roc > 0) v = roc - 1;
  } else {
    if (s_l - 0x8000 > seq) v = roc + 1;
  }
  if (v > 0xffffffffu) v = roc;  // the ROC is 32 bits (§3.3.1); 2^48 packets need re-keying anyway
  return (v << 16) | seq;
}

}  // namespace sb::srtp
