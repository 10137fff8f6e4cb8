#pragma once
// ICE username fragment and password (RFC 8445 §5.3, RFC 8839 §5.4).
#include <string>
#include <string_view>

#include "util/Random.hpp"

namespace sb::ice {

struct Credentials {
  std::string ufrag;
  std::string pwd;

  /// Random ufrag (8 chars) and pwd (24 chars) from the ICE character set; RFC 8445
  /// §5.3 asks for at least 24 and 128 bits of randomness respectively.
  static Credentials generate(util::Random& rng);

  /// ufrag 4..256 and pwd 22..256 ice-chars (ALPHA / DIGIT / "+" / "/").
  bool valid() const;
  /// Only checks that the ufrag can be split out of a USERNAME (no ':'), for remote
  /// credentials from peers that are lax about lengths.
  bool usable() const;
};

bool is_ice_chars(std::string_view s);

}  // namespace sb::ice
