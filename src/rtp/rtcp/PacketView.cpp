#include "rtp/rtcp/PacketView.hpp"

namespace sb::rtp::rtcp {

Parsed<PacketView> PacketView::parse(util::ByteView data) {
  if (data.size() < kHeaderSize) return ParseError::kTruncated;
  if ((data[0] >> 6) != kRtpVersion) return ParseError::kBadVersion;
  // Length is in 32-bit words minus one, so the header alone has length 0.
  const size_t size = (size_t(util::load_be16(&data[2])) + 1) * 4;
  if (size > data.size()) return ParseError::kBadLength;
  PacketView p;
  p.data_ = data.first(size);
  size_t body_size = size - kHeaderSize;
  if (p.has_padding()) {
    // RFC 3550 §6.4.1: the last octet counts the padding, itself included.
    const size_t pad = p.data_.back();
    if (pad == 0 || pad > body_size) return ParseError::kBadPadding;
    body_size -= pad;
  }
  p.body_ = p.data_.subspan(kHeaderSize, body_size);
  return p;
}

void write_header(util::ByteWriter& w, uint8_t count_or_fmt, PacketType type, size_t total_size, bool padding) {
  w.u8(uint8_t(kRtpVersion << 6 | (padding ? 0x20 : 0) | (count_or_fmt & 0x1F)));
  w.u8(uint8_t(type));
  w.u16(uint16_t(total_size / 4 - 1));
}

Parsed<FeedbackHeader> parse_feedback(const PacketView& p, PacketType type, uint8_t fmt, util::ByteView& fci) {
  if (!p.is(type, fmt)) return ParseError::kWrongType;
  util::ByteView body = p.body();
  if (body.size() < 8) return ParseError::kTruncated;
  fci = body.subspan(8);
  return FeedbackHeader{Ssrc{util::load_be32(&body[0])}, Ssrc{util::load_be32(&body[4])}};
}

}  // namespace sb::rtp::rtcp
