#pragma once
// Everything one media worker hosts, sans-IO: rooms, participants, and the
// routing of datagrams to them. Driven by the I/O shell on the worker thread:
// datagrams and timeouts in, datagrams (into a DatagramSink) and signaling
// messages out. Signaling commands arrive as method calls posted to the thread.
//
// Routing (DESIGN.md "Data flow"): STUN is routed by the local ufrag in its
// USERNAME; everything else by the source address that passed ICE. Packets
// from any other address are dropped and counted.
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "dtls/Certificate.hpp"
#include "rtp/PacketView.hpp"
#include "sfu/Participant.hpp"
#include "sfu/Signal.hpp"
#include "util/AddrMap.hpp"
#include "util/DatagramSink.hpp"
#include "util/Random.hpp"
#include "util/SocketAddr.hpp"
#include "util/Time.hpp"

namespace sb::sfu {

struct WorkerConfig {
  /// Addresses (port ignored) announced as host candidates, in preference order.
  std::vector<util::SocketAddr> announce;
  /// The worker's UDP port: every candidate uses it.
  uint16_t udp_port = 0;
  std::shared_ptr<const dtls::Certificate> certificate;
};

struct WorkerStats {
  uint64_t datagrams = 0;
  uint64_t dropped_unknown_source = 0;  ///< not STUN and not from a validated address
  uint64_t dropped_unknown_ufrag = 0;   ///< STUN for no participant of ours
  uint64_t dropped_malformed_stun = 0;
  uint64_t dropped_malformed_rtp = 0;
  uint64_t dropped_malformed_rtcp = 0;
};

/// Snapshot of one participant for /stats.
struct ParticipantSnapshot {
  std::string room_id;
  std::string self_id;
  std::string transport_state;
  std::string srtp_profile;
  std::string remote;
  rtc::Transport::Stats transport;
  ParticipantStats media;
  size_t published_tracks = 0;
  size_t subscriptions = 0;
  size_t active_subscriptions = 0;
  uint64_t srtp_auth_failures = 0;
  uint64_t srtp_replays = 0;
};

class WorkerCore {
 public:
  WorkerCore(WorkerConfig config, std::unique_ptr<util::Random> rng);
  ~WorkerCore();

  // ---- signaling commands (on the worker thread)
  void join(util::Timestamp now, ConnId conn, const std::string& room_id, const std::string& self_id);
  void offer(util::Timestamp now, ConnId conn, const std::string& sdp);
  void answer(util::Timestamp now, ConnId conn, const std::string& sdp);
  void candidate(util::Timestamp now, ConnId conn, const std::string& candidate);
  void leave(util::Timestamp now, ConnId conn);

  // ---- packet path
  /// `data` must stay valid and unchanged until the next flush() or
  /// handle_timeout(): media is decrypted in place and forwarded from there
  /// when the batch ends (see flush()).
  void handle_datagram(util::Timestamp now, const util::SocketAddr& from, util::MutableBytes data,
                       util::DatagramSink& out);
  void handle_timeout(util::Timestamp now, util::DatagramSink& out);
  /// When the worker must wake for timers (util::kNever: no timer).
  util::Timestamp poll_timeout() const;
  /// From when handle_timeout() has work: a worker that is awake anyway (for
  /// a packet) calls it then, so that flexible timers (feedback, reports)
  /// cost no wakeup of their own. Flexible timers count from the timer grid's
  /// next step, so that a busy worker serves those due within one step in one
  /// round (at most 200 rounds a second, each a pass over the timer table)
  /// instead of one round per participant; timers without slack (NACKs,
  /// transport) count at once.
  util::Timestamp poll_due() const;
  /// Ends a batch of datagrams: forwards the media it brought to every
  /// subscriber, then sends pending control datagrams of every participant.
  void flush(util::Timestamp now, util::DatagramSink& out);

  // ---- outputs to signaling
  std::optional<SignalOut> poll_signal();

  // ---- observation
  const WorkerStats& stats() const { return stats_; }
  size_t participant_count() const { return by_conn_.size(); }
  size_t room_count() const { return rooms_.size(); }
  std::vector<ParticipantSnapshot> snapshot() const;

 private:
  struct Room {
    std::string id;
    std::map<ConnId, std::unique_ptr<Participant>> participants;
  };
  struct Entry {
    Room* room = nullptr;
    Participant* participant = nullptr;
  };

