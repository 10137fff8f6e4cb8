#include "rtp/NackGenerator.hpp"

#include <algorithm>

namespace sb::rtp {

bool NackGenerator::on_packet(util::Timestamp now, uint16_t seq) {
  if (!highest_) {
    highest_ = unwrapper_.unwrap(seq);
    return false;
  }
  const int64_t u = unwrapper_.peek(seq);
  const int64_t diff = u - *highest_;
  if (diff > int64_t(kMaxGap)) {
    restart(seq);
    return false;
  }
  if (diff < -int64_t(kMaxGap)) {
    // Far behind: a stray old packet, or a source that restarted lower down.
    // Believe the restart once two consecutive packets agree.
    if (restart_candidate_ && *restart_candidate_ == seq) {
      restart(seq);
    } else {
      restart_candidate_ = uint16_t(seq + 1);
    }
    return false;
  }
  restart_candidate_.reset();
  unwrapper_.unwrap(seq);
  if (diff == 0) return false;  // duplicate of the newest
  if (diff < 0) {
    // Reordered or retransmitted: fills a hole, or is a duplicate of an old one.
    if (!remove_missing(u)) return false;
    ++stats_.recovered;
    return true;
  }
  // Everything between the previous highest and this packet is missing; only
  // the newest kMaxMissing of a long gap can be tracked.
  const int64_t first = std::max(*highest_ + 1, u - int64_t(kMaxMissing));
  stats_.given_up += uint64_t(first - (*highest_ + 1));
  for (int64_t s = first; s < u; ++s) push_missing(now, s);
  highest_ = u;
  return false;
}

void NackGenerator::set_rtt(util::Duration rtt) { resend_interval_ = std::max(rtt, kMinResendInterval); }

void NackGenerator::reset() {
  unwrapper_ = {};
  highest_.reset();
  restart_candidate_.reset();
  head_ = 0;
  count_ = 0;
}

void NackGenerator::restart(uint16_t seq) {
  ++stats_.restarts;
  stats_.given_up += count_;
  reset();
  highest_ = unwrapper_.unwrap(seq);
}

void NackGenerator::push_missing(util::Timestamp now, int64_t seq) {
  if (count_ == kMaxMissing) {
    head_ = (head_ + 1) & (kMaxMissing - 1);
    --count_;
    ++stats_.given_up;
  }
  Missing& m = at(count_);
  m.seq = seq;
  m.detected = now;
  m.last_sent = {};
  m.retries = 0;
  ++count_;
}

bool NackGenerator::remove_missing(int64_t seq) {
  // Entries are sorted by sequence number: binary search, then close the gap
  // (at most kMaxMissing moves, and only for a packet that was missing).
  size_t lo = 0;
  size_t hi = count_;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (at(mid).seq < seq) lo = mid + 1;
    else hi = mid;
  }
  if (lo == count_ || at(lo).seq != seq) return false;
  for (size_t i = lo; i + 1 < count_; ++i) at(i) = at(i + 1);
  --count_;
  return true;
}

size_t NackGenerator::poll_nacks(util::Timestamp now, std::span<uint16_t> out) {
  size_t written = 0;
  size_t kept = 0;
  // One pass that requests what is due and compacts away what is given up.
  for (size_t i = 0; i < count_; ++i) {
    Missing m = at(i);
    const bool due = m.retries == 0 || now - m.last_sent >= resend_interval_;
    if (now - m.detected >= kMaxAge || (due && m.retries >= kMaxRetries)) {
      ++stats_.given_up;
      continue;
    }
    if (due && written < out.size()) {
      out[written++] = uint16_t(m.seq);
      m.last_sent = now;
      ++m.retries;
      ++stats_.nacks_sent;
    }
    at(kept++) = m;
  }
  count_ = kept;
  return written;
}

util::Timestamp NackGenerator::poll_timeout() const {
  util::Timestamp next = util::kNever;
  for (size_t i = 0; i < count_; ++i) {
    const Missing& m = at(i);
    // Due now if never requested; otherwise one interval after the last
    // request (when it is either requested again or given up).
    const util::Timestamp due = m.retries == 0 ? m.detected : m.last_sent + resend_interval_;
    next = util::earliest(next, util::earliest(due, m.detected + kMaxAge));
  }
  return next;
}

}  // namespace sb::rtp
