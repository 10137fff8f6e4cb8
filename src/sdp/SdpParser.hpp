#pragma once
#include <cstddef>
#include <string_view>

#include "sdp/SessionDescription.hpp"
#include "util/Result.hpp"

namespace sb::sdp {

/// Largest description accepted. Browser offers are a few KiB; a call with
/// hundreds of m-sections stays well below this.
inline constexpr size_t kMaxSdpBytes = 256 * 1024;
/// Most lines accepted, blank ones included.
inline constexpr size_t kMaxSdpLines = 10000;

struct SdpLimits {
  size_t max_bytes = kMaxSdpBytes;
  size_t max_lines = kMaxSdpLines;
};

/// Parses a session description (RFC 8866 §5 syntax, RFC 8829 attributes).
///
/// Tolerated: LF or CRLF line ends, trailing blanks, blank lines, lines and
/// attributes it does not know (kept in order), unknown m= kinds and protocols
/// (kept, so an answer can reject them with port 0), missing s= and t=.
/// Rejected, with "line N: reason": a first line other than v=0, missing o=,
/// malformed o=/c=/t=/m= lines, non-numeric or out-of-range payload types,
/// SSRCs, ports and extmap ids, control characters anywhere, conflicting
/// duplicates (two a=mid, two rtpmaps for one payload type, …), and input
/// past the size or line limits.
class SdpParser {
 public:
  static util::Result<SessionDescription> parse(std::string_view text, const SdpLimits& limits = {});
};

}  // namespace sb::sdp
