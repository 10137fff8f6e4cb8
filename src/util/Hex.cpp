#include "util/Hex.hpp"

namespace sb::util {

std::string to_hex(ByteView b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(b.size() * 2);
  for (uint8_t c : b) {
    s.push_back(kDigits[c >> 4]);
    s.push_back(kDigits[c & 15]);
  }
  return s;
}

std::optional<Bytes> from_hex(std::string_view s) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Bytes out;
  int hi = -1;
  for (char c : s) {
    if (c == ':' || c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      if (hi >= 0) return std::nullopt;
      continue;
    }
    int n = nibble(c);
    if (n < 0) return std::nullopt;
    if (hi < 0) hi = n;
    else { out.push_back(uint8_t(hi << 4 | n)); hi = -1; }
  }
  if (hi >= 0) return std::nullopt;
  return out;
}

}  // namespace sb::util
