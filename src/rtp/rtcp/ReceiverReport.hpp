#pragma once
// Receiver report, RFC 3550 §6.4.2.
#include <span>

#include "rtp/rtcp/PacketView.hpp"
#include "rtp/rtcp/ReportBlock.hpp"

namespace sb::rtp::rtcp {

class ReceiverReport {
 public:
  static Parsed<ReceiverReport> parse(const PacketView& p);
  /// Returns the size written, 0 if `out` is too small or there are more than
  /// kMaxReportBlocks blocks. An RR with no block is valid (and required as the
  /// first packet of a compound from a receiver with nothing to report).
  static size_t write(util::MutableBytes out, Ssrc sender, std::span<const ReportBlock> blocks = {});

  Ssrc sender_ssrc() const { return sender_ssrc_; }
  const ReportBlocks& report_blocks() const { return blocks_; }

 private:
  ReceiverReport() = default;
  Ssrc sender_ssrc_{};
  ReportBlocks blocks_;
};

}  // namespace sb::rtp::rtcp
