#pragma once
// Translates header extension ids between what a publisher negotiated and what a
// subscriber negotiated (the same URI may carry different ids on each side).
#include <array>
#include <cstddef>
#include <cstdint>

namespace sb::rtp {

class MutablePacket;

class ExtensionIdMap {
 public:
  /// Every id maps to 0: all extensions are dropped until set.
  ExtensionIdMap() = default;
  /// Every id maps to itself.
  static ExtensionIdMap identity();

  /// `to` == 0 drops elements with id `from`.
  void set(uint8_t from, uint8_t to) { map_[from] = to; }
  uint8_t map(uint8_t from) const { return map_[from]; }

 private:
  std::array<uint8_t, 256> map_{};
};

/// Rewrites the RFC 8285 element ids of `packet` in place. Elements whose id maps
/// to 0 (or, in the one-byte form, to an id above 14 that cannot be encoded) are
/// overwritten with padding bytes, which every parser skips (RFC 8285 §4.1); the
/// packet keeps its size. Returns the number of elements kept.
size_t remap_extension_ids(MutablePacket& packet, const ExtensionIdMap& map);

}  // namespace sb::rtp
