#pragma once
// One RTP payload type of an m-section with its rtpmap (RFC 8866 §6.6), fmtp
// (§6.15) and rtcp-fb (RFC 4585 §4.2) lines gathered together.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sdp/Attribute.hpp"

namespace sb::sdp {

/// `a=rtcp-fb:<pt> <type> [<parameter>]`, e.g. "nack" "pli", "transport-cc" "".
struct RtcpFeedback {
  std::string type;
  std::string parameter;
  bool operator==(const RtcpFeedback&) const = default;
};

struct Codec {
  PayloadType pt = 0;
  /// Encoding name as written ("opus", "VP8", "rtx"). Empty when the payload
  /// type has no rtpmap line (a static type relying on RFC 3551).
  std::string name;
  uint32_t clock_rate = 0;
  /// Audio channels from rtpmap; 0 when the rtpmap has no channel field.
  uint32_t channels = 0;
  /// The fmtp parameters as written; `fmtp_params` is the parsed form.
  std::string fmtp;
  std::vector<Param> fmtp_params;
  std::vector<RtcpFeedback> feedback;

  bool has_rtpmap() const { return !name.empty(); }
  /// Case-insensitive name comparison (RFC 4855 §3: encoding names are case-insensitive).
  bool is(std::string_view encoding_name) const;
  bool is_rtx() const { return is("rtx"); }
  std::optional<std::string_view> fmtp_param(std::string_view key) const {
    return find_param(fmtp_params, key);
  }
  /// The associated payload type of an RTX (RFC 4588 §8.6) or similar codec.
  std::optional<PayloadType> apt() const;
  bool has_feedback(std::string_view type, std::string_view parameter = {}) const;
  /// Replaces both the raw fmtp and its parsed form.
  void set_fmtp(std::vector<Param> params);

  bool operator==(const Codec&) const = default;
};

bool iequals(std::string_view a, std::string_view b);

}  // namespace sb::sdp
