#include "rtp/ReceiveStats.hpp"

#include <algorithm>
#include <cstdlib>

namespace sb::rtp {

ReceiveStats::ReceiveStats(Ssrc ssrc, uint32_t clock_rate_hz) : ssrc_(ssrc), clock_rate_(clock_rate_hz) {}

void ReceiveStats::restart(int64_t unwrapped_seq) {
  base_seq_ = unwrapped_seq;
  max_seq_ = unwrapped_seq;
  received_ = 0;
  expected_prior_ = 0;
  received_prior_ = 0;
  bad_seq_.reset();
  last_transit_.reset();
}

void ReceiveStats::on_packet(uint16_t seq, uint32_t rtp_timestamp, util::Timestamp arrival) {
  bool in_order = false;
  if (!started_) {
    started_ = true;
    first_arrival_ = arrival;
    restart(unwrapper_.unwrap(seq));
    in_order = true;
  } else {
    const int64_t u = unwrapper_.peek(seq);
    const int64_t delta = u - max_seq_;
    if (delta > 0 && delta < kMaxDropout) {
      in_order = true;
    } else if (delta <= 0 && -delta <= kMaxMisorder) {
      // Duplicate or reordered: counted as received (§A.3), no jitter sample.
    } else if (bad_seq_ && seq == *bad_seq_) {
      // Two sequential packets after a big jump: the sender restarted (§A.1).
      unwrapper_ = util::SeqUnwrapper<uint16_t>();
      restart(unwrapper_.unwrap(seq));
      in_order = true;
    } else {
      bad_seq_ = uint16_t(seq + 1);
      return;
    }
    const int64_t committed = unwrapper_.unwrap(seq);
    if (committed > max_seq_) max_seq_ = committed;
  }
  bad_seq_.reset();
  ++received_;

  if (!in_order) return;
  // §A.8: transit time in RTP units; only its differences matter, so the
  // arrival clock may start anywhere.
  const int64_t arrival_us = util::to_micros(arrival - first_arrival_);
  const uint32_t arrival_rtp = uint32_t(arrival_us * int64_t(clock_rate_) / 1'000'000);
  const uint32_t transit = arrival_rtp - rtp_timestamp;
  if (last_transit_) {
    const int64_t d = std::abs(int64_t(int32_t(transit - *last_transit_)));
    jitter_q4_ += d - ((jitter_q4_ + 8) >> 4);
  }
  last_transit_ = transit;
}

void ReceiveStats::on_sender_report(NtpTime ntp, util::Timestamp arrival) {
  last_sr_compact_ = ntp.compact();
  last_sr_arrival_ = arrival;
}

rtcp::ReportBlock ReceiveStats::report_block(util::Timestamp now) {
  rtcp::ReportBlock b;
  b.ssrc = ssrc_;
  if (started_) {
    // §A.3.
    const int64_t expected = packets_expected();
    const int64_t expected_interval = expected - expected_prior_;
    const int64_t received_interval = int64_t(received_ - received_prior_);
    const int64_t lost_interval = expected_interval - received_interval;
    expected_prior_ = expected;
    received_prior_ = received_;
    b.fraction_lost = (expected_interval == 0 || lost_interval <= 0)
                          ? 0
                          : uint8_t(std::min<int64_t>((lost_interval << 8) / expected_interval, 255));
    const int64_t lost = cumulative_lost();
    b.cumulative_lost = int32_t(std::clamp<int64_t>(lost, -0x800000, 0x7FFFFF));
    b.extended_highest_sequence = extended_highest_sequence();
    b.jitter = jitter();
  }
  if (last_sr_compact_) {
    b.last_sr = *last_sr_compact_;
    b.delay_since_last_sr = to_compact_ntp(now - last_sr_arrival_);
  }
  return b;
}

}  // namespace sb::rtp
