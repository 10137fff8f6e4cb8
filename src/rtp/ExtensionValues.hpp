#pragma once
// Encodings of the header extension values an SFU reads and writes. Readers
// return nullopt when the value has the wrong size.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "rtp/NtpTime.hpp"
#include "util/Bytes.hpp"
#include "util/Time.hpp"

namespace sb::rtp {

// Transport-wide sequence number, draft-holmer-rmcat-transport-wide-cc-extensions-01 §2.
inline constexpr size_t kTransportSequenceSize = 2;
std::optional<uint16_t> read_transport_sequence(util::ByteView value);
bool write_transport_sequence(util::MutableBytes value, uint16_t seq);

// abs-send-time: 24-bit 6.18 fixed-point seconds (webrtc.org abs-send-time).
inline constexpr size_t kAbsSendTimeSize = 3;
std::optional<uint32_t> read_abs_send_time(util::ByteView value);
bool write_abs_send_time(util::MutableBytes value, uint32_t abs_send_time_24);
/// The 24-bit value for a send time on any clock (only differences matter).
uint32_t abs_send_time_from(util::Duration since_epoch);
/// Same, from NTP time: the bits 14..37 of the 32.32 value.
inline uint32_t abs_send_time_from(NtpTime ntp) { return uint32_t(ntp.value >> 14) & 0xFFFFFF; }

// Client-to-mixer audio level, RFC 6464 §3: V bit + level in -dBov (0..127).
struct AudioLevel {
  bool voice_activity = false;
  uint8_t level_dbov = 127;  ///< 0 = loudest, 127 = silence
};
inline constexpr size_t kAudioLevelSize = 1;
std::optional<AudioLevel> read_audio_level(util::ByteView value);
bool write_audio_level(util::MutableBytes value, AudioLevel level);

// SDES-carried strings: mid (RFC 8843 §15.2), rtp-stream-id and repaired-rtp-
// stream-id (RFC 8852 §3). Senders may pad with trailing NUL bytes; we drop them.
std::optional<std::string_view> read_string_value(util::ByteView value);

}  // namespace sb::rtp
