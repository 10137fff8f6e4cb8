#pragma once
// The offer/answer state of one peer connection, server side (RFC 3264, JSEP
// RFC 8829). It remembers every m-section ever negotiated (their order never
// changes, RFC 8829 §5.2.2), what the peer sends on each and what we send.
// Both sides offer: the peer offers what it publishes; the server offers the
// tracks it forwards to the peer (server-initiated renegotiation). Glare is
// settled with the server as the polite side (RFC 8829 §5.7 rollback).
// Control plane: allocations are fine, errors are values with reasons.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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

/// Upper bounds on what one peer connection may accumulate.
inline constexpr size_t kMaxMediaLines = 512;       ///< m-sections in one description
inline constexpr size_t kMaxPendingChanges = 256;   ///< track additions not yet signalled (removals: one per line)

/// A stream we send to the peer on one m-section.
struct SendTrack {
  std::string stream_id;  ///< msid stream id (the publisher's id)
  std::string track_id;   ///< msid track id
  std::string cname;
  uint32_t ssrc = 0;
  uint32_t rtx_ssrc = 0;  ///< 0 when RTX is not negotiated
  /// The publisher's primary codecs, with the publisher's payload types.
  std::vector<sdp::Codec> codecs;
};

/// A track the SFU wants to forward to this peer (see Negotiator::add_send_track).
struct SendTrackSpec {
  sdp::MediaKind kind = sdp::MediaKind::Video;  ///< Audio or Video
  /// The publisher's primary codecs as negotiated on its side (its payload
  /// types, fmtp), in preference order. Each must be is_supported_codec().
  std::vector<sdp::Codec> codecs;
  bool rtx = false;  ///< offer an RTX companion per codec (RFC 4588); needs rtx_ssrc
  /// Header extension URIs we will write on this track (kSupportedExtensions only).
  std::vector<std::string> extensions;
  std::string stream_id;  ///< msid stream id: the publisher's id
  std::string track_id;   ///< msid track id
  std::string cname;
  uint32_t ssrc = 0;
  uint32_t rtx_ssrc = 0;
};

/// Who created an m-section: the peer's offer, or one of ours.
enum class LineOrigin { kRemote, kLocal };

enum class SignalingState { kStable, kHaveLocalOffer };  ///< RFC 8829 §3.2 (the states a server passes through)

/// A send track that had to move to another mid before it was ever signalled,
/// because the peer stopped or took the m-section it was going to use.
struct SendTrackMoved {
  std::string track_id;
  std::string old_mid;
  std::string new_mid;
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
  LineOrigin origin = LineOrigin::kRemote;
  /// Why the peer's last answer refused what we offered on this line (port 0,
  /// no common codec, not receiving); empty when it accepted.
  std::string rejection;

  /// The negotiated codec (primary or RTX) for a payload type, or null.
  const sdp::Codec* codec(uint8_t pt) const;
  std::optional<uint16_t> extmap_id(std::string_view uri) const;
  /// We are sending a track here and the peer agreed to receive it.
  bool sending() const { return send.has_value() && !rejected && sdp::sends(direction); }
  /// The payload type negotiated here for a publisher's codec (same_codec()),
  /// i.e. what the forwarder writes instead of the publisher's payload type.
  std::optional<uint8_t> payload_type_for(const sdp::Codec& publisher_codec) const;
  /// The RTX payload type whose apt is payload_type_for(publisher_codec).
  std::optional<uint8_t> rtx_payload_type_for(const sdp::Codec& publisher_codec) const;
};

class Negotiator {
 public:
  Negotiator(LocalTransportInfo local, util::Random& rng);

  /// Applies a peer's offer and returns our answer. On error nothing changes.
  /// Lines we send on stay sendonly with their msid/SSRCs; pending track
  /// changes are not part of the answer, they wait for the next offer.
  /// Glare: in have-local-offer, a valid peer offer implicitly rolls back our
  /// pending offer first (we are the polite side, RFC 8829 §5.7), exactly as
  /// rollback() would; an invalid one leaves the pending offer in place.
  util::Result<std::string> handle_offer(std::string_view offer_sdp);

