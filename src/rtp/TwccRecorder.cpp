#include "rtp/TwccRecorder.hpp"

#include <algorithm>

namespace sb::rtp {

namespace {
// RFC 4585 §6.1 header, then base sequence number and packet status count.
constexpr size_t kStatusCountOffset = rtcp::kFeedbackHeaderSize + 2;
}  // namespace

void TwccRecorder::on_packet(util::Timestamp arrival, uint16_t transport_seq) {
  const int64_t u = unwrapper_.unwrap(transport_seq);
  if (!started_) {
    started_ = true;
    next_report_seq_ = u;
    last_feedback_ = arrival;
    next_feedback_ = arrival + first_delay_;
  } else if (count_ == 0) {
    // Nothing was pending (the publisher paused): slots that passed meanwhile
    // had nothing to report, and this arrival waits for the next one.
    skip_slots_until(arrival);
  }
  if (u < next_report_seq_) {
    ++stats_.ignored;
    return;
  }
  // Arrivals come mostly in order: find the place from the back.
  size_t pos = count_ + 1;
  while (pos > 1 && unwrapped_[pos - 1] > u) --pos;
  if (pos > 1 && unwrapped_[pos - 1] == u) {
    ++stats_.ignored;
    return;
  }
  if (count_ == kMaxPending) {
    if (pos == 1) {  // older than all of a full window: the one to drop anyway
      ++stats_.dropped;
      return;
    }
    drop_front(1);
    ++stats_.dropped;
    --pos;
  }
  for (size_t i = count_ + 1; i > pos; --i) {
    entries_[i] = entries_[i - 1];
    unwrapped_[i] = unwrapped_[i - 1];
  }
  entries_[pos] = rtcp::TwccEntry{transport_seq, arrival};
  unwrapped_[pos] = u;
  ++count_;
}

void TwccRecorder::drop_front(size_t n) {
  // Pending arrivals dropped unreported: the feedback moves past them.
  next_report_seq_ = std::max(next_report_seq_, unwrapped_[n] + 1);
  std::copy(entries_.begin() + 1 + n, entries_.begin() + 1 + count_, entries_.begin() + 1);
  std::copy(unwrapped_.begin() + 1 + n, unwrapped_.begin() + 1 + count_, unwrapped_.begin() + 1);
  count_ -= n;
}

void TwccRecorder::skip_slots_until(util::Timestamp t) {
  if (next_feedback_ > t) return;
  next_feedback_ += kInterval * ((t - next_feedback_) / kInterval + 1);
}

bool TwccRecorder::due(util::Timestamp now) const {
  return count_ > 0 && (flush_ || count_ >= kEarlyFeedbackCount || now >= next_feedback_);
}

size_t TwccRecorder::poll_feedback(util::Timestamp now, Ssrc sender_ssrc, Ssrc media_ssrc, util::MutableBytes out) {
  if (!due(now)) return 0;
  // Sequence numbers lost since the previous feedback go first, as a "not
  // received" base entry in front of the first arrival.
  const int64_t gap = unwrapped_[1] - next_report_seq_;
  const bool lost_base = gap > 0 && gap <= kMaxReportedGap;
  const int64_t base = lost_base ? next_report_seq_ : unwrapped_[1];
  entries_[0] = rtcp::TwccEntry{uint16_t(base), std::nullopt};
  const std::span<const rtcp::TwccEntry> entries(&entries_[lost_base ? 0 : 1], count_ + (lost_base ? 1 : 0));

  const size_t n = rtcp::TransportFeedback::write(out, sender_ssrc, media_ssrc, feedback_count_, entries);
  if (n == 0) return 0;
  // The statuses written may end inside a run of lost packets, past the last
  // arrival written: the header says how far this feedback reached.
  const int64_t covered = util::load_be16(&out[kStatusCountOffset]);
  next_report_seq_ = base + covered;
  size_t done = 0;
  while (done < count_ && unwrapped_[1 + done] < next_report_seq_) ++done;
  if (done > 0) drop_front(done);
  ++feedback_count_;
  ++stats_.feedback_sent;
  last_feedback_ = now;
  // The next slot is on the grid, not kInterval after `now`: feedback sent late
  // (the worker was busy) does not shift this publisher's phase. A slot less
  // than half an interval away is skipped, so feedback stays 25–75 ms apart.
  skip_slots_until(now + kInterval / 2);
  flush_ = count_ > 0;  // stopped early: space, or a delta beyond 16 bits
  return n;
}

util::Timestamp TwccRecorder::poll_timeout() const {
  if (count_ == 0) return util::kNever;
  if (flush_ || count_ >= kEarlyFeedbackCount) return last_feedback_;
  return next_feedback_;
}

}  // namespace sb::rtp
