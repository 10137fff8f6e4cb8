#include "load/SharedSocket.hpp"

#include "net/UdpSocket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "util/Log.hpp"

namespace sb::load {

namespace {
const auto& log() {
  static auto l = util::logger("load");
  return l;
}
/// One socket now queues what a socket per participant used to: ask for a large
/// buffer, past net.core.rmem_max when we may (SO_RCVBUFFORCE needs
/// CAP_NET_ADMIN), so that a burst (a keyframe to every subscriber) or a moment
/// off the CPU does not overflow it. Memory is only used while datagrams wait.
constexpr int kForcedBufferBytes = 32 << 20;
constexpr int kBufferBytes = 8 << 20;
constexpr size_t kPktinfoSpace = CMSG_SPACE(sizeof(in_pktinfo));
/// Received datagrams carry their destination address and the kernel's receive time.
constexpr size_t kRecvControlSpace = kPktinfoSpace + CMSG_SPACE(sizeof(timespec));

uint32_t host_ip(const util::SocketAddr& a) {
  const auto& b = a.ip_bytes();
  return uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | b[3];
}
}  // namespace

struct SharedRecvBatch::Buffers {
  std::array<std::array<uint8_t, util::kMaxDatagram>, kSharedBatchSize> bufs;
  std::array<size_t, kSharedBatchSize> lens{};
  std::array<util::SocketAddr, kSharedBatchSize> from{};
  std::array<uint32_t, kSharedBatchSize> local{};
  std::array<int64_t, kSharedBatchSize> rx_ns{};
  std::array<sockaddr_in, kSharedBatchSize> names{};
  // uint64_t elements keep every control buffer aligned for cmsghdr.
  std::array<std::array<uint64_t, (kRecvControlSpace + 7) / 8>, kSharedBatchSize> control{};
  std::array<mmsghdr, kSharedBatchSize> msgs{};
  std::array<iovec, kSharedBatchSize> iov{};
};

SharedRecvBatch::SharedRecvBatch() : b_(std::make_unique<Buffers>()) {
  for (size_t i = 0; i < kSharedBatchSize; ++i) {
    b_->iov[i] = {b_->bufs[i].data(), util::kMaxDatagram};
    auto& h = b_->msgs[i].msg_hdr;
    h.msg_name = &b_->names[i];
    h.msg_iov = &b_->iov[i];
    h.msg_iovlen = 1;
    h.msg_control = b_->control[i].data();
  }
}
SharedRecvBatch::~SharedRecvBatch() = default;

util::MutableBytes SharedRecvBatch::data(size_t i) { return {b_->bufs[i].data(), b_->lens[i]}; }
const util::SocketAddr& SharedRecvBatch::from(size_t i) const { return b_->from[i]; }
uint32_t SharedRecvBatch::local_ip(size_t i) const { return b_->local[i]; }
int64_t SharedRecvBatch::rx_time_ns(size_t i) const { return b_->rx_ns[i]; }

struct SharedSocket::SendBuffers {
  struct Slot {
    sockaddr_in to{};
    uint32_t source = 0;
    size_t len = 0;
    std::array<uint8_t, util::kMaxDatagram> data;
  };
  std::array<Slot, kSharedBatchSize> slots;
  size_t count = 0;
  std::array<std::array<uint64_t, (kPktinfoSpace + 7) / 8>, kSharedBatchSize> control{};
  std::array<mmsghdr, kSharedBatchSize> msgs{};
  std::array<iovec, kSharedBatchSize> iov{};
};

SharedSocket::SharedSocket() = default;

SharedSocket::~SharedSocket() {
  if (fd_ >= 0) ::close(fd_);
}

SharedSocket::SharedSocket(SharedSocket&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), port_(o.port_), send_(std::move(o.send_)), stats_(o.stats_) {}

SharedSocket& SharedSocket::operator=(SharedSocket&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    port_ = o.port_;
    send_ = std::move(o.send_);
    stats_ = o.stats_;
  }
  return *this;
}

util::Result<SharedSocket> SharedSocket::open() {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return util::make_error(std::string("cannot create UDP socket: ") + std::strerror(errno));
  SharedSocket s;
  s.fd_ = fd;
  s.send_ = std::make_unique<SendBuffers>();
  int on = 1;
  if (::setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) != 0)
    return util::make_error(std::string("IP_PKTINFO: ") + std::strerror(errno));
  // Arrival times come from the kernel, so a delay measured here does not
  // depend on when the generator got round to reading.
  ::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
  // As net::UdpSocket: don't-fragment without path-MTU bookkeeping (RFC 6864 §4.1).
  int probe = IP_PMTUDISC_PROBE;
  ::setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe, sizeof(probe));
  int buf = kForcedBufferBytes;
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) != 0) {
    buf = kBufferBytes;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
  }
  buf = kForcedBufferBytes;
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) != 0) {
    buf = kBufferBytes;
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
  }
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_ANY);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) != 0)
    return util::make_error(std::string("cannot bind UDP 0.0.0.0:0: ") + std::strerror(errno));
  socklen_t len = sizeof(sin);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
  s.port_ = ntohs(sin.sin_port);
  return s;
}

