#include "load/SignalingLoop.hpp"

#include <pthread.h>
#include <unistd.h>

namespace sb::load {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

SignalingLoop::SignalingLoop(std::string host, std::string port, int wake_fd)
    : host_(std::move(host)), port_(std::move(port)), wake_fd_(wake_fd), work_(asio::make_work_guard(ioc_)) {}

SignalingLoop::~SignalingLoop() { stop(); }

util::Result<void> SignalingLoop::start() {
  tcp::resolver resolver(ioc_);
  boost::system::error_code ec;
  endpoints_ = resolver.resolve(host_, port_, ec);
  if (ec) return util::make_error("cannot resolve " + host_ + ":" + port_ + ": " + ec.message());
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "load-signal");
    ioc_.run();
  });
  return {};
}

void SignalingLoop::stop() {
  if (!thread_.joinable()) return;
  work_.reset();
  ioc_.stop();
  thread_.join();
}

void SignalingLoop::push(SignalEvent e) {
  {
    std::lock_guard lock(mu_);
    if (events_.size() < kMaxQueuedEvents) events_.push_back(std::move(e));
  }
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

std::vector<SignalEvent> SignalingLoop::take_events() {
  std::vector<SignalEvent> out;
  std::lock_guard lock(mu_);
  out.swap(events_);
  return out;
}

void SignalingLoop::opened() {
  std::lock_guard lock(mu_);
  ++open_;
}

void SignalingLoop::finished() {
  std::lock_guard lock(mu_);
  if (open_ > 0) --open_;
  closed_cv_.notify_all();
}

void SignalingLoop::wait_closed(util::Duration limit) {
  std::unique_lock lock(mu_);
  closed_cv_.wait_for(lock, limit, [this] { return open_ == 0; });
}

}  // namespace sb::load
