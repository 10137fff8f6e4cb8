#include "rtp/rtcp/Sdes.hpp"

#include "rtp/rtcp/ReportBlock.hpp"

namespace sb::rtp::rtcp {

Parsed<Sdes> Sdes::parse(const PacketView& p) {
  if (p.type() != PacketType::kSdes) return ParseError::kWrongType;
  if (!walk(p.body(), p.count(), [](Ssrc, SdesItemType, std::string_view) {})) return ParseError::kMalformed;
  Sdes s;
  s.body_ = p.body();
  s.count_ = p.count();
  return s;
}

size_t Sdes::write(util::MutableBytes out, std::span<const Chunk> chunks) {
  if (chunks.size() > kMaxReportBlocks) return 0;  // same 5-bit count field
  size_t size = kHeaderSize;
  for (const Chunk& c : chunks) {
    if (c.cname.size() > 255) return 0;
    size += (4 + 2 + c.cname.size() + 1 + 3) & ~size_t(3);
  }
  util::ByteWriter w(out);
  write_header(w, uint8_t(chunks.size()), PacketType::kSdes, size);
  for (const Chunk& c : chunks) {
    w.u32(uint32_t(c.ssrc));
    w.u8(uint8_t(SdesItemType::kCname));
    w.u8(uint8_t(c.cname.size()));
    w.bytes(util::as_bytes(c.cname));
    const size_t used = 4 + 2 + c.cname.size();
    w.zeros(((used + 1 + 3) & ~size_t(3)) - used);  // null item + alignment
  }
  return w.ok() ? w.size() : 0;
}

std::optional<std::string_view> Sdes::cname(Ssrc ssrc) const {
  std::optional<std::string_view> found;
  walk(body_, count_, [&](Ssrc s, SdesItemType type, std::string_view text) {
    if (!found && s == ssrc && type == SdesItemType::kCname) found = text;
  });
  return found;
}

}  // namespace sb::rtp::rtcp
