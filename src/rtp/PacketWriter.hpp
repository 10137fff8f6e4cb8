#pragma once
// Writes an RTP packet of our own (retransmissions, probes, the load
// generator's media) into a caller-owned buffer.
#include <cstddef>
#include <cstdint>
#include <span>

#include "rtp/Types.hpp"
#include "util/Bytes.hpp"

namespace sb::rtp {

struct RtpHeader {
  bool marker = false;
  PayloadType payload_type{};
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  Ssrc ssrc{};
  std::span<const uint32_t> csrcs;  ///< at most 15
};

/// `extension_block` is a complete block as ExtensionWriter::finish() produced
/// it (empty: no X bit). `padding_size` > 0 appends RFC 3550 §5.1 padding.
/// Returns the packet size, or 0 if it does not fit in `out` or the header is
/// invalid. `out` must not overlap the inputs.
size_t write_packet(util::MutableBytes out, const RtpHeader& header, util::ByteView extension_block,
                    util::ByteView payload, uint8_t padding_size = 0);

}  // namespace sb::rtp
