#pragma once
// One virtual participant: its own local transport address (the server tells
// participants apart by their 5-tuple; the media thread owns the sockets), a
// client rtc::Transport (controlling ICE, DTLS active, SRTP), and media in both
// directions:
//  - as a publisher it sends VP8 frames (and optionally Opus-sized audio) at the
//    configured bitrate and frame rate, keyframes at start, periodically and on
//    PLI/FIR, answers NACKs with RTX (RFC 4588) from a bounded history, and
//    sends sender reports;
//  - as a receiver (everyone receives what the server forwards) it counts
//    packets and loss per SSRC, reads the send time in each payload for the
//    one-way delay, and sends receiver reports, NACKs and transport-wide
//    congestion control feedback.
// Driven by the media thread only: inputs (now, datagrams / signaling), outputs
// into a DatagramSink, deadline() for the next timer. Nothing allocates on the
// packet path once the streams are known.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "dtls/Certificate.hpp"
#include "load/ClientSdp.hpp"
#include "load/MediaStats.hpp"
#include "rtc/Transport.hpp"
#include "rtp/NackGenerator.hpp"
#include "rtp/ReceiveStats.hpp"
#include "rtp/TwccRecorder.hpp"
#include "util/DatagramSink.hpp"
#include "util/Random.hpp"
#include "util/Result.hpp"
#include "util/Time.hpp"

namespace sb::load {

struct PeerConfig {
  size_t index = 0;
  std::string room_id;
  std::string self_id;
  bool publisher = false;
  bool audio = false;
  uint32_t video_bitrate = 1'000'000;
  int fps = 30;
  util::Duration keyframe_interval = util::Duration::zero();  ///< zero: none
  dtls::SessionConfig dtls;
  /// Only server candidates on loopback are checked (the sockets are bound to it).
  bool loopback_only = false;
  bool twcc_feedback = true;  ///< receivers send transport-wide CC feedback
  util::Duration receiver_report_interval = std::chrono::seconds(1);
  /// Our socket's address goes into our descriptions as a host candidate (for a
  /// server that does not learn it from connectivity checks; needs a bound IP).
  bool advertise_host_candidate = false;
};

class VirtualPeer {
 public:
  /// Largest RTP packet we build (header, extensions and payload; SRTP adds its tag).
  static constexpr size_t kMaxRtpPacket = 1200;
  /// Packets kept for retransmission (a power of two: indexed by sequence number).
  static constexpr size_t kRtxHistory = 1024;
  /// Keyframes are this many times an average frame (as with real encoders).
  static constexpr size_t kKeyframeSizeFactor = 4;
  static constexpr size_t kAudioPayloadSize = 100;  ///< ~40 kbit/s Opus
  static constexpr util::Duration kAudioPacketTime = std::chrono::milliseconds(20);
  static constexpr util::Duration kReportInterval = std::chrono::seconds(1);
  /// SSRCs a participant receives at once; more are ignored (and counted).
  static constexpr size_t kMaxReceiveStreams = 1024;
  /// Server candidates kept until the transport exists (the server sends a handful).
  static constexpr size_t kMaxPendingCandidates = 64;

  /// `local`: the address datagrams of this participant come from and go to.
  VirtualPeer(PeerConfig config, const util::SocketAddr& local, std::shared_ptr<const dtls::Certificate> certificate,
              util::Random& rng, MediaStats& stats);
  ~VirtualPeer();
  VirtualPeer(const VirtualPeer&) = delete;
  VirtualPeer& operator=(const VirtualPeer&) = delete;

  // ---- signaling (control plane; errors are values)
  std::string create_offer();
  void on_joined(util::Timestamp join_sent) { join_sent_ = join_sent; }
  /// The server's answer: creates the transport and starts ICE.
  util::Result<void> on_answer(util::Timestamp now, const std::string& sdp);
  /// A server offer: returns our answer. When the server offered first (Janus
  /// subscribers), this creates the transport and starts ICE.
  util::Result<std::string> on_offer(util::Timestamp now, const std::string& sdp);
  void on_candidate(const std::string& candidate);
  /// Gives up on this participant (signaling failed, timeout…).
  void fail(std::string reason);

  // ---- packet path
  /// One datagram to our address. Media (the bulk) only ever brings deadline()
  /// forward; anything else (STUN, DTLS, RTCP) also drains the transport's
  /// events and control output into `out`.
  void on_datagram(util::Timestamp now, const util::SocketAddr& from, util::MutableBytes data,
                   util::DatagramSink& out);
  void on_timeout(util::Timestamp now, util::DatagramSink& out);
  /// When on_timeout() is due next. It may be early (on_timeout then finds
  /// nothing to do and recomputes it), never late.
  util::Timestamp deadline() const { return deadline_; }
  /// Publishers stop sending media (the end of a run); reports continue.
  void stop_media() { media_stopped_ = true; }
  void close(util::Timestamp now, util::DatagramSink& out);

