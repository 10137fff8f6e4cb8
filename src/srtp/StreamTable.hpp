#pragma once
// Per-SSRC SRTP state of one direction of a session (RFC 3711 §3.2.3: the
// cryptographic context is shared, the index and replay state are per SSRC), in a
// flat table bounded by a fixed number of streams.
//
// Streams live contiguously in a vector; an open-addressing index (linear probing)
// maps an SSRC to its position. Lookups never allocate; insert() may grow the vector
// or rebuild the index, which happens only when a new SSRC appears.
#include <cstddef>
#include <array>
#include <cstdint>
#include <vector>

#include "srtp/ReplayWindow.hpp"

namespace sb::srtp {

/// State of one SSRC.
struct Stream {
  uint32_t ssrc = 0;
  /// SRTP indices. Inbound: replay protection. Outbound: which indices were sent, so
  /// an unchanged resend is told from an index that fell out of the window.
  ReplayWindow rtp;
  /// Inbound SRTCP indices (replay protection).
  ReplayWindow rtcp;
  /// Outbound: the SRTCP index the next protected RTCP packet gets (RFC 3711 §3.4).
  uint32_t next_rtcp_index = 0;
};

class StreamTable {
 public:
  /// At most `max_streams` (and fewer than 65535: positions are 16-bit).
  explicit StreamTable(size_t max_streams) : max_(max_streams < 0xfffe ? max_streams : 0xfffe) {}

  size_t size() const { return streams_.size(); }
  bool full() const { return streams_.size() >= max_; }

  Stream* find(uint32_t ssrc);
  /// Where find(ssrc) will most likely look first, for prefetching; may be null.
  const Stream* likely(uint32_t ssrc) const {
    for (uint32_t h : hint_)
      if (h < streams_.size() && streams_[h].ssrc == ssrc) return &streams_[h];
    return streams_.empty() ? nullptr : &streams_[hint_[0] < streams_.size() ? hint_[0] : 0];
  }
  /// Adds a fresh stream for `ssrc` (which must not be present); nullptr when full.
  /// Pointers from earlier find()/insert() calls are invalidated.
  Stream* insert(uint32_t ssrc);
  /// Removes the stream; false if there was none.
  bool erase(uint32_t ssrc);

 private:
  static constexpr uint16_t kEmpty = 0;
  static constexpr uint16_t kTombstone = 0xffff;

  size_t home(uint32_t ssrc) const;
  /// Slot holding `ssrc`, or slots_.size() if absent.
  size_t find_slot(uint32_t ssrc) const;
  void rebuild(size_t capacity);

  size_t max_;
  std::vector<Stream> streams_;
  /// Index: 0 empty, kTombstone removed, else position in streams_ + 1. Its size is
  /// a power of two, at least twice the number of used and removed slots.
  std::vector<uint16_t> slots_;
  size_t tombstones_ = 0;
  /// Positions of the two streams found last: a session mostly sends or
  /// receives audio and video interleaved, so these spare the index lookup
  /// (and its cache line).
  std::array<uint32_t, 2> hint_{};
  uint32_t hint_next_ = 0;
};

}  // namespace sb::srtp
