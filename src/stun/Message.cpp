#include "stun/Message.hpp"

#include "stun/AddressAttribute.hpp"

namespace sb::stun {

namespace {

size_t padded(size_t n) { return (n + 3) & ~size_t(3); }

}  // namespace

bool is_stun(util::ByteView packet) {
  // RFC 7983 §7: first byte 0..3 is STUN (20..63 DTLS, 128..191 RTP/RTCP).
  if (packet.size() < kHeaderSize || packet[0] > 3) return false;
  if (util::load_be32(&packet[4]) != kMagicCookie) return false;
  return (util::load_be16(&packet[2]) & 3) == 0;
}

const char* to_string(ParseError e) {
  switch (e) {
    case ParseError::kNone: return "ok";
    case ParseError::kTooShort: return "shorter than a STUN header";
    case ParseError::kNotStun: return "first two bits not zero";
    case ParseError::kBadCookie: return "wrong magic cookie";
    case ParseError::kBadLength: return "length field does not match the datagram";
    case ParseError::kAttributeOverrun: return "attribute runs past the end of the message";
    case ParseError::kBadIntegrityLength: return "MESSAGE-INTEGRITY is not 20 bytes";
    case ParseError::kBadFingerprint: return "FINGERPRINT malformed or not last";
  }
  return "unknown";
}

AttributeIterator::AttributeIterator(util::ByteView msg, size_t pos, size_t end)
    : msg_(msg), pos_(pos), end_(end) {
  load();
}

void AttributeIterator::load() {
  // Bounds were validated by Message::parse; re-check anyway so a misuse cannot
  // read past the view.
  if (pos_ + kAttributeHeaderSize > end_) {
    pos_ = end_;
    current_ = {};
    return;
  }
  const uint16_t type = util::load_be16(&msg_[pos_]);
  const size_t len = util::load_be16(&msg_[pos_ + 2]);
  if (pos_ + kAttributeHeaderSize + len > end_) {
    pos_ = end_;
    current_ = {};
    return;
  }
  current_ = {type, msg_.subspan(pos_ + kAttributeHeaderSize, len)};
}

AttributeIterator& AttributeIterator::operator++() {
  if (pos_ < end_) {
    pos_ += kAttributeHeaderSize + padded(current_.value.size());
    if (pos_ > end_) pos_ = end_;
    load();
  }
  return *this;
}

std::optional<Message> Message::parse(util::ByteView data, ParseError* error) {
  auto fail = [error](ParseError e) -> std::optional<Message> {
    if (error) *error = e;
    return std::nullopt;
  };
  if (data.size() < kHeaderSize) return fail(ParseError::kTooShort);
  if ((data[0] & 0xC0) != 0) return fail(ParseError::kNotStun);
  if (util::load_be32(&data[4]) != kMagicCookie) return fail(ParseError::kBadCookie);
  // RFC 8489 §5: the length excludes the header and is a multiple of 4, since all
  // attributes are padded. Over UDP one datagram carries exactly one message.
  const size_t len = util::load_be16(&data[2]);
  if (len % 4 != 0 || kHeaderSize + len != data.size()) return fail(ParseError::kBadLength);

  Message m;
  m.data_ = data;
  size_t pos = kHeaderSize;
  while (pos < data.size()) {
    if (data.size() - pos < kAttributeHeaderSize) return fail(ParseError::kAttributeOverrun);
    const uint16_t type = util::load_be16(&data[pos]);
    const size_t alen = util::load_be16(&data[pos + 2]);
    if (padded(alen) > data.size() - pos - kAttributeHeaderSize) return fail(ParseError::kAttributeOverrun);
    // RFC 8489 §14.7: FINGERPRINT is always the last attribute.
    if (m.fp_offset_ != kAbsent) return fail(ParseError::kBadFingerprint);
    if (type == attr::kMessageIntegrity && m.mi_offset_ == kAbsent) {
      if (alen != kMessageIntegritySize) return fail(ParseError::kBadIntegrityLength);
      m.mi_offset_ = pos;
    } else if (type == attr::kFingerprint) {
      if (alen != 4) return fail(ParseError::kBadFingerprint);
      m.fp_offset_ = pos;
    }
    pos += kAttributeHeaderSize + padded(alen);
  }
  if (m.mi_offset_ != kAbsent) m.visible_end_ = m.mi_offset_ + kAttributeHeaderSize + kMessageIntegritySize;
  else if (m.fp_offset_ != kAbsent) m.visible_end_ = m.fp_offset_;
  else m.visible_end_ = data.size();
  if (error) *error = ParseError::kNone;
  return m;
}

Message::Range Message::attributes() const {
  return {AttributeIterator(data_, kHeaderSize, visible_end_), AttributeIterator(data_, visible_end_, visible_end_)};
}

std::optional<util::ByteView> Message::find(uint16_t type) const {
  if (type == attr::kFingerprint) {
    if (fp_offset_ == kAbsent) return std::nullopt;
    return data_.subspan(fp_offset_ + kAttributeHeaderSize, 4);
  }
  for (const Attribute& a : attributes())
    if (a.type == type) return a.value;
  return std::nullopt;
}

std::optional<uint16_t> Message::unknown_comprehension_required() const {
  for (const Attribute& a : attributes()) {
    if (!attr::is_comprehension_required(a.type)) continue;
    switch (a.type) {
      case attr::kMappedAddress:
      case attr::kUsername:
      case attr::kMessageIntegrity:
      case attr::kErrorCode:
      case attr::kUnknownAttributes:
      case attr::kRealm:
      case attr::kNonce:
      case attr::kMessageIntegritySha256:
      case attr::kPasswordAlgorithm:
      case attr::kUserhash:
      case attr::kXorMappedAddress:
      case attr::kPriority:
      case attr::kUseCandidate:
        continue;
      default:
        return a.type;
    }
  }
  return std::nullopt;
}

std::optional<std::string_view> Message::username() const {
  auto v = find(attr::kUsername);
  if (!v || v->size() > kMaxUsernameSize) return std::nullopt;
  return util::as_string(*v);
}

std::optional<std::string_view> Message::software() const {
  auto v = find(attr::kSoftware);
  if (!v) return std::nullopt;
  return util::as_string(*v);
}

std::optional<util::SocketAddr> Message::xor_mapped_address() const {
  auto v = find(attr::kXorMappedAddress);
  if (!v) return std::nullopt;
  const TransactionId tid = transaction_id();
  return decode_address_value(*v, &tid);
}

std::optional<util::SocketAddr> Message::mapped_address() const {
  auto v = find(attr::kMappedAddress);
  if (!v) return std::nullopt;
  return decode_address_value(*v, nullptr);
}

std::optional<uint32_t> Message::priority() const {
  auto v = find(attr::kPriority);
  if (!v || v->size() != 4) return std::nullopt;
  return util::load_be32(v->data());
}

std::optional<uint64_t> Message::ice_controlling() const {
  auto v = find(attr::kIceControlling);
  if (!v || v->size() != 8) return std::nullopt;
  return util::load_be64(v->data());
}

std::optional<uint64_t> Message::ice_controlled() const {
  auto v = find(attr::kIceControlled);
  if (!v || v->size() != 8) return std::nullopt;
  return util::load_be64(v->data());
}

std::optional<ErrorCode> Message::error_code() const {
  // RFC 8489 §14.8: 21 reserved bits, 3-bit class (3..6), 8-bit number (0..99), reason.
  auto v = find(attr::kErrorCode);
  if (!v || v->size() < 4) return std::nullopt;
  const unsigned cls = (*v)[2] & 0x07;
  const unsigned number = (*v)[3];
  if (cls < 3 || cls > 6 || number > 99) return std::nullopt;
  return ErrorCode{uint16_t(cls * 100 + number), util::as_string(v->subspan(4))};
}

std::optional<util::ByteView> Message::message_integrity() const {
  if (mi_offset_ == kAbsent) return std::nullopt;
  return data_.subspan(mi_offset_ + kAttributeHeaderSize, kMessageIntegritySize);
}

std::optional<uint32_t> Message::fingerprint() const {
  if (fp_offset_ == kAbsent) return std::nullopt;
  return util::load_be32(&data_[fp_offset_ + kAttributeHeaderSize]);
}

}  // namespace sb::stun
