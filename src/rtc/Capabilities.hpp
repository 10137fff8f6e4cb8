#pragma once
// What Switchboard accepts and forwards: codecs, RTCP feedback and RTP header
// extensions. An SFU forwards payloads untouched, so "supported" means we can
// packetize-agnostically forward the codec and understand its keyframes.
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "sdp/Codec.hpp"
#include "sdp/MediaSection.hpp"

namespace sb::rtc {

namespace ext {
// RTP header extension URIs (RFC 8285 §5 names them by URI).
inline constexpr std::string_view kMid = "urn:ietf:params:rtp-hdrext:sdes:mid";                       // RFC 8843 §15.2
inline constexpr std::string_view kRid = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";             // RFC 8852 §3.1
inline constexpr std::string_view kRepairedRid = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";  // RFC 8852 §3.2
inline constexpr std::string_view kTransportCc =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
inline constexpr std::string_view kAbsSendTime = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
inline constexpr std::string_view kAudioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";  // RFC 6464
inline constexpr std::string_view kVideoOrientation = "urn:3gpp:video-orientation";
inline constexpr std::string_view kTimeOffset = "urn:ietf:params:rtp-hdrext:toffset";  // RFC 5450
}  // namespace ext

/// Header extensions we negotiate. Others are declined in answers.
inline constexpr std::array<std::string_view, 8> kSupportedExtensions = {
    ext::kMid, ext::kRid, ext::kRepairedRid, ext::kTransportCc,
    ext::kAbsSendTime, ext::kAudioLevel, ext::kVideoOrientation, ext::kTimeOffset};

/// RTCP feedback we answer for (RFC 4585 §4.2, RFC 5104 §7.1, REMB, transport-cc).
struct FeedbackType {
  std::string_view type;
  std::string_view parameter;
};
inline constexpr std::array<FeedbackType, 5> kSupportedFeedback = {
    FeedbackType{"nack", ""}, FeedbackType{"nack", "pli"}, FeedbackType{"ccm", "fir"},
    FeedbackType{"goog-remb", ""}, FeedbackType{"transport-cc", ""}};

/// `s` as an msid token (RFC 8830 §2, token-char of RFC 8866 §9): characters
/// outside token-char are percent-encoded and the result is cut to 64 bytes, so
/// any participant id can name a media stream. Empty input gives "-".
std::string to_msid_token(std::string_view s);

/// Start bitrate suggested to browsers publishing video (Chromium's
/// x-google-start-bitrate fmtp parameter; other browsers ignore it).
inline constexpr int kVideoStartBitrateKbps = 2000;

bool is_supported_extension(std::string_view uri);
bool is_supported_feedback(const sdp::RtcpFeedback& fb);
/// A primary (non-RTX) codec Switchboard forwards for this kind of media.
bool is_supported_codec(const sdp::Codec& codec, sdp::MediaKind kind);

/// Whether two rtpmap/fmtp descriptions name the same bitstream format, so that
/// one payload type may stand for both inside a BUNDLE group (RFC 8843 §9):
/// encoding name, clock rate, channels (absent = 1, RFC 8866 §6.6) and the fmtp
/// parameters that select an incompatible format: VP9 profile-id, H.264 profile
/// (profile_idc + profile-iop, RFC 6184 §8.1) and packetization-mode, AV1
/// profile. Levels and other fmtp parameters may differ. RTX matches RTX of the
/// same clock rate; the caller compares apt.
bool same_codec(const sdp::Codec& a, const sdp::Codec& b);

/// RTCP feedback we ask a receiver for on a track we send to it: loss repair
/// and keyframe requests for video (RFC 4585 §4.2, RFC 5104 §7.1), plus the
/// bandwidth feedback matching the header extensions we write.
std::vector<sdp::RtcpFeedback> feedback_for_sending(sdp::MediaKind kind, bool transport_cc, bool abs_send_time);

}  // namespace sb::rtc
