#pragma once
// HTTP + WebSocket front door on Boost.Beast. Runs on the signaling thread's
// io_context; everything here is single-threaded, so there are no strands.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "signal/Coordinator.hpp"
#include "util/Result.hpp"

namespace sb::http {

class WebSocketSession;

struct ServerConfig {
  std::string host = "::";
  uint16_t port = 8080;
  std::filesystem::path web_root;
};

class Server {
 public:
  Server(boost::asio::io_context& ioc, ServerConfig cfg, signal::Coordinator& coordinator);
  ~Server();

  /// Binds and starts accepting. Fails with a reason (address in use, …).
  util::Result<void> start();
  /// The bound port (useful with port 0).
  uint16_t port() const { return bound_port_; }

  /// Stops accepting, tells every participant, closes every socket (code 1001).
  /// `done` runs once all sockets are closed or after a grace period.
  void shutdown(std::string reason, std::function<void()> done);

  /// Delivers everything the coordinator queued. Call after feeding it.
  void flush();

  /// Extra fields for GET /healthz (rooms, participants, media stats…).
  std::function<std::string()> health_json;
  /// Body for GET /stats, produced asynchronously (media workers are asked);
  /// the callback must be invoked on this server's thread. The flag is false
  /// for GET /stats?rooms=0: worker counters only, no participant detail.
  std::function<void(bool, std::function<void(std::string)>)> stats_json_async;
  /// Body for GET /metrics (Prometheus text format); 404 when unset.
  std::function<std::string()> metrics_text;

  // --- used by the sessions ---------------------------------------------------
  signal::Coordinator& coordinator() { return coordinator_; }
  const ServerConfig& config() const { return cfg_; }
  boost::asio::io_context& io() { return ioc_; }
  signal::ConnId attach(std::shared_ptr<WebSocketSession> s);
  void detach(signal::ConnId id);
  bool shutting_down() const { return shutting_down_; }

 private:
  void do_accept();
  void maybe_done();

  boost::asio::io_context& ioc_;
  ServerConfig cfg_;
  signal::Coordinator& coordinator_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t bound_port_ = 0;
  signal::ConnId next_id_ = 1;
  std::unordered_map<signal::ConnId, std::weak_ptr<WebSocketSession>> sessions_;
  bool shutting_down_ = false;
  std::function<void()> on_done_;
  boost::asio::steady_timer grace_timer_;
  /// Runs while large rooms have membership changes to announce.
  boost::asio::steady_timer membership_timer_;
  bool membership_armed_ = false;
};

}  // namespace sb::http
