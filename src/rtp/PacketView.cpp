#include "rtp/PacketView.hpp"

namespace sb::rtp {

Parsed<PacketView> PacketView::parse(util::ByteView data) {
  if (data.size() < kRtpFixedHeaderSize) return ParseError::kTruncated;
  if ((data[0] >> 6) != kRtpVersion) return ParseError::kBadVersion;

  PacketView p;
  p.data_ = data;
  size_t offset = kRtpFixedHeaderSize + 4 * size_t(data[0] & 0x0F);
  if (offset > data.size()) return ParseError::kTruncated;

  if (p.has_extension()) {
    // RFC 3550 §5.3.1: 16-bit profile-defined id, 16-bit length in 32-bit words
    // not counting this 4-byte header.
    if (offset + 4 > data.size()) return ParseError::kTruncated;
    p.extension_profile_id_ = util::load_be16(&data[offset]);
    const size_t ext_size = size_t(util::load_be16(&data[offset + 2])) * 4;
    offset += 4;
    if (ext_size > data.size() - offset) return ParseError::kBadExtension;
    p.extension_offset_ = offset;
    p.extension_size_ = ext_size;
    if (!ExtensionBlock::validate(p.extension_profile_id_, data.subspan(offset, ext_size))) {
      return ParseError::kBadExtension;
    }
    offset += ext_size;
  } else {
    p.extension_offset_ = offset;
  }
  p.header_size_ = offset;

  if (p.has_padding()) {
    // RFC 3550 §5.1: the last octet counts the padding, itself included.
    const size_t pad = data.back();
    if (pad == 0 || pad > data.size() - offset) return ParseError::kBadPadding;
    p.padding_size_ = pad;
  }
  return p;
}

}  // namespace sb::rtp
