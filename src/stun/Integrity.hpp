#pragma once
// MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489 §14.5) and FINGERPRINT (CRC-32, §14.7).
#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>

#include "stun/Constants.hpp"
#include "stun/Message.hpp"
#include "util/Bytes.hpp"

namespace sb::stun {

using IntegrityTag = std::array<uint8_t, kMessageIntegritySize>;

/// HMAC-SHA1 over the concatenation of `parts`. nullopt only if OpenSSL fails or
/// the key is empty (ICE passwords never are).
std::optional<IntegrityTag> hmac_sha1(util::ByteView key, std::initializer_list<util::ByteView> parts);

/// Checks MESSAGE-INTEGRITY: the HMAC covers the message up to the attribute, with
/// the header length rewritten to end just after it (so a FINGERPRINT added later
/// does not change the input). Constant-time compare. False if absent.
/// Short-term credentials (ICE): the key is the password itself (RFC 8489 §9.1.1).
bool verify_message_integrity(const Message& msg, util::ByteView key);
inline bool verify_message_integrity(const Message& msg, std::string_view password) {
  return verify_message_integrity(msg, util::as_bytes(password));
}

/// The FINGERPRINT value for the message bytes that precede the attribute (their
/// header length already counting the attribute).
uint32_t compute_fingerprint(util::ByteView bytes_before);
/// Checks FINGERPRINT; false if absent.
bool verify_fingerprint(const Message& msg);

/// Long-term credential key, MD5(username ":" realm ":" password) (RFC 8489 §9.2.2),
/// with the strings already in their SASLprep/OpaqueString form.
std::array<uint8_t, 16> long_term_key(std::string_view username, std::string_view realm, std::string_view password);

}  // namespace sb::stun
