#pragma once
// One SRTP/SRTCP crypto context pair for a transport (RFC 3711, RFC 7714), on OpenSSL.
//
// Outbound packets are protected with the local keys, inbound ones unprotected with
// the remote keys. Each direction derives its session keys once (RFC 3711 §4.3) and
// keeps one Transform (keyed cipher contexts); every SSRC gets its own stream state
// (ROC / highest index and replay window, RFC 3711 §3.3) on first use, in a table
// bounded by kMaxStreams. An inbound SSRC takes a slot only once a packet of it has
// authenticated, so forged packets cannot fill the table.
//
// The packet path neither throws nor allocates (after a stream's first packet):
// failures are counted in Stats and return nullopt, with a libsrtp-style status in
// last_error() (kept from the libsrtp-based implementation, LibSrtpSession).
#include <srtp2/srtp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "srtp/Profile.hpp"
#include "srtp/StreamTable.hpp"
#include "srtp/Transform.hpp"
#include "util/Bytes.hpp"
#include "util/Result.hpp"

namespace sb::srtp {

/// Initialises libsrtp once per process (for LibSrtpSession; Session does not need it).
/// Thread-safe and idempotent.
void init();

class Session {
 public:
  /// Largest trailer protect_rtp/protect_rtcp append (GCM tag 16 + SRTCP index 4;
  /// no MKI is used). Callers leave this much room after the packet.
  static constexpr size_t kMaxTrailer = 20;
  /// Streams (SSRCs) per direction. An SFU transport carries a few dozen; the bound
  /// keeps a misbehaving peer from growing per-SSRC state without limit.
  static constexpr size_t kMaxStreams = 1024;
  /// Replay window in packets (RFC 3711 §3.3.2 asks for at least 64); video bursts
  /// reorder far more than 64 packets under loss and retransmission.
  static constexpr unsigned long kReplayWindow = ReplayWindow::kSize;

  struct Stats {
    uint64_t protected_rtp = 0;
    uint64_t protected_rtcp = 0;
    uint64_t unprotected_rtp = 0;
    uint64_t unprotected_rtcp = 0;
    uint64_t auth_failures = 0;
    uint64_t replays = 0;
    uint64_t malformed = 0;     ///< too short / not RTP(RTCP) / no room for the trailer
    uint64_t stream_limit = 0;  ///< a new SSRC beyond kMaxStreams
    uint64_t other = 0;         ///< any other failure (cipher error, SRTCP index exhausted)
  };

  /// Throws std::invalid_argument if a key or salt length does not fit the profile.
  Session(Profile profile, const SrtpKeys& local, const SrtpKeys& remote);
  /// The same without exceptions.
  static util::Result<Session> create(Profile profile, const SrtpKeys& local, const SrtpKeys& remote);
  ~Session();
  Session(Session&& other) noexcept;
  Session& operator=(Session&& other) noexcept;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  Profile profile() const { return profile_; }
  const Stats& stats() const { return stats_; }
  /// Status of the last failed call (srtp_err_status_ok if none failed yet).
  srtp_err_status_t last_error() const { return last_error_; }

  /// Protects the RTP packet in buf[0, len) in place; buf must have room for the
  /// trailer. Returns the protected length. The same packet (same SSRC and sequence
  /// number, unchanged) may be protected again, e.g. to answer a NACK without RTX.
  std::optional<size_t> protect_rtp(util::MutableBytes buf, size_t len);
  /// The same for a packet in two pieces: its header in buf[0, header_len) and its
  /// payload elsewhere (not overlapping buf, or exactly at buf + header_len). The
  /// payload is encrypted into buf after the header, so a forwarded copy needs no
  /// copy of the plaintext first. Returns the protected length.
  std::optional<size_t> protect_rtp(util::MutableBytes buf, size_t header_len, util::ByteView payload);
  /// Verifies and decrypts the SRTP packet in buf[0, len) in place; returns the RTP length.
  std::optional<size_t> unprotect_rtp(util::MutableBytes buf, size_t len);
  std::optional<size_t> protect_rtcp(util::MutableBytes buf, size_t len);
  std::optional<size_t> unprotect_rtcp(util::MutableBytes buf, size_t len);

  /// Forgets the state of one SSRC (a track ended), freeing a stream slot.
  void remove_ssrc(uint32_t ssrc);
  size_t outbound_streams() const { return out_streams_.size(); }

  /// Prefetching for a fan-out loop (no effect on results): stage 1 loads the
  /// outbound transform and the stream state protect_rtp(ssrc) will use; stage 2,
  /// once those arrived, the cipher context behind the transform.
  void prefetch_protect(uint32_t ssrc) const {
    __builtin_prefetch(outbound_.get());
    __builtin_prefetch(out_streams_.likely(ssrc));
  }
  void prefetch_cipher() const {
    if (outbound_) outbound_->prefetch_rtp();
  }
  size_t inbound_streams() const { return in_streams_.size(); }

 private:
  Session() = default;
  util::Result<void> init_contexts(Profile profile, const SrtpKeys& local, const SrtpKeys& remote);
  std::optional<size_t> fail(srtp_err_status_t status);
  std::optional<size_t> malformed();
  /// protect_rtp() once the packet is validated; `payload` null: in place.
  std::optional<size_t> protect_rtp_at(util::MutableBytes buf, size_t len, size_t header_len, const uint8_t* payload);
  /// The stream of `ssrc`, or a new one (nullptr, counted, when the table is full).
  Stream* outbound_stream(uint32_t ssrc);

  Profile profile_ = Profile::AesCm128HmacSha1_80;
  std::unique_ptr<Transform> outbound_;
  std::unique_ptr<Transform> inbound_;
  StreamTable out_streams_{kMaxStreams};
  StreamTable in_streams_{kMaxStreams};
  Stats stats_;
  srtp_err_status_t last_error_ = srtp_err_status_ok;
};

}  // namespace sb::srtp