  /// Queues a track to forward to the peer; it goes out with the next
  /// create_offer(). Returns the mid that will carry it. The m-section is, in
  /// order of preference: an inactive m-section of ours of the same kind with no
  /// track (same mid: the peer's transceiver is reused); an m-section rejected
  /// with port 0, recycled under a fresh mid (RFC 8829 §5.2.2); a new one
  /// appended with a fresh mid. Fresh mids are "s<n>", never used before in the
  /// session. Fails on an invalid spec or when the limits above are reached.
  util::Result<std::string> add_send_track(const SendTrackSpec& spec);
  /// Stops sending on `mid`: in the next offer the line becomes inactive, keeps
  /// its codecs and loses msid/SSRCs; once negotiated it can be reused. A track
  /// whose addition was not signalled yet is simply forgotten. Unknown mids are ignored.
  void remove_send_track(std::string_view mid);
  /// There are track changes not yet part of an offer.
  bool needs_offer() const;
  /// Our offer: every line in order (peer lines as negotiated; ours sendonly or
  /// inactive), pending changes applied, a=setup:actpass, same ICE/DTLS
  /// credentials. Only in kStable; moves to kHaveLocalOffer.
  util::Result<std::string> create_offer();
  /// Applies the peer's answer to our pending offer. Only in kHaveLocalOffer.
  /// On error nothing changes except that the pending offer is dropped (state
  /// kStable, pending changes kept for the next offer).
  util::Result<void> handle_answer(std::string_view answer_sdp);
  /// Drops our pending offer (glare); pending changes stay for the next offer.
  void rollback();
  SignalingState signaling_state() const {
    return pending_offer_ ? SignalingState::kHaveLocalOffer : SignalingState::kStable;
  }
  /// Tracks whose mid changed before they were signalled (see SendTrackMoved);
  /// empties the list.
  std::vector<SendTrackMoved> take_moved_tracks();

  /// What the latest remote description says about the peer's transport.
  const std::optional<RemoteParameters>& remote_parameters() const { return remote_; }
  const std::vector<MediaLine>& lines() const { return lines_; }
  const MediaLine* find_line(std::string_view mid) const;
  /// The accepted line on which the peer sends this SSRC (primary or RTX), or null.
  const MediaLine* line_for_remote_ssrc(uint32_t ssrc) const;
  const LocalTransportInfo& local() const { return local_; }
  uint64_t local_version() const { return version_; }

 private:
  /// A track addition or removal waiting to be offered. `seq` orders them and
  /// tells which ones the pending offer carries.
  struct PendingChange {
    enum class Type { kAdd, kRemove };
    Type type = Type::kAdd;
    uint64_t seq = 0;
    std::string mid;   ///< the mid the track goes out on / the mid to stop
    std::string slot;  ///< kAdd: mid of the existing line it takes over; empty: append
    SendTrackSpec spec;
  };
  struct PendingOffer {
    std::vector<MediaLine> lines;  ///< as offered
    uint64_t last_seq = 0;         ///< changes up to this one are in the offer
  };
  struct Slot {
    std::string mid;  ///< the line taken over; empty to append
    bool reuse = false;  ///< the line keeps its mid
  };

  util::Result<RemoteParameters> read_remote_transport(const sdp::SessionDescription& offer) const;
  util::Result<MediaLine> answer_line(const sdp::SessionDescription& offer, const sdp::MediaSection& m,
                                      const MediaLine* previous) const;
  void write_transport(sdp::MediaSection& out, bool offering, bool first) const;
  sdp::MediaSection write_line(const MediaLine& line, bool offering, bool first) const;
  std::string write_description(const std::vector<MediaLine>& lines, bool offering, bool extmap_allow_mixed);

  util::Result<MediaLine> apply_answer_line(const MediaLine& offered, const sdp::MediaSection& a) const;
  util::Result<std::vector<MediaLine>> project_offer_lines() const;
  std::optional<Slot> choose_slot(sdp::MediaKind kind, bool allow_reuse, uint64_t ignore_seq) const;
  bool reusable(const MediaLine& l, sdp::MediaKind kind, uint64_t ignore_seq) const;
  bool recyclable(const MediaLine& l, uint64_t ignore_seq) const;
  bool mid_taken(std::string_view mid) const;
  std::string fresh_mid();
  void note_mids(const sdp::SessionDescription& d);
  void note_remote_formats(const sdp::SessionDescription& d);
  void revalidate_pending();
  size_t pending_appends() const;

  LocalTransportInfo local_;
  uint64_t session_id_;
  uint64_t version_ = 0;
  std::vector<MediaLine> lines_;
  std::optional<RemoteParameters> remote_;
  /// DTLS role settled by the first exchange (RFC 8842 §5.3: kept across renegotiation).
  std::optional<dtls::Role> dtls_role_;
  bool extmap_allow_mixed_ = false;  ///< the peer's last offer had it (RFC 8285 §6)

  std::vector<PendingChange> pending_;  ///< bounded by kMaxPendingChanges
  uint64_t next_seq_ = 1;
  std::optional<PendingOffer> pending_offer_;
  uint64_t next_mid_ = 0;  ///< fresh mids are "s<n>" with n >= this
  /// Payload types and extmap ids the peer has used in any m-section of its
  /// descriptions, kept so that ours never give them another meaning (BUNDLE).
  /// Bounded by the number space: 128 payload types, 4351 extmap ids.
  std::vector<sdp::Codec> remote_codecs_;
  std::vector<sdp::Extmap> remote_extmaps_;
  std::vector<SendTrackMoved> moved_;  ///< bounded by kMaxPendingChanges
};

}  // namespace sb::rtc
