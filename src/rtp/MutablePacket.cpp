#include "rtp/MutablePacket.hpp"

#include <cstring>

namespace sb::rtp {

Parsed<MutablePacket> MutablePacket::parse(util::MutableBytes data) {
  auto view = PacketView::parse(data);
  if (!view) return view.error();
  return MutablePacket(data, *view);
}

std::optional<MutablePacket> MutablePacket::copy_from(const PacketView& src, util::MutableBytes buffer) {
  if (buffer.size() < src.size()) return std::nullopt;
  std::memcpy(buffer.data(), src.data().data(), src.size());
  PacketView view = src;
  view.data_ = buffer.first(src.size());
  return MutablePacket(buffer.first(src.size()), view);
}

std::optional<util::MutableBytes> MutablePacket::find_extension(uint8_t id) const {
  if (id == 0) return std::nullopt;
  const ExtensionProfile profile = profile_of(view_.extension_profile_id());
  util::MutableBytes elements = extension_elements();
  size_t offset = 0;
  while (auto pos = next_extension_element(profile, elements, offset)) {
    if (pos->id == id) return elements.subspan(pos->value_offset, pos->value_size);
    offset = pos->value_offset + pos->value_size;
  }
  return std::nullopt;
}

}  // namespace sb::rtp
