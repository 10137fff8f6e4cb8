#pragma once
// Receiver estimated maximum bitrate, draft-alvestrand-rmcat-remb-03 §2.2: an
// application layer feedback (PSFB FMT 15) whose FCI starts with "REMB", then
// the SSRC count, a 6-bit exponent and 18-bit mantissa, and the SSRCs.
#include <span>

#include "rtp/rtcp/PacketView.hpp"
#include "rtp/rtcp/RecordList.hpp"

namespace sb::rtp::rtcp {

class Remb {
 public:
  /// kWrongType for an application layer feedback that is not REMB.
  static Parsed<Remb> parse(const PacketView& p);
  /// `bitrate_bps` is rounded down to what mantissa/exponent can express.
  /// Returns the size written, 0 if it does not fit or > 255 SSRCs.
  static size_t write(util::MutableBytes out, Ssrc sender, uint64_t bitrate_bps, std::span<const Ssrc> ssrcs);

  Ssrc sender_ssrc() const { return header_.sender_ssrc; }
  uint64_t bitrate_bps() const { return bitrate_bps_; }
  const SsrcList& ssrcs() const { return ssrcs_; }

 private:
  Remb() = default;
  FeedbackHeader header_;
  uint64_t bitrate_bps_ = 0;
  SsrcList ssrcs_;
};

}  // namespace sb::rtp::rtcp
