#pragma once
// Writes one STUN message into a caller-owned buffer (RFC 8489 §5, §14).
//
//   MessageBuilder b(buf, MessageClass::kSuccessResponse, Method::kBinding, tid);
//   b.add_xor_mapped_address(from).add_message_integrity(key).add_fingerprint();
//   if (auto n = b.finish()) send(buf.first(*n));
//
// Errors (buffer too small, attributes after FINGERPRINT, anything but FINGERPRINT
// after MESSAGE-INTEGRITY, oversized values) are sticky: finish() returns nullopt.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "stun/Constants.hpp"
#include "stun/TransactionId.hpp"
#include "util/Bytes.hpp"
#include "util/SocketAddr.hpp"

namespace sb::stun {

class MessageBuilder {
 public:
  MessageBuilder(util::MutableBytes out, MessageClass cls, Method method, const TransactionId& tid);

  /// Any attribute; the value is padded to 4 bytes with zeros.
  MessageBuilder& add_attribute(uint16_t type, util::ByteView value);
  MessageBuilder& add_username(std::string_view username);
  MessageBuilder& add_software(std::string_view software);
  MessageBuilder& add_xor_mapped_address(const util::SocketAddr& addr);
  MessageBuilder& add_mapped_address(const util::SocketAddr& addr);
  MessageBuilder& add_priority(uint32_t priority);
  MessageBuilder& add_use_candidate();
  MessageBuilder& add_ice_controlling(uint64_t tie_breaker);
  MessageBuilder& add_ice_controlled(uint64_t tie_breaker);
  /// `code` 300..699 (RFC 8489 §14.8).
  MessageBuilder& add_error_code(uint16_t code, std::string_view reason);
  MessageBuilder& add_unknown_attributes(std::span<const uint16_t> types);
  /// HMAC-SHA1 with `key` over everything written so far (RFC 8489 §14.5).
  MessageBuilder& add_message_integrity(util::ByteView key);
  MessageBuilder& add_message_integrity(std::string_view password) {
    return add_message_integrity(util::as_bytes(password));
  }
  /// CRC-32 over everything written so far; must be the last attribute (§14.7).
  MessageBuilder& add_fingerprint();

  bool ok() const { return ok_ && w_.ok(); }
  /// Size of the finished message, or nullopt on any earlier failure.
  std::optional<size_t> finish() const;

 private:
  /// Writes the attribute header and reserves the padded value; returns where the
  /// value starts, or nullptr on failure.
  uint8_t* begin_attribute(uint16_t type, size_t len);
  void set_length(size_t body_len);

  util::ByteWriter w_;
  TransactionId tid_;
  bool ok_ = true;
  bool has_integrity_ = false;
  bool has_fingerprint_ = false;
};

}  // namespace sb::stun
