#include "rtp/ExtensionBlock.hpp"

namespace sb::rtp {

ExtensionProfile profile_of(uint16_t defined_by_profile) {
  if (defined_by_profile == kOneByteProfile) return ExtensionProfile::kOneByte;
  if ((defined_by_profile & kTwoByteProfileMask) == kTwoByteProfile) return ExtensionProfile::kTwoByte;
  return ExtensionProfile::kNone;
}

std::optional<ExtensionElementPos> next_extension_element(ExtensionProfile profile,
                                                          util::ByteView elements, size_t offset,
                                                          bool* overrun) {
  if (overrun) *overrun = false;
  if (profile == ExtensionProfile::kNone) return std::nullopt;
  while (offset < elements.size()) {
    const uint8_t b = elements[offset];
    if (b == 0) {  // padding byte, RFC 8285 §4.1
      ++offset;
      continue;
    }
    ExtensionElementPos pos;
    pos.header_offset = offset;
    if (profile == ExtensionProfile::kOneByte) {
      pos.id = uint8_t(b >> 4);
      if (pos.id == 0) {  // id 0 with a non-zero length nibble: still padding
        ++offset;
        continue;
      }
      if (pos.id == 15) return std::nullopt;  // §4.2: stop processing here
      pos.value_offset = offset + 1;
      pos.value_size = size_t(b & 0x0F) + 1;
    } else {
      if (offset + 2 > elements.size()) {
        if (overrun) *overrun = true;
        return std::nullopt;
      }
      pos.id = b;
      pos.value_offset = offset + 2;
      pos.value_size = elements[offset + 1];
    }
    if (pos.value_offset + pos.value_size > elements.size()) {
      if (overrun) *overrun = true;
      return std::nullopt;
    }
    return pos;
  }
  return std::nullopt;
}

bool ExtensionBlock::validate(uint16_t defined_by_profile, util::ByteView elements) {
  const ExtensionProfile profile = profile_of(defined_by_profile);
  size_t offset = 0;
  bool overrun = false;
  while (auto pos = next_extension_element(profile, elements, offset, &overrun)) {
    offset = pos->value_offset + pos->value_size;
  }
  return !overrun;
}

std::optional<util::ByteView> ExtensionBlock::find(uint8_t id) const {
  if (id == 0) return std::nullopt;
  for (const HeaderExtension& e : *this) {
    if (e.id == id) return e.value;
  }
  return std::nullopt;
}

ExtensionBlock::Iterator ExtensionBlock::begin() const {
  return Iterator(profile_, elements_, next_extension_element(profile_, elements_, 0));
}

HeaderExtension ExtensionBlock::Iterator::operator*() const {
  return HeaderExtension{pos_.id, elements_.subspan(pos_.value_offset, pos_.value_size)};
}

ExtensionBlock::Iterator& ExtensionBlock::Iterator::operator++() {
  if (!valid_) return *this;
  auto next = next_extension_element(profile_, elements_, pos_.value_offset + pos_.value_size);
  valid_ = next.has_value();
  if (valid_) pos_ = *next;
  return *this;
}

}  // namespace sb::rtp
