#pragma once
// Loss detection on one incoming RTP stream and the decision of when to ask
// for each lost packet again with a generic NACK (RFC 4585 §6.2.1).
//
// A sequence number skipped by a newer packet is marked missing and is due for
// a NACK at once; it is requested again every resend interval (the round-trip
// time, at least kMinResendInterval) until it arrives, kMaxRetries requests
// went unanswered, or it has been missing for kMaxAge. The caller packs what
// poll_nacks() returns into rtcp::Nack::write().
//
// Memory is a fixed array of kMaxMissing entries; nothing allocates.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "util/SeqUnwrapper.hpp"
#include "util/Time.hpp"

namespace sb::rtp {

class NackGenerator {
 public:
  /// Missing sequence numbers tracked at once; beyond this the oldest is given up.
  static constexpr size_t kMaxMissing = 256;
  static constexpr int kMaxRetries = 10;
  /// A jump by more than this many packets is a restarted source, not a loss.
  static constexpr uint16_t kMaxGap = 1000;
  /// A packet missing for this long would arrive too late to be played out.
  static constexpr util::Duration kMaxAge = std::chrono::milliseconds(1000);
  static constexpr util::Duration kMinResendInterval = std::chrono::milliseconds(20);
  static constexpr util::Duration kDefaultRtt = std::chrono::milliseconds(100);

  struct Stats {
    uint64_t nacks_sent = 0;  ///< sequence numbers requested (each retry counts)
    uint64_t recovered = 0;   ///< missing packets that arrived after all
    uint64_t given_up = 0;    ///< missing packets no longer requested
    uint64_t restarts = 0;    ///< jumps larger than kMaxGap
  };

  // -- inputs
  /// Returns true if `seq` was a packet marked missing (recovered by a
  /// retransmission or a late, reordered arrival).
  bool on_packet(util::Timestamp now, uint16_t seq);
  /// The resend interval is max(rtt, kMinResendInterval).
  void set_rtt(util::Duration rtt);
  /// Forgets all state (the next packet starts the stream afresh).
  void reset();

  // -- outputs
  /// Writes up to out.size() sequence numbers due for a NACK at `now`, oldest
  /// first, and marks them requested; returns how many. Entries past their
  /// retries or age are given up here.
  size_t poll_nacks(util::Timestamp now, std::span<uint16_t> out);
  /// When a NACK could be due next (kNever if nothing is missing).
  util::Timestamp poll_timeout() const;

  // -- getters
  size_t missing_count() const { return count_; }
  util::Duration resend_interval() const { return resend_interval_; }
  const Stats& stats() const { return stats_; }

 private:
  struct Missing {
    int64_t seq = 0;  ///< unwrapped
    util::Timestamp detected{};
    util::Timestamp last_sent{};  ///< meaningful once retries > 0
    int retries = 0;
  };

  static_assert((kMaxMissing & (kMaxMissing - 1)) == 0, "ring index uses a mask");

  /// The i-th oldest missing entry.
  Missing& at(size_t i) { return ring_[(head_ + i) & (kMaxMissing - 1)]; }
  const Missing& at(size_t i) const { return ring_[(head_ + i) & (kMaxMissing - 1)]; }
  void push_missing(util::Timestamp now, int64_t seq);
  bool remove_missing(int64_t seq);
  void restart(uint16_t seq);

  util::SeqUnwrapper<uint16_t> unwrapper_;
  std::optional<int64_t> highest_;  ///< unwrapped; unset before the first packet
  /// A packet far behind the highest is believed to be a restart only when the
  /// one after it arrives next (RFC 3550 §A.1 uses the same test).
  std::optional<uint16_t> restart_candidate_;
  util::Duration resend_interval_ = kDefaultRtt;

  // Missing entries ordered by sequence number, in a ring.
  std::array<Missing, kMaxMissing> ring_{};
  size_t head_ = 0;
  size_t count_ = 0;

  Stats stats_;
};

}  // namespace sb::rtp