  // ---- observation
  const PeerConfig& config() const { return config_; }
  const util::SocketAddr& local_address() const { return local_; }
  bool connected() const { return connected_at_.has_value(); }
  bool failed() const { return !failure_.empty(); }
  const std::string& failure() const { return failure_; }
  bool receiving() const { return first_media_.has_value(); }
  /// joinRoom sent → first media packet received.
  std::optional<util::Duration> join_time() const;
  /// joinRoom sent → first packet of a video keyframe received: where a decoder
  /// can start, so the join as a viewer sees it. A server that forwards from
  /// any packet reaches the first one sooner, but nothing before this shows.
  std::optional<util::Duration> keyframe_time() const;
  std::optional<util::Duration> connect_time() const;
  util::Timestamp created() const { return created_; }
  const char* srtp_profile() const;
  int64_t packets_expected() const;
  int64_t packets_received() const;
  const rtc::Transport* transport() const { return transport_.get(); }

 private:
  struct ReceiveStream {
    ReceiveStream(uint32_t s, bool v, uint32_t clock) : ssrc(s), video(v), stats(rtp::Ssrc{s}, clock) {}
    uint32_t ssrc;
    bool video;
    rtp::ReceiveStats stats;
    rtp::NackGenerator nack;
  };
  struct SentPacket {
    uint16_t seq = 0;
    uint16_t size = 0;  ///< payload bytes; 0: empty slot
    uint32_t timestamp = 0;
    bool marker = false;
    std::array<uint8_t, kMaxRtpPacket> payload;
  };

  void drain_events(util::Timestamp now);
  /// Answers a connectivity check of the server (sent straight to `out`).
  void answer_check(const util::SocketAddr& from, util::ByteView data, util::DatagramSink& out);
  void update_deadline();
  void learn_remote(const RemoteInfo& info);
  void create_transport(util::Timestamp now, dtls::Role local_role);

  // Sending.
  void start_media(util::Timestamp now);
  size_t write_header(util::MutableBytes slot, bool marker, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
                      util::Timestamp now);
  void send_video_frame(util::Timestamp now, util::DatagramSink& out);
  void send_audio_packet(util::Timestamp now, util::DatagramSink& out);
  void retransmit(util::Timestamp now, uint16_t seq, util::DatagramSink& out);
  void send_sender_reports(util::Timestamp now, util::DatagramSink& out);

  // Receiving.
  void on_rtp(util::Timestamp now, util::ByteView packet);
  void on_rtcp(util::Timestamp now, util::ByteView packet, util::DatagramSink& out);
  ReceiveStream* stream_for(uint32_t ssrc, bool video);
  void send_receiver_feedback(util::Timestamp now, util::DatagramSink& out);
  bool send_rtcp(util::DatagramSink& out, util::ByteView rtcp);

  PeerConfig config_;
  util::SocketAddr local_;
  std::shared_ptr<const dtls::Certificate> certificate_;
  util::Random& rng_;
  MediaStats& stats_;
  ice::Credentials local_credentials_;
  ClientSdp sdp_;
  std::unique_ptr<rtc::Transport> transport_;
  RemoteInfo remote_;        ///< from the server's answer (what we send)
  RemoteInfo remote_recv_;   ///< from the server's latest offer (what we receive)
  std::vector<std::pair<util::SocketAddr, uint32_t>> pending_candidates_;
  util::Timestamp created_;
  std::optional<util::Timestamp> join_sent_;
  std::optional<util::Timestamp> connected_at_;
  std::optional<util::Timestamp> first_media_;
  std::optional<util::Timestamp> first_keyframe_;
  util::Timestamp deadline_ = util::kNever;
  std::string failure_;
  uint32_t rtcp_ssrc_;
  std::string cname_;

  // Publisher state.
  bool media_started_ = false;
  bool media_stopped_ = false;
  util::Timestamp media_start_{};
  util::Timestamp next_frame_ = util::kNever;
  util::Timestamp next_audio_ = util::kNever;
  util::Timestamp next_keyframe_ = util::kNever;
  util::Timestamp next_sender_report_ = util::kNever;
  bool keyframe_requested_ = true;
  uint64_t frames_ = 0;
  uint64_t audio_packets_ = 0;
  uint16_t video_seq_, audio_seq_, rtx_seq_;
  uint16_t transport_seq_ = 1;
  uint16_t picture_id_;
  uint32_t video_ts_base_, audio_ts_base_;
  uint32_t video_packets_sent_ = 0, video_octets_sent_ = 0, audio_packets_sent_ = 0, audio_octets_sent_ = 0;
  std::vector<SentPacket> history_;  ///< kRtxHistory entries once publishing

  // Receiver state.
  std::unordered_map<uint32_t, std::unique_ptr<ReceiveStream>> streams_;  ///< at most kMaxReceiveStreams
  /// The stream of the last media packet: a subscriber of one publisher finds
  /// every packet's stream here, without hashing.
  ReceiveStream* last_stream_ = nullptr;
  rtp::TwccRecorder twcc_;
  util::Timestamp next_receiver_report_ = util::kNever;
};

}  // namespace sb::load
