#pragma once
// Builds an RFC 8285 header extension block (4-byte profile/length header plus
// elements, zero-padded to 32 bits) into a caller-owned buffer.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "rtp/ExtensionBlock.hpp"
#include "util/Bytes.hpp"

namespace sb::rtp {

class ExtensionWriter {
 public:
  /// `profile` must be kOneByte or kTwoByte.
  ExtensionWriter(util::MutableBytes out, ExtensionProfile profile);

  /// Appends one element. Fails (and poisons the writer) if the id or size does
  /// not fit the form (one-byte: id 1..14, 1..16 bytes; two-byte: id 1..255,
  /// 0..255 bytes) or the buffer is full.
  bool add(uint8_t id, util::ByteView value);
  bool add_transport_sequence(uint8_t id, uint16_t seq);
  bool add_abs_send_time(uint8_t id, uint32_t abs_send_time_24);
  bool add_audio_level(uint8_t id, bool voice_activity, uint8_t level_dbov);
  bool add_string(uint8_t id, std::string_view value);  ///< mid, rid, repaired rid

  bool ok() const { return ok_; }
  /// Pads, writes the header and returns the block size (header included), or
  /// 0 on any earlier failure. With no element added it returns 0 as well:
  /// a packet without extensions should not carry an empty block.
  /// Adding after finish() fails.
  size_t finish();

 private:
  util::MutableBytes out_;
  ExtensionProfile profile_;
  size_t pos_ = 4;
  size_t count_ = 0;
  bool ok_ = true;
  bool finished_ = false;
};

}  // namespace sb::rtp
