#include "net/UdpSocket.hpp"

#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <utility>

#include "util/Log.hpp"

namespace sb::net {

namespace {
const auto& log() {
  static auto l = util::logger("net");
  return l;
}
/// Socket buffers sized for bursts of video to many subscribers.
constexpr int kSocketBufferBytes = 8 << 20;
/// UDP GSO limits: segments per send (the kernel's UDP_MAX_SEGMENTS is 64 on
/// older kernels), bytes per send (one IP datagram's worth), and the largest
/// segment we merge: a segment plus its headers must fit the device MTU, and
/// WebRTC keeps packets near 1200 bytes, so a larger one goes alone.
constexpr size_t kMaxGsoSegments = 64;
constexpr size_t kMaxGsoBytes = 60000;
constexpr size_t kMaxGsoSegment = 1400;
/// GSO sends the kernel may refuse (a device without checksum offload answers
/// EIO) before the socket stops trying; each refused one is resent unmerged.
constexpr uint64_t kMaxGsoRefusals = 8;
#ifndef UDP_SEGMENT
constexpr int UDP_SEGMENT = 103;  // linux/udp.h, Linux 4.18
#endif

bool gso_refusal(int err) {
  return err == EIO || err == EINVAL || err == EMSGSIZE || err == ENOPROTOOPT || err == EOPNOTSUPP;
}
}  // namespace

struct RecvBatch::Headers {
  std::array<mmsghdr, kBatchSize> msgs{};
  std::array<iovec, kBatchSize> iov{};
};

RecvBatch::RecvBatch() : hdrs_(new Headers) {
  for (size_t i = 0; i < kBatchSize; ++i) {
    hdrs_->iov[i] = {bufs_[i].data(), kMaxDatagram};
    auto& h = hdrs_->msgs[i].msg_hdr;
    h.msg_iov = &hdrs_->iov[i];
    h.msg_iovlen = 1;
    h.msg_name = &names_[i];
  }
}

int64_t realtime_ns() {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int64_t rx_timestamp_ns(const cmsghdr& c) {
  if (c.cmsg_level != SOL_SOCKET || c.cmsg_type != SCM_TIMESTAMPNS || c.cmsg_len < CMSG_LEN(sizeof(timespec))) return 0;
  timespec ts;
  std::memcpy(&ts, CMSG_DATA(&c), sizeof(ts));
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

bool UdpSocket::enable_rx_timestamps() {
  int on = 1;
  return ::setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) == 0;
}

RecvBatch::~RecvBatch() { delete hdrs_; }

/// One message per run of slots (a single datagram, or a GSO run): the run's
/// iovecs are the slots themselves, so nothing is copied to merge them.
struct UdpSocket::SendHeaders {
  std::array<mmsghdr, kBatchSize> msgs{};
  std::array<iovec, kBatchSize> iov{};
  std::array<sockaddr_storage, kBatchSize> names{};
  std::array<std::array<uint8_t, CMSG_SPACE(sizeof(uint16_t))>, kBatchSize> control{};
  std::array<uint16_t, kBatchSize> first{};     ///< message → its first slot
  std::array<uint16_t, kBatchSize> segments{};  ///< message → slots it carries
};

UdpSocket::~UdpSocket() {
  if (fd_ >= 0) ::close(fd_);
  delete send_hdrs_;
}

UdpSocket::UdpSocket(UdpSocket&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), v6_(o.v6_), local_(o.local_), stats_(o.stats_), gso_(o.gso_),
      send_hdrs_(std::exchange(o.send_hdrs_, nullptr)) {}

UdpSocket& UdpSocket::operator=(UdpSocket&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    delete send_hdrs_;
    fd_ = std::exchange(o.fd_, -1);
    v6_ = o.v6_;
    local_ = o.local_;
    stats_ = o.stats_;
    send_hdrs_ = std::exchange(o.send_hdrs_, nullptr);
    gso_ = o.gso_;
  }
  return *this;
}

namespace {
/// A UDP socket with the options every media socket gets, bound to `addr`;
/// with `reuse_port`, SO_REUSEPORT is set before the bind. Returns the fd or -1
/// (errno set).
int open_bound(const util::SocketAddr& addr, bool reuse_port) {
  int fd = ::socket(addr.is_v6() ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int off = 0, on = 1;
  if (addr.is_v6()) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
  if (reuse_port && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0) {
    int err = errno;
    ::close(fd);
    errno = err;
    return -1;
  }
  // Don't-fragment without path-MTU bookkeeping (IP_PMTUDISC_PROBE): WebRTC
  // packets stay under ~1200 bytes, and with DF set the kernel skips choosing an
  // IPv4 identification per datagram (RFC 6864 §4.1), a measurable cost per packet.
  int probe = IP_PMTUDISC_PROBE;
  ::setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe, sizeof(probe));
  if (addr.is_v6()) {
    int probe6 = IPV6_PMTUDISC_PROBE;
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &probe6, sizeof(probe6));
  }
  int buf = kSocketBufferBytes;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
  sockaddr_storage ss{};
  socklen_t len = addr.to_sockaddr(ss);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    int err = errno;
    ::close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

util::SocketAddr bound_address(int fd, const util::SocketAddr& fallback) {
  sockaddr_storage ss{};
  socklen_t got = sizeof(ss);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &got);
  return util::SocketAddr::from_sockaddr(reinterpret_cast<sockaddr*>(&ss)).value_or(fallback);
}

/// Which socket of a reuseport group of two gets a datagram (classic BPF over
/// the UDP payload; the return value is the socket's index in the group).
/// Index 1 gets RTCP compounds that open with a sender or receiver report
/// (RFC 3550 §6.1: periodic reports always do), index 0 everything else: RTP,
/// STUN, DTLS, and feedback sent alone as reduced-size RTCP (RFC 5506: NACK,
/// PLI, FIR, REMB). The first byte tells RTP/RTCP (128–191) from STUN and DTLS
/// (RFC 7983 §7); with RTCP multiplexed, the second is the RTCP packet type,
/// which RTP payload types never take (RFC 5761 §4). SRTCP leaves the first
/// eight bytes in the clear (RFC 3711 §3.4), so this works on encrypted
/// datagrams. A datagram shorter than two bytes stops the program, which then
/// returns 0.
constexpr std::array<sock_filter, 8> kReportSteering{{
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0),
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 128, 0, 5),  // below 128: STUN, DTLS
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 192, 4, 0),  // not RTP version 2
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 1),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 200, 1, 0),  // SR
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 201, 0, 1),  // RR
    BPF_STMT(BPF_RET | BPF_K, 1),
    BPF_STMT(BPF_RET | BPF_K, 0),
}};
}  // namespace

