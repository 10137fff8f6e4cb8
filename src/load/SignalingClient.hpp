#pragma once
// The WebSocket side of every virtual participant (docs/protocol.md), on its own
// thread running one Asio event loop with a Beast stream per participant.
// Signaling is control plane and sparse (a join, an offer, a few answers), so it
// stays off the media thread: that thread calls the thread-safe methods below
// and takes the received events, woken through an eventfd.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "util/Result.hpp"
#include "util/Time.hpp"

namespace sb::load {

struct SignalEvent {
  enum class Kind {
    kJoined,     ///< roomJoined; `at` is when joinRoom was sent, our offer has gone out
    kAnswer,     ///< the server's answer to our offer (`text`: SDP)
    kOffer,      ///< a server offer (renegotiation; `text`: SDP)
    kCandidate,  ///< a trickled server candidate (`text`: "candidate:…")
    kError,      ///< an `error` event (`text`: "code: message")
    kClosed,     ///< the socket failed or closed, or the server left us (`text`: why)
  };
  size_t peer = 0;
  Kind kind = Kind::kError;
  std::string text;
  util::Timestamp at{};
};

class SignalingClient {
 public:
  /// `wake_fd` (an eventfd) is written to whenever events are queued.
  SignalingClient(std::string host, std::string port, std::string target, int wake_fd);
  ~SignalingClient();
  SignalingClient(const SignalingClient&) = delete;
  SignalingClient& operator=(const SignalingClient&) = delete;

  /// Resolves the server and starts the thread.
  util::Result<void> start();
  /// Connects participant `peer`, sends joinRoom and, once roomJoined arrives, `offer_sdp`.
  void join(size_t peer, std::string room_id, std::string self_id, std::string offer_sdp);
  void send_answer(size_t peer, std::string sdp);
  /// Closes every WebSocket (a leave for the server), waiting at most `limit`.
  void close_all(util::Duration limit);
  /// Stops the thread (idempotent).
  void stop();

  std::vector<SignalEvent> take_events();

 private:
  struct Impl;
  class Session;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sb::load
