#pragma once
// ICE (RFC 8839 §5) and DTLS (RFC 8122 §5, RFC 8842 §5) attributes. Browsers put
// them in every m-section; they may also appear at session level.
#include <optional>
#include <string>
#include <vector>

#include "sdp/Direction.hpp"

namespace sb::sdp {

/// `a=fingerprint:<hash-func> <hex with colons>`, e.g. "sha-256" "AB:CD:…".
struct Fingerprint {
  std::string algorithm;
  std::string value;
  bool operator==(const Fingerprint&) const = default;
};

struct TransportAttributes {
  std::optional<std::string> ice_ufrag;
  std::optional<std::string> ice_pwd;
  std::vector<std::string> ice_options;  ///< "trickle", "ice2", "renomination", …
  std::vector<Fingerprint> fingerprints;  ///< RFC 8122 §5 allows several
  std::optional<SetupRole> setup;

  bool empty() const {
    return !ice_ufrag && !ice_pwd && ice_options.empty() && fingerprints.empty() && !setup;
  }
  bool has_ice_option(std::string_view opt) const {
    for (const auto& o : ice_options) if (o == opt) return true;
    return false;
  }
  bool operator==(const TransportAttributes&) const = default;
};

}  // namespace sb::sdp
