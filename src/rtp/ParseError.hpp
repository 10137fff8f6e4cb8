#pragma once
// Why a packet-path parser rejected its input. Parsers never throw and never
// allocate: they return a Parsed<T> (a value or one of these reasons), which the
// caller counts and drops.
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

namespace sb::rtp {

enum class ParseError : uint8_t {
  kNone,
  kTruncated,     ///< shorter than a header or a declared field
  kBadVersion,    ///< version field is not 2
  kBadPadding,    ///< padding count is zero or larger than the packet allows
  kBadExtension,  ///< RFC 8285 element runs past the extension block
  kBadLength,     ///< RTCP length field points past the end of the buffer
  kWrongType,     ///< asked to parse a packet type/format as another one
  kMalformed,     ///< body inconsistent with its own counts
};

std::string_view to_string(ParseError e);

/// A parsed view or the reason it could not be parsed. Usable like std::optional.
template <typename T>
class [[nodiscard]] Parsed {
 public:
  Parsed(T value) : value_(std::move(value)) {}      // NOLINT: implicit by design
  Parsed(ParseError error) : error_(error) {}        // NOLINT

  bool ok() const { return value_.has_value(); }
  bool has_value() const { return ok(); }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return *value_; }
  T& value() & { return *value_; }
  const T& operator*() const { return *value_; }
  T& operator*() { return *value_; }
  const T* operator->() const { return &*value_; }
  T* operator->() { return &*value_; }
  ParseError error() const { return error_; }

 private:
  std::optional<T> value_;
  ParseError error_ = ParseError::kNone;
};

}  // namespace sb::rtp
