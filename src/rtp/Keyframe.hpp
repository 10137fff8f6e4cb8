#pragma once
// Keyframe and frame-start detection from an RTP payload, per video codec.
// Forwarding needs it to know when a subscriber can start decoding (after a
// PLI/FIR) and where a simulcast or SVC layer can be switched.
//
// These read only the payload descriptor / NAL or OBU headers, never the
// codec bitstream proper, and return false on anything malformed or truncated.
#include <string_view>

#include "util/Bytes.hpp"

namespace sb::rtp {

enum class VideoCodec : uint8_t { kVp8, kVp9, kH264, kAv1, kOther };

/// From the SDP rtpmap encoding name ("VP8", "vp9", "H264", "AV1"; case-insensitive).
VideoCodec codec_from_name(std::string_view name);

/// True for the first packet of a keyframe:
/// - VP8 (RFC 7741 §4.2, §4.3): start of partition 0 (S=1, PID=0) with the
///   payload header's P bit 0 (and the keyframe start code, RFC 6386 §9.1);
/// - VP9 (RFC 9628 §4.2): start of a layer frame (B=1) not inter-picture
///   predicted (P=0), of spatial layer 0 when layer indices are present;
/// - H.264 (RFC 6184 §5.6–§5.8): an IDR slice (5) or SPS (7) as a single NAL
///   unit, inside a STAP-A, or starting an FU-A;
/// - AV1 (AV1 RTP specification §4.4): the N bit (new coded video sequence).
bool is_keyframe(VideoCodec codec, util::ByteView payload);

/// True for the first packet of a frame (for VP9 and AV1: of a layer frame):
/// VP8 S=1 and PID=0; VP9 B=1; H.264 an access unit delimiter, SEI, SPS or
/// PPS, or the first slice of a picture (first_mb_in_slice 0); AV1 a packet
/// starting with a sequence header, temporal delimiter, frame header or frame
/// OBU (approximate: the dependency descriptor extension is exact).
bool is_frame_start(VideoCodec codec, util::ByteView payload);

}  // namespace sb::rtp
