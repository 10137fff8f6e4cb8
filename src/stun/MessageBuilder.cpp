#include "stun/MessageBuilder.hpp"

#include <array>

#include "stun/AddressAttribute.hpp"
#include "stun/Integrity.hpp"

namespace sb::stun {

MessageBuilder::MessageBuilder(util::MutableBytes out, MessageClass cls, Method method, const TransactionId& tid)
    : w_(out), tid_(tid) {
  if (uint16_t(method) > 0x0FFF) ok_ = false;
  w_.u16(message_type(cls, method));
  w_.u16(0);
  w_.u32(kMagicCookie);
  w_.bytes(tid.bytes);
}

void MessageBuilder::set_length(size_t body_len) { w_.patch_u16(2, uint16_t(body_len)); }

uint8_t* MessageBuilder::begin_attribute(uint16_t type, size_t len) {
  // Only FINGERPRINT may follow MESSAGE-INTEGRITY, and nothing follows FINGERPRINT.
  if (has_fingerprint_ || (has_integrity_ && type != attr::kFingerprint)) ok_ = false;
  const size_t padded = (len + 3) & ~size_t(3);
  if (len > 0xFFFF || w_.size() + kAttributeHeaderSize + padded - kHeaderSize > 0xFFFF) ok_ = false;
  if (!ok()) return nullptr;
  w_.u16(type);
  w_.u16(uint16_t(len));
  const size_t at = w_.size();
  w_.zeros(padded);
  if (!w_.ok()) return nullptr;
  set_length(w_.size() - kHeaderSize);
  return w_.data() + at;
}

MessageBuilder& MessageBuilder::add_attribute(uint16_t type, util::ByteView value) {
  if (uint8_t* p = begin_attribute(type, value.size()); p && !value.empty()) std::memcpy(p, value.data(), value.size());
  return *this;
}

MessageBuilder& MessageBuilder::add_username(std::string_view username) {
  if (username.size() > kMaxUsernameSize) ok_ = false;
  return add_attribute(attr::kUsername, util::as_bytes(username));
}

MessageBuilder& MessageBuilder::add_software(std::string_view software) {
  if (software.size() > kMaxReasonSize) ok_ = false;
  return add_attribute(attr::kSoftware, util::as_bytes(software));
}

MessageBuilder& MessageBuilder::add_xor_mapped_address(const util::SocketAddr& addr) {
  std::array<uint8_t, 20> v{};
  const size_t n = encode_address_value(addr, &tid_, v);
  if (n == 0) ok_ = false;
  return add_attribute(attr::kXorMappedAddress, util::ByteView(v).first(n));
}

MessageBuilder& MessageBuilder::add_mapped_address(const util::SocketAddr& addr) {
  std::array<uint8_t, 20> v{};
  const size_t n = encode_address_value(addr, nullptr, v);
  if (n == 0) ok_ = false;
  return add_attribute(attr::kMappedAddress, util::ByteView(v).first(n));
}

MessageBuilder& MessageBuilder::add_priority(uint32_t priority) {
  if (uint8_t* p = begin_attribute(attr::kPriority, 4)) util::store_be32(p, priority);
  return *this;
}

MessageBuilder& MessageBuilder::add_use_candidate() {
  begin_attribute(attr::kUseCandidate, 0);
  return *this;
}

MessageBuilder& MessageBuilder::add_ice_controlling(uint64_t tie_breaker) {
  if (uint8_t* p = begin_attribute(attr::kIceControlling, 8)) util::store_be64(p, tie_breaker);
  return *this;
}

MessageBuilder& MessageBuilder::add_ice_controlled(uint64_t tie_breaker) {
  if (uint8_t* p = begin_attribute(attr::kIceControlled, 8)) util::store_be64(p, tie_breaker);
  return *this;
}

MessageBuilder& MessageBuilder::add_error_code(uint16_t code, std::string_view reason) {
  if (code < 300 || code > 699 || reason.size() > kMaxReasonSize) {
    ok_ = false;
    return *this;
  }
  if (uint8_t* p = begin_attribute(attr::kErrorCode, 4 + reason.size())) {
    p[2] = uint8_t(code / 100);
    p[3] = uint8_t(code % 100);
    if (!reason.empty()) std::memcpy(p + 4, reason.data(), reason.size());
  }
  return *this;
}

MessageBuilder& MessageBuilder::add_unknown_attributes(std::span<const uint16_t> types) {
  if (types.size() > 64) ok_ = false;
  if (uint8_t* p = begin_attribute(attr::kUnknownAttributes, types.size() * 2))
    for (size_t i = 0; i < types.size(); ++i) util::store_be16(p + 2 * i, types[i]);
  return *this;
}

MessageBuilder& MessageBuilder::add_message_integrity(util::ByteView key) {
  if (has_integrity_) ok_ = false;
  const size_t covered = w_.size();
  // begin_attribute sets the header length to include this attribute, which is
  // exactly the length RFC 8489 §14.5 wants in the HMAC input.
  uint8_t* p = begin_attribute(attr::kMessageIntegrity, kMessageIntegritySize);
  if (!p) return *this;
  auto mac = hmac_sha1(key, {util::ByteView(w_.data(), covered)});
  if (!mac) {
    ok_ = false;
    return *this;
  }
  std::memcpy(p, mac->data(), mac->size());
  has_integrity_ = true;
  return *this;
}

MessageBuilder& MessageBuilder::add_fingerprint() {
  const size_t covered = w_.size();
  uint8_t* p = begin_attribute(attr::kFingerprint, 4);
  if (!p) return *this;
  util::store_be32(p, compute_fingerprint(util::ByteView(w_.data(), covered)));
  has_fingerprint_ = true;
  return *this;
}

std::optional<size_t> MessageBuilder::finish() const {
  if (!ok()) return std::nullopt;
  return w_.size();
}

}  // namespace sb::stun
