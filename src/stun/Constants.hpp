#pragma once
// STUN wire constants (RFC 8489 §5, §14, §18; ICE attributes from RFC 8445 §16.1).
#include <cstddef>
#include <cstdint>

namespace sb::stun {

inline constexpr uint32_t kMagicCookie = 0x2112A442;
inline constexpr size_t kHeaderSize = 20;
inline constexpr size_t kTransactionIdSize = 12;
inline constexpr size_t kAttributeHeaderSize = 4;
/// HMAC-SHA1 output carried in MESSAGE-INTEGRITY (RFC 8489 §14.5).
inline constexpr size_t kMessageIntegritySize = 20;
/// CRC-32 xor'd with this value in FINGERPRINT (RFC 8489 §14.7).
inline constexpr uint32_t kFingerprintXor = 0x5354554E;
/// Largest message we build; ICE checks and their answers are well under 200 bytes.
inline constexpr size_t kMaxMessageSize = 1280;
/// Bounds from RFC 8489 §14.3 (USERNAME < 513 bytes) and §14.8 (reason < 128 chars,
/// at most 763 bytes).
inline constexpr size_t kMaxUsernameSize = 512;
inline constexpr size_t kMaxReasonSize = 763;

enum class MessageClass : uint8_t {
  kRequest = 0,
  kIndication = 1,
  kSuccessResponse = 2,
  kErrorResponse = 3,
};

/// A 12-bit STUN method; the enum names the one ICE uses and holds any other value.
enum class Method : uint16_t {
  kBinding = 0x001,
};

/// Attribute types (RFC 8489 §18.3, RFC 8445 §16.1).
namespace attr {
inline constexpr uint16_t kMappedAddress = 0x0001;
inline constexpr uint16_t kUsername = 0x0006;
inline constexpr uint16_t kMessageIntegrity = 0x0008;
inline constexpr uint16_t kErrorCode = 0x0009;
inline constexpr uint16_t kUnknownAttributes = 0x000A;
inline constexpr uint16_t kRealm = 0x0014;
inline constexpr uint16_t kNonce = 0x0015;
inline constexpr uint16_t kMessageIntegritySha256 = 0x001C;
inline constexpr uint16_t kPasswordAlgorithm = 0x001D;
inline constexpr uint16_t kUserhash = 0x001E;
inline constexpr uint16_t kXorMappedAddress = 0x0020;
inline constexpr uint16_t kPriority = 0x0024;
inline constexpr uint16_t kUseCandidate = 0x0025;
inline constexpr uint16_t kPasswordAlgorithms = 0x8002;
inline constexpr uint16_t kAlternateDomain = 0x8003;
inline constexpr uint16_t kSoftware = 0x8022;
inline constexpr uint16_t kAlternateServer = 0x8023;
inline constexpr uint16_t kFingerprint = 0x8028;
inline constexpr uint16_t kIceControlled = 0x8029;
inline constexpr uint16_t kIceControlling = 0x802A;

/// Types 0x0000-0x7FFF are comprehension-required (RFC 8489 §14): an agent that
/// does not know one must reject a request carrying it.
inline constexpr bool is_comprehension_required(uint16_t type) { return type < 0x8000; }
}  // namespace attr

/// Error codes used by ICE (RFC 8489 §14.8, RFC 8445 §7.3.1.1).
namespace error {
inline constexpr uint16_t kBadRequest = 400;
inline constexpr uint16_t kUnauthorized = 401;
inline constexpr uint16_t kUnknownAttribute = 420;
inline constexpr uint16_t kRoleConflict = 487;
inline constexpr uint16_t kServerError = 500;
}  // namespace error

/// Encodes class and method into the 14-bit message type (RFC 8489 §5, figure 3:
/// the class bits C1 and C0 sit at bits 8 and 4, between the method bits).
inline constexpr uint16_t message_type(MessageClass c, Method m) {
  auto mv = uint16_t(uint16_t(m) & 0x0FFF);
  auto cv = uint16_t(c);
  return uint16_t((mv & 0x000F) | ((mv & 0x0070) << 1) | ((mv & 0x0F80) << 2) | ((cv & 1) << 4) |
                  ((cv & 2) << 7));
}
inline constexpr MessageClass class_of(uint16_t type) {
  return MessageClass(((type >> 4) & 1) | ((type >> 7) & 2));
}
inline constexpr Method method_of(uint16_t type) {
  return Method((type & 0x000F) | ((type >> 1) & 0x0070) | ((type >> 2) & 0x0F80));
}

}  // namespace sb::stun
