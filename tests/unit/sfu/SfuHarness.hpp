#pragma once
// A WorkerCore on a SimNetwork, with simulated clients that behave like a
// browser: they offer audio (opus 111) and video (VP8 96 + rtx 97) with
// Chromium's extmap ids, answer the server's offers, connect through ICE-lite
// and DTLS-SRTP in virtual time, publish RTP (recognisable VP8 keyframes,
// transport-wide sequence numbers, RTX answers to NACKs, a sender report per
// stream every second) and record everything they receive, decrypted.
//
// Signaling is instantaneous: whatever the core emits is handed to the client
// right after the call that produced it, and a client with auto_answer answers
// server offers on the spot.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dtls/Certificate.hpp"
#include "ice/Candidate.hpp"
#include "rtc/Capabilities.hpp"
#include "rtc/TransportCall.hpp"
#include "rtc/Transport.hpp"
#include "rtp/ExtensionValues.hpp"
#include "rtp/ExtensionWriter.hpp"
#include "rtp/NtpTime.hpp"
#include "rtp/PacketView.hpp"
#include "rtp/PacketWriter.hpp"
#include "rtp/rtcp/Compound.hpp"
#include "rtp/rtcp/Nack.hpp"
#include "rtp/rtcp/Pli.hpp"
#include "rtp/rtcp/ReceiverReport.hpp"
#include "rtp/rtcp/SenderReport.hpp"
#include "rtp/rtcp/TransportFeedback.hpp"
#include "sdp/SessionDescription.hpp"
#include "sfu/WorkerCore.hpp"
#include "sfu/AllocationCounter.hpp"
#include "sim/SimNetwork.hpp"
#include "util/Random.hpp"

namespace sb::sfu::test {

using namespace std::chrono_literals;

inline const util::SocketAddr kCoreAddr = util::SocketAddr::v4({10, 0, 0, 1}, 3478);

/// One certificate per role per binary (0: the core, 1: the clients), cached
/// as in the transport tests.
inline std::shared_ptr<const dtls::Certificate> certificate(int which) { return rtc::test::test_certificate(which); }

/// How a client writes its offers (Chromium's defaults).
struct ClientSpec {
  std::string name;
  bool publish = true;  ///< sendrecv audio+video with SSRCs; false: recvonly, like a viewer
  uint8_t audio_pt = 111;
  uint8_t video_pt = 96;
  uint8_t rtx_pt = 97;
  uint8_t ext_audio_level = 1;
  uint8_t ext_abs_send_time = 2;
  uint8_t ext_twcc = 3;
  uint8_t ext_mid = 4;
  /// SRTP profiles the client offers in DTLS (empty: the default, GCM first).
  std::vector<srtp::Profile> srtp_profiles = {};
};

/// An RTP packet a client sent, before encryption.
struct SentRtp {
  util::Timestamp at;
  uint32_t ssrc = 0;
  uint16_t seq = 0;
  uint32_t timestamp = 0;
  uint8_t pt = 0;
  bool keyframe = false;  ///< first packet of a VP8 keyframe
  uint16_t transport_seq = 0;
  bool rtx = false;
  util::Bytes packet;
  util::ByteView payload() const { return rtp::PacketView::parse(packet)->payload(); }
};

/// A decrypted RTP or RTCP datagram a client received.
struct Received {
  util::Timestamp at;
  util::Bytes packet;
  rtp::PacketView rtp() const { return *rtp::PacketView::parse(packet); }
};

/// A sender report a client sent.
struct SentSr {
  util::Timestamp at;
  uint32_t ssrc = 0;
  rtp::NtpTime ntp;
  uint32_t rtp_timestamp = 0;
};

/// What the server's description says about one stream it sends to a client.
struct OfferedStream {
  std::string mid;
  uint32_t ssrc = 0;
  uint32_t rtx_ssrc = 0;
  std::string stream_id;
  std::string track_id;
  sdp::MediaSection section;
  /// Payload type of the named codec in this m-section.
  std::optional<uint8_t> pt(std::string_view name) const {
    for (const auto& c : section.codecs)
      if (c.is(name)) return uint8_t(c.pt);
    return std::nullopt;
  }
  /// The RTX payload type whose apt is `primary`.
  std::optional<uint8_t> rtx_pt(uint8_t primary) const {
    for (const auto& c : section.codecs)
      if (c.is_rtx() && c.apt() == primary) return uint8_t(c.pt);
    return std::nullopt;
  }
  std::optional<uint8_t> ext(std::string_view uri) const {
    auto id = section.extmap_id(uri);
    return id ? std::optional<uint8_t>(uint8_t(*id)) : std::nullopt;
  }
};

class Harness;

/// RTCP feedback a client received, per type, with arrival times.
template <typename T>
struct Timed {
  util::Timestamp at;
  T value;
};

class Client : public sim::SimNode {
 public:
  Client(Harness& h, ConnId conn, ClientSpec spec, util::SocketAddr addr, uint64_t seed);