util::Result<UdpSocket> UdpSocket::bind(const util::SocketAddr& local, bool reuse_port) {
  util::SocketAddr addr = local;
  bool any6 = addr.is_v6();
  for (size_t i = 0; i < 16 && any6; ++i) any6 = addr.ip_bytes()[i] == 0;
  // Bound first without SO_REUSEPORT, so that a port someone else holds is
  // refused (and port 0 picks one nobody holds) even when the socket is going
  // to share its port with a sibling of its own (bind_report_socket).
  int fd = open_bound(addr, false);
  if (fd < 0 && errno == EAFNOSUPPORT && any6) {
    addr = util::SocketAddr::v4({0, 0, 0, 0}, local.port());
    fd = open_bound(addr, false);
  }
  if (fd < 0) return util::make_error("cannot bind UDP " + addr.to_string() + ": " + std::strerror(errno));
  addr = bound_address(fd, addr);
  if (reuse_port) {
    // The port is free between this close and the next bind; a process that
    // takes it in that instant makes the bind below fail, with its reason.
    ::close(fd);
    fd = open_bound(addr, true);
    if (fd < 0) return util::make_error("cannot bind UDP " + addr.to_string() + ": " + std::strerror(errno));
  }
  UdpSocket s;
  s.fd_ = fd;
  s.v6_ = addr.is_v6();
  s.send_hdrs_ = new SendHeaders;
  s.local_ = bound_address(fd, addr);
  return s;
}

