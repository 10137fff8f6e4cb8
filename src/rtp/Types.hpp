#pragma once
// Small strong types for RTP identifiers, so signatures say what a number is.
#include <cstdint>

#include "util/Bytes.hpp"

namespace sb::rtp {

/// Synchronization source identifier (RFC 3550 §5.1). `Ssrc{0x1234}` / `uint32_t(ssrc)`.
enum class Ssrc : uint32_t {};
/// RTP payload type, 7 bits on the wire (RFC 3550 §5.1).
enum class PayloadType : uint8_t {};

inline constexpr uint8_t kRtpVersion = 2;

/// RFC 7983 §7: a first byte in 128..191 is RTP or RTCP (as opposed to STUN,
/// DTLS, ZRTP or TURN channel data on the same 5-tuple).
inline bool is_rtp_or_rtcp(util::ByteView data) {
  return !data.empty() && data[0] >= 128 && data[0] <= 191;
}

/// RFC 5761 §4: with rtcp-mux, the second byte (RTCP packet type, or marker +
/// RTP payload type) in 192..223 means RTCP. Payload types 64..95 are therefore
/// never used for RTP.
inline bool is_rtcp(util::ByteView data) {
  return data.size() >= 2 && is_rtp_or_rtcp(data) && data[1] >= 192 && data[1] <= 223;
}

}  // namespace sb::rtp
