#pragma once
// What the ICE agents hand back to their driver: datagrams to send, events, state.
#include <optional>
#include <variant>

#include "util/Bytes.hpp"
#include "util/SocketAddr.hpp"

namespace sb::ice {

/// One datagram to send from our socket to `to`.
struct Transmit {
  util::SocketAddr to;
  util::Bytes data;
};

/// The nominated pair now uses this remote address (media goes there from now on).
struct SelectedPairChanged {
  util::SocketAddr remote;
};
/// First nomination: ICE is usable (DTLS may start).
struct Connected {
  util::SocketAddr remote;
};
/// No consent for kConsentTimeout: the peer is gone; stop sending (RFC 7675 §5.1).
struct ConsentExpired {};
/// Every check failed before any succeeded (client agent only).
struct ChecksFailed {};

using Event = std::variant<SelectedPairChanged, Connected, ConsentExpired, ChecksFailed>;

enum class State : uint8_t {
  kNew,        ///< nothing valid seen / sent yet
  kChecking,   ///< checks in flight or validated without nomination
  kConnected,  ///< a pair is selected and has consent
  kFailed,     ///< consent expired or all checks failed; terminal for the lite agent
};

inline const char* to_string(State s) {
  switch (s) {
    case State::kNew: return "new";
    case State::kChecking: return "checking";
    case State::kConnected: return "connected";
    case State::kFailed: return "failed";
  }
  return "?";
}

}  // namespace sb::ice
