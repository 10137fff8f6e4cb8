#pragma once
// Picture loss indication, RFC 4585 §6.3.1 (PSFB FMT 1, no FCI).
#include "rtp/rtcp/PacketView.hpp"

namespace sb::rtp::rtcp {

class Pli {
 public:
  static constexpr size_t kSize = kFeedbackHeaderSize;

  static Parsed<Pli> parse(const PacketView& p);
  /// Returns kSize, or 0 if `out` is too small.
  static size_t write(util::MutableBytes out, Ssrc sender, Ssrc media);

  Ssrc sender_ssrc() const { return header_.sender_ssrc; }
  Ssrc media_ssrc() const { return header_.media_ssrc; }

 private:
  explicit Pli(FeedbackHeader h) : header_(h) {}
  FeedbackHeader header_;
};

}  // namespace sb::rtp::rtcp
