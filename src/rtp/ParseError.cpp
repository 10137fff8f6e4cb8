#include "rtp/ParseError.hpp"

namespace sb::rtp {

std::string_view to_string(ParseError e) {
  switch (e) {
    case ParseError::kNone: return "none";
    case ParseError::kTruncated: return "truncated";
    case ParseError::kBadVersion: return "bad version";
    case ParseError::kBadPadding: return "bad padding";
    case ParseError::kBadExtension: return "bad header extension";
    case ParseError::kBadLength: return "bad length";
    case ParseError::kWrongType: return "wrong packet type";
    case ParseError::kMalformed: return "malformed body";
  }
  return "unknown";
}

}  // namespace sb::rtp