  // ---- signaling
  /// The first offer (Chromium's shape), or a re-offer of the negotiated state.
  std::string make_offer();
  std::string make_answer(const sdp::SessionDescription& offer) const;
  /// Sends make_offer() to the core.
  void send_offer();
  /// Answers the oldest held server offer (when auto_answer is off).
  void answer_pending();
  void on_signal(const SignalOut& s);

  // ---- media
  /// Starts publishing: audio every 20 ms, a video frame every 40 ms, SRs every second.
  void start_media(util::Timestamp now, bool first_frame_keyframe = true);
  void stop_media() { media_on_ = false; }
  /// The encoder makes its next video frame a keyframe (a periodic one).
  void keyframe_next() { keyframe_next_ = true; }
  bool send_rtcp(util::ByteView rtcp);
  bool connected() const { return transport && transport->connected(); }

  // ---- what the server told us
  /// The stream the server sends us for `track_id` in its latest description.
  std::optional<OfferedStream> stream_for(std::string_view track_id) const;
  std::vector<Received> rtp_from(uint32_t ssrc) const;
  std::vector<Timed<rtp::rtcp::FeedbackHeader>> plis() const;
  std::vector<Timed<std::vector<uint16_t>>> nacks() const;  ///< NACKed seqs per packet
  std::vector<Timed<rtp::rtcp::SenderInfo>> sender_reports(uint32_t ssrc) const;
  std::vector<Timed<rtp::rtcp::ReportBlock>> report_blocks(uint32_t ssrc) const;
  std::vector<Timed<util::Bytes>> rtcp_of(rtp::rtcp::PacketType type, uint8_t fmt) const;

  // ---- sim::SimNode
  void handle_datagram(util::Timestamp now, const util::SocketAddr& from, util::MutableBytes data) override;
  void handle_timeout(util::Timestamp now) override;
  util::Timestamp poll_timeout() const override;
  void flush(util::Timestamp now, util::DatagramSink& out) override;

  Harness& h;
  ConnId conn;
  ClientSpec spec;
  util::SocketAddr addr;
  sim::SimNetwork::EndpointId endpoint = 0;
  std::unique_ptr<util::Random> rng;
  ice::Credentials creds;
  std::string cname;
  uint32_t audio_ssrc = 0, video_ssrc = 0, rtx_ssrc = 0, rtcp_ssrc = 0;
  std::unique_ptr<rtc::Transport> transport;

  // Behaviour.
  bool auto_answer = true;
  bool left = false;
  bool respond_to_nack = true;     ///< answer NACKs with RTX (RFC 4588)
  bool respond_to_pli = true;      ///< next video frame is a keyframe
  int video_packets_per_keyframe = 3;
  int video_packets_per_delta = 1;
  size_t video_payload_size = 300;  ///< bytes of VP8 payload per video packet (at most 1200)

  // Records.
  std::vector<std::string> answers;  ///< from the server
  std::vector<std::string> offers;   ///< from the server
  std::vector<std::string> held_offers;
  std::vector<ErrorOut> errors;
  std::vector<ClosedOut> closed;
  std::vector<std::string> signal_kinds;  ///< "answer", "offer", "candidate", "error", "closed" in order
  std::vector<SentRtp> sent;
  std::vector<SentSr> sent_srs;
  std::vector<Received> rtp;
  std::vector<Received> rtcp;

  /// The latest description from the server that took effect.
  std::optional<sdp::SessionDescription> negotiated;
  uint16_t next_video_seq = 1000, next_audio_seq = 5000, next_rtx_seq = 0, next_transport_seq = 1;

 private:
  void setup_transport(const sdp::SessionDescription& answer);
  void send_audio(util::Timestamp now);
  void send_video_frame(util::Timestamp now);
  void send_media(util::Timestamp now, uint32_t ssrc, uint8_t pt, uint16_t seq, uint32_t ts, bool marker,
                  util::ByteView payload, bool keyframe, bool rtx, std::string_view mid);
  void send_sender_reports(util::Timestamp now);
  void on_rtcp(util::Timestamp now, util::ByteView data);
  void send_rtx(util::Timestamp now, uint16_t seq);
  uint32_t rtp_time(util::Timestamp now, uint32_t clock) const;
  static rtp::NtpTime wall(util::Timestamp now);
  sdp::MediaSection own_section(const sdp::MediaSection& like, sdp::Direction dir, bool offering) const;

