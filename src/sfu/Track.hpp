#pragma once
// A published media source: one m-section the publisher sends on. Owns what is
// shared by everyone who receives it: receive statistics, loss detection
// (NACKs to the publisher), the retransmission cache and keyframe requests.
// Owned by its publisher's Participant; subscriptions point at it.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rtc/Negotiator.hpp"
#include "rtp/Keyframe.hpp"
#include "rtp/NackGenerator.hpp"
#include "rtp/NtpTime.hpp"
#include "rtp/ReceiveStats.hpp"
#include "rtp/RetransmissionCache.hpp"
#include "sdp/Codec.hpp"
#include "util/Time.hpp"

namespace sb::sfu {

class Participant;
class Subscription;

/// Keyframe requests to one publisher stream, however many subscribers ask:
/// - while one is unanswered (no keyframe since), no other goes out, since the
///   keyframe it brings serves everyone waiting; it is repeated after
///   kKeyframeRequestRetry without an answer (a lost PLI, RFC 4585 §3.4);
/// - once answered, the next may go kKeyframeRequestSpacing after the last
///   when a subscriber waits for its first keyframe (a join: each subscriber
///   needs one once, so a join storm makes at most one keyframe per spacing),
///   and kKeyframeRequestInterval after it for a subscriber that lost its
///   picture (a receiver on a lossy path asks again and again, and every
///   keyframe costs every viewer several frames' worth of bits).
inline constexpr util::Duration kKeyframeRequestSpacing = std::chrono::milliseconds(100);
inline constexpr util::Duration kKeyframeRequestInterval = std::chrono::milliseconds(300);
inline constexpr util::Duration kKeyframeRequestRetry = std::chrono::milliseconds(300);
/// A subscriber that can receive just after a keyframe passed starts from that
/// keyframe in the retransmission cache, and the frames since, instead of
/// asking for a new one (which costs every viewer, and the newcomer a round
/// trip to the publisher and the spacing above). Younger than the spacing, so
/// that a keyframe asked for now would never come sooner; the newcomer's player
/// starts this much behind live at most and its jitter buffer catches up.
inline constexpr util::Duration kKeyframeReplayWindow = kKeyframeRequestSpacing;
/// At most this many packets are replayed (a large keyframe at a high bitrate
/// may not fit; the newcomer then asks for a keyframe as before).
inline constexpr uint16_t kMaxReplayPackets = 256;
inline constexpr size_t kAudioCachePackets = 64;
inline constexpr size_t kVideoCachePackets = 512;

/// The publisher's NTP↔RTP mapping from its last sender report (RFC 3550 §6.4.1).
struct SenderClock {
  rtp::NtpTime ntp;
  uint32_t rtp_timestamp = 0;
  util::Timestamp arrival;
};

class Track {
 public:
  Track(Participant& publisher, const rtc::MediaLine& line, std::string id);

  Participant& publisher() const { return *publisher_; }
  const std::string& mid() const { return mid_; }
  const std::string& id() const { return id_; }
  sdp::MediaKind kind() const { return kind_; }
  bool is_video() const { return kind_ == sdp::MediaKind::Video; }
  uint32_t clock_rate() const { return clock_rate_; }
  /// The publisher's primary codecs (its payload types).
  const std::vector<sdp::Codec>& codecs() const { return codecs_; }
  const sdp::Codec* codec(uint8_t pt) const;
  /// The primary payload type an RTX payload type repairs, if `pt` is RTX here.
  std::optional<uint8_t> apt_of(uint8_t rtx_pt) const;
  bool has_rtx() const { return !rtx_apt_.empty(); }
  /// The publisher's m-section negotiated generic NACK (RFC 4585 §4.2): only then
  /// are its losses NACKed.
  bool nack_enabled() const { return nack_enabled_; }
  /// The publisher sends simulcast layers (rids) on this m-section.
  bool simulcast() const { return simulcast_; }
  /// The publisher restarted its stream with a new SSRC: statistics and loss
  /// detection start over; subscriptions re-base their offsets themselves.
  void rebind_source(uint32_t ssrc);
  /// The SSRC the track used before the last rebind: its late packets are dropped.
  uint32_t retired_ssrc() const { return retired_ssrc_; }
  /// The publisher's header extensions on this m-section (its ids).
  const std::vector<sdp::Extmap>& extmaps() const { return extmaps_; }

