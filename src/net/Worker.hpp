#pragma once
// A media worker: one thread, one event loop, one UDP socket. Everything a
// worker hosts is touched only by its thread, so the packet path takes no locks.
// Other threads talk to it by posting closures.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <string>
#include <thread>

#include "net/Datagram.hpp"
#include "net/UdpSocket.hpp"
#include "util/Time.hpp"

namespace sb::net {

/// The protocol side of a worker (sans-IO). Called only on the worker thread.
class PacketProcessor {
 public:
  virtual ~PacketProcessor() = default;
  /// One received datagram; the buffer may be modified in place (decryption).
  virtual void handle_datagram(util::Timestamp now, const util::SocketAddr& from, util::MutableBytes data,
                               Transmitter& out) = 0;
  virtual void handle_timeout(util::Timestamp now, Transmitter& out) = 0;
  /// The next deadline (util::kNever for none).
  virtual util::Timestamp poll_timeout() const = 0;
  /// End of a round (a batch, a timer, a posted command): send what is pending.
  virtual void flush(util::Timestamp now, Transmitter& out) = 0;
};

class Worker final : public Transmitter {
 public:
  Worker(std::string name, UdpSocket socket);
  ~Worker() override;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  /// Must be set before start(); owned by the caller, outlives the worker.
  void set_processor(PacketProcessor* p) { processor_ = p; }
  void start();
  /// Stops the loop and joins the thread. Idempotent.
  void stop();

  /// Runs `fn` on the worker thread, then flushes and rearms the timer.
  void post(std::function<void(util::Timestamp now, Transmitter& out)> fn);

  const UdpSocket& socket() const { return socket_; }
  const std::string& name() const { return name_; }

  // Transmitter
  util::MutableBytes reserve() override;
  void commit(const util::SocketAddr& to, size_t len) override;

 private:
  void wait_readable();
  void on_readable();
  void end_round(util::Timestamp now);
  void arm_timer();

  std::string name_;
  UdpSocket socket_;
  boost::asio::io_context ioc_{1};
  boost::asio::ip::udp::socket asio_socket_;
  boost::asio::steady_timer timer_;
  util::Timestamp timer_at_ = util::kNever;
  PacketProcessor* processor_ = nullptr;
  RecvBatch recv_;
  SendQueue send_;
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace sb::net
