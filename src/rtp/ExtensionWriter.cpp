#include "rtp/ExtensionWriter.hpp"

#include <cstring>

#include "rtp/ExtensionValues.hpp"

namespace sb::rtp {

ExtensionWriter::ExtensionWriter(util::MutableBytes out, ExtensionProfile profile)
    : out_(out), profile_(profile) {
  ok_ = out.size() >= 4 && profile != ExtensionProfile::kNone;
}

bool ExtensionWriter::add(uint8_t id, util::ByteView value) {
  if (!ok_) return false;
  size_t header = 0;
  if (profile_ == ExtensionProfile::kOneByte) {
    ok_ = id >= 1 && id <= kMaxOneByteId && !value.empty() && value.size() <= kMaxOneByteValueSize;
    header = 1;
  } else {
    ok_ = id >= 1 && value.size() <= kMaxTwoByteValueSize;
    header = 2;
  }
  ok_ = ok_ && !finished_ && out_.size() - pos_ >= header + value.size();
  if (!ok_) return false;
  if (profile_ == ExtensionProfile::kOneByte) {
    out_[pos_++] = uint8_t(id << 4 | (value.size() - 1));
  } else {
    out_[pos_++] = id;
    out_[pos_++] = uint8_t(value.size());
  }
  if (!value.empty()) std::memcpy(&out_[pos_], value.data(), value.size());
  pos_ += value.size();
  ++count_;
  return true;
}

bool ExtensionWriter::add_transport_sequence(uint8_t id, uint16_t seq) {
  uint8_t v[kTransportSequenceSize];
  util::store_be16(v, seq);
  return add(id, v);
}

bool ExtensionWriter::add_abs_send_time(uint8_t id, uint32_t abs_send_time_24) {
  uint8_t v[kAbsSendTimeSize];
  util::store_be24(v, abs_send_time_24 & 0xFFFFFF);
  return add(id, v);
}

bool ExtensionWriter::add_audio_level(uint8_t id, bool voice_activity, uint8_t level_dbov) {
  uint8_t v[kAudioLevelSize];
  write_audio_level(v, AudioLevel{voice_activity, level_dbov});
  return add(id, v);
}

bool ExtensionWriter::add_string(uint8_t id, std::string_view value) {
  return add(id, util::as_bytes(value));
}

size_t ExtensionWriter::finish() {
  if (finished_) return pos_;
  if (!ok_ || count_ == 0) return 0;
  const size_t padded = (pos_ + 3) & ~size_t(3);
  if (padded > out_.size() || (padded - 4) / 4 > 0xFFFF) {
    ok_ = false;
    return 0;
  }
  std::memset(&out_[pos_], 0, padded - pos_);
  const uint16_t profile_id = profile_ == ExtensionProfile::kOneByte ? kOneByteProfile : kTwoByteProfile;
  util::store_be16(&out_[0], profile_id);
  util::store_be16(&out_[2], uint16_t((padded - 4) / 4));
  pos_ = padded;
  finished_ = true;
  return padded;
}

}  // namespace sb::rtp
