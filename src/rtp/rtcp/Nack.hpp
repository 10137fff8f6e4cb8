#pragma once
// Generic NACK, RFC 4585 §6.2.1 (RTPFB FMT 1): each FCI entry is a packet id
// (PID) and a bitmask of the 16 following lost packets (BLP).
#include <span>

#include "rtp/rtcp/PacketView.hpp"
#include "rtp/rtcp/RecordList.hpp"

namespace sb::rtp::rtcp {

struct NackItem {
  uint16_t pid = 0;
  uint16_t blp = 0;  ///< bit i set: pid + i + 1 is lost too
};
inline NackItem decode_nack_item(const uint8_t* p) { return {util::load_be16(p), util::load_be16(p + 2)}; }
using NackItems = RecordList<NackItem, 4, decode_nack_item>;

class Nack {
 public:
  static Parsed<Nack> parse(const PacketView& p);
  /// Packs `lost` (ascending in wrapping order gives the fewest items; any order
  /// is correct) into PID+BLP items. Returns the size written, 0 if `lost` is
  /// empty or it does not fit.
  static size_t write(util::MutableBytes out, Ssrc sender, Ssrc media, std::span<const uint16_t> lost);
  /// Number of FCI items write() would produce.
  static size_t item_count(std::span<const uint16_t> lost);

  Ssrc sender_ssrc() const { return header_.sender_ssrc; }
  Ssrc media_ssrc() const { return header_.media_ssrc; }
  const NackItems& items() const { return items_; }
  /// Calls f(uint16_t seq) for every sequence number reported lost.
  template <typename F>
  void for_each_lost(F&& f) const {
    for (NackItem item : items_) {
      f(item.pid);
      for (unsigned i = 0; i < 16; ++i) {
        if (item.blp & (1u << i)) f(uint16_t(item.pid + i + 1));
      }
    }
  }

 private:
  Nack() = default;
  FeedbackHeader header_;
  NackItems items_;
};

}  // namespace sb::rtp::rtcp
