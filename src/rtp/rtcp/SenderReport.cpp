#include "rtp/rtcp/SenderReport.hpp"

namespace sb::rtp::rtcp {

namespace {
constexpr size_t kSenderPartSize = 24;  // SSRC + NTP + RTP timestamp + 2 counts
}

Parsed<SenderReport> SenderReport::parse(const PacketView& p) {
  if (p.type() != PacketType::kSr) return ParseError::kWrongType;
  util::ByteView body = p.body();
  const size_t blocks_size = size_t(p.count()) * kReportBlockSize;
  if (body.size() < kSenderPartSize + blocks_size) return ParseError::kTruncated;
  SenderReport sr;
  sr.sender_ssrc_ = Ssrc{util::load_be32(&body[0])};
  sr.info_.ntp = NtpTime{util::load_be64(&body[4])};
  sr.info_.rtp_timestamp = util::load_be32(&body[12]);
  sr.info_.packet_count = util::load_be32(&body[16]);
  sr.info_.octet_count = util::load_be32(&body[20]);
  // Anything after the blocks is a profile-specific extension (§6.4.1); ignored.
  sr.blocks_ = ReportBlocks(body.subspan(kSenderPartSize, blocks_size));
  return sr;
}

size_t SenderReport::write(util::MutableBytes out, Ssrc sender, const SenderInfo& info,
                           std::span<const ReportBlock> blocks) {
  if (blocks.size() > kMaxReportBlocks) return 0;
  const size_t size = kHeaderSize + kSenderPartSize + blocks.size() * kReportBlockSize;
  util::ByteWriter w(out);
  write_header(w, uint8_t(blocks.size()), PacketType::kSr, size);
  w.u32(uint32_t(sender));
  w.u64(info.ntp.value);
  w.u32(info.rtp_timestamp);
  w.u32(info.packet_count);
  w.u32(info.octet_count);
  for (const ReportBlock& b : blocks) write_report_block(w, b);
  return w.ok() ? w.size() : 0;
}

}  // namespace sb::rtp::rtcp
