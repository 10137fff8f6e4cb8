#include "load/MediaFormat.hpp"

#include <algorithm>

namespace sb::load {

size_t write_vp8_payload(util::MutableBytes out, size_t size, const Vp8PacketInfo& info, uint64_t send_time) {
  if (size < kMinVp8Payload || size > out.size()) return 0;
  uint8_t* p = out.data();
  // RFC 7741 §4.2: X=1, S on a frame start, PID 0; then I=1 and M=1 (15-bit PictureID).
  p[0] = uint8_t(0x80 | (info.frame_start ? 0x10 : 0x00));
  p[1] = 0x80;
  util::store_be16(p + 2, uint16_t(0x8000 | (info.picture_id & 0x7FFF)));
  size_t pos = kVp8DescriptorSize;
  if (info.frame_start) {
    // RFC 6386 §9.1 frame tag: P (inverse keyframe flag) in bit 0, version 0,
    // show_frame, first partition size (a plausible constant).
    constexpr uint32_t kFirstPartitionSize = 200;
    uint32_t tag = (info.keyframe ? 0u : 1u) | (1u << 4) | (kFirstPartitionSize << 5);
    p[pos] = uint8_t(tag);
    p[pos + 1] = uint8_t(tag >> 8);
    p[pos + 2] = uint8_t(tag >> 16);
    pos += kVp8InterframeHeaderSize;
    if (info.keyframe) {
      constexpr uint16_t kWidth = 1280, kHeight = 720;
      p[pos] = 0x9d;
      p[pos + 1] = 0x01;
      p[pos + 2] = 0x2a;
      p[pos + 3] = uint8_t(kWidth);  // little-endian, scale bits 0
      p[pos + 4] = uint8_t(kWidth >> 8);
      p[pos + 5] = uint8_t(kHeight);
      p[pos + 6] = uint8_t(kHeight >> 8);
      pos += kVp8KeyframeHeaderSize - kVp8InterframeHeaderSize;
    }
  }
  util::store_be64(p + pos, send_time);
  return size;
}

size_t write_audio_payload(util::MutableBytes out, size_t size, uint64_t send_time) {
  if (size < kSendTimeSize || size > out.size()) return 0;
  util::store_be64(out.data(), send_time);
  return size;
}

std::optional<uint64_t> read_vp8_send_time(util::ByteView payload) {
  util::ByteReader r(payload);
  uint8_t b0 = r.u8();
  if (b0 & 0x80) {  // X: I|L|T|K
    uint8_t x = r.u8();
    if (x & 0x80) r.skip((r.u8() & 0x80) ? 1 : 0);
    if (x & 0x40) r.skip(1);
    if (x & 0x30) r.skip(1);
  }
  bool frame_start = (b0 & 0x10) != 0 && (b0 & 0x07) == 0;
  if (frame_start) {
    size_t at = r.position();
    if (!r.ok() || at >= payload.size()) return std::nullopt;
    r.skip((payload[at] & 0x01) == 0 ? kVp8KeyframeHeaderSize : kVp8InterframeHeaderSize);
  }
  uint64_t t = r.u64();
  return r.ok() ? std::optional<uint64_t>(t) : std::nullopt;
}

std::optional<uint64_t> read_audio_send_time(util::ByteView payload) {
  if (payload.size() < kSendTimeSize) return std::nullopt;
  return util::load_be64(payload.data());
}

FrameSplit split_frame(size_t frame_bytes, size_t max_payload) {
  FrameSplit s;
  max_payload = std::max(max_payload, kMinVp8Payload);
  frame_bytes = std::max(frame_bytes, kMinVp8Payload);
  s.packets = (frame_bytes + max_payload - 1) / max_payload;
  s.payload_size = std::max(kMinVp8Payload, (frame_bytes + s.packets - 1) / s.packets);
  size_t rest = frame_bytes > s.payload_size * (s.packets - 1) ? frame_bytes - s.payload_size * (s.packets - 1) : 0;
  s.last_payload_size = std::max(kMinVp8Payload, rest);
  return s;
}

}  // namespace sb::load
