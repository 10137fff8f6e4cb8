#pragma once
// Source-specific attributes (RFC 5576 §4).
#include <string>
#include <vector>

#include "sdp/Attribute.hpp"

namespace sb::sdp {

/// `a=ssrc:<ssrc> <name>[:<value>]`, e.g. 1234 "cname" "x9Y…", 1234 "msid" "stream track".
struct SsrcAttribute {
  Ssrc ssrc = 0;
  std::string name;
  std::string value;
  bool operator==(const SsrcAttribute&) const = default;
};

/// `a=ssrc-group:<semantics> <ssrc>...`: "FID" (primary, RTX; RFC 4588 §8.7),
/// "SIM" (simulcast layers), "FEC-FR", …
struct SsrcGroup {
  std::string semantics;
  std::vector<Ssrc> ssrcs;
  bool operator==(const SsrcGroup&) const = default;
};

}  // namespace sb::sdp
