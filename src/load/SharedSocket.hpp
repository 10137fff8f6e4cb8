#pragma once
// One IPv4 UDP socket that many virtual participants share, each on a local
// address of its own: the server still sees one 5-tuple per participant, while
// the generator reads the datagrams of all of them with one recvmmsg instead of
// one epoll event and one syscall per participant and packet.
//
// The socket is bound to the wildcard address, so a datagram to any local
// address reaches it; IP_PKTINFO tells which address it was sent to (the
// participant it is for), and on the way out chooses the source address of each
// datagram (ipi_spec_dst, see ip(7)). Every address handed out must be local:
// any 127.x.y.z on loopback (127.0.0.0/8 is routed to lo), otherwise addresses
// configured on an interface.
#include <cstdint>
#include <memory>

#include "util/Bytes.hpp"
#include "util/DatagramSink.hpp"
#include "util/Result.hpp"
#include "util/SocketAddr.hpp"

namespace sb::load {

/// Datagrams moved per recvmmsg/sendmmsg call on a shared socket.
inline constexpr size_t kSharedBatchSize = 64;

/// Pre-allocated receive batch: filled by SharedSocket::receive, reused for every call.
class SharedRecvBatch {
 public:
  SharedRecvBatch();
  ~SharedRecvBatch();
  SharedRecvBatch(const SharedRecvBatch&) = delete;
  SharedRecvBatch& operator=(const SharedRecvBatch&) = delete;

  size_t size() const { return count_; }
  util::MutableBytes data(size_t i);
  const util::SocketAddr& from(size_t i) const;
  /// The local IPv4 address datagram i was sent to, host byte order (0: unknown).
  uint32_t local_ip(size_t i) const;
  /// When datagram i arrived (kernel timestamp, CLOCK_REALTIME ns; 0: unknown).
  int64_t rx_time_ns(size_t i) const;

 private:
  friend class SharedSocket;
  struct Buffers;
  std::unique_ptr<Buffers> b_;
  size_t count_ = 0;
};

class SharedSocket {
 public:
  struct Stats {
    uint64_t rx_packets = 0, rx_batches = 0, rx_dropped = 0;  ///< dropped: truncated, no address
    uint64_t tx_packets = 0, tx_batches = 0, tx_dropped = 0;
  };

  SharedSocket();
  ~SharedSocket();
  SharedSocket(SharedSocket&& o) noexcept;
  SharedSocket& operator=(SharedSocket&& o) noexcept;

  /// A socket on 0.0.0.0 and a port the kernel picks (free on every address).
  static util::Result<SharedSocket> open();
  /// Whether `ip` (IPv4, host order) is a local address a datagram can be sent from.
  static bool is_local(uint32_t ip);

  int fd() const { return fd_; }
  uint16_t port() const { return port_; }
  const Stats& stats() const { return stats_; }

  /// Receives up to kSharedBatchSize datagrams without blocking; returns how
  /// many (0 when nothing is waiting).
  size_t receive(SharedRecvBatch& batch);

  // Sending: datagrams queue here (from any of the participants on this socket)
  // and go out together with one sendmmsg per flush().
  /// A free slot of util::kMaxDatagram bytes (flushes first when the queue is full).
  util::MutableBytes reserve();
  /// Queues the slot reserve() returned: `len` bytes from `source_ip` (host order) to `to`.
  void commit(uint32_t source_ip, const util::SocketAddr& to, size_t len);
  bool has_queued() const;
  void flush();

 private:
  struct SendBuffers;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::unique_ptr<SendBuffers> send_;
  Stats stats_;
};

}  // namespace sb::load
