#include "stun/AddressAttribute.hpp"

#include <array>

namespace sb::stun {

namespace {

// cookie || transaction id: the xor mask for IPv6 (RFC 8489 §14.2).
std::array<uint8_t, 16> xor_mask(const TransactionId& tid) {
  std::array<uint8_t, 16> m{};
  util::store_be32(m.data(), kMagicCookie);
  std::memcpy(m.data() + 4, tid.bytes.data(), kTransactionIdSize);
  return m;
}

}  // namespace

std::optional<util::SocketAddr> decode_address_value(util::ByteView value, const TransactionId* xor_tid) {
  if (value.size() < 4) return std::nullopt;
  const uint8_t family = value[1];
  uint16_t port = util::load_be16(&value[2]);
  if (xor_tid) port = uint16_t(port ^ (kMagicCookie >> 16));
  if (family == kFamilyIpv4) {
    if (value.size() != 8) return std::nullopt;
    std::array<uint8_t, 4> ip{};
    for (size_t i = 0; i < 4; ++i) ip[i] = value[4 + i];
    if (xor_tid) {
      auto m = xor_mask(*xor_tid);
      for (size_t i = 0; i < 4; ++i) ip[i] ^= m[i];
    }
    return util::SocketAddr::v4(ip, port);
  }
  if (family == kFamilyIpv6) {
    if (value.size() != 20) return std::nullopt;
    std::array<uint8_t, 16> ip{};
    for (size_t i = 0; i < 16; ++i) ip[i] = value[4 + i];
    if (xor_tid) {
      auto m = xor_mask(*xor_tid);
      for (size_t i = 0; i < 16; ++i) ip[i] ^= m[i];
    }
    return util::SocketAddr::v6(ip, port);
  }
  return std::nullopt;
}

size_t encode_address_value(const util::SocketAddr& addr, const TransactionId* xor_tid, util::MutableBytes out) {
  const size_t ip_size = addr.ip_size();
  if (ip_size == 0 || out.size() < 4 + ip_size) return 0;
  out[0] = 0;
  out[1] = addr.is_v4() ? kFamilyIpv4 : kFamilyIpv6;
  uint16_t port = addr.port();
  if (xor_tid) port = uint16_t(port ^ (kMagicCookie >> 16));
  util::store_be16(&out[2], port);
  const auto& ip = addr.ip_bytes();
  std::array<uint8_t, 16> m{};
  if (xor_tid) m = xor_mask(*xor_tid);
  for (size_t i = 0; i < ip_size; ++i) out[4 + i] = uint8_t(ip[i] ^ m[i]);
  return 4 + ip_size;
}

}  // namespace sb::stun
