#pragma once
// CRC-32 (ISO-HDLC / IEEE 802.3: reflected polynomial 0xEDB88320, init and final
// xor 0xFFFFFFFF), as FINGERPRINT requires (RFC 8489 §14.7).
#include <cstdint>

#include "util/Bytes.hpp"

namespace sb::stun {

uint32_t crc32(util::ByteView data);
/// Continues a running CRC: crc32(a ++ b) == crc32_update(crc32(a), b).
uint32_t crc32_update(uint32_t crc, util::ByteView data);

}  // namespace sb::stun
