#include "rtp/rtcp/Fir.hpp"

namespace sb::rtp::rtcp {

Parsed<Fir> Fir::parse(const PacketView& p) {
  util::ByteView fci;
  auto header = parse_feedback(p, PacketType::kPsfb, kFmtFir, fci);
  if (!header) return header.error();
  if (fci.empty() || fci.size() % 8 != 0) return ParseError::kMalformed;
  Fir f;
  f.header_ = *header;
  f.entries_ = FirEntries(fci);
  return f;
}

size_t Fir::write(util::MutableBytes out, Ssrc sender, std::span<const FirEntry> entries) {
  if (entries.empty()) return 0;
  const size_t size = kFeedbackHeaderSize + 8 * entries.size();
  if (size > out.size() || size / 4 - 1 > 0xFFFF) return 0;
  util::ByteWriter w(out);
  write_header(w, kFmtFir, PacketType::kPsfb, size);
  w.u32(uint32_t(sender));
  w.u32(0);  // media source SSRC: not used by FIR (§4.3.1.2)
  for (const FirEntry& e : entries) {
    w.u32(uint32_t(e.ssrc));
    w.u8(e.seq);
    w.u24(0);
  }
  return w.ok() ? w.size() : 0;
}

}  // namespace sb::rtp::rtcp
