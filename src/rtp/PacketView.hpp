#pragma once
// Zero-copy view of one RTP packet (RFC 3550 §5.1). Validates once in parse();
// the getters then read straight from the caller's buffer.
#include <cstddef>
#include <cstdint>

#include "rtp/ExtensionBlock.hpp"
#include "rtp/ParseError.hpp"
#include "rtp/Types.hpp"
#include "util/Bytes.hpp"

namespace sb::rtp {

inline constexpr size_t kRtpFixedHeaderSize = 12;
inline constexpr size_t kMaxCsrcCount = 15;

class PacketView {
 public:
  /// Rejects: shorter than the header it declares, version != 2, extension
  /// length past the end, RFC 8285 element overrun, padding count of zero or
  /// larger than what follows the header.
  static Parsed<PacketView> parse(util::ByteView data);

  bool has_padding() const { return (data_[0] & 0x20) != 0; }
  bool has_extension() const { return (data_[0] & 0x10) != 0; }
  size_t csrc_count() const { return data_[0] & 0x0F; }
  bool marker() const { return (data_[1] & 0x80) != 0; }
  PayloadType payload_type() const { return PayloadType{uint8_t(data_[1] & 0x7F)}; }
  uint16_t sequence() const { return util::load_be16(&data_[2]); }
  uint32_t timestamp() const { return util::load_be32(&data_[4]); }
  Ssrc ssrc() const { return Ssrc{util::load_be32(&data_[8])}; }
  /// `i` < csrc_count().
  uint32_t csrc(size_t i) const { return util::load_be32(&data_[kRtpFixedHeaderSize + 4 * i]); }

  /// The "defined by profile" field of the extension header (0 without one).
  uint16_t extension_profile_id() const { return extension_profile_id_; }
  /// RFC 8285 elements; empty/kNone when there is no (RFC 8285) extension.
  ExtensionBlock extensions() const {
    return ExtensionBlock(extension_profile_id_, data_.subspan(extension_offset_, extension_size_));
  }
  /// Offset and size of the element area (after the 4-byte extension header).
  size_t extension_offset() const { return extension_offset_; }
  size_t extension_size() const { return extension_size_; }

  /// Header size including CSRCs and the extension block.
  size_t header_size() const { return header_size_; }
  size_t padding_size() const { return padding_size_; }
  size_t payload_size() const { return data_.size() - header_size_ - padding_size_; }
  util::ByteView payload() const { return data_.subspan(header_size_, payload_size()); }
  /// The whole packet.
  util::ByteView data() const { return data_; }
  size_t size() const { return data_.size(); }

 private:
  friend class MutablePacket;
  PacketView() = default;

  util::ByteView data_;
  size_t header_size_ = 0;
  size_t padding_size_ = 0;
  size_t extension_offset_ = 0;
  size_t extension_size_ = 0;
  uint16_t extension_profile_id_ = 0;
};

}  // namespace sb::rtp