  uint32_t ssrc() const { return ssrc_; }
  uint32_t rtx_ssrc() const { return rtx_ssrc_; }
  void bind_ssrc(uint32_t ssrc, uint32_t clock_rate);
  void bind_rtx_ssrc(uint32_t ssrc) { rtx_ssrc_ = ssrc; }

  /// Updates statistics, loss detection and the cache with a packet from the
  /// publisher; returns the codec family for keyframe checks.
  void on_packet(util::Timestamp now, const rtp::PacketView& packet, util::ByteView raw);
  void on_sender_report(util::Timestamp now, rtp::NtpTime ntp, uint32_t rtp_timestamp);
  const std::optional<SenderClock>& sender_clock() const { return sender_clock_; }

  /// True when a keyframe request should go to the publisher now (see
  /// kKeyframeRequestSpacing); counts it as sent. `first`: for a subscriber
  /// still waiting for its first keyframe.
  bool want_keyframe(util::Timestamp now, bool first);
  /// The first packet of a keyframe arrived: an outstanding request is
  /// answered, and newcomers may start from it (replayable_keyframe()).
  void on_keyframe(util::Timestamp now, const rtp::PacketView& packet);
  /// Where the newest keyframe starts, in the publisher's numbering.
  struct KeyframeMark {
    uint32_t ssrc = 0;
    uint16_t seq = 0;
    uint32_t timestamp = 0;  ///< RTP: every packet of the keyframe carries it
    util::Timestamp arrival{};
  };
  /// The newest keyframe of the current source if it arrived less than
  /// kKeyframeReplayWindow ago.
  std::optional<KeyframeMark> replayable_keyframe(util::Timestamp now) const;
  /// The cache holds every packet of the source from `mark` through `newest`
  /// (at most kMaxReplayPackets). Checked once per state of the cache, however
  /// many newcomers ask: a join storm facing a hole costs one scan.
  bool cache_holds(util::Timestamp now, const KeyframeMark& mark, uint16_t newest);
  rtp::VideoCodec video_codec(uint8_t pt) const;

  rtp::RetransmissionCache& cache() { return cache_; }
  rtp::NackGenerator& nack() { return nack_; }
  std::optional<rtp::ReceiveStats>& stats() { return stats_; }

  std::vector<Subscription*>& subscriptions() { return subscriptions_; }
  uint64_t packets() const { return packets_; }
  uint64_t keyframe_requests() const { return keyframe_requests_; }

 private:
  Participant* publisher_;
  std::string mid_;
  std::string id_;
  sdp::MediaKind kind_;
  uint32_t clock_rate_ = 90000;
  std::vector<sdp::Codec> codecs_;
  /// Payload type → codec, resolved once from the SDP names (read per packet).
  std::array<rtp::VideoCodec, 128> video_codec_by_pt_;
  std::vector<std::pair<uint8_t, uint8_t>> rtx_apt_;  // rtx pt → primary pt
  std::vector<sdp::Extmap> extmaps_;
  bool nack_enabled_ = false;
  bool simulcast_ = false;
  uint32_t retired_ssrc_ = 0;
  uint32_t ssrc_ = 0;
  uint32_t rtx_ssrc_ = 0;
  std::optional<rtp::ReceiveStats> stats_;
  rtp::NackGenerator nack_;
  rtp::RetransmissionCache cache_;
  std::optional<SenderClock> sender_clock_;
  util::Timestamp last_keyframe_request_{};
  bool keyframe_pending_ = false;  ///< a request went out and no keyframe came since
  std::optional<KeyframeMark> last_keyframe_;
  /// cache_holds()'s last answer, until the next packet enters the cache.
  struct CacheCheck {
    uint16_t from = 0, through = 0;
    bool holds = false;
  };
  std::optional<CacheCheck> cache_check_;
  std::vector<Subscription*> subscriptions_;
  uint64_t packets_ = 0;
  uint64_t keyframe_requests_ = 0;
};

}  // namespace sb::sfu
