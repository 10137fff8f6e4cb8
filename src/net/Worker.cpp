#include "net/Worker.hpp"

#include <boost/asio/post.hpp>

#include "util/Log.hpp"

namespace sb::net {

namespace asio = boost::asio;

namespace {
/// Batches drained per readiness event before timers and posted work get a turn.
constexpr int kMaxBatchesPerWakeup = 16;
}  // namespace

Worker::Worker(std::string name, UdpSocket socket)
    : name_(std::move(name)), socket_(std::move(socket)), asio_socket_(ioc_), timer_(ioc_) {
  auto proto = socket_.local_address().is_v6() ? asio::ip::udp::v6() : asio::ip::udp::v4();
  asio_socket_.assign(proto, socket_.fd());
}

Worker::~Worker() {
  stop();
  boost::system::error_code ec;
  asio_socket_.release(ec);  // the UdpSocket owns the descriptor
}

void Worker::start() {
  wait_readable();
  arm_timer();
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
    ioc_.run();
  });
}

void Worker::stop() {
  if (stopped_) return;
  stopped_ = true;
  ioc_.stop();
  if (thread_.joinable()) thread_.join();
}

void Worker::post(std::function<void(util::Timestamp, Transmitter&)> fn) {
  asio::post(ioc_, [this, fn = std::move(fn)] {
    auto now = util::Clock::now();
    fn(now, *this);
    end_round(now);
  });
}

void Worker::wait_readable() {
  asio_socket_.async_wait(asio::socket_base::wait_read, [this](boost::system::error_code ec) {
    if (ec) return;
    on_readable();
    wait_readable();
  });
}

void Worker::on_readable() {
  util::Timestamp now = util::Clock::now();
  for (int round = 0; round < kMaxBatchesPerWakeup; ++round) {
    size_t n = socket_.receive(recv_);
    if (n == 0) break;
    now = util::Clock::now();
    for (size_t i = 0; i < n; ++i) processor_->handle_datagram(now, recv_.from(i), recv_.data(i), *this);
    processor_->flush(now, *this);
    socket_.send(send_);
    if (n < kBatchSize) break;
  }
  end_round(now);
}

void Worker::end_round(util::Timestamp now) {
  if (now >= timer_at_) {
    // The deadline passed while we were busy; don't wait for the timer callback.
    processor_->handle_timeout(now, *this);
  }
  processor_->flush(now, *this);
  socket_.send(send_);
  arm_timer();
}

void Worker::arm_timer() {
  util::Timestamp next = processor_ ? processor_->poll_timeout() : util::kNever;
  if (next == timer_at_) return;
  timer_at_ = next;
  if (next == util::kNever) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(next);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    timer_at_ = util::kNever;
    auto now = util::Clock::now();
    processor_->handle_timeout(now, *this);
    end_round(now);
  });
}

util::MutableBytes Worker::reserve() {
  auto slot = send_.reserve();
  if (slot.empty()) {
    socket_.send(send_);
    slot = send_.reserve();
  }
  return slot;
}

void Worker::commit(const util::SocketAddr& to, size_t len) { send_.commit(to, len); }

}  // namespace sb::net
