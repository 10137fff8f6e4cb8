#include "rtp/rtcp/Remb.hpp"

namespace sb::rtp::rtcp {

namespace {
constexpr uint8_t kUniqueId[4] = {'R', 'E', 'M', 'B'};
constexpr uint32_t kMaxMantissa = (1u << 18) - 1;
}  // namespace

Parsed<Remb> Remb::parse(const PacketView& p) {
  util::ByteView fci;
  auto header = parse_feedback(p, PacketType::kPsfb, kFmtAfb, fci);
  if (!header) return header.error();
  if (fci.size() < 8) return ParseError::kTruncated;
  if (fci[0] != kUniqueId[0] || fci[1] != kUniqueId[1] || fci[2] != kUniqueId[2] || fci[3] != kUniqueId[3]) {
    return ParseError::kWrongType;
  }
  const size_t count = fci[4];
  const uint8_t exponent = fci[5] >> 2;
  const uint64_t mantissa = util::load_be24(&fci[5]) & kMaxMantissa;
  if (fci.size() - 8 < count * 4) return ParseError::kTruncated;
  // A shift that loses bits cannot be a real bitrate.
  if (exponent > 0 && (mantissa << exponent) >> exponent != mantissa) return ParseError::kMalformed;
  Remb r;
  r.header_ = *header;
  r.bitrate_bps_ = mantissa << exponent;
  r.ssrcs_ = SsrcList(fci.subspan(8, count * 4));
  return r;
}

size_t Remb::write(util::MutableBytes out, Ssrc sender, uint64_t bitrate_bps, std::span<const Ssrc> ssrcs) {
  if (ssrcs.size() > 255) return 0;
  uint8_t exponent = 0;
  while ((bitrate_bps >> exponent) > kMaxMantissa) ++exponent;
  const uint32_t mantissa = uint32_t(bitrate_bps >> exponent);
  const size_t size = kFeedbackHeaderSize + 8 + 4 * ssrcs.size();
  util::ByteWriter w(out);
  write_header(w, kFmtAfb, PacketType::kPsfb, size);
  w.u32(uint32_t(sender));
  w.u32(0);  // media source SSRC: unused, the SSRCs follow in the FCI
  w.bytes(kUniqueId);
  w.u8(uint8_t(ssrcs.size()));
  w.u24(uint32_t(exponent) << 18 | mantissa);
  for (Ssrc s : ssrcs) w.u32(uint32_t(s));
  return w.ok() ? w.size() : 0;
}

}  // namespace sb::rtp::rtcp
