#include "rtp/PacketWriter.hpp"

#include "rtp/PacketView.hpp"

namespace sb::rtp {

size_t write_packet(util::MutableBytes out, const RtpHeader& header, util::ByteView extension_block,
                    util::ByteView payload, uint8_t padding_size) {
  if (header.csrcs.size() > kMaxCsrcCount) return 0;
  if (!extension_block.empty() && (extension_block.size() < 4 || extension_block.size() % 4 != 0)) return 0;
  util::ByteWriter w(out);
  w.u8(uint8_t(kRtpVersion << 6 | (padding_size ? 0x20 : 0) | (extension_block.empty() ? 0 : 0x10) |
               header.csrcs.size()));
  w.u8(uint8_t((header.marker ? 0x80 : 0) | (uint8_t(header.payload_type) & 0x7F)));
  w.u16(header.sequence);
  w.u32(header.timestamp);
  w.u32(uint32_t(header.ssrc));
  for (uint32_t csrc : header.csrcs) w.u32(csrc);
  w.bytes(extension_block);
  w.bytes(payload);
  if (padding_size > 0) {
    w.zeros(padding_size - 1u);
    w.u8(padding_size);
  }
  return w.ok() ? w.size() : 0;
}

}  // namespace sb::rtp
