#pragma once
// Janus's VideoRoom API over its WebSocket transport (subprotocol
// "janus-protocol"), so the same virtual participants can load a Janus server.
// Per participant: a WebSocket, a Janus session and one plugin handle.
//   publisher:  create → attach → videoroom `create` (the room; "already
//               exists" is fine) → `join` ptype=publisher → `publish` with our
//               offer → Janus's answer (kAnswer)
//   subscriber: create → attach → `listparticipants` until the room's
//               publishers publish → `join` ptype=subscriber with their feeds →
//               Janus's offer (kOffer) → `start` with our answer
// Our candidates travel in the SDP, so trickle only says "completed". Candidates
// Janus trickles become kCandidate. The session is kept alive with a keepalive
// every 25 s and destroyed on close.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "load/Signaling.hpp"
#include "load/SignalingLoop.hpp"

namespace sb::load {

class JanusSignaling final : public Signaling {
 public:
  /// `wake_fd` (an eventfd) is written to whenever events are queued.
  JanusSignaling(std::string host, std::string port, std::string target, int wake_fd);
  ~JanusSignaling() override;
  JanusSignaling(const JanusSignaling&) = delete;
  JanusSignaling& operator=(const JanusSignaling&) = delete;

  util::Result<void> start() override;
  void join(size_t peer, JoinRequest request) override;
  void send_answer(size_t peer, std::string sdp) override;
  /// Destroys every Janus session and closes the WebSockets.
  void close_all(util::Duration limit) override;
  void stop() override;
  std::vector<SignalEvent> take_events() override { return loop_.take_events(); }

  /// The numeric VideoRoom id used for a room name (Janus rooms are numbers by
  /// default): FNV-1a, kept below 2^53 so every JSON library reads it exactly.
  static uint64_t room_number(std::string_view room_id);

 private:
  class Session;
  std::string target_;
  SignalingLoop loop_;
  std::unordered_map<size_t, std::shared_ptr<Session>> sessions_;  // signaling thread only
};

}  // namespace sb::load
