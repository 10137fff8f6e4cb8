#include "rtp/rtcp/ReceiverReport.hpp"

namespace sb::rtp::rtcp {

Parsed<ReceiverReport> ReceiverReport::parse(const PacketView& p) {
  if (p.type() != PacketType::kRr) return ParseError::kWrongType;
  util::ByteView body = p.body();
  const size_t blocks_size = size_t(p.count()) * kReportBlockSize;
  if (body.size() < 4 + blocks_size) return ParseError::kTruncated;
  ReceiverReport rr;
  rr.sender_ssrc_ = Ssrc{util::load_be32(&body[0])};
  rr.blocks_ = ReportBlocks(body.subspan(4, blocks_size));
  return rr;
}

size_t ReceiverReport::write(util::MutableBytes out, Ssrc sender, std::span<const ReportBlock> blocks) {
  if (blocks.size() > kMaxReportBlocks) return 0;
  const size_t size = kHeaderSize + 4 + blocks.size() * kReportBlockSize;
  util::ByteWriter w(out);
  write_header(w, uint8_t(blocks.size()), PacketType::kRr, size);
  w.u32(uint32_t(sender));
  for (const ReportBlock& b : blocks) write_report_block(w, b);
  return w.ok() ? w.size() : 0;
}

}  // namespace sb::rtp::rtcp
