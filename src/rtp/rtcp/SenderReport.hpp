#pragma once
// Sender report, RFC 3550 §6.4.1.
#include <span>

#include "rtp/NtpTime.hpp"
#include "rtp/rtcp/PacketView.hpp"
#include "rtp/rtcp/ReportBlock.hpp"

namespace sb::rtp::rtcp {

struct SenderInfo {
  NtpTime ntp;
  uint32_t rtp_timestamp = 0;
  uint32_t packet_count = 0;
  uint32_t octet_count = 0;
};

class SenderReport {
 public:
  static Parsed<SenderReport> parse(const PacketView& p);
  /// Returns the size written, 0 if `out` is too small or there are more than
  /// kMaxReportBlocks blocks.
  static size_t write(util::MutableBytes out, Ssrc sender, const SenderInfo& info,
                      std::span<const ReportBlock> blocks = {});

  Ssrc sender_ssrc() const { return sender_ssrc_; }
  const SenderInfo& sender_info() const { return info_; }
  const ReportBlocks& report_blocks() const { return blocks_; }

 private:
  SenderReport() = default;
  Ssrc sender_ssrc_{};
  SenderInfo info_;
  ReportBlocks blocks_;
};

}  // namespace sb::rtp::rtcp
