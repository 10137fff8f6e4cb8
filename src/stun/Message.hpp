#pragma once
// A validated, zero-copy view of one STUN message (RFC 8489 §5, §14).
//
// parse() checks the whole framing once (header, length, cookie, every attribute
// inside the message, 4-byte padding, FINGERPRINT last); afterwards every accessor
// reads within bounds. The view borrows the caller's buffer: keep it alive.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string_view>

#include "stun/Constants.hpp"
#include "stun/TransactionId.hpp"
#include "util/Bytes.hpp"
#include "util/SocketAddr.hpp"

namespace sb::stun {

/// RFC 7983 §7 demultiplexing plus the magic cookie: a first byte of 0..3, at
/// least a header, the cookie at offset 4 and a length that is a multiple of 4.
bool is_stun(util::ByteView packet);

enum class ParseError : uint8_t {
  kNone,
  kTooShort,
  kNotStun,          ///< top two bits set: not a STUN message
  kBadCookie,
  kBadLength,        ///< length field not a multiple of 4 or not the datagram size
  kAttributeOverrun, ///< an attribute (with its padding) runs past the end
  kBadIntegrityLength,
  kBadFingerprint,   ///< FINGERPRINT of the wrong size or not the last attribute
};
const char* to_string(ParseError e);

struct Attribute {
  uint16_t type = 0;
  util::ByteView value;
};

struct ErrorCode {
  uint16_t code = 0;  ///< 300..699
  std::string_view reason;
};

/// Walks attributes of an already validated message.
class AttributeIterator {
 public:
  using iterator_category = std::forward_iterator_tag;
  using value_type = Attribute;
  using difference_type = std::ptrdiff_t;
  using pointer = const Attribute*;
  using reference = const Attribute&;

  AttributeIterator() = default;
  AttributeIterator(util::ByteView msg, size_t pos, size_t end);
  const Attribute& operator*() const { return current_; }
  const Attribute* operator->() const { return &current_; }
  AttributeIterator& operator++();
  AttributeIterator operator++(int) { auto t = *this; ++*this; return t; }
  friend bool operator==(const AttributeIterator& a, const AttributeIterator& b) { return a.pos_ == b.pos_; }

 private:
  void load();
  util::ByteView msg_;
  size_t pos_ = 0;
  size_t end_ = 0;
  Attribute current_;
};

class Message {
 public:
  /// Validates `data` as exactly one STUN message; nullopt (and `error` if given)
  /// when malformed.
  static std::optional<Message> parse(util::ByteView data, ParseError* error = nullptr);

  // ---- header
  uint16_t type() const { return util::load_be16(data_.data()); }
  MessageClass message_class() const { return class_of(type()); }
  Method method() const { return method_of(type()); }
  bool is(MessageClass c, Method m) const { return message_class() == c && method() == m; }
  TransactionId transaction_id() const { return TransactionId::from(data_.subspan(8, kTransactionIdSize)); }
  util::ByteView data() const { return data_; }
  size_t size() const { return data_.size(); }

  // ---- attributes
  /// Attributes that count: everything up to and including MESSAGE-INTEGRITY
  /// (later ones are ignored, RFC 8489 §14.5); FINGERPRINT is reached via fingerprint().
  struct Range {
    AttributeIterator b, e;
    AttributeIterator begin() const { return b; }
    AttributeIterator end() const { return e; }
  };
  Range attributes() const;
  /// First attribute of `type` (RFC 8489 §14: only the first one is processed).
  std::optional<util::ByteView> find(uint16_t type) const;
  bool has(uint16_t type) const { return find(type).has_value(); }
  /// First comprehension-required attribute this module does not understand.
  std::optional<uint16_t> unknown_comprehension_required() const;

  // ---- typed accessors; nullopt when absent or malformed
  std::optional<std::string_view> username() const;
  std::optional<std::string_view> software() const;
  std::optional<util::SocketAddr> xor_mapped_address() const;
  std::optional<util::SocketAddr> mapped_address() const;
  std::optional<uint32_t> priority() const;
  bool use_candidate() const { return has(attr::kUseCandidate); }
  /// Tie-breakers (RFC 8445 §7.1.3).
  std::optional<uint64_t> ice_controlling() const;
  std::optional<uint64_t> ice_controlled() const;
  std::optional<ErrorCode> error_code() const;
  std::optional<util::ByteView> message_integrity() const;
  std::optional<uint32_t> fingerprint() const;

  /// Byte offsets of MESSAGE-INTEGRITY / FINGERPRINT attribute headers, if present.
  std::optional<size_t> message_integrity_offset() const { return opt(mi_offset_); }
  std::optional<size_t> fingerprint_offset() const { return opt(fp_offset_); }

 private:
  static constexpr size_t kAbsent = 0;  // offset 0 is the header: never an attribute
  static std::optional<size_t> opt(size_t off) { return off == kAbsent ? std::nullopt : std::optional(off); }

  util::ByteView data_;
  size_t mi_offset_ = kAbsent;
  size_t fp_offset_ = kAbsent;
  size_t visible_end_ = kHeaderSize;  // end of the attributes that count
};

}  // namespace sb::stun
