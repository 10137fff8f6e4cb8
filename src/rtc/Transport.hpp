#pragma once
// One peer's media transport: ICE + DTLS + SRTP over one 5-tuple (BUNDLE,
// rtcp-mux), sans-IO. Datagrams are demultiplexed by their first byte
// (RFC 7983 §7): STUN to ICE, DTLS to the handshake, RTP/RTCP through SRTP.
//
// Server side (the SFU): ICE-lite, DTLS passive by default. Client side (tests,
// load generator): full controlling ICE, DTLS active.
//
// Received media is decrypted in place and returned to the caller at once (no
// queue, no copy). Control datagrams (STUN answers, DTLS flights) are queued and
// drained with flush(); media goes straight into the caller's DatagramSink.
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "dtls/Certificate.hpp"
#include "dtls/Fingerprint.hpp"
#include "dtls/Session.hpp"
#include "ice/ClientAgent.hpp"
#include "ice/Credentials.hpp"
#include "ice/LiteAgent.hpp"
#include "srtp/Session.hpp"
#include "util/DatagramSink.hpp"
#include "util/Random.hpp"
#include "util/SocketAddr.hpp"
#include "util/Time.hpp"

namespace sb::rtc {

/// ICE nominated a pair; DTLS may start.
struct IceConnected {
  util::SocketAddr remote;
};
/// DTLS done, fingerprint verified, SRTP keys installed: media can flow.
struct TransportConnected {
  srtp::Profile profile;
};
/// The transport is dead: consent expired, DTLS failed, fingerprint mismatch…
struct TransportFailed {
  std::string reason;
};
/// The peer closed DTLS (close_notify).
struct TransportClosed {};

using TransportEvent = std::variant<IceConnected, TransportConnected, TransportFailed, TransportClosed>;

/// What the remote description tells us about the peer's transport.
struct RemoteParameters {
  std::string ufrag;
  std::string pwd;
  dtls::Fingerprint fingerprint;
  dtls::Role local_dtls_role = dtls::Role::kServer;  ///< our role, from a=setup
};

class Transport {
 public:
  enum class State { kNew, kChecking, kHandshaking, kConnected, kFailed, kClosed };

  /// Longest DTLS handshake after ICE connects. Consent keeps a silent peer's pair
  /// alive, so without this a peer that never sends (or never answers) a
  /// ClientHello would hold the transport in kHandshaking forever. It covers the
  /// active side's first five retransmissions (1+2+4+8+16 s, RFC 6347 §4.2.4.1).
  static constexpr util::Duration kHandshakeTimeout = std::chrono::seconds(60);

  struct Stats {
    uint64_t rtp_out = 0, rtp_bytes_out = 0, rtcp_out = 0;  // first: counted per forwarded packet
    uint64_t datagrams_in = 0;
    uint64_t stun_in = 0;
    uint64_t dtls_in = 0;
    uint64_t rtp_in = 0, rtcp_in = 0, rtp_bytes_in = 0;
    uint64_t dropped_unknown_kind = 0;       ///< first byte matches no protocol (RFC 7983)
    uint64_t dropped_unverified_source = 0;  ///< DTLS/SRTP from an address ICE did not validate
    uint64_t dropped_not_ready = 0;          ///< media before SRTP keys exist
    uint64_t dropped_srtp = 0;               ///< failed authentication, replay, malformed
    uint64_t dropped_send = 0;               ///< send while not connected or protect failed
  };

  /// What handle_datagram found: decrypted RTP or RTCP (in the caller's buffer), or nothing.
  struct Received {
    enum class Kind { kNone, kRtp, kRtcp } kind = Kind::kNone;
    util::MutableBytes packet;
  };

  /// The SFU side: ICE-lite with `local` credentials.
  static std::unique_ptr<Transport> make_server(ice::Credentials local,
                                                std::shared_ptr<const dtls::Certificate> certificate,
                                                dtls::SessionConfig dtls_config = {});
  /// The client side: full controlling ICE towards the server's candidates.
  static std::unique_ptr<Transport> make_client(ice::ClientAgentConfig ice_config, util::Random& rng,
                                                std::shared_ptr<const dtls::Certificate> certificate,
                                                RemoteParameters remote, dtls::SessionConfig dtls_config = {});
  ~Transport();

