#pragma once
// Records when each transport-wide sequence number arrived from a publisher and
// turns that into transport-wide congestion control feedback
// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1), sent every
// kInterval: the publisher's bandwidth estimate depends on it.
//
// Feedback runs on a fixed grid of kInterval whose phase is set when the first
// packet arrives (plus a delay the caller may randomise): feedback sent late
// does not move the slots that follow (one less than half an interval away is
// skipped). A worker that once served every
// publisher in one timer round (after a stall, say) would otherwise keep them
// in step for good, and build and encrypt all their feedback together every
// interval while media waits behind it (RFC 3550 §6.2 warns of the same for
// reports).
//
// Feedback covers every sequence number since the previous feedback: the ones
// that never arrived are reported as not received. A packet that arrives after
// the feedback that reported it lost is ignored (it was already reported).
//
// Memory is a fixed array of kMaxPending arrivals; nothing allocates.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

#include "rtp/Types.hpp"
#include "rtp/rtcp/TransportFeedback.hpp"
#include "util/SeqUnwrapper.hpp"
#include "util/Time.hpp"

namespace sb::rtp {

class TwccRecorder {
 public:
  /// Arrivals waiting for feedback; beyond this the oldest is dropped unreported.
  static constexpr size_t kMaxPending = 1024;
  /// Browsers expect feedback every 50–100 ms.
  static constexpr util::Duration kInterval = std::chrono::milliseconds(50);
  /// This many pending arrivals make feedback due before kInterval has passed.
  static constexpr size_t kEarlyFeedbackCount = 256;
  /// A run of lost sequence numbers longer than this between two feedbacks is
  /// not reported (the sequence jumped; there is nothing to learn from it).
  static constexpr int64_t kMaxReportedGap = 0x4000;

  TwccRecorder() = default;
  /// The first feedback is due this long after the first arrival (at most
  /// kInterval); a delay drawn at random per publisher spreads the grids of
  /// publishers whose first packets were handled together.
  explicit TwccRecorder(util::Duration first_delay) : first_delay_(std::min(first_delay, kInterval)) {}

  struct Stats {
    uint64_t feedback_sent = 0;
    uint64_t ignored = 0;     ///< duplicates, and arrivals older than feedback already sent
    uint64_t dropped = 0;     ///< arrivals never reported because pending was full
  };

  // -- inputs
  /// Duplicates, and packets older than the last feedback, are ignored.
  void on_packet(util::Timestamp arrival, uint16_t transport_seq);

  // -- outputs
  /// When feedback is due (the next slot of the grid, or earlier when
  /// kEarlyFeedbackCount arrivals or the remainder of a partial feedback
  /// wait), writes ONE TransportFeedback into `out` and returns its size;
  /// otherwise, or with nothing pending, returns 0. Arrivals that did not fit
  /// (space, a delta beyond 16 bits) stay pending and are due at once, so the
  /// caller may loop until 0.
  size_t poll_feedback(util::Timestamp now, Ssrc sender_ssrc, Ssrc media_ssrc, util::MutableBytes out);
  size_t poll_feedback(util::Timestamp now, uint32_t sender_ssrc, uint32_t media_ssrc, util::MutableBytes out) {
    return poll_feedback(now, Ssrc{sender_ssrc}, Ssrc{media_ssrc}, out);
  }
  /// When feedback is due next (kNever while nothing is pending).
  util::Timestamp poll_timeout() const;

  // -- getters
  size_t pending_count() const { return count_; }
  const Stats& stats() const { return stats_; }

 private:
  bool due(util::Timestamp now) const;
  void drop_front(size_t n);
  /// Moves next_feedback_ to the first slot of its grid after `t`.
  void skip_slots_until(util::Timestamp t);

  util::SeqUnwrapper<uint16_t> unwrapper_;
  bool started_ = false;
  /// Unwrapped: the first sequence number not yet covered by feedback.
  int64_t next_report_seq_ = 0;
  util::Duration first_delay_ = kInterval;
  util::Timestamp last_feedback_{};
  util::Timestamp next_feedback_{};  ///< the grid's next slot
  bool flush_ = false;  ///< the last feedback left arrivals behind
  uint8_t feedback_count_ = 0;

  // Pending arrivals sorted by unwrapped sequence number, in entries_[1..count_]
  // so that entries_[0] can hold a "not received" base when feedback starts
  // with lost packets. entries_ is what rtcp::TransportFeedback::write() reads.
  std::array<rtcp::TwccEntry, kMaxPending + 1> entries_{};
  std::array<int64_t, kMaxPending + 1> unwrapped_{};
  size_t count_ = 0;

  Stats stats_;
};

}  // namespace sb::rtp
