#pragma once
// NTP timestamps as carried in RTCP (RFC 3550 §4): 64-bit 32.32 fixed-point
// seconds since 1900-01-01, and the "compact" middle 32 bits (16.16) used for
// LSR/DLSR. The wall-clock value is always passed in; nothing here reads a clock.
#include <chrono>
#include <cstdint>

#include "util/Time.hpp"

namespace sb::rtp {

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
inline constexpr uint64_t kNtpUnixEpochOffset = 2'208'988'800ULL;

struct NtpTime {
  uint64_t value = 0;

  uint32_t seconds() const { return uint32_t(value >> 32); }
  uint32_t fraction() const { return uint32_t(value); }
  /// Middle 32 bits: what the LSR field of a report block carries (§6.4.1).
  uint32_t compact() const { return uint32_t(value >> 16); }

  static NtpTime from_parts(uint32_t seconds, uint32_t fraction) {
    return NtpTime{uint64_t(seconds) << 32 | fraction};
  }
  /// From time since the Unix epoch (a wall-clock reading taken by the caller).
  static NtpTime from_unix(std::chrono::microseconds since_unix_epoch);
  static NtpTime from_system_time(std::chrono::system_clock::time_point wall) {
    return from_unix(std::chrono::duration_cast<std::chrono::microseconds>(wall.time_since_epoch()));
  }
  std::chrono::microseconds to_unix() const;

  friend bool operator==(NtpTime a, NtpTime b) { return a.value == b.value; }
};

/// A duration in compact NTP units (1/65536 s), as in DLSR; saturates at the
/// 32-bit maximum and clamps negatives to 0.
uint32_t to_compact_ntp(util::Duration d);
util::Duration from_compact_ntp(uint32_t compact);

}  // namespace sb::rtp
