#pragma once
// Reception report block, RFC 3550 §6.4.1 (shared by SR and RR).
#include <cstddef>
#include <cstdint>
#include <optional>

#include "rtp/Types.hpp"
#include "rtp/rtcp/RecordList.hpp"
#include "util/Bytes.hpp"
#include "util/Time.hpp"

namespace sb::rtp::rtcp {

inline constexpr size_t kReportBlockSize = 24;
/// The 5-bit reception report count.
inline constexpr size_t kMaxReportBlocks = 31;

struct ReportBlock {
  Ssrc ssrc{};                            ///< source this block reports on
  uint8_t fraction_lost = 0;              ///< fixed point, lost/expected * 256
  int32_t cumulative_lost = 0;            ///< 24-bit signed on the wire
  uint32_t extended_highest_sequence = 0; ///< cycles << 16 | highest seq
  uint32_t jitter = 0;                    ///< RTP timestamp units
  uint32_t last_sr = 0;                   ///< LSR, compact NTP of the last SR
  uint32_t delay_since_last_sr = 0;       ///< DLSR, 1/65536 s

  friend bool operator==(const ReportBlock&, const ReportBlock&) = default;
};

ReportBlock decode_report_block(const uint8_t* p);
/// Clamps cumulative_lost to the 24-bit signed range.
void write_report_block(util::ByteWriter& w, const ReportBlock& block);

using ReportBlocks = RecordList<ReportBlock, kReportBlockSize, decode_report_block>;

/// RFC 3550 §6.4.1 round-trip time seen by the sender of the SR this block
/// refers to: now - LSR - DLSR, all in compact NTP. nullopt without an SR yet
/// (LSR 0) or when the result would be negative (clock trouble).
std::optional<util::Duration> round_trip_time(const ReportBlock& block, uint32_t compact_ntp_now);

}  // namespace sb::rtp::rtcp
