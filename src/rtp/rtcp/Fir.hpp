#pragma once
// Full intra request, RFC 5104 §4.3.1 (PSFB FMT 4). The media source SSRC of
// the common header is unused (0); each FCI entry names the SSRC to refresh
// and a command sequence number that the sender increments per new request.
#include <span>

#include "rtp/rtcp/PacketView.hpp"
#include "rtp/rtcp/RecordList.hpp"

namespace sb::rtp::rtcp {

struct FirEntry {
  Ssrc ssrc{};
  uint8_t seq = 0;
};
inline FirEntry decode_fir_entry(const uint8_t* p) { return {Ssrc{util::load_be32(p)}, p[4]}; }
using FirEntries = RecordList<FirEntry, 8, decode_fir_entry>;

class Fir {
 public:
  static Parsed<Fir> parse(const PacketView& p);
  /// Returns the size written, 0 if `entries` is empty or it does not fit.
  static size_t write(util::MutableBytes out, Ssrc sender, std::span<const FirEntry> entries);

  Ssrc sender_ssrc() const { return header_.sender_ssrc; }
  const FirEntries& entries() const { return entries_; }

 private:
  Fir() = default;
  FeedbackHeader header_;
  FirEntries entries_;
};

}  // namespace sb::rtp::rtcp
