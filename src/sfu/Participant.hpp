#pragma once
// One participant on a media worker: its transport (ICE, DTLS, SRTP), its
// offer/answer state, the tracks it publishes and its subscriptions to other
// participants' tracks. Owned by its Room. Ownership: a participant owns its
// published Tracks and its Subscriptions; a Track lists (does not own) the
// Subscriptions that read it.
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "rtc/Negotiator.hpp"
#include "rtc/Transport.hpp"
#include "rtp/TwccRecorder.hpp"
#include "sfu/Signal.hpp"
#include "sfu/Subscription.hpp"
#include "sfu/Track.hpp"

namespace sb::sfu {

struct ParticipantStats {
  uint64_t rtp_packets = 0;    ///< decrypted RTP received from the participant
  uint64_t rtcp_packets = 0;   ///< decrypted RTCP received
  uint64_t unknown_ssrc = 0;   ///< RTP that maps to no published m-section
  uint64_t rtx_received = 0;   ///< retransmissions from the publisher that repaired a loss (RFC 4588)
  uint64_t rtx_duplicates = 0; ///< RTX of packets we already had (bandwidth probes), dropped
  uint64_t padding_dropped = 0;
  uint64_t forwarded = 0;      ///< RTP sent to this participant
  uint64_t nacks_received = 0; ///< sequence numbers this participant asked for again
  uint64_t retransmitted = 0;
  uint64_t nacks_ignored = 0;  ///< beyond the per-datagram budget (kMaxNackedPerDatagram)
  uint64_t plis_received = 0;
  uint64_t rembs_received = 0;
  uint64_t downlink_estimate_bps = 0;  ///< the participant's last REMB: what it can receive (0: none yet)
  uint64_t keyframe_requests_sent = 0;
  uint64_t keyframe_replays = 0;  ///< video to this participant started from a cached keyframe (no request)
  uint64_t nacks_sent = 0;
  uint64_t twcc_feedback_sent = 0;
  uint64_t offers_sent = 0;
};

/// Bounds on per-participant state that the peer's traffic could grow.
inline constexpr size_t kMaxSsrcsPerParticipant = 64;
inline constexpr size_t kMaxTracksPerParticipant = 32;

class Participant {
 public:
  Participant(ConnId conn, std::string self_id, std::unique_ptr<rtc::Transport> transport,
              std::unique_ptr<rtc::Negotiator> negotiator, uint32_t rtcp_ssrc, std::string cname)
      : conn_(conn), self_id_(std::move(self_id)), transport_(std::move(transport)),
        negotiator_(std::move(negotiator)), rtcp_ssrc_(rtcp_ssrc), cname_(std::move(cname)) {}

  ConnId conn() const { return conn_; }
  const std::string& self_id() const { return self_id_; }
  rtc::Transport& transport() { return *transport_; }
  const rtc::Transport& transport() const { return *transport_; }
  rtc::Negotiator& negotiator() { return *negotiator_; }
  const rtc::Negotiator& negotiator() const { return *negotiator_; }
  ParticipantStats& stats() { return stats_; }
  const ParticipantStats& stats() const { return stats_; }
  uint32_t rtcp_ssrc() const { return rtcp_ssrc_; }
  const std::string& cname() const { return cname_; }

  /// Transport-wide sequence number for the next packet we send to this
  /// participant (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2).
  uint16_t next_transport_sequence() { return transport_seq_++; }

  // Published tracks.
  std::vector<std::unique_ptr<Track>> tracks;
  /// Publisher SSRC → track; `rtx` marks an RTX SSRC.
  struct SsrcRoute {
    Track* track = nullptr;
    bool rtx = false;
  };
  std::unordered_map<uint32_t, SsrcRoute> ssrc_routes;
  Track* find_track(std::string_view mid) {
    for (auto& t : tracks)
      if (t->mid() == mid) return t.get();
    return nullptr;
  }

  // What this participant receives.
  std::vector<std::unique_ptr<Subscription>> subscriptions;
  Subscription* find_subscription(uint32_t our_ssrc) {
    for (auto& s : subscriptions)
      if (s->ssrc() == our_ssrc || (s->rtx_ssrc() != 0 && s->rtx_ssrc() == our_ssrc)) return s.get();
    return nullptr;
  }

  // Header extension ids the publisher uses (BUNDLE: one meaning per id).
  uint8_t mid_ext_id = 0;
  uint8_t twcc_ext_id = 0;
  /// Transport-wide feedback to send back; made when the participant first
  /// sends a packet with the extension (only publishers need its 32 KB).
  std::unique_ptr<rtp::TwccRecorder> twcc;

  util::Timestamp next_report{};
  /// Where in each report interval this participant's reports fall (a
  /// multiple of the timer granularity), so that a worker's participants do
  /// not all report in the same timer round.
  util::Duration report_phase{};
  /// Cached timer bounds of this participant (WorkerCore::touch keeps them):
  /// `due` is when its earliest timer may run, `deadline` when one must run.
  /// Work between the two rides on a wakeup that happens anyway.
  util::Timestamp due = util::kNever;
  util::Timestamp deadline = util::kNever;
  /// Its entry in the worker's timer table (WorkerCore::timers_).
  size_t timer_slot = 0;
  /// Queued in WorkerCore's list of participants with control output to flush.
  bool flush_pending = false;
  /// True once the transport died or the participant left; removed after the round.
  bool closing = false;
  /// The first offer from the participant was answered (it has a transport).
  bool negotiated = false;

 private:
  ConnId conn_;
  std::string self_id_;
  std::unique_ptr<rtc::Transport> transport_;
  std::unique_ptr<rtc::Negotiator> negotiator_;
  uint32_t rtcp_ssrc_;
  std::string cname_;
  uint16_t transport_seq_ = 1;
  ParticipantStats stats_;
};

}  // namespace sb::sfu
