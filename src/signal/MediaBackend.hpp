#pragma once
// The seam between signaling and media. The Coordinator owns membership and
// message validation; a MediaBackend owns transports and forwarding (on the
// media workers). Calls go Coordinator → backend; results come back later
// through Coordinator::on_media_* on the signaling thread.
#include <optional>
#include <string>

#include "signal/Protocol.hpp"

namespace sb::signal {

using ConnId = uint64_t;

/// Identifies one participant: its socket, plus the ids it chose (advisory).
struct ParticipantKey {
  ConnId conn = 0;
  std::string room_id;
  std::string self_id;
};

class MediaBackend {
 public:
  virtual ~MediaBackend() = default;
  /// Each call may refuse at once with an error for the client; otherwise its
  /// outcome arrives asynchronously.
  virtual std::optional<ProtocolError> join(const ParticipantKey& who) = 0;
  virtual std::optional<ProtocolError> offer(const ParticipantKey& who, std::string sdp) = 0;
  virtual std::optional<ProtocolError> answer(const ParticipantKey& who, std::string sdp) = 0;
  virtual std::optional<ProtocolError> candidate(const ParticipantKey& who, IceCandidate c) = 0;
  virtual void leave(const ParticipantKey& who) = 0;
};

/// A backend with no media: offers are answered with a `media-unavailable` error.
/// Used by tests of the signaling layer alone.
class NoMediaBackend final : public MediaBackend {
 public:
  std::optional<ProtocolError> join(const ParticipantKey&) override { return std::nullopt; }
  std::optional<ProtocolError> offer(const ParticipantKey&, std::string) override {
    return ProtocolError{errc::kMediaUnavailable, "media transport is not available on this server", "offer"};
  }
  std::optional<ProtocolError> answer(const ParticipantKey&, std::string) override {
    return ProtocolError{errc::kMediaUnavailable, "media transport is not available on this server", "answer"};
  }
  std::optional<ProtocolError> candidate(const ParticipantKey&, IceCandidate) override { return std::nullopt; }
  void leave(const ParticipantKey&) override {}
};

}  // namespace sb::signal
