#pragma once
#include <string>

namespace sb::sdp {

struct SessionDescription;

/// Writes a description with CRLF line endings (RFC 8866 §5) in the order
/// RFC 8866 requires for the lines and browsers use for the attributes.
class SdpWriter {
 public:
  static std::string write(const SessionDescription& sd);
};

}  // namespace sb::sdp
