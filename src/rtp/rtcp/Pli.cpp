#include "rtp/rtcp/Pli.hpp"

namespace sb::rtp::rtcp {

Parsed<Pli> Pli::parse(const PacketView& p) {
  util::ByteView fci;
  auto header = parse_feedback(p, PacketType::kPsfb, kFmtPli, fci);
  if (!header) return header.error();
  return Pli(*header);
}

size_t Pli::write(util::MutableBytes out, Ssrc sender, Ssrc media) {
  util::ByteWriter w(out);
  write_header(w, kFmtPli, PacketType::kPsfb, kSize);
  w.u32(uint32_t(sender));
  w.u32(uint32_t(media));
  return w.ok() ? w.size() : 0;
}

}  // namespace sb::rtp::rtcp
