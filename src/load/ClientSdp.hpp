#pragma once
// The client half of offer/answer for one virtual participant: the first offer
// (what Chromium writes for one audio and one video transceiver: BUNDLE, Opus
// 111, VP8 96 + RTX 97, mid / abs-send-time / transport-cc extensions, SSRCs,
// a=setup:actpass), answers to the server's renegotiation offers (RFC 3264 §6:
// the same m-sections in the same order, receiving what the server sends,
// a=setup:active to keep the DTLS roles, RFC 8842 §5.3), and what a remote
// description tells the media path (transport, candidates, payload types).
// Control plane: allocates freely; errors are values.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dtls/Fingerprint.hpp"
#include "sdp/SessionDescription.hpp"
#include "util/Result.hpp"
#include "util/SocketAddr.hpp"

namespace sb::load {

// What our offers use. One meaning per number across the BUNDLE group (RFC 8843 §9).
inline constexpr uint8_t kOpusPt = 111;
inline constexpr uint8_t kVp8Pt = 96;
inline constexpr uint8_t kRtxPt = 97;
inline constexpr uint8_t kAudioLevelExtId = 1;
inline constexpr uint8_t kAbsSendTimeExtId = 2;
inline constexpr uint8_t kTransportCcExtId = 3;
inline constexpr uint8_t kMidExtId = 4;
inline constexpr std::string_view kAudioMid = "0";
inline constexpr std::string_view kVideoMid = "1";

/// Our transport and, for a publisher, the streams it sends.
struct LocalDescriptionParams {
  std::string ice_ufrag;
  std::string ice_pwd;
  std::string fingerprint_sha256;  ///< "AB:CD:…"
  bool publish = false;
  bool publish_audio = false;  ///< with `publish`: also an Opus stream
  uint32_t audio_ssrc = 0;
  uint32_t video_ssrc = 0;
  uint32_t rtx_ssrc = 0;
  std::string cname;
  std::string stream_id;
  uint64_t session_id = 1;
  /// Written as our host candidate in every description (a server that does not
  /// learn us from connectivity checks needs it); none: we trickle nothing.
  std::optional<util::SocketAddr> host_candidate;
};

enum class PayloadKind : uint8_t { kNone, kAudio, kVideo, kVideoRtx };

/// What the media path needs from a remote description (an answer or a server offer).
struct RemoteInfo {
  std::string ice_ufrag;
  std::string ice_pwd;
  dtls::Fingerprint fingerprint;
  /// The remote a=setup (RFC 8842 §5): `active` in an answer makes us the DTLS server.
  std::optional<sdp::SetupRole> setup;
  /// Host candidates with an IP address, with their priorities.
  std::vector<std::pair<util::SocketAddr, uint32_t>> candidates;
  /// Payload type → what it carries (BUNDLE keeps one meaning per number).
  std::array<PayloadKind, 128> payload_kinds{};
  /// RTX SSRC → primary SSRC (a=ssrc-group:FID, RFC 4588 §8.7), of streams the server sends.
  std::vector<std::pair<uint32_t, uint32_t>> rtx_ssrcs;
  /// Extension ids of the accepted m-sections (0: not negotiated).
  uint8_t transport_cc_id = 0;
  uint8_t abs_send_time_id = 0;
  uint8_t mid_id = 0;
  size_t receiving_sections = 0;  ///< sections the server sends media on
};

class ClientSdp {
 public:
  explicit ClientSdp(LocalDescriptionParams params);

  /// The first offer: audio + video, sendonly for a publisher, recvonly otherwise.
  std::string create_offer();
  /// Our answer to a server offer. `setup` is our DTLS role (RFC 8842 §5.3):
  /// `active` keeps the roles of an existing transport; a first answer may say
  /// `passive` to let the server start DTLS once its own ICE checks succeeded.
  util::Result<std::string> create_answer(const sdp::SessionDescription& offer,
                                          sdp::SetupRole setup = sdp::SetupRole::Active);

  static util::Result<sdp::SessionDescription> parse(std::string_view text);
  /// Transport, candidates, payload types and extension ids of a remote description.
  static util::Result<RemoteInfo> read_remote(const sdp::SessionDescription& d);

  const LocalDescriptionParams& params() const { return params_; }

 private:
  sdp::MediaSection offer_section(bool audio) const;
  void write_transport(sdp::MediaSection& m, sdp::SetupRole setup) const;
  void write_send_streams(sdp::MediaSection& m, bool audio) const;

  LocalDescriptionParams params_;
  uint64_t version_ = 1;
};

}  // namespace sb::load
