#pragma once
// An RTP packet in a buffer we own and may rewrite in place (the SFU's per-
// subscriber copy). Rewrites never change the layout, so the view stays valid.
#include <optional>

#include "rtp/PacketView.hpp"

namespace sb::rtp {

class MutablePacket {
 public:
  static Parsed<MutablePacket> parse(util::MutableBytes data);
  /// Copies `src` into `buffer` (which must be at least src.size() bytes) and
  /// views the copy with the layout already validated for `src`, without parsing
  /// again. nullopt if the buffer is too small.
  static std::optional<MutablePacket> copy_from(const PacketView& src, util::MutableBytes buffer);

  const PacketView& view() const { return view_; }
  util::MutableBytes data() const { return data_; }

  void set_marker(bool marker) { data_[1] = uint8_t((data_[1] & 0x7F) | (marker ? 0x80 : 0)); }
  void set_payload_type(PayloadType pt) { data_[1] = uint8_t((data_[1] & 0x80) | (uint8_t(pt) & 0x7F)); }
  void set_sequence(uint16_t seq) { util::store_be16(&data_[2], seq); }
  void set_timestamp(uint32_t ts) { util::store_be32(&data_[4], ts); }
  void set_ssrc(Ssrc ssrc) { util::store_be32(&data_[8], uint32_t(ssrc)); }

  util::MutableBytes payload() const { return data_.subspan(view_.header_size(), view_.payload_size()); }
  /// The RFC 8285 element area, writable (for remapping ids in place).
  util::MutableBytes extension_elements() const {
    return data_.subspan(view_.extension_offset(), view_.extension_size());
  }
  /// Writable value of the first element with `id` (e.g. to stamp our own
  /// transport-wide sequence number); nullopt if absent.
  std::optional<util::MutableBytes> find_extension(uint8_t id) const;

 private:
  MutablePacket(util::MutableBytes data, PacketView view) : data_(data), view_(view) {}

  util::MutableBytes data_;
  PacketView view_;
};

}  // namespace sb::rtp