  Participant* find(ConnId conn);
  void remove(ConnId conn);
  Room* room_of(ConnId conn);
  void drain_events(util::Timestamp now, Participant& p, util::DatagramSink& out);

  // Publishing and subscribing.
  void sync_published_tracks(Participant& p);
  void subscribe(Participant& subscriber, Track& track);
  void unpublish(Participant& publisher, Track& track);
  void refresh_subscriptions(Participant& subscriber);
  void maybe_offer(Participant& p);
  void maybe_offer_all(Room& room);

  // Media from participants.
  void on_rtp(util::Timestamp now, Participant& p, util::MutableBytes packet, util::DatagramSink& out);
  /// `in_batch`: `raw` lies in the caller's receive buffer, so the fan-out may
  /// wait for the end of the batch; otherwise (a packet restored from RTX on
  /// the stack) it is forwarded at once.
  void on_publisher_packet(util::Timestamp now, Track& track, const rtp::PacketView& packet, util::ByteView raw,
                           bool in_batch, util::DatagramSink& out);
  /// Forwards the batch's media, subscriber by subscriber (see the .cpp).
  void forward_pending(util::Timestamp now, util::DatagramSink& out);
  struct PendingPacket;
  void fan_out(util::Timestamp now, Track& track, const PendingPacket* const* packets, size_t count,
               util::DatagramSink& out);
  void on_rtcp(util::Timestamp now, Participant& p, util::ByteView packet, util::DatagramSink& out);
  Participant::SsrcRoute* resolve_ssrc(Participant& p, const rtp::PacketView& packet);
  /// A publisher's transport-wide feedback recorder, its grid at a random phase.
  std::unique_ptr<rtp::TwccRecorder> make_twcc_recorder();
  /// Asks the publisher of `track` for a keyframe unless Track::want_keyframe
  /// holds it back; `first`: for a subscriber waiting for its first one.
  void request_keyframe(util::Timestamp now, Track& track, bool first, util::DatagramSink& out);
  /// For each of `p`'s subscriptions waiting for a keyframe (its transport is
  /// up): start_from_cache, or else request_keyframe.
  void start_video(util::Timestamp now, Participant& p, util::DatagramSink& out);
  /// Starts a subscriber waiting for its first keyframe from a recent one in
  /// the track's cache (Subscription::replay_keyframe); false if it could not.
  bool start_from_cache(util::Timestamp now, Subscription& s, util::DatagramSink& out);

  // Timers.
  void on_participant_timeout(util::Timestamp now, Participant& p, util::DatagramSink& out);
  void send_reports(util::Timestamp now, Participant& p, util::DatagramSink& out);
  /// Sets p.due and p.deadline from its timers.
  void update_deadlines(Participant& p);
  /// After anything happened to `p`: refreshes its cached deadline and queues
  /// its control output. Keeps per-batch work independent of the number of
  /// participants on the worker.
  void touch(Participant& p);
  void learn_address(Participant& p, const util::SocketAddr& from);
  void emit(ConnId conn, decltype(SignalOut::message) m);
  void emit_error(ConnId conn, std::string code, std::string message, std::string event);

  WorkerConfig config_;
  std::unique_ptr<util::Random> rng_;
  std::unordered_map<std::string, std::unique_ptr<Room>> rooms_;
  std::unordered_map<ConnId, Entry> by_conn_;
  /// Every participant's timer deadlines, densely packed: a timer round scans
  /// this (24 bytes a participant, in cache) instead of every Participant.
  struct TimerSlot {
    util::Timestamp due, deadline;
    Participant* participant;
  };
  std::vector<TimerSlot> timers_;
  std::unordered_map<std::string, Participant*> by_ufrag_;
  util::AddrMap<Participant> by_addr_;  ///< validated source addresses
  std::vector<std::string> candidates_;
  util::SocketAddr default_address_;
  std::deque<SignalOut> signals_;
  std::vector<ConnId> dead_;  // participants whose transport failed, removed after the round
  std::vector<ConnId> starting_;  // subscriptions activated by signaling: video to start at the next flush
  std::vector<Participant*> pending_flush_;
  /// Media of the current receive batch, forwarded by flush().
  struct PendingPacket {
    Track* track;  ///< nullptr once the track is gone
    rtp::PacketView packet;
    bool keyframe;
    int64_t origin_ns;
  };
  std::vector<PendingPacket> pending_media_;
  util::Timestamp next_deadline_ = util::kNever;
  util::Timestamp next_due_ = util::kNever;
  WorkerStats stats_;
};

}  // namespace sb::sfu
