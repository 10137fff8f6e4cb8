#pragma once
// Reception statistics of one incoming RTP stream (one SSRC), per RFC 3550
// §6.4.1 and Appendix A.1, A.3, A.8, producing the report block we send back.
#include <cstdint>
#include <optional>

#include "rtp/NtpTime.hpp"
#include "rtp/PacketView.hpp"
#include "rtp/rtcp/ReportBlock.hpp"
#include "util/SeqUnwrapper.hpp"
#include "util/Time.hpp"

namespace sb::rtp {

class ReceiveStats {
 public:
  /// RFC 3550 §A.1: a jump forward of this many packets, or back by more than
  /// kMaxMisorder, is not believed until the packet right after it arrives too
  /// (then the source is taken to have restarted).
  static constexpr int64_t kMaxDropout = 3000;
  static constexpr int64_t kMaxMisorder = 100;

  /// `clock_rate_hz` of the stream's RTP timestamps (90000 for video, 48000 for Opus).
  ReceiveStats(Ssrc ssrc, uint32_t clock_rate_hz);

  // -- inputs
  void on_packet(uint16_t seq, uint32_t rtp_timestamp, util::Timestamp arrival);
  void on_packet(const PacketView& p, util::Timestamp arrival) { on_packet(p.sequence(), p.timestamp(), arrival); }
  /// A sender report for this SSRC arrived: remembered for LSR/DLSR.
  void on_sender_report(NtpTime ntp, util::Timestamp arrival);

  // -- outputs
  /// The report block for an RR/SR sent at `now`. Starts a new interval for
  /// fraction_lost (so call it once per report actually sent).
  rtcp::ReportBlock report_block(util::Timestamp now);

  // -- getters
  Ssrc ssrc() const { return ssrc_; }
  bool started() const { return started_; }
  /// Highest sequence number seen, unwrapped to 64 bits.
  int64_t highest_sequence() const { return max_seq_; }
  /// RFC 3550 extended highest sequence number: cycles << 16 | highest seq.
  uint32_t extended_highest_sequence() const { return uint32_t(max_seq_ - kSeqOffset); }
  uint64_t packets_received() const { return received_; }
  int64_t packets_expected() const { return started_ ? max_seq_ - base_seq_ + 1 : 0; }
  /// Expected minus received; negative with duplicates (RFC 3550 §6.4.1).
  int64_t cumulative_lost() const { return packets_expected() - int64_t(received_); }
  /// Interarrival jitter in RTP timestamp units (§A.8).
  uint32_t jitter() const { return uint32_t(jitter_q4_ >> 4); }

 private:
  void restart(int64_t unwrapped_seq);

  /// SeqUnwrapper maps the first value v to 65536 + v; cycles count from there.
  static constexpr int64_t kSeqOffset = 65536;

  Ssrc ssrc_;
  uint32_t clock_rate_;
  util::SeqUnwrapper<uint16_t> unwrapper_;
  bool started_ = false;
  int64_t base_seq_ = 0;
  int64_t max_seq_ = 0;
  uint64_t received_ = 0;
  std::optional<uint16_t> bad_seq_;

  // Interval state for fraction lost (§A.3).
  int64_t expected_prior_ = 0;
  uint64_t received_prior_ = 0;

  // Jitter (§A.8), kept scaled by 16 as in the RFC's integer version.
  util::Timestamp first_arrival_{};
  std::optional<uint32_t> last_transit_;
  int64_t jitter_q4_ = 0;

  std::optional<uint32_t> last_sr_compact_;
  util::Timestamp last_sr_arrival_{};
};

}  // namespace sb::rtp
