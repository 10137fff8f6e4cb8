#include "rtp/ExtensionIdMap.hpp"

#include <cstring>

#include "rtp/MutablePacket.hpp"

namespace sb::rtp {

ExtensionIdMap ExtensionIdMap::identity() {
  ExtensionIdMap m;
  for (size_t i = 0; i < m.map_.size(); ++i) m.map_[i] = uint8_t(i);
  return m;
}

size_t remap_extension_ids(MutablePacket& packet, const ExtensionIdMap& map) {
  const ExtensionProfile profile = profile_of(packet.view().extension_profile_id());
  util::MutableBytes elements = packet.extension_elements();
  size_t kept = 0;
  size_t offset = 0;
  while (auto pos = next_extension_element(profile, elements, offset)) {
    offset = pos->value_offset + pos->value_size;
    const uint8_t to = map.map(pos->id);
    const bool fits = profile == ExtensionProfile::kTwoByte || to <= kMaxOneByteId;
    if (to == 0 || !fits) {
      std::memset(&elements[pos->header_offset], 0, offset - pos->header_offset);
      continue;
    }
    if (profile == ExtensionProfile::kOneByte) {
      elements[pos->header_offset] = uint8_t(to << 4 | (elements[pos->header_offset] & 0x0F));
    } else {
      elements[pos->header_offset] = to;
    }
    ++kept;
  }
  return kept;
}

}  // namespace sb::rtp
