#pragma once
// A non-blocking UDP socket with batch receive and send (recvmmsg/sendmmsg,
// Linux). One per media worker, shared by every participant on that worker.
#include <sys/socket.h>

#include <array>
#include <cstdint>

#include "net/Datagram.hpp"
#include "util/LatencyHistogram.hpp"
#include "util/Result.hpp"
#include "util/SocketAddr.hpp"

struct mmsghdr;
struct cmsghdr;

namespace sb::net {

/// CLOCK_REALTIME now, in ns since the epoch: the clock of the kernel's receive
/// timestamps (SO_TIMESTAMPNS), so that "now − arrival" is a time in the host.
int64_t realtime_ns();
/// The arrival time an SCM_TIMESTAMPNS control message carries (ns since the
/// epoch), or 0 when `c` is not one (or is too short to hold it).
int64_t rx_timestamp_ns(const cmsghdr& c);

struct SocketStats {
  uint64_t rx_packets = 0, rx_bytes = 0, rx_batches = 0, rx_truncated = 0;
  uint64_t tx_packets = 0, tx_bytes = 0, tx_batches = 0, tx_dropped = 0;
  /// Datagrams that left as segments of a UDP GSO send (UDP_SEGMENT), and the
  /// GSO sends the kernel refused (their datagrams were then sent one by one).
  uint64_t tx_gso_segments = 0, tx_gso_refused = 0;
};

/// Pre-allocated receive batch: datagrams land here, then are handed to the
/// processor as views. Reused for every recvmmsg call.
class RecvBatch {
 public:
  RecvBatch();
  ~RecvBatch();
  RecvBatch(const RecvBatch&) = delete;
  RecvBatch& operator=(const RecvBatch&) = delete;

  size_t size() const { return count_; }
  util::MutableBytes data(size_t i) { return {bufs_[i].data(), lens_[i]}; }
  const util::SocketAddr& from(size_t i) const { return from_[i]; }
  /// When the kernel received datagram i (CLOCK_REALTIME, ns), or 0 when the
  /// socket has no receive timestamps (UdpSocket::enable_rx_timestamps).
  int64_t rx_time_ns(size_t i) const { return rx_ns_[i]; }

 private:
  friend class UdpSocket;
  std::array<std::array<uint8_t, kMaxDatagram>, kBatchSize> bufs_;
  std::array<size_t, kBatchSize> lens_{};
  std::array<util::SocketAddr, kBatchSize> from_{};
  std::array<sockaddr_storage, kBatchSize> names_{};
  std::array<int64_t, kBatchSize> rx_ns_{};
  /// Room for one SCM_TIMESTAMPNS control message per datagram.
  static constexpr size_t kControlSize = 64;
  std::array<std::array<uint8_t, kControlSize>, kBatchSize> control_{};
  struct Headers;
  Headers* hdrs_;  // mmsghdr + iovec arrays (kept out of this header)
  size_t count_ = 0;
};

/// What one send_all() call did.
struct SendResult {
  size_t sent = 0, dropped = 0, calls = 0;
};
/// Hands msgs[0, n) to the kernel with sendmmsg, retrying after partial sends
/// and EINTR. A datagram the kernel refuses (EAGAIN with a full buffer, an
/// unreachable peer, a source address that is not local) is dropped and the
/// rest still go: the packet path never blocks and never throws.
SendResult send_all(int fd, mmsghdr* msgs, size_t n);

class UdpSocket {
 public:
  UdpSocket() = default;
  ~UdpSocket();
  UdpSocket(UdpSocket&& o) noexcept;
  UdpSocket& operator=(UdpSocket&& o) noexcept;
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  /// Binds `local`. An unspecified IPv6 address (::) binds dual-stack; when the
  /// namespace has no IPv6 it falls back to 0.0.0.0 with the same port. With
  /// `reuse_port` the socket can later share its port with a report socket
  /// (bind_report_socket); a port another socket holds is still refused.
  static util::Result<UdpSocket> bind(const util::SocketAddr& local, bool reuse_port = false);

  /// A second socket on `main`'s address and port (bound with `reuse_port`)
  /// that the kernel hands the RTCP compounds opening with a sender or receiver
  /// report: the periodic reports. Everything else still goes to `main`. A
  /// worker reads this socket only when something else woke it, so reports
  /// cost no wakeup of their own (SO_REUSEPORT with SO_ATTACH_REUSEPORT_CBPF,
  /// Linux 4.5). An error leaves `main` receiving everything, as before.
  static util::Result<UdpSocket> bind_report_socket(const UdpSocket& main);

  bool valid() const { return fd_ >= 0; }

  int fd() const { return fd_; }
  const util::SocketAddr& local_address() const { return local_; }

  /// Asks the kernel to stamp every received datagram with its arrival time
  /// (SO_TIMESTAMPNS), for measuring how long datagrams spend in the server.
  bool enable_rx_timestamps();

  /// Receives up to kBatchSize datagrams without blocking; returns how many (0
  /// when nothing is waiting).
  size_t receive(RecvBatch& batch);
  /// Sends every queued datagram (retrying partial batches); datagrams the kernel
  /// refuses are counted as dropped. Clears the queue. With `delay`, each sent
  /// datagram that carries the arrival time of the datagram that caused it adds
  /// the time between the two (µs) to it.
  ///
  /// Consecutive datagrams to the same destination of equal size (the last of
  /// them may be shorter) leave as one UDP GSO send (UDP_SEGMENT, Linux 4.18):
  /// the kernel walks its UDP/IP send path once for the run and cuts it into
  /// the same datagrams, so a receiver sees no difference. A forwarded video
  /// frame is a few packets of nearly one size to each subscriber, which is
  /// where a fan-out spends most of its time in the kernel.
  void send(SendQueue& queue, util::LatencyHistogram* delay = nullptr);

  /// Whether runs to one destination are sent with UDP GSO (on by default; off
  /// after the kernel refused it kMaxGsoRefusals times, or when disabled here).
  bool gso() const { return gso_; }
  void set_gso(bool on) { gso_ = on; }

  const SocketStats& stats() const { return stats_; }

 private:
  int fd_ = -1;
  bool v6_ = false;
  util::SocketAddr local_;
  SocketStats stats_;
  bool gso_ = true;
  struct SendHeaders;
  SendHeaders* send_hdrs_ = nullptr;
};

}  // namespace sb::net