bool SharedSocket::is_local(uint32_t ip) {
  // Binding succeeds only on a local address (EADDRNOTAVAIL otherwise, unless
  // net.ipv4.ip_nonlocal_bind is set: then sending from it fails instead).
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(ip);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) == 0;
  ::close(fd);
  return ok;
}

size_t SharedSocket::receive(SharedRecvBatch& batch) {
  auto& b = *batch.b_;
  batch.count_ = 0;
  for (size_t i = 0; i < kSharedBatchSize; ++i) {
    // The kernel overwrites these (the rest stays as the constructor set it).
    auto& h = b.msgs[i].msg_hdr;
    h.msg_namelen = sizeof(sockaddr_in);
    h.msg_controllen = kRecvControlSpace;
    h.msg_flags = 0;
  }
  int n = ::recvmmsg(fd_, b.msgs.data(), kSharedBatchSize, MSG_DONTWAIT, nullptr);
  if (n <= 0) {
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      log()->warn("recvmmsg on 0.0.0.0:{}: {}", port_, std::strerror(errno));
    return 0;
  }
  // Datagrams stay where they landed: entries that are dropped keep their slot
  // with length 0 (every caller skips empty datagrams), so nothing is copied.
  for (size_t i = 0; i < size_t(n); ++i) {
    auto& h = b.msgs[i].msg_hdr;
    b.lens[i] = b.msgs[i].msg_len;
    b.local[i] = 0;
    b.rx_ns[i] = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        in_pktinfo info;
        std::memcpy(&info, CMSG_DATA(c), sizeof(info));
        b.local[i] = ntohl(info.ipi_addr.s_addr);
      } else if (int64_t t = net::rx_timestamp_ns(*c)) {
        b.rx_ns[i] = t;
      }
    }
    const sockaddr_in& from = b.names[i];
    if ((h.msg_flags & MSG_TRUNC) != 0 || b.local[i] == 0 || from.sin_family != AF_INET) {
      b.lens[i] = 0;
      ++stats_.rx_dropped;
      continue;
    }
    std::array<uint8_t, 4> ip;
    std::memcpy(ip.data(), &from.sin_addr.s_addr, 4);
    b.from[i] = util::SocketAddr::v4(ip, ntohs(from.sin_port));
  }
  stats_.rx_packets += size_t(n);
  ++stats_.rx_batches;
  batch.count_ = size_t(n);
  return size_t(n);
}

util::MutableBytes SharedSocket::reserve() {
  if (send_->count == kSharedBatchSize) flush();
  return {send_->slots[send_->count].data.data(), util::kMaxDatagram};
}

void SharedSocket::commit(uint32_t source_ip, const util::SocketAddr& to, size_t len) {
  if (!to.is_v4()) {  // the socket is IPv4 only (so are the addresses it hands out)
    ++stats_.tx_dropped;
    return;
  }
  auto& slot = send_->slots[send_->count];
  slot.to = {};
  slot.to.sin_family = AF_INET;
  slot.to.sin_port = htons(to.port());
  slot.to.sin_addr.s_addr = htonl(host_ip(to));
  slot.source = source_ip;
  slot.len = len;
  ++send_->count;
}

bool SharedSocket::has_queued() const { return send_ && send_->count > 0; }

void SharedSocket::flush() {
  auto& s = *send_;
  const size_t n = s.count;
  if (n == 0) return;
  for (size_t i = 0; i < n; ++i) {
    auto& slot = s.slots[i];
    s.iov[i] = {slot.data.data(), slot.len};
    auto& h = s.msgs[i].msg_hdr;
    h = {};
    h.msg_name = &slot.to;
    h.msg_namelen = sizeof(sockaddr_in);
    h.msg_iov = &s.iov[i];
    h.msg_iovlen = 1;
    h.msg_control = s.control[i].data();
    h.msg_controllen = kPktinfoSpace;
    cmsghdr* c = CMSG_FIRSTHDR(&h);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
    in_pktinfo info{};
    info.ipi_spec_dst.s_addr = htonl(slot.source);  // the source address (ip(7))
    std::memcpy(CMSG_DATA(c), &info, sizeof(info));
  }
  net::SendResult r = net::send_all(fd_, s.msgs.data(), n);
  stats_.tx_batches += r.calls;
  stats_.tx_dropped += r.dropped;
  stats_.tx_packets += r.sent;
  s.count = 0;
}

}  // namespace sb::load
