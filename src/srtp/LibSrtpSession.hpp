#pragma once
// The libsrtp2-backed SRTP/SRTCP context pair (RFC 3711, RFC 7714), with the same API
// as srtp::Session. Not used on the packet path any more (its crypto backend allocates
// per packet); kept as an independent implementation to cross-check Session against
// and to compare speed with.
//
// Outbound packets are protected with the local keys, inbound ones unprotected with
// the remote keys. Each direction is a separate libsrtp session built from an
// "any SSRC" template, so every SSRC forwarded over the transport gets its own
// stream (and replay window, RFC 3711 §3.3.2) on first use; the number of streams is
// bounded by kMaxStreams. Packet-path calls never throw: failures are counted and
// return nullopt, with the libsrtp status kept in last_error().
#include <srtp2/srtp.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_set>

#include "srtp/Profile.hpp"
#include "util/Bytes.hpp"
#include "util/Result.hpp"

namespace sb::srtp {

/// Initialises libsrtp once per process. Thread-safe and idempotent; LibSrtpSession calls it.
void init();

class LibSrtpSession {
 public:
  /// Largest trailer protect_rtp/protect_rtcp append (GCM tag 16 + SRTCP index 4;
  /// no MKI is used). Callers leave this much room after the packet.
  static constexpr size_t kMaxTrailer = 20;
  /// Streams (SSRCs) per direction. An SFU transport carries a few dozen; the bound
  /// keeps a misbehaving peer from growing libsrtp's per-SSRC state without limit.
  static constexpr size_t kMaxStreams = 1024;
  /// Replay window in packets (RFC 3711 §3.3.2 asks for at least 64); video bursts
  /// reorder far more than 64 packets under loss and retransmission.
  static constexpr unsigned long kReplayWindow = 1024;

  struct Stats {
    uint64_t protected_rtp = 0;
    uint64_t protected_rtcp = 0;
    uint64_t unprotected_rtp = 0;
    uint64_t unprotected_rtcp = 0;
    uint64_t auth_failures = 0;
    uint64_t replays = 0;
    uint64_t malformed = 0;     ///< too short / not RTP(RTCP) / no room for the trailer
    uint64_t stream_limit = 0;  ///< a new SSRC beyond kMaxStreams
    uint64_t other = 0;         ///< any other libsrtp error
  };

  /// Throws std::invalid_argument if a key or salt length does not fit the profile.
  LibSrtpSession(Profile profile, const SrtpKeys& local, const SrtpKeys& remote);
  /// The same without exceptions.
  static util::Result<LibSrtpSession> create(Profile profile, const SrtpKeys& local, const SrtpKeys& remote);
  ~LibSrtpSession();
  LibSrtpSession(LibSrtpSession&& other) noexcept;
  LibSrtpSession& operator=(LibSrtpSession&& other) noexcept;
  LibSrtpSession(const LibSrtpSession&) = delete;
  LibSrtpSession& operator=(const LibSrtpSession&) = delete;

  Profile profile() const { return profile_; }
  const Stats& stats() const { return stats_; }
  /// Status of the last failed call (srtp_err_status_ok if none failed yet).
  srtp_err_status_t last_error() const { return last_error_; }

  /// Protects the RTP packet in buf[0, len) in place; buf must have room for the
  /// trailer. Returns the protected length.
  std::optional<size_t> protect_rtp(util::MutableBytes buf, size_t len);
  /// Verifies and decrypts the SRTP packet in buf[0, len) in place; returns the RTP length.
  std::optional<size_t> unprotect_rtp(util::MutableBytes buf, size_t len);
  std::optional<size_t> protect_rtcp(util::MutableBytes buf, size_t len);
  std::optional<size_t> unprotect_rtcp(util::MutableBytes buf, size_t len);

  /// Forgets the state of one SSRC (a track ended), freeing a stream slot.
  void remove_ssrc(uint32_t ssrc);
  size_t outbound_streams() const { return out_ssrcs_.size(); }
  size_t inbound_streams() const { return in_ssrcs_.size(); }

 private:
  LibSrtpSession() = default;
  util::Result<void> init_contexts(Profile profile, const SrtpKeys& local, const SrtpKeys& remote);
  void release();
  bool admit(std::unordered_set<uint32_t>& known, uint32_t ssrc);
  std::optional<size_t> fail(srtp_err_status_t status);

  Profile profile_ = Profile::AesCm128HmacSha1_80;
  srtp_t outbound_ = nullptr;
  srtp_t inbound_ = nullptr;
  std::unordered_set<uint32_t> out_ssrcs_;
  std::unordered_set<uint32_t> in_ssrcs_;
  Stats stats_;
  srtp_err_status_t last_error_ = srtp_err_status_ok;
};

}  // namespace sb::srtp
