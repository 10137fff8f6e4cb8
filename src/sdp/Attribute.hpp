#pragma once
// Records for what the parser keeps without understanding it, so that a
// description round-trips, and the key=value list shared by fmtp and rid.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sb::sdp {

/// RTP payload type number, 0..127 (RFC 3550 §5.1).
using PayloadType = uint8_t;
/// RTP synchronization source identifier (RFC 3550 §5.1).
using Ssrc = uint32_t;

/// An `a=` line whose name the parser does not interpret. `value` is absent for
/// a property attribute (`a=name`) and present, possibly empty, for `a=name:value`.
struct Attribute {
  std::string name;
  std::optional<std::string> value;
  bool operator==(const Attribute&) const = default;
};

/// A line of a type the model has no field for (`i=`, `b=`, `k=`, `r=`, …),
/// kept in order.
struct OtherLine {
  char type = 0;
  std::string value;
  bool operator==(const OtherLine&) const = default;
};

/// One `key=value` (or bare `key`) item of an fmtp or rid parameter list.
struct Param {
  std::string key;
  std::string value;
  bool operator==(const Param&) const = default;
};

/// Splits "a=1;b=2; c" on ';', trims blanks around items, splits each at the first
/// '='. Empty items are skipped.
std::vector<Param> parse_param_list(std::string_view s);
/// The inverse: "a=1;b=2;c".
std::string format_param_list(const std::vector<Param>& params);
/// The value of `key` (exact match), if present.
std::optional<std::string_view> find_param(const std::vector<Param>& params, std::string_view key);

}  // namespace sb::sdp
