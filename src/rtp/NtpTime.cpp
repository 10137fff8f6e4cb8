#include "rtp/NtpTime.hpp"

namespace sb::rtp {

NtpTime NtpTime::from_unix(std::chrono::microseconds since_unix_epoch) {
  const int64_t us = since_unix_epoch.count();
  const int64_t secs = us >= 0 ? us / 1'000'000 : (us - 999'999) / 1'000'000;
  const uint64_t rem_us = uint64_t(us - secs * 1'000'000);
  const uint64_t ntp_secs = uint64_t(secs) + kNtpUnixEpochOffset;
  // Round to the nearest 2^-32 s so that to_unix() gives the microseconds back.
  const uint64_t frac = ((rem_us << 32) + 500'000) / 1'000'000;
  return NtpTime{(ntp_secs << 32) + frac};
}

std::chrono::microseconds NtpTime::to_unix() const {
  const int64_t secs = int64_t(seconds()) - int64_t(kNtpUnixEpochOffset);
  const int64_t us = int64_t((uint64_t(fraction()) * 1'000'000 + (uint64_t(1) << 31)) >> 32);
  return std::chrono::microseconds(secs * 1'000'000 + us);
}

uint32_t to_compact_ntp(util::Duration d) {
  const int64_t us = util::to_micros(d);
  if (us <= 0) return 0;
  const uint64_t v = (uint64_t(us) * 65536 + 500'000) / 1'000'000;
  return v > 0xFFFFFFFFULL ? 0xFFFFFFFFU : uint32_t(v);
}

util::Duration from_compact_ntp(uint32_t compact) {
  const int64_t us = int64_t((uint64_t(compact) * 1'000'000 + 32768) >> 16);
  return std::chrono::duration_cast<util::Duration>(std::chrono::microseconds(us));
}

}  // namespace sb::rtp
