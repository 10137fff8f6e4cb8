#pragma once
// One m-section (RFC 8866 §5.14) with the attributes WebRTC uses (RFC 8829 §5).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sdp/Attribute.hpp"
#include "sdp/Codec.hpp"
#include "sdp/Connection.hpp"
#include "sdp/Direction.hpp"
#include "sdp/Extmap.hpp"
#include "sdp/Simulcast.hpp"
#include "sdp/Ssrc.hpp"
#include "sdp/Transport.hpp"

namespace sb::sdp {

enum class MediaKind { Audio, Video, Application, Other };

/// `a=msid:<stream id> [<track id>]` (RFC 8830 §2). Stream id "-" means no stream.
struct Msid {
  std::string stream_id;
  std::string track_id;
  bool operator==(const Msid&) const = default;
};

/// `a=rtcp:<port> [<nettype> <addrtype> <address>]` (RFC 3605 §2.1).
struct RtcpAddress {
  uint16_t port = 9;
  std::string address;  ///< "IN IP4 0.0.0.0" as written, possibly empty
  bool operator==(const RtcpAddress&) const = default;
};

struct MediaSection {
  // m=<media> <port>[/<count>] <proto> <fmt>...
  std::string media;  ///< "audio", "video", "application", or anything else, kept
  uint16_t port = 9;
  std::optional<uint16_t> port_count;
  std::string protocol;              ///< "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP", …
  std::vector<std::string> formats;  ///< payload types for RTP, "webrtc-datachannel" for SCTP

  std::optional<Connection> connection;
  std::optional<RtcpAddress> rtcp;

  TransportAttributes transport;
  std::string mid;  ///< empty when the section has no a=mid
  bool bundle_only = false;  ///< RFC 8843 §6
  std::vector<Extmap> extmaps;
  bool extmap_allow_mixed = false;  ///< RFC 8285 §6
  /// The section's direction; a section without one gets the session-level
  /// direction, else sendrecv (RFC 8866 §6.7).
  Direction direction = Direction::SendRecv;
  std::vector<Msid> msids;
  bool rtcp_mux = false;
  bool rtcp_rsize = false;
  std::vector<Codec> codecs;  ///< in order of first mention
  std::vector<RtcpFeedback> wildcard_feedback;  ///< `a=rtcp-fb:* …` applies to every codec
  std::vector<SsrcGroup> ssrc_groups;
  std::vector<SsrcAttribute> ssrcs;
  std::vector<Rid> rids;
  std::optional<Simulcast> simulcast;
  std::optional<uint16_t> sctp_port;           ///< RFC 8841 §5
  std::optional<uint64_t> max_message_size;    ///< RFC 8841 §6
  std::vector<std::string> candidates;         ///< "candidate:…" without "a="
  bool end_of_candidates = false;
  std::vector<Attribute> other_attributes;
  std::vector<OtherLine> other_lines;

  MediaKind kind() const;
  /// An RTP profile (the formats are payload types), as opposed to SCTP or others.
  bool is_rtp() const;
  /// Port 0 without bundle-only: rejected or stopped (RFC 8843 §7.3.3, RFC 3264 §6).
  bool is_rejected() const { return port == 0 && !bundle_only; }
  bool is_bundle_only() const { return bundle_only; }

  /// Payload types of the m= line in preference order; empty for non-RTP sections.
  std::vector<PayloadType> payload_types() const;
  const Codec* find_codec(PayloadType pt) const;
  Codec* find_codec(PayloadType pt);
  /// Codecs whose encoding name matches, case-insensitively, in section order.
  std::vector<const Codec*> codecs_named(std::string_view name) const;
  /// The RTX payload type whose apt points at `pt` (RFC 4588 §8.6).
  std::optional<PayloadType> rtx_payload_type(PayloadType pt) const;
  std::optional<uint16_t> extmap_id(std::string_view uri) const;
  const Extmap* find_extmap(uint16_t id) const;

  /// SSRCs in order of first appearance, without the ones that are the repair
  /// (second) member of an FID group.
  std::vector<Ssrc> primary_ssrcs() const;
  /// The RTX SSRC paired with `primary` by `a=ssrc-group:FID primary rtx`.
  std::optional<Ssrc> rtx_ssrc(Ssrc primary) const;
  std::optional<std::string_view> ssrc_attribute(Ssrc ssrc, std::string_view name) const;
  std::optional<std::string_view> cname(Ssrc ssrc) const { return ssrc_attribute(ssrc, "cname"); }
  const SsrcGroup* find_ssrc_group(std::string_view semantics) const;

  const Rid* find_rid(std::string_view id) const;
  const Attribute* find_attribute(std::string_view name) const;

  bool operator==(const MediaSection&) const = default;
};

}  // namespace sb::sdp
