#pragma once
// A media worker: one thread, one event loop, one UDP socket (and a report
// socket on the same port, which it reads but never waits on). Everything a
// worker hosts is touched only by its thread, so the packet path takes no locks.
// Other threads talk to it by posting closures.
//
// The loop is a bare epoll loop rather than a general-purpose reactor: a wakeup
// for media costs exactly epoll_pwait2 + recvmmsg + sendmmsg, and one recvmmsg
// of the report socket. The timer is the
// epoll timeout itself (nanosecond resolution), so moving a deadline costs no
// system call, and posted work rings an eventfd that only signaling touches.
#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

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
  /// From when handle_timeout() has work to do: the worker runs it at the end
  /// of any round after this, without waiting for poll_timeout().
  virtual util::Timestamp poll_due() const { return poll_timeout(); }
  /// End of a round (a batch, a timer, a posted command): send what is pending.
  virtual void flush(util::Timestamp now, Transmitter& out) = 0;
};

struct WorkerStats {
  uint64_t wakeups = 0;        ///< returns from epoll with something to do
  uint64_t timer_rounds = 0;   ///< handle_timeout calls
  uint64_t posted = 0;         ///< closures run for other threads
  /// Datagrams read from the report socket (periodic RTCP reports), and the
  /// wakeups that came only because reports had waited kReportBound.
  uint64_t reports = 0;
  uint64_t report_timeouts = 0;
};

/// The longest a periodic RTCP report waits in the report socket while the
/// worker sleeps. Media wakes a worker more often than this (a 30 fps stream
/// every 33 ms), so with media flowing reports never wake it on their own.
inline constexpr util::Duration kReportBound = std::chrono::milliseconds(100);

class Worker final : public Transmitter {
 public:
  using Task = std::function<void(util::Timestamp now, Transmitter& out)>;

  /// `reports`, when valid, is the report socket of `socket`
  /// (UdpSocket::bind_report_socket): the worker reads it whenever something
  /// else wakes it, and at the latest kReportBound after the last read while
  /// datagrams are arriving, but never waits on it.
  Worker(std::string name, UdpSocket socket, UdpSocket reports = {});
  ~Worker() override;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  /// Must be set before start(); owned by the caller, outlives the worker.
  void set_processor(PacketProcessor* p) { processor_ = p; }
  void start();
  /// Stops the loop and joins the thread. Idempotent.
  void stop();

  /// Runs `fn` on the worker thread, then flushes and rearms the timer.
  /// Thread-safe; tasks run in the order they were posted.
  void post(Task fn);

  const UdpSocket& socket() const { return socket_; }
  /// The report socket (not valid when there is none).
  const UdpSocket& report_socket() const { return reports_; }
  const std::string& name() const { return name_; }
  /// Read on the worker thread only (e.g. from a posted task).
  const WorkerStats& stats() const { return stats_; }
  /// Time from a datagram's arrival at the socket (kernel timestamp) to the
  /// sendmmsg that carried what it caused (forwarded media, retransmissions),
  /// in µs: queueing, processing and batching inside the server. Worker thread only.
  const util::LatencyHistogram& forward_delay() const { return delay_; }
  /// The first part of that: arrival at the socket to the recvmmsg that read
  /// it, in µs. Waking the thread and work queued ahead of the datagram (the
  /// batch before it) both show here; processing does not. Worker thread only.
  const util::LatencyHistogram& receive_wait() const { return wait_; }

  // Transmitter
  util::MutableBytes reserve() override;
  void commit(const util::SocketAddr& to, size_t len) override;
  int64_t origin() const override { return origin_ns_; }
  void set_origin(int64_t ns) override { origin_ns_ = ns; }

 private:
  void run();
  void on_readable(util::Timestamp now);
  void read_reports(util::Timestamp now);
  void run_posted();
  void end_round(util::Timestamp now);

  std::string name_;
  UdpSocket socket_;
  UdpSocket reports_;
  /// When the report socket was last read, and until when the next read is
  /// due by kReportBound (one second after the last datagram of any kind:
  /// reports only come while media flows).
  util::Timestamp reports_read_{};
  util::Timestamp reports_armed_until_{};
  uint64_t rx_seen_ = 0;  ///< datagrams read from both sockets at the last report read
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  util::Timestamp timer_at_ = util::kNever;
  PacketProcessor* processor_ = nullptr;
  RecvBatch recv_;
  SendQueue send_;
  WorkerStats stats_;
  util::LatencyHistogram delay_;
  util::LatencyHistogram wait_;
  int64_t origin_ns_ = 0;  ///< arrival time of the datagram being handled (0: none)

  std::mutex post_mutex_;
  std::vector<Task> posted_;  // guarded by post_mutex_
  std::vector<Task> running_;  // worker thread only
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace sb::net
