#pragma once
// Transport-wide congestion control feedback (RTPFB FMT 15),
// draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1:
//
//   base sequence number (16) | packet status count (16)
//   reference time (24, x64 ms) | feedback packet count (8)
//   packet chunks (16 bits each): run length (T=0, 2-bit symbol, 13-bit run)
//     or status vector (T=1; S=0: 14 one-bit symbols, S=1: 7 two-bit symbols)
//   receive deltas, x250 µs: 1 byte unsigned for "small", 2 bytes signed for "large"
//
// The server builds these for publishers and parses the ones subscribers send.
#include <optional>
#include <span>

#include "rtp/rtcp/PacketView.hpp"
#include "util/Time.hpp"

namespace sb::rtp::rtcp {

enum class TwccSymbol : uint8_t { kNotReceived = 0, kSmallDelta = 1, kLargeDelta = 2, kReserved = 3 };

/// Builder input: one transport-wide sequence number and when it arrived.
struct TwccEntry {
  uint16_t seq = 0;
  std::optional<util::Timestamp> arrival;  ///< nullopt: not received
};

/// Parser output for one sequence number.
struct TwccPacketStatus {
  uint16_t seq = 0;
  bool received = false;
  int64_t delta_us = 0;    ///< from the previous received packet (the first: from the reference time)
  int64_t arrival_us = 0;  ///< reference time + all deltas so far, on the feedback sender's clock
};

class TransportFeedback {
 public:
  static constexpr int64_t kDeltaUnitUs = 250;
  static constexpr int64_t kReferenceTimeUnitUs = 64'000;
  static constexpr size_t kMaxRunLength = 0x1FFF;
  static constexpr size_t kMaxStatusCount = 0xFFFF;

  /// Validates chunks and deltas against the packet status count.
  static Parsed<TransportFeedback> parse(const PacketView& p);

  /// Builds feedback for `entries`, ordered by increasing sequence number (in
  /// wrapping order); sequence numbers missing between entries are reported as
  /// not received, and the first entry is the base sequence number. Stops early,
  /// at an entry that is out of order, whose delta does not fit 16 bits, or that
  /// would not fit in `out`; `entries_written` tells how many entries went in,
  /// so the caller sends the rest in another feedback. Returns the size written
  /// (0 if not even one entry fits). The packet ends in RTCP padding (P bit, as
  /// Chromium does), so send it alone or last in a compound (RFC 3550 §6.4.1).
  static size_t write(util::MutableBytes out, Ssrc sender, Ssrc media, uint8_t feedback_count,
                      std::span<const TwccEntry> entries, size_t* entries_written = nullptr);

  Ssrc sender_ssrc() const { return header_.sender_ssrc; }
  Ssrc media_ssrc() const { return header_.media_ssrc; }
  uint16_t base_sequence() const { return base_seq_; }
  uint16_t status_count() const { return status_count_; }
  /// The raw 24-bit field, in units of 64 ms.
  uint32_t reference_time() const { return reference_time_; }
  int64_t reference_time_us() const { return int64_t(reference_time_) * kReferenceTimeUnitUs; }
  uint8_t feedback_count() const { return feedback_count_; }

  /// Calls f(const TwccPacketStatus&) for each of the status_count() packets.
  template <typename F>
  void for_each_packet(F&& f) const {
    decode(chunks_, base_seq_, status_count_, reference_time_us(), f);
  }

 private:
  TransportFeedback() = default;
  template <typename F>
  static bool decode(util::ByteView data, uint16_t base, size_t count, int64_t reference_us, F&& f);

  FeedbackHeader header_;
  uint16_t base_seq_ = 0;
  uint16_t status_count_ = 0;
  uint32_t reference_time_ = 0;
  uint8_t feedback_count_ = 0;
  util::ByteView chunks_;  ///< packet chunks followed by receive deltas
};

namespace twcc_detail {
/// Symbols described by one packet chunk.
inline size_t chunk_capacity(uint16_t chunk) {
  if ((chunk & 0x8000) == 0) return chunk & 0x1FFF;
  return (chunk & 0x4000) ? 7 : 14;
}
inline TwccSymbol chunk_symbol(uint16_t chunk, size_t i) {
  if ((chunk & 0x8000) == 0) return TwccSymbol((chunk >> 13) & 0x3);
  if (chunk & 0x4000) return TwccSymbol((chunk >> (12 - 2 * i)) & 0x3);
  return TwccSymbol((chunk >> (13 - i)) & 0x1);
}
}  // namespace twcc_detail

template <typename F>
bool TransportFeedback::decode(util::ByteView data, uint16_t base, size_t count, int64_t reference_us, F&& f) {
  // The deltas start after the last chunk, so find that first.
  size_t off = 0;
  for (size_t n = 0; n < count;) {
    if (data.size() - off < 2) return false;
    n += twcc_detail::chunk_capacity(util::load_be16(&data[off]));
    off += 2;
  }
  size_t delta_off = off;
  int64_t arrival_us = reference_us;
  size_t n = 0;
  for (off = 0; n < count; off += 2) {
    const uint16_t chunk = util::load_be16(&data[off]);
    const size_t cap = twcc_detail::chunk_capacity(chunk);
    for (size_t i = 0; i < cap && n < count; ++i, ++n) {
      TwccPacketStatus s;
      s.seq = uint16_t(base + n);
      switch (twcc_detail::chunk_symbol(chunk, i)) {
        case TwccSymbol::kNotReceived:
          break;
        case TwccSymbol::kSmallDelta:
          if (data.size() - delta_off < 1) return false;
          s.delta_us = int64_t(data[delta_off]) * kDeltaUnitUs;
          delta_off += 1;
          s.received = true;
          break;
        case TwccSymbol::kLargeDelta:
          if (data.size() - delta_off < 2) return false;
          s.delta_us = int64_t(int16_t(util::load_be16(&data[delta_off]))) * kDeltaUnitUs;
          delta_off += 2;
          s.received = true;
          break;
        case TwccSymbol::kReserved:
          return false;
      }
      if (s.received) {
        arrival_us += s.delta_us;
        s.arrival_us = arrival_us;
      }
      f(s);
    }
  }
  return true;
}

}  // namespace sb::rtp::rtcp
