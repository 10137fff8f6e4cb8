#pragma once
// Time is an argument in the protocol core (sans-IO): nothing below net/ reads a clock.
#include <chrono>
#include <cstdint>

namespace sb::util {

using Clock = std::chrono::steady_clock;
using Timestamp = Clock::time_point;
using Duration = Clock::duration;

/// A deadline that never fires; the neutral element of "earliest deadline".
inline constexpr Timestamp kNever = Timestamp::max();

inline constexpr Timestamp earliest(Timestamp a, Timestamp b) { return a < b ? a : b; }

inline int64_t to_micros(Duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}
inline int64_t to_millis(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace sb::util
