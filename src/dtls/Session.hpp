#pragma once
// One DTLS 1.2 association (RFC 6347) for DTLS-SRTP (RFC 5763, RFC 5764), sans-IO:
// OpenSSL runs over memory BIOs; datagrams go in through handle_datagram() and come
// out of poll_transmit(); time only enters as `now`.
//
// Retransmission runs on our clock, not OpenSSL's. OpenSSL 3 checks its DTLS timer
// against gettimeofday() inside every read, so it cannot be driven by virtual time;
// its timer is parked (DTLS_set_timer_cb returns an hour) and the session resends the
// last flight itself, record for record, when poll_timeout() passes (RFC 6347 §4.2.4:
// 1 s initial, doubling). A resent record keeps its sequence number, so a peer that
// already has it drops it as a duplicate (RFC 6347 §4.1.2.6) and one that lost it
// accepts it. The one flight no timer protects is the server's final one: when a
// finished server hears handshake records again, the client missed it, so it is sent
// again (RFC 6347 §4.2.4, last flight).
#include <memory>
#include <optional>
#include <vector>

#include "dtls/Certificate.hpp"
#include "dtls/Event.hpp"
#include "dtls/Fingerprint.hpp"
#include "srtp/Profile.hpp"
#include "util/Bytes.hpp"
#include "util/Time.hpp"

namespace sb::dtls {

enum class Role {
  kClient,  ///< a=setup:active: sends the ClientHello
  kServer,  ///< a=setup:passive: what the SFU answers to a browser
};

struct SessionConfig {
  /// SRTP profiles offered (client) or accepted (server), most preferred first
  /// (RFC 5764 §4.1.1). The server picks by its own order: GCM when both are offered.
  std::vector<srtp::Profile> srtp_profiles{srtp::Profile::AeadAes128Gcm, srtp::Profile::AesCm128HmacSha1_80};
  /// Largest datagram we send; records and coalescing respect it.
  size_t mtu = 1200;
  util::Duration initial_rto = std::chrono::seconds(1);  ///< RFC 6347 §4.2.4.1
  util::Duration max_rto = std::chrono::seconds(60);
  /// Resends of one flight before the handshake is declared failed.
  int max_retransmits = 6;
};

class Session {
 public:
  enum class State { kNew, kConnecting, kConnected, kFailed, kClosed };

  struct Stats {
    uint64_t datagrams_in = 0;
    uint64_t dropped_not_dtls = 0;     ///< first byte outside 20..63 (RFC 7983) or too short
    uint64_t retransmitted_flights = 0;
    uint64_t app_data_bytes_dropped = 0;  ///< application data has no consumer yet
    uint64_t dropped_transmits = 0;    ///< output queue overflow
  };

  static constexpr size_t kMaxQueuedDatagrams = 64;
  static constexpr size_t kMaxQueuedEvents = 8;
  /// Resends of our final flight triggered by a peer that did not get it.
  static constexpr int kMaxFinalFlightResends = 8;

  /// `remote_fingerprint` may be left empty and supplied later, but it must be known
  /// by the time the handshake completes, or the session fails.
  Session(std::shared_ptr<const Certificate> certificate, Role role,
          std::optional<Fingerprint> remote_fingerprint = std::nullopt, SessionConfig config = {});
  ~Session();
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // getters
  Role role() const;
  State state() const;
  const Stats& stats() const;
  /// Negotiated profile once connected.
  std::optional<srtp::Profile> srtp_profile() const;

  // mutators
  void set_remote_fingerprint(Fingerprint fp);
  /// Client: sends the ClientHello. Server: nothing to send; it waits for one.
  void start(util::Timestamp now);
  /// Feeds one received datagram (first byte 20..63, RFC 7983 §7). Never throws;
  /// anything that is not DTLS is counted and dropped.
  void handle_datagram(util::Timestamp now, util::ByteView datagram);
  /// Resends the last flight if its retransmission deadline has passed.
  void handle_timeout(util::Timestamp now);
  /// Sends close_notify and stops (after release_association(), the one made at release).
  void close(util::Timestamp now);
  /// Frees the OpenSSL association of a finished handshake, keeping the session
  /// Connected: the SRTP keys are already exported, and the association is most
  /// of a participant's memory while it lasts. A server keeps a copy of its final
  /// flight (a few hundred bytes) and still answers a client that retransmits
  /// its own because ours was lost, until forget_final_flight(). Our close_notify
  /// is encrypted now, for close() to send later. Afterwards an alert record
  /// shaped like the peer's (its close_notify) closes the session.
  void release_association();
  bool released() const;
  /// Drops the kept final flight: call it once the peer certainly finished
  /// (it sent authenticated SRTP, which needs the keys our Finished completed).
  void forget_final_flight();

  // outputs
  std::optional<util::Bytes> poll_transmit();
  std::optional<Event> poll_event();
  util::Timestamp poll_timeout() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sb::dtls
