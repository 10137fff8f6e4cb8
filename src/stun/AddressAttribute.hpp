#pragma once
// Value encoding of MAPPED-ADDRESS and XOR-MAPPED-ADDRESS (RFC 8489 §14.1, §14.2).
// The XOR form hides the address from middleboxes that rewrite addresses in payloads:
// the port is xor'd with the top 16 bits of the magic cookie, an IPv4 address with
// the cookie, an IPv6 address with cookie || transaction id.
#include <cstddef>
#include <optional>

#include "stun/TransactionId.hpp"
#include "util/Bytes.hpp"
#include "util/SocketAddr.hpp"

namespace sb::stun {

inline constexpr uint8_t kFamilyIpv4 = 0x01;
inline constexpr uint8_t kFamilyIpv6 = 0x02;

/// Decodes an address attribute value; `xor_tid` selects the XOR form. Rejects
/// unknown families and lengths that do not match the family.
std::optional<util::SocketAddr> decode_address_value(util::ByteView value, const TransactionId* xor_tid);

/// Writes the value (8 bytes for IPv4, 20 for IPv6) into `out`; returns the size
/// written, 0 if the address is empty or `out` too small.
size_t encode_address_value(const util::SocketAddr& addr, const TransactionId* xor_tid, util::MutableBytes out);

}  // namespace sb::stun
