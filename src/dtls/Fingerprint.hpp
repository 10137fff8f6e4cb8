#pragma once
// Certificate fingerprints as carried in SDP `a=fingerprint` (RFC 8122 §5, RFC 8842 §5):
// a hash function name and the digest of the DER certificate, written as upper-case
// hex pairs separated by colons.
#include <openssl/types.h>

#include <string>
#include <string_view>

#include "util/Bytes.hpp"
#include "util/Result.hpp"

namespace sb::dtls {

struct Fingerprint {
  std::string algorithm;  ///< lower-case hash name as in SDP: "sha-256", "sha-1", ...
  util::Bytes digest;

  /// "AB:CD:..." (the value part of a=fingerprint).
  std::string to_sdp() const;
  friend bool operator==(const Fingerprint&, const Fingerprint&) = default;
};

/// Parses the two fields of `a=fingerprint:<algorithm> <value>`. The algorithm is
/// matched case-insensitively and must be one of sha-1, sha-224, sha-256, sha-384,
/// sha-512 (RFC 8122 §5); the digest length must match it.
util::Result<Fingerprint> parse_fingerprint(std::string_view algorithm, std::string_view value);

/// Digest of `cert` with the named algorithm (default SHA-256, what we advertise).
/// Fails only for an unknown algorithm or a broken certificate.
util::Result<Fingerprint> compute_fingerprint(X509* cert, std::string_view algorithm = "sha-256");

}  // namespace sb::dtls
