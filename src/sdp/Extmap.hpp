#pragma once
// `a=extmap:<id>[/<direction>] <uri> [<attributes>]` (RFC 8285 §7).
#include <cstdint>
#include <optional>
#include <string>

#include "sdp/Direction.hpp"

namespace sb::sdp {

/// Valid ids: 1-14 (one-byte header), up to 255 (two-byte header), and
/// 4096-4351 which RFC 8285 §7 reserves for offers that leave the choice to the answerer.
constexpr bool is_valid_extmap_id(uint32_t id) {
  return (id >= 1 && id <= 255) || (id >= 4096 && id <= 4351);
}

struct Extmap {
  uint16_t id = 0;
  std::optional<Direction> direction;
  std::string uri;
  std::string attributes;  ///< extension attributes as written; usually empty
  bool operator==(const Extmap&) const = default;
};

}  // namespace sb::sdp
