#pragma once
// Wires the media side together: one net::Worker (thread + UDP socket) per
// core, each driving an sfu::WorkerCore. Implements the signaling layer's
// MediaBackend by posting commands to the worker that hosts the room, and
// delivers the workers' replies back on the signaling thread.
#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "app/Config.hpp"
#include "dtls/Certificate.hpp"
#include "net/Worker.hpp"
#include "sfu/Signal.hpp"
#include "sfu/WorkerCore.hpp"
#include "signal/MediaBackend.hpp"
#include "util/Result.hpp"

namespace sb::app {

class MediaEngine final : public signal::MediaBackend {
 public:
  using SignalHandler = std::function<void(std::vector<sfu::SignalOut>)>;

  /// `on_signals` runs on `signaling`'s thread with replies from the workers.
  MediaEngine(boost::asio::io_context& signaling, const Config& config, SignalHandler on_signals);
  ~MediaEngine() override;

  /// Creates the certificate, binds the UDP sockets and starts the workers.
  util::Result<void> start();
  void stop();

  // signal::MediaBackend (signaling thread)
  std::optional<signal::ProtocolError> join(const signal::ParticipantKey& who) override;
  std::optional<signal::ProtocolError> offer(const signal::ParticipantKey& who, std::string sdp) override;
  std::optional<signal::ProtocolError> answer(const signal::ParticipantKey& who, std::string sdp) override;
  std::optional<signal::ProtocolError> candidate(const signal::ParticipantKey& who, signal::IceCandidate c) override;
  void leave(const signal::ParticipantKey& who) override;

  /// Gathers a JSON snapshot of every worker; `done` runs on the signaling thread.
  void collect_stats(bool rooms, std::function<void(std::string)> done);
  size_t worker_count() const { return slots_.size(); }
  const std::vector<util::SocketAddr>& announced() const { return announce_; }

 private:
  struct Slot;
  Slot* slot_for(signal::ConnId conn);

  boost::asio::io_context& signaling_;
  Config config_;
  SignalHandler on_signals_;
  std::shared_ptr<const dtls::Certificate> certificate_;
  std::vector<util::SocketAddr> announce_;
  std::vector<std::unique_ptr<Slot>> slots_;
  struct RoomPlacement {
    size_t worker = 0;
    size_t members = 0;
  };
  std::unordered_map<std::string, RoomPlacement> rooms_;
  std::unordered_map<signal::ConnId, size_t> conns_;
  size_t next_worker_ = 0;
};

}  // namespace sb::app