util::Result<UdpSocket> UdpSocket::bind_report_socket(const UdpSocket& main) {
  int fd = open_bound(main.local_, true);
  if (fd < 0)
    return util::make_error("cannot share UDP " + main.local_.to_string() + " (SO_REUSEPORT): " +
                            std::strerror(errno));
  sock_fprog prog{uint16_t(kReportSteering.size()), const_cast<sock_filter*>(kReportSteering.data())};
  if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog)) != 0) {
    int err = errno;
    ::close(fd);  // leaves `main` alone in its group, as before
    return util::make_error(std::string("cannot steer datagrams between sockets (SO_ATTACH_REUSEPORT_CBPF): ") +
                            std::strerror(err));
  }
  UdpSocket s;
  s.fd_ = fd;
  s.v6_ = main.v6_;
  s.send_hdrs_ = new SendHeaders;
  s.local_ = main.local_;
  return s;
}

size_t UdpSocket::receive(RecvBatch& batch) {
  batch.count_ = 0;
  for (size_t i = 0; i < kBatchSize; ++i) {
    auto& h = batch.hdrs_->msgs[i].msg_hdr;
    h.msg_namelen = sizeof(sockaddr_storage);
    h.msg_flags = 0;
    h.msg_control = batch.control_[i].data();
    h.msg_controllen = RecvBatch::kControlSize;
  }
  int n = ::recvmmsg(fd_, batch.hdrs_->msgs.data(), kBatchSize, MSG_DONTWAIT, nullptr);
  if (n <= 0) {
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      log()->warn("recvmmsg on {}: {}", local_.to_string(), std::strerror(errno));
    return 0;
  }
  size_t kept = 0;
  for (int i = 0; i < n; ++i) {
    auto& m = batch.hdrs_->msgs[size_t(i)];
    if (m.msg_hdr.msg_flags & MSG_TRUNC) {
      ++stats_.rx_truncated;
      continue;
    }
    auto from = util::SocketAddr::from_sockaddr(reinterpret_cast<sockaddr*>(&batch.names_[size_t(i)]));
    if (!from) continue;
    // Compact in place so that the processor sees a dense batch.
    if (kept != size_t(i)) std::memcpy(batch.bufs_[kept].data(), batch.bufs_[size_t(i)].data(), m.msg_len);
    batch.lens_[kept] = m.msg_len;
    batch.from_[kept] = *from;
    int64_t rx_ns = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&m.msg_hdr); c != nullptr; c = CMSG_NXTHDR(&m.msg_hdr, c))
      if (int64_t t = rx_timestamp_ns(*c)) rx_ns = t;
    batch.rx_ns_[kept] = rx_ns;
    stats_.rx_bytes += m.msg_len;
    ++kept;
  }
  stats_.rx_packets += kept;
  ++stats_.rx_batches;
  batch.count_ = kept;
  return kept;
}

SendResult send_all(int fd, mmsghdr* msgs, size_t n) {
  SendResult out;
  size_t done = 0;
  while (done < n) {
    int r = ::sendmmsg(fd, msgs + done, unsigned(n - done), MSG_DONTWAIT);
    ++out.calls;
    if (r < 0) {
      if (errno == EINTR) continue;
      ++out.dropped;  // this one; the rest still go
      ++done;
      continue;
    }
    done += size_t(r);
    out.sent += size_t(r);
  }
  return out;
}

