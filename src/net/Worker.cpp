#include "net/Worker.hpp"

#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "util/Log.hpp"

namespace sb::net {

namespace {
/// Batches drained per readiness event before timers and posted work get a turn.
constexpr int kMaxBatchesPerWakeup = 16;
/// epoll_event.data tags.
constexpr uint64_t kSocketTag = 1;
constexpr uint64_t kWakeTag = 2;

const auto& log() {
  static auto l = util::logger("net");
  return l;
}
}  // namespace

Worker::Worker(std::string name, UdpSocket socket, UdpSocket reports)
    : name_(std::move(name)), socket_(std::move(socket)), reports_(std::move(reports)) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) throw std::runtime_error(std::string("worker epoll: ") + std::strerror(errno));
  if (!socket_.enable_rx_timestamps()) log()->warn("{}: no receive timestamps; forward delay is not measured", name_);
  // Level-triggered: the loop reads until a short batch, and anything left
  // (more than kMaxBatchesPerWakeup batches) simply wakes it again at once.
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kSocketTag;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, socket_.fd(), &ev);
  ev.data.u64 = kWakeTag;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  posted_.reserve(64);
  running_.reserve(64);
}

Worker::~Worker() {
  stop();
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void Worker::start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
    run();
  });
}

void Worker::stop() {
  if (stopped_) return;
  stopped_ = true;
  stopping_.store(true, std::memory_order_release);
  uint64_t one = 1;
  [[maybe_unused]] auto r = ::write(wake_fd_, &one, sizeof(one));
  if (thread_.joinable()) thread_.join();
}

void Worker::post(Task fn) {
  bool ring;
  {
    std::lock_guard lock(post_mutex_);
    ring = posted_.empty();  // a non-empty queue has already rung the bell
    posted_.push_back(std::move(fn));
  }
  if (ring) {
    uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(wake_fd_, &one, sizeof(one));
  }
}

void Worker::run() {
  if (processor_) timer_at_ = processor_->poll_timeout();
  std::array<epoll_event, 2> events;
  while (!stopping_.load(std::memory_order_acquire)) {
    timespec ts{};
    const timespec* timeout = nullptr;
    // Reports waiting in the report socket wake nobody; while datagrams keep
    // coming, a timeout makes sure they are read within kReportBound.
    util::Timestamp wake_at = timer_at_;
    bool report_bound = false;
    if (reports_.valid()) {
      util::Timestamp due = reports_read_ + kReportBound;
      if (due < reports_armed_until_ && due < wake_at) {
        wake_at = due;
        report_bound = true;
      }
    }
    if (wake_at != util::kNever) {
      auto left = wake_at - util::Clock::now();
      if (left.count() > 0) {
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
        ts.tv_sec = time_t(ns / 1'000'000'000);
        ts.tv_nsec = long(ns % 1'000'000'000);
      }
      timeout = &ts;
    }
    int n = ::epoll_pwait2(epoll_fd_, events.data(), int(events.size()), timeout, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      log()->error("{}: epoll_pwait2: {}", name_, std::strerror(errno));
      return;
    }
    util::Timestamp now = util::Clock::now();
    if (n > 0) ++stats_.wakeups;
    else if (report_bound && now < timer_at_) ++stats_.report_timeouts;
    for (int i = 0; i < n; ++i) {
      if (events[size_t(i)].data.u64 == kSocketTag) on_readable(now);
      else run_posted();
    }
    if (n > 0) now = util::Clock::now();
    // After the media of this wakeup has been forwarded: reports are not
    // urgent, and a copy waiting behind them would be late for nothing.
    read_reports(now);
    end_round(now);
  }
}

void Worker::on_readable(util::Timestamp now) {
  if (!processor_) return;
  for (int round = 0; round < kMaxBatchesPerWakeup; ++round) {
    size_t n = socket_.receive(recv_);
    if (n == 0) break;
    if (round > 0) now = util::Clock::now();
    const int64_t read_ns = realtime_ns();  // one clock read per batch
    for (size_t i = 0; i < n; ++i) {
      origin_ns_ = recv_.rx_time_ns(i);
      if (origin_ns_ != 0 && read_ns >= origin_ns_) wait_.add(uint64_t(read_ns - origin_ns_) / 1000);
      processor_->handle_datagram(now, recv_.from(i), recv_.data(i), *this);
    }
    origin_ns_ = 0;
    processor_->flush(now, *this);
    socket_.send(send_, &delay_);
    if (n < kBatchSize) break;
  }
}

void Worker::read_reports(util::Timestamp now) {
  if (!reports_.valid() || !processor_) return;
  for (int round = 0; round < kMaxBatchesPerWakeup; ++round) {
    size_t n = reports_.receive(recv_);
    for (size_t i = 0; i < n; ++i) processor_->handle_datagram(now, recv_.from(i), recv_.data(i), *this);
    if (n > 0) processor_->flush(now, *this);  // before recv_ is reused
    stats_.reports += n;
    if (n < kBatchSize) break;
  }
  reports_read_ = now;
  // A datagram of any kind since the last read keeps the bound armed for a
  // second: reports only come while media flows.
  const uint64_t seen = socket_.stats().rx_packets + reports_.stats().rx_packets;
  if (seen != rx_seen_) {
    rx_seen_ = seen;
    reports_armed_until_ = now + std::chrono::seconds(1);
  }
}

void Worker::run_posted() {
  uint64_t count;
  [[maybe_unused]] auto r = ::read(wake_fd_, &count, sizeof(count));
  {
    std::lock_guard lock(post_mutex_);
    running_.swap(posted_);
  }
  for (auto& fn : running_) {
    auto now = util::Clock::now();
    fn(now, *this);
    ++stats_.posted;
    if (processor_) processor_->flush(now, *this);
  }
  running_.clear();
}

void Worker::end_round(util::Timestamp now) {
  if (!processor_) return;
  if (now >= timer_at_ || now >= processor_->poll_due()) {
    ++stats_.timer_rounds;
    processor_->handle_timeout(now, *this);
  }
  processor_->flush(now, *this);
  socket_.send(send_, &delay_);
  timer_at_ = processor_->poll_timeout();
}

util::MutableBytes Worker::reserve() {
  auto slot = send_.reserve();
  if (slot.empty()) {
    socket_.send(send_, &delay_);
    slot = send_.reserve();
  }
  return slot;
}

void Worker::commit(const util::SocketAddr& to, size_t len) { send_.commit(to, len, origin_ns_); }

}  // namespace sb::net
