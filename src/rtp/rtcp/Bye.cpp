#include "rtp/rtcp/Bye.hpp"

#include "rtp/rtcp/ReportBlock.hpp"

namespace sb::rtp::rtcp {

Parsed<Bye> Bye::parse(const PacketView& p) {
  if (p.type() != PacketType::kBye) return ParseError::kWrongType;
  util::ByteView body = p.body();
  const size_t ssrcs_size = size_t(p.count()) * 4;
  if (body.size() < ssrcs_size) return ParseError::kTruncated;
  Bye bye;
  bye.ssrcs_ = SsrcList(body.first(ssrcs_size));
  util::ByteView rest = body.subspan(ssrcs_size);
  if (!rest.empty()) {
    const size_t len = rest[0];
    if (rest.size() - 1 < len) return ParseError::kMalformed;
    bye.reason_ = util::as_string(rest.subspan(1, len));
  }
  return bye;
}

size_t Bye::write(util::MutableBytes out, std::span<const Ssrc> ssrcs, std::string_view reason) {
  if (ssrcs.size() > kMaxReportBlocks || reason.size() > 255) return 0;
  size_t size = kHeaderSize + ssrcs.size() * 4;
  const size_t reason_size = reason.empty() ? 0 : (1 + reason.size() + 3) & ~size_t(3);
  size += reason_size;
  util::ByteWriter w(out);
  write_header(w, uint8_t(ssrcs.size()), PacketType::kBye, size);
  for (Ssrc s : ssrcs) w.u32(uint32_t(s));
  if (!reason.empty()) {
    w.u8(uint8_t(reason.size()));
    w.bytes(util::as_bytes(reason));
    w.zeros(reason_size - 1 - reason.size());
  }
  return w.ok() ? w.size() : 0;
}

}  // namespace sb::rtp::rtcp