void UdpSocket::send(SendQueue& queue, util::LatencyHistogram* delay) {
  const size_t n = queue.size();
  if (n == 0) return;
  auto& h = *send_hdrs_;
  // Cut the queue into messages: a run of slots to one destination whose
  // lengths are equal, except that the last may be shorter (UDP_SEGMENT cuts
  // the payload every gso_size bytes), becomes one GSO message.
  size_t m = 0;
  for (size_t i = 0; i < n;) {
    const auto& first = queue.slot(i);
    const size_t seg = first.len;
    size_t j = i + 1;
    if (gso_ && seg > 0 && seg <= kMaxGsoSegment) {
      size_t total = seg;
      while (j < n && j - i < kMaxGsoSegments) {
        const auto& next = queue.slot(j);
        if (next.len > seg || next.len == 0 || total + next.len > kMaxGsoBytes || !(next.to == first.to)) break;
        total += next.len;
        ++j;
        if (next.len < seg) break;  // a short segment can only be the last
      }
    }
    socklen_t len = 0;
    if (v6_ && first.to.is_v4()) {
      // Dual-stack socket: IPv4 peers are addressed as v4-mapped IPv6 (RFC 4291 §2.5.5.2).
      std::array<uint8_t, 16> mapped{};
      mapped[10] = mapped[11] = 0xff;
      std::memcpy(&mapped[12], first.to.ip_bytes().data(), 4);
      len = util::SocketAddr::v6(mapped, first.to.port()).to_sockaddr(h.names[m]);
    } else {
      len = first.to.to_sockaddr(h.names[m]);
    }
    for (size_t k = i; k < j; ++k) {
      const auto& slot = queue.slot(k);
      h.iov[k] = {const_cast<uint8_t*>(slot.data.data()), slot.len};
      stats_.tx_bytes += slot.len;
    }
    auto& hdr = h.msgs[m].msg_hdr;
    hdr = {};
    hdr.msg_name = &h.names[m];
    hdr.msg_namelen = len;
    hdr.msg_iov = &h.iov[i];
    hdr.msg_iovlen = j - i;
    if (j - i > 1) {
      hdr.msg_control = h.control[m].data();
      hdr.msg_controllen = h.control[m].size();
      cmsghdr* c = CMSG_FIRSTHDR(&hdr);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      uint16_t gso_size = uint16_t(seg);
      std::memcpy(CMSG_DATA(c), &gso_size, sizeof(gso_size));
    }
    h.first[m] = uint16_t(i);
    h.segments[m] = uint16_t(j - i);
    ++m;
    i = j;
  }
  // Hand the messages to the kernel; a message it refuses is dropped (or, for
  // a GSO message the kernel cannot cut, resent one datagram at a time) and
  // the rest still go: the packet path never blocks and never throws.
  size_t done = 0;
  while (done < m) {
    int r = ::sendmmsg(fd_, h.msgs.data() + done, unsigned(m - done), MSG_DONTWAIT);
    ++stats_.tx_batches;
    if (r < 0) {
      int err = errno;
      if (err == EINTR) continue;
      const size_t segs = h.segments[done];
      if (segs > 1 && gso_refusal(err)) {
        if (++stats_.tx_gso_refused == kMaxGsoRefusals) {
          gso_ = false;
          log()->warn("{}: the kernel refuses UDP GSO ({}); sending datagrams one by one", local_.to_string(),
                      std::strerror(err));
        }
        auto one = h.msgs[done].msg_hdr;
        one.msg_control = nullptr;
        one.msg_controllen = 0;
        one.msg_iovlen = 1;
        for (size_t k = 0; k < segs; ++k) {
          one.msg_iov = &h.iov[h.first[done] + k];
          ++stats_.tx_batches;
          if (::sendmsg(fd_, &one, MSG_DONTWAIT) >= 0) ++stats_.tx_packets;
          else ++stats_.tx_dropped;
        }
      } else {
        stats_.tx_dropped += segs;
      }
      ++done;
      continue;
    }
    for (size_t k = done; k < done + size_t(r); ++k) {
      stats_.tx_packets += h.segments[k];
      if (h.segments[k] > 1) stats_.tx_gso_segments += h.segments[k];
    }
    done += size_t(r);
  }
  if (delay != nullptr) {
    // One clock read per batch: the batch left the server when sendmmsg returned.
    const int64_t now_ns = realtime_ns();
    for (size_t i = 0; i < n; ++i) {
      int64_t origin = queue.slot(i).origin_ns;
      if (origin != 0 && now_ns >= origin) delay->add(uint64_t(now_ns - origin) / 1000);
    }
  }
  queue.clear();
}

}  // namespace sb::net
