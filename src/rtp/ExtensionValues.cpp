#include "rtp/ExtensionValues.hpp"

namespace sb::rtp {

std::optional<uint16_t> read_transport_sequence(util::ByteView value) {
  if (value.size() != kTransportSequenceSize) return std::nullopt;
  return util::load_be16(value.data());
}

bool write_transport_sequence(util::MutableBytes value, uint16_t seq) {
  if (value.size() != kTransportSequenceSize) return false;
  util::store_be16(value.data(), seq);
  return true;
}

std::optional<uint32_t> read_abs_send_time(util::ByteView value) {
  if (value.size() != kAbsSendTimeSize) return std::nullopt;
  return util::load_be24(value.data());
}

bool write_abs_send_time(util::MutableBytes value, uint32_t abs_send_time_24) {
  if (value.size() != kAbsSendTimeSize) return false;
  util::store_be24(value.data(), abs_send_time_24 & 0xFFFFFF);
  return true;
}

uint32_t abs_send_time_from(util::Duration since_epoch) {
  // 2^18 units per second; the value wraps every 64 s.
  const int64_t us = util::to_micros(since_epoch);
  const uint64_t whole = uint64_t(us / 1'000'000);
  const uint64_t frac = uint64_t(us % 1'000'000);
  return uint32_t(((whole << 18) + (frac << 18) / 1'000'000) & 0xFFFFFF);
}

std::optional<AudioLevel> read_audio_level(util::ByteView value) {
  // Chromium sends 1 byte; a two-byte form may pad it, so accept a longer value.
  if (value.empty()) return std::nullopt;
  return AudioLevel{(value[0] & 0x80) != 0, uint8_t(value[0] & 0x7F)};
}

bool write_audio_level(util::MutableBytes value, AudioLevel level) {
  if (value.size() != kAudioLevelSize) return false;
  value[0] = uint8_t((level.voice_activity ? 0x80 : 0) | (level.level_dbov & 0x7F));
  return true;
}

std::optional<std::string_view> read_string_value(util::ByteView value) {
  size_t n = value.size();
  while (n > 0 && value[n - 1] == 0) --n;
  if (n == 0) return std::nullopt;
  return util::as_string(value.first(n));
}

}  // namespace sb::rtp
