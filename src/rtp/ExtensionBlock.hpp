#pragma once
// Read-only view of the RFC 8285 header extension elements of one RTP packet.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>

#include "util/Bytes.hpp"

namespace sb::rtp {

/// RFC 8285 §4.2 / §4.3 profile identifiers ("defined by profile" field).
inline constexpr uint16_t kOneByteProfile = 0xBEDE;
inline constexpr uint16_t kTwoByteProfileMask = 0xFFF0;  ///< low 4 bits are appbits
inline constexpr uint16_t kTwoByteProfile = 0x1000;
/// Largest id usable in each form (one-byte: 15 is reserved, §4.2).
inline constexpr uint8_t kMaxOneByteId = 14;
inline constexpr uint8_t kMaxTwoByteId = 255;
inline constexpr size_t kMaxOneByteValueSize = 16;
inline constexpr size_t kMaxTwoByteValueSize = 255;

enum class ExtensionProfile : uint8_t {
  kNone,     ///< no extension, or a profile other than RFC 8285's
  kOneByte,  ///< 0xBEDE
  kTwoByte,  ///< 0x100X
};

ExtensionProfile profile_of(uint16_t defined_by_profile);

struct HeaderExtension {
  uint8_t id = 0;
  util::ByteView value;
};

/// Where one element sits inside the element area (offsets relative to its start).
struct ExtensionElementPos {
  uint8_t id = 0;
  size_t header_offset = 0;  ///< first byte of the element's id/length header
  size_t value_offset = 0;
  size_t value_size = 0;
};

/// Steps to the next element at or after `offset`, skipping padding bytes
/// (a zero id byte, in both forms). Returns nullopt at the end of the area, at
/// the reserved one-byte id 15 (which ends processing, RFC 8285 §4.2), or when
/// an element would overrun the area (`overrun` is then set).
std::optional<ExtensionElementPos> next_extension_element(ExtensionProfile profile,
                                                          util::ByteView elements, size_t offset,
                                                          bool* overrun = nullptr);

class ExtensionBlock {
 public:
  ExtensionBlock() = default;
  /// `elements` is the extension data after the 4-byte profile/length header.
  ExtensionBlock(uint16_t defined_by_profile, util::ByteView elements)
      : profile_(profile_of(defined_by_profile)), elements_(elements) {}

  /// True if every element lies within the block (padding allowed).
  static bool validate(uint16_t defined_by_profile, util::ByteView elements);

  ExtensionProfile profile() const { return profile_; }
  util::ByteView elements() const { return elements_; }
  bool empty() const { return begin() == end(); }

  /// The value of the first element with this id; nullopt if absent. (Two-byte
  /// elements may have an empty value, hence optional rather than an empty span.)
  std::optional<util::ByteView> find(uint8_t id) const;

  class Iterator {
   public:
    using value_type = HeaderExtension;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::forward_iterator_tag;

    Iterator() = default;
    HeaderExtension operator*() const;
    Iterator& operator++();
    Iterator operator++(int) { Iterator t = *this; ++*this; return t; }
    bool operator==(const Iterator& o) const { return at_end() == o.at_end() && (at_end() || pos_.header_offset == o.pos_.header_offset); }

   private:
    friend class ExtensionBlock;
    Iterator(ExtensionProfile profile, util::ByteView elements, std::optional<ExtensionElementPos> pos)
        : profile_(profile), elements_(elements), pos_(pos.value_or(ExtensionElementPos{})), valid_(pos.has_value()) {}
    bool at_end() const { return !valid_; }

    ExtensionProfile profile_ = ExtensionProfile::kNone;
    util::ByteView elements_;
    ExtensionElementPos pos_;
    bool valid_ = false;
  };

  Iterator begin() const;
  Iterator end() const { return Iterator{}; }

 private:
  ExtensionProfile profile_ = ExtensionProfile::kNone;
  util::ByteView elements_;
};

}  // namespace sb::rtp