  uint64_t session_id_ = 0;
  uint64_t version_ = 1;
  bool media_on_ = false;
  bool keyframe_next_ = false;
  util::Timestamp media_start_{};
  util::Timestamp next_audio_ = util::kNever, next_video_ = util::kNever, next_sr_ = util::kNever;
  uint32_t audio_base_ = 0, video_base_ = 0;
  std::map<uint16_t, util::Bytes> video_history_;
};

class Harness {
 public:
  explicit Harness(uint64_t seed = 1, sim::LinkConfig link = {});

  Client& add_client(ClientSpec spec);
  /// join + offer, and the signaling that follows.
  void join(Client& c, const std::string& room = "room");
  /// The client leaves (signaling "leave"): no more media from it.
  void leave(Client& c);
  /// Runs until every joined client (that has not left) and its server
  /// transport are connected.
  bool connect_all(util::Duration limit = 5s);
  void pump_signals();
  void run_for(util::Duration d) { net.run_for(d); }
  util::Timestamp now() const { return net.now(); }
  const ParticipantSnapshot* snapshot_of(const std::string& self_id);

  sim::SimNetwork net;
  WorkerCore core;
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<SignalOut> signal_log;

  /// Allocations inside the core's handle_* / flush, per input, while measuring.
  struct Allocations {
    alloc::Totals rtp, rtcp, stun, dtls, other, flush, timeout;
    uint64_t rtp_calls = 0;
  };
  bool measure_allocations = false;
  /// Calls of the core's handle_timeout (at its deadline or riding on a flush).
  uint64_t timer_rounds = 0;
  Allocations allocations;

 private:
  struct CoreNode : sim::SimNode {
    explicit CoreNode(Harness& harness) : h(harness) {}
    void handle_datagram(util::Timestamp now, const util::SocketAddr& from, util::MutableBytes data) override;
    void handle_timeout(util::Timestamp now) override;
    util::Timestamp poll_timeout() const override { return h.core.poll_timeout(); }
    void flush(util::Timestamp now, util::DatagramSink& out) override;
    Harness& h;
  };
  /// Forwards to the network's sink; the network's own copying is not the
  /// core's allocation.
  struct UncountedSink : util::DatagramSink {
    util::DatagramSink* inner = nullptr;
    util::MutableBytes reserve() override { return inner->reserve(); }
    void commit(const util::SocketAddr& to, size_t len) override {
      alloc::Pause p;
      inner->commit(to, len);
    }
  };

  static WorkerConfig config();

  CoreNode node_;
  UncountedSink sink_;
  sim::SimNetwork::EndpointId endpoint_ = 0;
  std::vector<ParticipantSnapshot> snapshots_;
  ConnId next_conn_ = 1;
};

/// The usual starting point of a test: Alice and Bob join one room, both
/// publish audio and video, connect, and a second of media passes.
struct TwoPublishers {
  explicit TwoPublishers(uint64_t seed)
      : h(seed), a(h.add_client({.name = "alice"})), b(h.add_client({.name = "bob"})) {
    h.join(a);
    h.join(b);
    connected = h.connect_all();
    if (!connected) return;
    a.start_media(h.now());
    b.start_media(h.now());
    h.run_for(std::chrono::seconds(1));
  }
  Harness h;
  Client& a;
  Client& b;
  bool connected = false;  ///< tests ASSERT_TRUE it first
};

// ---------------------------------------------------------------------------
// Packet helpers for assertions.

inline std::optional<uint16_t> transport_seq_of(const rtp::PacketView& p, uint8_t id) {
  if (auto v = p.extensions().find(id)) return rtp::read_transport_sequence(*v);
  return std::nullopt;
}
inline std::optional<std::string> string_ext_of(const rtp::PacketView& p, uint8_t id) {
  if (auto v = p.extensions().find(id))
    if (auto s = rtp::read_string_value(*v)) return std::string(*s);
  return std::nullopt;
}
/// The VP8 keyframe test of RFC 7741 §4.3 on a payload the harness wrote.
inline bool vp8_keyframe_payload(util::ByteView payload) {
  return payload.size() >= 7 && (payload[0] & 0x10) && (payload[1] & 0x01) == 0 && payload[4] == 0x9d &&
         payload[5] == 0x01 && payload[6] == 0x2a;
}
inline util::Duration ntp_to_duration(int64_t ntp_diff) {
  return std::chrono::duration_cast<util::Duration>(
      std::chrono::duration<double>(double(ntp_diff) / 4294967296.0));
}

}  // namespace sb::sfu::test
