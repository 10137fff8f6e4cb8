#pragma once
// One published track forwarded to one subscriber: the subscriber's m-section,
// our SSRCs for it, and the rewriting that makes the stream look like one
// continuous source to the subscriber (RFC 3550 §5.1 fields, RFC 8285
// extension ids, payload types as the subscriber negotiated them).
//
// Per-subscriber state is a few hundred bytes: packet history lives in the
// track's shared RetransmissionCache, indexed by the publisher's numbering.
#include <array>
#include <cstdint>
#include <string>

#include "rtc/Negotiator.hpp"
#include "rtc/Transport.hpp"
#include "rtp/PacketView.hpp"
#include "util/DatagramSink.hpp"
#include "util/Time.hpp"

namespace sb::sfu {

class Participant;
class Track;

class Subscription {
 public:
  static constexpr uint8_t kNoPayloadType = 0xFF;

  Subscription(Track& track, Participant& subscriber, std::string mid, uint32_t ssrc, uint32_t rtx_ssrc);

  Track& track() const { return *track_; }
  Participant& subscriber() const { return *subscriber_; }
  const std::string& mid() const { return mid_; }
  void set_mid(std::string mid) { mid_ = std::move(mid); }
  uint32_t ssrc() const { return ssrc_; }
  uint32_t rtx_ssrc() const { return rtx_ssrc_; }
  bool active() const { return active_; }

  /// Takes the mapping from the subscriber's negotiated m-section. Returns false
  /// (and stays inactive) if no codec of the publisher is usable there.
  bool configure(const rtc::MediaLine& line);
  void deactivate() { active_ = false; }
  /// Video starts at a keyframe: until one passes, delta frames are held back.
  bool waiting_for_keyframe() const { return need_keyframe_; }
  void request_keyframe() { need_keyframe_ = true; }

  /// Rewrites `packet` for the subscriber into a slot of `out` and sends it
  /// through the subscriber's transport. False if it was not sent (inactive,
  /// codec not negotiated, waiting for a keyframe, transport not ready).
  bool forward(util::Timestamp now, const rtp::PacketView& packet, bool keyframe, util::DatagramSink& out);
  /// Starts video that has not started yet from the track's newest keyframe,
  /// if it is recent (Track::replayable_keyframe) and the cache holds every
  /// packet from it to the newest: sends them all now and returns how many.
  /// 0 if it could not (the subscriber then needs a keyframe requested). The
  /// replayed packets are not forwarded a second time when they come by in a
  /// fan-out (the ones of the batch being read are in the cache already).
  size_t replay_keyframe(util::Timestamp now, util::DatagramSink& out);
  /// Answers a NACK for `seq` (the subscriber's numbering) from the track's
  /// cache, as RTX when negotiated (RFC 4588 §4). False if it is gone.
  bool retransmit(util::Timestamp now, uint16_t seq, util::DatagramSink& out);

  /// Sender report for this stream, with the publisher's NTP↔RTP mapping
  /// carried over (lip sync), into `out`; 0 if none can be made yet.
  size_t write_sender_report(util::Timestamp now, util::MutableBytes out) const;

  uint64_t packets_sent() const { return packets_sent_; }

  /// Prefetching for the fan-out loop, which calls these for subscriptions
  /// 1 to 4 places ahead of the one it forwards: each stage loads what the
  /// next one dereferences, so that forward() finds its state in cache instead
  /// of waiting on a chain of misses. They change nothing.
  void prefetch_self(uint8_t payload_type) const {
    const char* p = reinterpret_cast<const char*>(this);
    __builtin_prefetch(p);
    __builtin_prefetch(p + 64);
    __builtin_prefetch(&pt_map_[payload_type & 0x7f]);
    __builtin_prefetch(ext_map_.data());
  }
  void prefetch_transport() const {
    transport_->prefetch_send();
    __builtin_prefetch(subscriber_);  // stats and transport-wide sequence
  }
  void prefetch_protect() const { transport_->prefetch_protect(ssrc_); }
  void prefetch_cipher() const { transport_->prefetch_cipher(); }
  uint64_t retransmissions() const { return retransmissions_; }

 private:
  /// Writes this subscriber's copy of `packet` (rewritten header, the payload
  /// encrypted behind it) into a slot of `out` and commits it; false (counted
  /// by the transport) if it could not be sent.
  bool send_rewritten(util::Timestamp now, const rtp::PacketView& packet, util::DatagramSink& out, bool as_rtx,
                      uint16_t seq_out);
  /// Fixes the offsets so that `packet` (from a new source, or the first one)
  /// continues our sequence and timestamp line.
  void start_source(util::Timestamp now, const rtp::PacketView& packet);

  // Hot members first: forward() reads the first two cache lines, the entry
  // of pt_map_ for the packet's payload type and the start of ext_map_.
  Participant* subscriber_;
  rtc::Transport* transport_;  ///< the subscriber's, cached: one pointer less to chase
  Track* track_;
  uint32_t ssrc_;
  uint32_t rtx_ssrc_;
  bool active_ = false;
  bool need_keyframe_ = true;
  bool started_ = false;
  bool replay_guard_ = false;  ///< replayed_through_ is set: drop what was replayed
  uint8_t twcc_id_ = 0;
  uint8_t abs_send_time_id_ = 0;
  uint8_t mid_id_ = 0;
  // Rewriting state: the mapping from the publisher's numbering to ours.
  uint16_t seq_offset_ = 0;
  uint16_t next_seq_;
  uint16_t rtx_seq_;
  uint32_t source_ssrc_ = 0;  ///< the publisher SSRC the offsets belong to
  uint16_t replayed_through_ = 0;  ///< the last publisher sequence number replay_keyframe() sent
  uint32_t ts_offset_ = 0;
  uint32_t last_timestamp_ = 0;
  util::Timestamp last_sent_{};
  uint64_t packets_sent_ = 0;
  uint64_t octets_sent_ = 0;
  uint64_t retransmissions_ = 0;
  std::string mid_;
  std::array<uint8_t, 128> pt_map_;
  std::array<uint8_t, 128> rtx_pt_map_;
  std::array<uint8_t, 256> ext_map_{};  ///< publisher extension id → subscriber id (0: drop)
};

}  // namespace sb::sfu
