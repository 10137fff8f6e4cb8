#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "util/Bytes.hpp"

namespace sb::util {

/// Lower-case hex, no separators.
std::string to_hex(ByteView b);
/// Parses hex, ignoring ':' and whitespace between bytes (test vectors, fingerprints).
std::optional<Bytes> from_hex(std::string_view s);

}  // namespace sb::util
