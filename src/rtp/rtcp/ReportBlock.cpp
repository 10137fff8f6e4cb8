#include "rtp/rtcp/ReportBlock.hpp"

#include <algorithm>

#include "rtp/NtpTime.hpp"

namespace sb::rtp::rtcp {

namespace {
constexpr int32_t kMaxCumulativeLost = 0x7FFFFF;
constexpr int32_t kMinCumulativeLost = -0x800000;
}  // namespace

ReportBlock decode_report_block(const uint8_t* p) {
  ReportBlock b;
  b.ssrc = Ssrc{util::load_be32(p)};
  b.fraction_lost = p[4];
  uint32_t lost = util::load_be24(p + 5);
  if (lost & 0x800000) lost |= 0xFF000000;  // sign-extend the 24-bit field
  b.cumulative_lost = int32_t(lost);
  b.extended_highest_sequence = util::load_be32(p + 8);
  b.jitter = util::load_be32(p + 12);
  b.last_sr = util::load_be32(p + 16);
  b.delay_since_last_sr = util::load_be32(p + 20);
  return b;
}

void write_report_block(util::ByteWriter& w, const ReportBlock& b) {
  w.u32(uint32_t(b.ssrc));
  w.u8(b.fraction_lost);
  const int32_t lost = std::clamp(b.cumulative_lost, kMinCumulativeLost, kMaxCumulativeLost);
  w.u24(uint32_t(lost) & 0xFFFFFF);
  w.u32(b.extended_highest_sequence);
  w.u32(b.jitter);
  w.u32(b.last_sr);
  w.u32(b.delay_since_last_sr);
}

std::optional<util::Duration> round_trip_time(const ReportBlock& block, uint32_t compact_ntp_now) {
  if (block.last_sr == 0) return std::nullopt;
  const uint32_t rtt = compact_ntp_now - block.last_sr - block.delay_since_last_sr;
  if (rtt >= 0x80000000U) return std::nullopt;  // negative in wrapping arithmetic
  return from_compact_ntp(rtt);
}

}  // namespace sb::rtp::rtcp
