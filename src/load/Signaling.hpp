#pragma once
// What the media thread needs from a signaling adapter: one per server kind
// (Switchboard's own protocol, docs/protocol.md; Janus's VideoRoom API). Each
// runs its WebSockets on a thread of its own; the media thread calls the
// thread-safe methods below and takes the received events, woken through an
// eventfd. Signaling is control plane and sparse, so it stays off the media thread.
#include <cstddef>
#include <string>
#include <vector>

#include "util/Result.hpp"
#include "util/Time.hpp"

namespace sb::load {

struct SignalEvent {
  enum class Kind {
    kJoined,     ///< the join went out (`at`: when); the start of the join time
    kAnswer,     ///< the server's answer to our offer (`text`: SDP)
    kOffer,      ///< a server offer (`text`: SDP); answer with send_answer
    kCandidate,  ///< a trickled server candidate (`text`: "candidate:…")
    kError,      ///< an error reply (`text`: "code: message")
    kClosed,     ///< the socket failed or closed, or the server left us (`text`: why)
  };
  size_t peer = 0;
  Kind kind = Kind::kError;
  std::string text;
  util::Timestamp at{};
};

/// One participant's way into a room.
struct JoinRequest {
  std::string room_id;
  std::string self_id;
  bool publisher = false;
  /// Our first offer. A server that offers to subscribers itself (Janus) ignores
  /// a subscriber's offer and sends kOffer instead.
  std::string offer_sdp;
  /// Publishers per room: a Janus subscriber waits until this many publish.
  int room_publishers = 1;
};

class Signaling {
 public:
  virtual ~Signaling() = default;
  /// Resolves the server and starts the thread.
  virtual util::Result<void> start() = 0;
  virtual void join(size_t peer, JoinRequest request) = 0;
  /// Our answer to a kOffer of `peer`.
  virtual void send_answer(size_t peer, std::string sdp) = 0;
  /// Leaves and closes every WebSocket, waiting at most `limit`.
  virtual void close_all(util::Duration limit) = 0;
  /// Stops the thread (idempotent).
  virtual void stop() = 0;
  virtual std::vector<SignalEvent> take_events() = 0;
};

}  // namespace sb::load
