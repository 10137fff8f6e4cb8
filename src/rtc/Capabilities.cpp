#include "rtc/Capabilities.hpp"

#include <algorithm>

namespace sb::rtc {

std::string to_msid_token(std::string_view s) {
  auto token_char = [](unsigned char c) {
    return c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2A || c == 0x2B || c == 0x2D || c == 0x2E ||
           (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x5E && c <= 0x7E);
  };
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (token_char(c) && c != '%') {
      if (out.size() + 1 > 64) break;
      out.push_back(char(c));
    } else {
      if (out.size() + 3 > 64) break;
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out.empty() ? "-" : out;
}

bool is_supported_extension(std::string_view uri) {
  for (auto u : kSupportedExtensions)
    if (u == uri) return true;
  return false;
}

bool is_supported_feedback(const sdp::RtcpFeedback& fb) {
  for (auto f : kSupportedFeedback)
    if (sdp::iequals(f.type, fb.type) && sdp::iequals(f.parameter, fb.parameter)) return true;
  return false;
}

bool is_supported_codec(const sdp::Codec& c, sdp::MediaKind kind) {
  if (kind == sdp::MediaKind::Audio) return c.is("opus") && c.clock_rate == 48000;
  if (kind == sdp::MediaKind::Video) {
    if (c.clock_rate != 90000) return false;
    return c.is("VP8") || c.is("VP9") || c.is("H264") || c.is("AV1") || c.is("AV1X");
  }
  return false;
}

namespace {

std::string_view param_or(const sdp::Codec& c, std::string_view key, std::string_view fallback) {
  auto v = c.fmtp_param(key);
  return v ? *v : fallback;
}

// profile_idc and profile-iop: the first two bytes of profile-level-id; the
// third is the level, which may differ between the two sides (RFC 6184 §8.2.2).
std::string_view h264_profile(const sdp::Codec& c) {
  std::string_view id = param_or(c, "profile-level-id", "42000a");  // RFC 6184 §8.1 default
  return id.size() >= 4 ? id.substr(0, 4) : id;
}

}  // namespace

bool same_codec(const sdp::Codec& a, const sdp::Codec& b) {
  if (!sdp::iequals(a.name, b.name) || a.clock_rate != b.clock_rate) return false;
  if (std::max(a.channels, 1u) != std::max(b.channels, 1u)) return false;
  if (a.is("VP9")) return param_or(a, "profile-id", "0") == param_or(b, "profile-id", "0");
  if (a.is("H264"))
    return sdp::iequals(h264_profile(a), h264_profile(b)) &&
           param_or(a, "packetization-mode", "0") == param_or(b, "packetization-mode", "0");
  if (a.is("AV1") || a.is("AV1X")) return param_or(a, "profile", "0") == param_or(b, "profile", "0");
  return true;
}

std::vector<sdp::RtcpFeedback> feedback_for_sending(sdp::MediaKind kind, bool transport_cc, bool abs_send_time) {
  std::vector<sdp::RtcpFeedback> fb;
  if (kind == sdp::MediaKind::Video) {
    if (abs_send_time) fb.push_back({"goog-remb", ""});
    if (transport_cc) fb.push_back({"transport-cc", ""});
    fb.push_back({"ccm", "fir"});
    fb.push_back({"nack", ""});
    fb.push_back({"nack", "pli"});
  } else if (transport_cc) {
    fb.push_back({"transport-cc", ""});
  }
  return fb;
}

}  // namespace sb::rtc
