#pragma once
// The synthetic media the load generator sends: VP8 payloads that look real to
// an SFU (RFC 7741 payload descriptor; on a frame's first packet the VP8 frame
// tag, and for keyframes the start code 9d 01 2a, RFC 6386 §9.1) and Opus-sized
// audio. Every payload carries the time it was sent, 64-bit big-endian µs on the
// process's monotonic clock, so that a receiver in the same process reads the
// one-way delay through the server off each packet:
//   VP8:  descriptor | [frame tag (3), keyframe: + start code and size (7)] | send time | filler
//   Opus: send time | filler
// The send time follows the frame header rather than the descriptor so the
// keyframe detection of the SFU (which reads that header) sees a real one.
#include <cstddef>
#include <cstdint>
#include <optional>

#include "util/Bytes.hpp"
#include "util/Time.hpp"

namespace sb::load {

inline constexpr size_t kSendTimeSize = 8;
/// Descriptor used on every VP8 packet: X, I with a 15-bit PictureID (what Chromium sends).
inline constexpr size_t kVp8DescriptorSize = 4;
inline constexpr size_t kVp8KeyframeHeaderSize = 10;  ///< frame tag + start code + width/height
inline constexpr size_t kVp8InterframeHeaderSize = 3;  ///< frame tag
/// Smallest VP8 payload write_vp8_payload accepts (a keyframe's first packet).
inline constexpr size_t kMinVp8Payload = kVp8DescriptorSize + kVp8KeyframeHeaderSize + kSendTimeSize;

/// µs since the steady clock's epoch: the clock every thread of the process shares.
inline uint64_t send_time_us(util::Timestamp t) { return uint64_t(util::to_micros(t.time_since_epoch())); }

struct Vp8PacketInfo {
  bool frame_start = false;  ///< S bit, partition 0
  bool keyframe = false;
  uint16_t picture_id = 0;  ///< 15 bits
};

/// Writes a VP8 payload of exactly `size` bytes (>= kMinVp8Payload, <= out.size()).
/// The filler after the send time is left as it is in `out`. Returns `size`, or 0
/// if it does not fit.
size_t write_vp8_payload(util::MutableBytes out, size_t size, const Vp8PacketInfo& info, uint64_t send_time);
/// Writes an Opus-sized payload of `size` bytes (>= kSendTimeSize). Returns `size` or 0.
size_t write_audio_payload(util::MutableBytes out, size_t size, uint64_t send_time);

/// The send time in a payload written by write_vp8_payload (nullopt if malformed).
std::optional<uint64_t> read_vp8_send_time(util::ByteView payload);
std::optional<uint64_t> read_audio_send_time(util::ByteView payload);

/// How a frame of `frame_bytes` is cut into packets of at most `max_payload`
/// bytes (equal sizes, RFC 7741 §4.4 leaves the split to the sender).
struct FrameSplit {
  size_t packets = 1;
  size_t payload_size = 0;  ///< of every packet but possibly the last
  size_t last_payload_size = 0;
};
FrameSplit split_frame(size_t frame_bytes, size_t max_payload);

}  // namespace sb::load
