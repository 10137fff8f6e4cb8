#pragma once
// Switchboard's signaling (docs/protocol.md) for every virtual participant: one
// WebSocket each, joinRoom, then our offer once roomJoined arrives; the
// server's answers, offers and trickled candidates come back as events.
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "load/Signaling.hpp"
#include "load/SignalingLoop.hpp"

namespace sb::load {

class SignalingClient final : public Signaling {
 public:
  /// `wake_fd` (an eventfd) is written to whenever events are queued.
  SignalingClient(std::string host, std::string port, std::string target, int wake_fd);
  ~SignalingClient() override;
  SignalingClient(const SignalingClient&) = delete;
  SignalingClient& operator=(const SignalingClient&) = delete;

  util::Result<void> start() override;
  /// Connects participant `peer`, sends joinRoom and, once roomJoined arrives, the offer.
  void join(size_t peer, JoinRequest request) override;
  void send_answer(size_t peer, std::string sdp) override;
  /// Closes every WebSocket (a leave for the server).
  void close_all(util::Duration limit) override;
  void stop() override;
  std::vector<SignalEvent> take_events() override { return loop_.take_events(); }

 private:
  class Session;
  std::string target_;
  SignalingLoop loop_;
  std::unordered_map<size_t, std::shared_ptr<Session>> sessions_;  // signaling thread only
};

}  // namespace sb::load
