#pragma once
// What a dtls::Session reports through poll_event().
#include <string>
#include <variant>

#include "srtp/Profile.hpp"

namespace sb::dtls {

/// Handshake done and the peer's certificate matched its fingerprint. Keys are from
/// the "EXTRACTOR-dtls_srtp" exporter (RFC 5764 §4.2): `local` protects what we send,
/// `remote` unprotects what we receive.
struct Connected {
  srtp::Profile profile;
  srtp::SrtpKeys local;
  srtp::SrtpKeys remote;
};

/// The association is dead (handshake error, fatal alert, fingerprint mismatch, timeout).
struct Failed {
  std::string reason;
};

/// The peer sent close_notify (RFC 5246 §7.2.1).
struct Closed {};

using Event = std::variant<Connected, Failed, Closed>;

}  // namespace sb::dtls