  // ---- getters
  State state() const { return state_; }
  const Stats& stats() const { return stats_; }
  const std::string& local_ufrag() const;
  const std::string& local_pwd() const;
  const dtls::Certificate& certificate() const { return *certificate_; }
  /// Where media goes: the selected ICE pair's remote address.
  std::optional<util::SocketAddr> remote_address() const;
  bool connected() const { return state_ == State::kConnected; }
  const srtp::Session* srtp() const { return srtp_ ? &*srtp_ : nullptr; }
  const dtls::Session* dtls() const { return dtls_.get(); }
  const ice::LiteAgent* lite_agent() const;
  const ice::ClientAgent* client_agent() const;
  /// Why the transport failed (empty otherwise).
  const std::string& failure() const { return failure_; }

  // ---- mutators
  /// From the remote description. Safe to repeat with the same values
  /// (renegotiation); changed credentials are an ICE restart, which is refused.
  util::Result<void> set_remote_parameters(const RemoteParameters& remote);
  /// Client side only: a server candidate to check.
  void add_remote_candidate(const util::SocketAddr& addr, uint32_t priority);
  /// Sends DTLS close_notify and stops.
  void close(util::Timestamp now);

  // ---- input
  Received handle_datagram(util::Timestamp now, const util::SocketAddr& from, util::MutableBytes data);
  void handle_timeout(util::Timestamp now);

  // ---- output
  /// Control datagrams (STUN, DTLS) go into `out`.
  void flush(util::DatagramSink& out);
  bool has_pending_output() const { return !control_out_.empty(); }
  std::optional<TransportEvent> poll_event();
  util::Timestamp poll_timeout() const;

  /// Protects the RTP packet in slot[0, len) in place and commits it to the
  /// selected address. `slot` is the span reserve() returned. False (counted) when
  /// not connected or protection fails; the slot is then not committed.
  bool send_rtp_in_place(util::DatagramSink& out, util::MutableBytes slot, size_t len);
  /// The same for a packet whose header is in slot[0, header_len) and whose
  /// payload is elsewhere: the payload is encrypted straight into the slot
  /// behind the header (see srtp::Session::protect_rtp).
  bool send_rtp_with_payload(util::DatagramSink& out, util::MutableBytes slot, size_t header_len,
                             util::ByteView payload);
  /// Prefetching for a fan-out loop, in three stages an iteration or more
  /// apart: this object's send-path fields, then the SRTP state for `ssrc`,
  /// then the cipher context. Changes nothing.
  void prefetch_send() const {
    const char* p = reinterpret_cast<const char*>(this);
    __builtin_prefetch(p);
    __builtin_prefetch(p + 64);
    __builtin_prefetch(p + 128);
    __builtin_prefetch(p + 192);
  }
  void prefetch_protect(uint32_t ssrc) const {
    if (srtp_) srtp_->prefetch_protect(ssrc);
  }
  void prefetch_cipher() const {
    if (srtp_) srtp_->prefetch_cipher();
  }
  bool send_rtcp_in_place(util::DatagramSink& out, util::MutableBytes slot, size_t len);
  /// Copying conveniences for packets built elsewhere.
  bool send_rtp(util::DatagramSink& out, util::ByteView rtp);
  bool send_rtcp(util::DatagramSink& out, util::ByteView rtcp);

 private:
  Transport(std::shared_ptr<const dtls::Certificate> certificate, dtls::SessionConfig dtls_config);

  bool source_allowed(const util::SocketAddr& from) const;
  /// Counts and commits a packet protect_rtp() returned (nullopt: dropped).
  bool commit_rtp(util::DatagramSink& out, std::optional<size_t> protected_len);
  void pump_ice(util::Timestamp now);
  void pump_dtls(util::Timestamp now);
  void start_dtls(util::Timestamp now);
  void fail(std::string reason);
  void on_peer_finished();
  void emit(TransportEvent e);

  // What every sent packet reads comes first, on as few cache lines as possible:
  // a fan-out touches these for each subscriber (see prefetch_send()).
  State state_ = State::kNew;
  bool peer_finished_ = false;  // authenticated SRTP seen; checked on every received packet
  std::optional<util::SocketAddr> selected_;
  Stats stats_;
  std::optional<srtp::Session> srtp_;
  std::shared_ptr<const dtls::Certificate> certificate_;
  dtls::SessionConfig dtls_config_;
  std::variant<std::monostate, ice::LiteAgent, ice::ClientAgent> ice_;
  std::optional<RemoteParameters> remote_;
  std::unique_ptr<dtls::Session> dtls_;
  std::optional<util::SocketAddr> dtls_from_;  // where DTLS came from, before nomination
  util::Timestamp handshake_deadline_ = util::kNever;  // while kHandshaking
  std::string failure_;
  std::deque<std::pair<util::SocketAddr, util::Bytes>> control_out_;
  std::deque<TransportEvent> events_;
};

const char* to_string(Transport::State s);

}  // namespace sb::rtc
