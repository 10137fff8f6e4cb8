#pragma once
// The thread every signaling adapter runs its WebSockets on: one Asio event
// loop, the queue of events for the media thread (woken through an eventfd),
// and a count of connections still open, so close_all can wait for them.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "load/Signaling.hpp"
#include "util/Result.hpp"
#include "util/Time.hpp"

namespace sb::load {

class SignalingLoop {
 public:
  /// Events queued for the media thread before new ones are dropped (it drains
  /// them every loop round; this only bounds a stalled consumer).
  static constexpr size_t kMaxQueuedEvents = 1 << 16;

  /// `wake_fd` (an eventfd) is written to whenever events are queued.
  SignalingLoop(std::string host, std::string port, int wake_fd);
  ~SignalingLoop();
  SignalingLoop(const SignalingLoop&) = delete;
  SignalingLoop& operator=(const SignalingLoop&) = delete;

  /// Resolves host:port and starts the thread.
  util::Result<void> start();
  /// Ends the loop and joins the thread; handlers not yet run never run (idempotent).
  void stop();
  bool running() const { return thread_.joinable(); }

  boost::asio::io_context& ioc() { return ioc_; }
  const boost::asio::ip::tcp::resolver::results_type& endpoints() const { return endpoints_; }
  const std::string& host() const { return host_; }
  const std::string& port() const { return port_; }

  // ---- any thread
  void push(SignalEvent e);
  std::vector<SignalEvent> take_events();
  /// A connection opened / finished (for wait_closed).
  void opened();
  void finished();
  /// Waits until every opened connection finished, at most `limit`.
  void wait_closed(util::Duration limit);

 private:
  std::string host_, port_;
  int wake_fd_;
  boost::asio::io_context ioc_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  boost::asio::ip::tcp::resolver::results_type endpoints_;
  std::thread thread_;

  std::mutex mu_;
  std::vector<SignalEvent> events_;
  std::condition_variable closed_cv_;
  size_t open_ = 0;  // guarded by mu_
};

}  // namespace sb::load
