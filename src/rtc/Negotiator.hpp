#pragma once
// The offer/answer state of one peer connection, server side (RFC 3264, JSEP
// RFC 8829). It remembers every m-section ever negotiated (their order never
// changes, RFC 8829 §5.2.2), what the peer sends on each and what we send.
// Control plane: allocations are fine, errors are values with reasons.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dtls/Fingerprint.hpp"
#include "rtc/Transport.hpp"
#include "sdp/SessionDescription.hpp"
#include "util/Random.hpp"
#include "util/Result.hpp"

namespace sb::rtc {

/// Our transport, as written into every description we produce.
struct LocalTransportInfo {
  std::string ice_ufrag;
  std::string ice_pwd;
  std::string fingerprint_sha256;  ///< "AB:CD:…"
  /// Host candidates, as "candidate:…" strings, and the address for c=/m= lines.
  std::vector<std::string> candidates;
  util::SocketAddr default_address;
};

/// A stream we send to the peer on one m-section.
struct SendTrack {
  std::string stream_id;  ///< msid stream id (the publisher's id)
  std::string track_id;   ///< msid track id
  std::string cname;
  uint32_t ssrc = 0;
  uint32_t rtx_ssrc = 0;  ///< 0 when RTX is not negotiated
};

struct MediaLine {
  std::string mid;
  std::string media;  ///< "audio", "video", "application", …
  std::string protocol;
  sdp::MediaKind kind = sdp::MediaKind::Other;
  bool rejected = false;
  std::vector<std::string> formats;  ///< the m= line's format list as we write it
  bool rtcp_rsize = false;           ///< RFC 5506 reduced-size RTCP agreed
  /// Our direction in the negotiated state.
  sdp::Direction direction = sdp::Direction::Inactive;
  std::vector<sdp::Codec> codecs;  ///< negotiated codecs (primary and RTX), payload types as agreed
  std::vector<sdp::Extmap> extmaps;
  // What the peer sends here (from its description).
  bool remote_sends = false;
  std::vector<uint32_t> remote_ssrcs;  ///< primary SSRCs, when signalled
  std::vector<std::pair<uint32_t, uint32_t>> remote_rtx;  ///< primary → RTX (FID)
  std::vector<std::string> remote_rids;  ///< simulcast layers the peer sends
  std::optional<sdp::Msid> remote_msid;
  // What we send here.
  std::optional<SendTrack> send;

  /// The negotiated primary codec for a payload type, or null.
  const sdp::Codec* codec(uint8_t pt) const;
  std::optional<uint16_t> extmap_id(std::string_view uri) const;
};

class Negotiator {
 public:
  Negotiator(LocalTransportInfo local, util::Random& rng);

  /// Applies a peer's offer and returns our answer. On error nothing changes.
  util::Result<std::string> handle_offer(std::string_view offer_sdp);

  /// What the latest remote description says about the peer's transport.
  const std::optional<RemoteParameters>& remote_parameters() const { return remote_; }
  const std::vector<MediaLine>& lines() const { return lines_; }
  const MediaLine* find_line(std::string_view mid) const;
  const LocalTransportInfo& local() const { return local_; }
  uint64_t local_version() const { return version_; }

 private:
  util::Result<RemoteParameters> read_remote_transport(const sdp::SessionDescription& offer) const;
  util::Result<MediaLine> answer_line(const sdp::SessionDescription& offer, const sdp::MediaSection& m,
                                      const MediaLine* previous) const;
  void write_transport(sdp::MediaSection& out, bool offering, bool first) const;
  sdp::MediaSection write_line(const MediaLine& line, bool offering, bool first) const;
  std::string write_description(const std::vector<MediaLine>& lines, bool offering, bool extmap_allow_mixed);

  LocalTransportInfo local_;
  uint64_t session_id_;
  uint64_t version_ = 0;
  std::vector<MediaLine> lines_;
  std::optional<RemoteParameters> remote_;
  /// DTLS role settled by the first exchange (RFC 8842 §5.3: kept across renegotiation).
  std::optional<dtls::Role> dtls_role_;
};

}  // namespace sb::rtc
