// The floor of the forwarding path (DESIGN.md principle 4): what it costs to
// SRTP-protect one 1100-byte RTP packet and to hand it to the kernel in a
// sendmmsg batch of 32 to a loopback socket, for both SRTP profiles, each part
// alone and together. An SFU cannot forward a packet for less than "both".
// The same with UDP GSO (UDP_SEGMENT): a subscriber's copies of one video frame
// (a few packets of one size) handed to the kernel as one message, which is
// the cheapest way this machine has to send them.
// For comparison, a bare OpenSSL EVP AES-128-GCM seal of the same packet
// (RFC 7714 §7.1 shape: 12-byte header as AAD, 16-byte tag): what a lean SRTP
// over EVP would cost, without libsrtp's per-packet bookkeeping.
//
// Every variant copies the packet template into its buffer first (as the SFU
// copies into a pooled slot), so the numbers compare like with like. The
// receiving socket is drained outside the timed region.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <openssl/evp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include <array>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "net/UdpSocket.hpp"
#include "srtp/Profile.hpp"
#include "srtp/LibSrtpSession.hpp"
#include "srtp/Session.hpp"
#include "util/Bytes.hpp"

namespace {

using sb::srtp::Profile;

constexpr size_t kPacketSize = 1100;  ///< RTP header (12) + payload
constexpr size_t kBatch = 32;         ///< datagrams per sendmmsg
constexpr size_t kFanoutBatch = 64;   ///< the media worker's batch (net::kBatchSize)
constexpr size_t kSlotSize = 1200;    ///< room for the SRTP trailer
/// Batches sent between two drains of the receiving socket (128 packets fit
/// in the default socket buffer, so none is dropped).
constexpr int kBatchesPerDrain = 4;

std::array<uint8_t, kPacketSize> packet_template() {
  std::array<uint8_t, kPacketSize> p{};
  p[0] = 0x80;
  p[1] = 96;
  sb::util::store_be32(&p[4], 123456);
  sb::util::store_be32(&p[8], 0x11223344);
  for (size_t i = 12; i < kPacketSize; ++i) p[i] = uint8_t(i * 31);
  return p;
}

sb::srtp::SrtpKeys keys_for(Profile p, uint8_t seed) {
  sb::srtp::SrtpKeys k;
  k.key.resize(sb::srtp::master_key_length(p));
  k.salt.resize(sb::srtp::master_salt_length(p));
  for (size_t i = 0; i < k.key.size(); ++i) k.key[i] = uint8_t(seed + i * 7);
  for (size_t i = 0; i < k.salt.size(); ++i) k.salt[i] = uint8_t(seed + i * 13);
  return k;
}

/// Makes `h` a UDP GSO message (UDP_SEGMENT, Linux 4.18): the kernel cuts its
/// payload into datagrams of `size` bytes. `control` must outlive the send.
void set_udp_segment(msghdr& h, std::array<uint8_t, CMSG_SPACE(sizeof(uint16_t))>& control, size_t size) {
  h.msg_control = control.data();
  h.msg_controllen = control.size();
  cmsghdr* c = CMSG_FIRSTHDR(&h);
  c->cmsg_level = SOL_UDP;
  c->cmsg_type = UDP_SEGMENT;
  c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
  uint16_t segment = uint16_t(size);
  std::memcpy(CMSG_DATA(c), &segment, sizeof segment);
}

/// kBatch receive buffers with their recvmmsg headers.
class ReceiveBatch {
 public:
  ReceiveBatch() {
    for (size_t i = 0; i < kBatch; ++i) {
      iov_[i] = {bufs_[i].data(), bufs_[i].size()};
      msgs_[i].msg_hdr.msg_iov = &iov_[i];
      msgs_[i].msg_hdr.msg_iovlen = 1;
    }
  }
  ReceiveBatch(const ReceiveBatch&) = delete;
  ReceiveBatch& operator=(const ReceiveBatch&) = delete;

  /// What one non-blocking recvmmsg on fd got (<= 0: nothing).
  int receive(int fd) { return recvmmsg(fd, msgs_.data(), unsigned(kBatch), MSG_DONTWAIT, nullptr); }

 private:
  std::array<std::array<uint8_t, kSlotSize>, kBatch> bufs_;
  std::array<iovec, kBatch> iov_;
  std::array<mmsghdr, kBatch> msgs_{};
};

/// A UDP sender and receiver on 127.0.0.1 and pre-built sendmmsg headers over
/// kBatch slots (no copy into a send queue: the floor).
class LoopbackPair {
 public:
  LoopbackPair() {
    tx_ = make_socket();
    rx_ = make_socket();
    int big = 8 << 20;
    // SO_RCVBUFFORCE passes rmem_max when privileged; SO_RCVBUF is the fallback.
    if (setsockopt(rx_, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) != 0)
      setsockopt(rx_, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    socklen_t len = sizeof to_;
    getsockname(rx_, reinterpret_cast<sockaddr*>(&to_), &len);
    for (size_t i = 0; i < kBatch; ++i) {
      iov_[i] = {slots_[i].data(), kPacketSize};
      msgs_[i].msg_hdr.msg_iov = &iov_[i];
      msgs_[i].msg_hdr.msg_iovlen = 1;
      msgs_[i].msg_hdr.msg_name = &to_;
      msgs_[i].msg_hdr.msg_namelen = sizeof to_;
    }
  }
  ~LoopbackPair() {
    ::close(tx_);
    ::close(rx_);
  }
  LoopbackPair(const LoopbackPair&) = delete;
  LoopbackPair& operator=(const LoopbackPair&) = delete;

  uint8_t* slot(size_t i) { return slots_[i].data(); }
  int tx_fd() const { return tx_; }
  int rx_fd() const { return rx_; }
  void set_length(size_t i, size_t len) { iov_[i].iov_len = len; }

  /// One sendmmsg of the kBatch slots; returns the datagrams the kernel took.
  int send_batch() {
    int sent = 0;
    while (sent < int(kBatch)) {
      int n = sendmmsg(tx_, msgs_.data() + sent, unsigned(kBatch) - unsigned(sent), 0);
      if (n <= 0) break;
      sent += n;
    }
    return sent;
  }
  /// The kBatch slots as kBatch / segments UDP GSO messages of `segments`
  /// datagrams each (every slot of one length); returns the datagrams sent.
  int send_batch_gso(size_t segments) {
    const size_t messages = kBatch / segments;
    for (size_t m = 0; m < messages; ++m) {
      auto& h = gso_msgs_[m].msg_hdr;
      h = {};
      h.msg_name = &to_;
      h.msg_namelen = sizeof to_;
      h.msg_iov = &iov_[m * segments];
      h.msg_iovlen = segments;
      set_udp_segment(h, gso_control_[m], iov_[m * segments].iov_len);
    }
    int sent = 0;
    while (sent < int(messages)) {
      int n = sendmmsg(tx_, gso_msgs_.data() + sent, unsigned(messages) - unsigned(sent), 0);
      if (n <= 0) break;
      sent += n;
    }
    return sent * int(segments);
  }
  /// Reads everything waiting on the receiver.
  size_t drain() {
    size_t total = 0;
    for (;;) {
      int n = received_.receive(rx_);
      if (n <= 0) break;
      total += size_t(n);
    }
    return total;
  }

 private:
  static int make_socket() {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind");
    return fd;
  }

  int tx_ = -1, rx_ = -1;
  sockaddr_in to_{};
  std::array<std::array<uint8_t, kSlotSize>, kBatch> slots_{};
  std::array<iovec, kBatch> iov_{};
  std::array<mmsghdr, kBatch> msgs_{};
  std::array<mmsghdr, kBatch> gso_msgs_{};
  std::array<std::array<uint8_t, CMSG_SPACE(sizeof(uint16_t))>, kBatch> gso_control_{};
  ReceiveBatch received_;
};

void report(benchmark::State& state, size_t packets_per_iteration) {
  double packets = double(state.iterations()) * double(packets_per_iteration);
  state.SetItemsProcessed(int64_t(packets));
  // Seconds per packet (shown with an SI prefix: "612n" is 0.612 µs).
  state.counters["per_packet"] = benchmark::Counter(packets, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

/// Copies the template into a slot with the next sequence number (a fresh index
/// for every packet: libsrtp refuses to protect the same one twice).
inline void fill(uint8_t* slot, const std::array<uint8_t, kPacketSize>& tmpl, uint16_t seq) {
  std::memcpy(slot, tmpl.data(), kPacketSize);
  sb::util::store_be16(slot + 2, seq);
}

// Session: SRTP on OpenSSL EVP (what the server uses). LibSrtpSession: Debian's
// libsrtp2 (NSS crypto), kept for comparison.
template <typename SrtpSession>
void BM_Protect(benchmark::State& state, Profile profile) {
  SrtpSession session(profile, keys_for(profile, 1), keys_for(profile, 2));
  auto tmpl = packet_template();
  std::array<std::array<uint8_t, kSlotSize>, kBatch> slots{};
  uint16_t seq = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < kBatch; ++i) {
      fill(slots[i].data(), tmpl, seq++);
      auto n = session.protect_rtp(slots[i], kPacketSize);
      benchmark::DoNotOptimize(n);
    }
  }
  if (session.stats().protected_rtp == 0) state.SkipWithError("protect failed");
  report(state, kBatch);
}

void BM_Sendmmsg(benchmark::State& state) {
  LoopbackPair pair;
  auto tmpl = packet_template();
  uint16_t seq = 0;
  int batches = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < kBatch; ++i) fill(pair.slot(i), tmpl, seq++);
    benchmark::DoNotOptimize(pair.send_batch());
    if (++batches % kBatchesPerDrain == 0) {
      state.PauseTiming();
      pair.drain();
      state.ResumeTiming();
    }
  }
  report(state, kBatch);
}

/// Protect kBatch packets into the pair's slots and send them: one datagram per
/// sendmmsg entry (segments = 1), or UDP GSO messages of `segments` datagrams.
template <typename SrtpSession>
void protect_and_send(benchmark::State& state, SrtpSession& session, size_t segments) {
  LoopbackPair pair;
  auto tmpl = packet_template();
  uint16_t seq = 0;
  int batches = 0;
  uint64_t sent = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < kBatch; ++i) {
      fill(pair.slot(i), tmpl, seq++);
      auto n = session.protect_rtp({pair.slot(i), kSlotSize}, kPacketSize);
      pair.set_length(i, n.value_or(kPacketSize));
    }
    sent += uint64_t(segments > 1 ? pair.send_batch_gso(segments) : pair.send_batch());
    if (++batches % kBatchesPerDrain == 0) {
      state.PauseTiming();
      pair.drain();
      state.ResumeTiming();
    }
  }
  report(state, kBatch);
  if (sent < uint64_t(state.iterations()) * kBatch) state.SkipWithError("the kernel did not take every datagram");
}

template <typename SrtpSession>
void BM_ProtectAndSend(benchmark::State& state, Profile profile) {
  SrtpSession session(profile, keys_for(profile, 1), keys_for(profile, 2));
  protect_and_send(state, session, 1);
}

/// The floor when a subscriber's copies of a frame go together: protect, then
/// UDP GSO messages of `segments` datagrams (4: a 1 Mbps, 30 fps video frame).
void BM_ProtectAndSendGso(benchmark::State& state, Profile profile) {
  sb::srtp::Session session(profile, keys_for(profile, 1), keys_for(profile, 2));
  protect_and_send(state, session, size_t(state.range(0)));
}

/// AES-128-GCM over EVP as RFC 7714 uses it: 12-byte IV (salt XOR SSRC/index),
/// the RTP header as AAD, the payload encrypted in place, a 16-byte tag appended.
void BM_EvpAes128GcmSeal(benchmark::State& state) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_CIPHER* gcm = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
  std::array<uint8_t, 16> key{};
  for (size_t i = 0; i < key.size(); ++i) key[i] = uint8_t(i * 3 + 1);
  EVP_EncryptInit_ex(ctx, gcm, nullptr, key.data(), nullptr);
  auto tmpl = packet_template();
  std::array<std::array<uint8_t, kSlotSize>, kBatch> slots{};
  std::array<uint8_t, 12> iv{};
  uint16_t seq = 0;
  bool ok = true;
  for (auto _ : state) {
    for (size_t i = 0; i < kBatch; ++i) {
      uint8_t* p = slots[i].data();
      fill(p, tmpl, seq);
      sb::util::store_be16(&iv[10], seq++);
      int len = 0;
      ok &= EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv.data()) == 1;
      ok &= EVP_EncryptUpdate(ctx, nullptr, &len, p, 12) == 1;
      ok &= EVP_EncryptUpdate(ctx, p + 12, &len, p + 12, int(kPacketSize - 12)) == 1;
      ok &= EVP_EncryptFinal_ex(ctx, p + kPacketSize, &len) == 1;
      ok &= EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, p + kPacketSize) == 1;
      benchmark::DoNotOptimize(p);
    }
  }
  if (!ok) state.SkipWithError("EVP failed");
  EVP_CIPHER_free(gcm);
  EVP_CIPHER_CTX_free(ctx);
  report(state, kBatch);
}

void pin_to_cpu(int cpu) {
  if (std::thread::hardware_concurrency() < 2) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

void unpin() {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (unsigned i = 0; i < std::thread::hardware_concurrency(); ++i) CPU_SET(i, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/// S receiving sockets on 127.0.0.1, all watched by one epoll that a thread of
/// their own waits on and drains with recvmmsg, as a real client process
/// (or the load generator) would: the sender pays for waking it. The thread
/// runs on CPU `cpu`, or wherever the scheduler puts it when that is negative.
class WatchedReceivers {
 public:
  explicit WatchedReceivers(size_t count, int cpu = -1) : addrs_(count) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = stop_fd_;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, stop_fd_, &ev);
    for (size_t i = 0; i < count; ++i) {
      int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind");
      int big = 1 << 20;
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
      socklen_t len = sizeof addrs_[i];
      getsockname(fd, reinterpret_cast<sockaddr*>(&addrs_[i]), &len);
      ev.data.fd = fd;
      epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
      fds_.push_back(fd);
    }
    thread_ = std::thread([this, cpu] {
      if (cpu >= 0) pin_to_cpu(cpu);
      run();
    });
  }
  ~WatchedReceivers() {
    uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(stop_fd_, &one, sizeof one);
    thread_.join();
    for (int fd : fds_) ::close(fd);
    ::close(stop_fd_);
    ::close(epoll_);
  }
  WatchedReceivers(const WatchedReceivers&) = delete;
  WatchedReceivers& operator=(const WatchedReceivers&) = delete;

  const sockaddr_in& address(size_t i) const { return addrs_[i]; }
  uint64_t received() const { return received_.load(); }

 private:
  void run() {
    std::array<epoll_event, 64> events;
    ReceiveBatch batch;
    for (;;) {
      int n = epoll_wait(epoll_, events.data(), int(events.size()), -1);
      for (int i = 0; i < n; ++i) {
        int fd = events[size_t(i)].data.fd;
        if (fd == stop_fd_) return;
        for (;;) {
          int got = batch.receive(fd);
          if (got <= 0) break;
          received_ += uint64_t(got);
        }
      }
    }
  }

  std::vector<sockaddr_in> addrs_;
  std::vector<int> fds_;
  int epoll_ = -1, stop_fd_ = -1;
  std::atomic<uint64_t> received_{0};
  std::thread thread_;
};

/// Fan-out as an SFU does it: `frame` packets (one, or a video frame's few)
/// protected for each of S subscribers (S sessions, S keys) and sent in
/// sendmmsg batches of up to kFanoutBatch datagrams to S distinct sockets that
/// a receiving thread is waiting on. With frame > 1 a subscriber's packets go
/// together as one UDP GSO message, as the server sends them.
class FanoutSender {
 public:
  FanoutSender(size_t fanout, size_t frame, int receiver_cpu = -1)
      : fanout_(fanout), frame_(frame), rx_(fanout, receiver_cpu), tmpl_(packet_template()) {
    const Profile profile = Profile::AeadAes128Gcm;
    for (size_t i = 0; i < fanout; ++i)
      sessions_.push_back(
          std::make_unique<sb::srtp::Session>(profile, keys_for(profile, uint8_t(i)), keys_for(profile, 2)));
    tx_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int big = 8 << 20;
    setsockopt(tx_, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  }
  ~FanoutSender() { ::close(tx_); }
  FanoutSender(const FanoutSender&) = delete;
  FanoutSender& operator=(const FanoutSender&) = delete;

  /// One publisher frame to every subscriber.
  void send_frame() {
    size_t used = 0, queued = 0;
    for (size_t s = 0; s < fanout_; ++s) {
      if (used + frame_ > kFanoutBatch) {
        flush(queued);
        used = queued = 0;
      }
      for (size_t k = 0; k < frame_; ++k) {
        uint8_t* p = slots_[used + k].data();
        fill(p, tmpl_, uint16_t(seq_ + k));
        auto n = sessions_[s]->protect_rtp({p, kSlotSize}, kPacketSize);
        iov_[used + k] = {p, n.value_or(kPacketSize)};
      }
      names_[queued] = rx_.address(s);
      auto& h = msgs_[queued].msg_hdr;
      h = {};
      h.msg_name = &names_[queued];
      h.msg_namelen = sizeof(sockaddr_in);
      h.msg_iov = &iov_[used];
      h.msg_iovlen = frame_;
      if (frame_ > 1) set_udp_segment(h, control_[queued], iov_[used].iov_len);
      used += frame_;
      ++queued;
    }
    if (queued > 0) flush(queued);
    seq_ = uint16_t(seq_ + frame_);
  }

  /// Packets the kernel took.
  uint64_t sent() const { return sent_; }

 private:
  void flush(size_t count) {
    size_t done = 0;
    while (done < count) {
      int n = sendmmsg(tx_, msgs_.data() + done, unsigned(count - done), 0);
      if (n <= 0) {
        ++done;  // EAGAIN: the receiver fell behind; count it as lost and go on
        continue;
      }
      for (size_t k = done; k < done + size_t(n); ++k) sent_ += msgs_[k].msg_hdr.msg_iovlen;
      done += size_t(n);
    }
  }

  size_t fanout_, frame_;
  std::vector<std::unique_ptr<sb::srtp::Session>> sessions_;
  WatchedReceivers rx_;
  std::array<uint8_t, kPacketSize> tmpl_;
  int tx_ = -1;
  uint16_t seq_ = 0;
  uint64_t sent_ = 0;
  std::array<std::array<uint8_t, kSlotSize>, kFanoutBatch> slots_{};
  std::array<iovec, kFanoutBatch> iov_{};
  std::array<mmsghdr, kFanoutBatch> msgs_{};
  std::array<sockaddr_in, kFanoutBatch> names_{};
  std::array<std::array<uint8_t, CMSG_SPACE(sizeof(uint16_t))>, kFanoutBatch> control_{};
};

/// The fan-out in a tight loop, caches warm. CPU time is the sending thread's,
/// as the server's would be; the receiver's is not counted.
void BM_ProtectAndSendFanout(benchmark::State& state) {
  const size_t fanout = size_t(state.range(0));
  const size_t frame = size_t(state.range(1));
  FanoutSender sender(fanout, frame);
  for (auto _ : state) sender.send_frame();
  state.counters["fanout"] = double(fanout);
  report(state, fanout * frame);
  if (sender.sent() < uint64_t(state.iterations()) * fanout * frame * 9 / 10)
    state.SkipWithError("more than 10% not sent");
}

/// CPU time of the calling thread so far, in seconds.
double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

/// The address a socket is bound to.
sockaddr_in address_of(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return a;
}

/// A new epoll instance watching `fd` for input.
int epoll_on(int fd) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  return ep;
}

/// The fixed cost of one wakeup, which dominates a server at low load: the
/// measured thread sleeps in epoll_wait until a datagram arrives (another
/// thread sends one every `idle` ms), receives it and sends one reply, as a
/// media worker does for a lone publisher packet. CPU time is the woken
/// thread's. Nothing here is encrypted or parsed: it is the platform's share.
/// It also gives the floor under the server's `receive_wait_us`: the time from
/// the datagram's arrival (kernel receive timestamp) to the woken thread's
/// read, i.e. how long waking an idle core takes on this machine.
void BM_WakeOnDatagram(benchmark::State& state) {
  const auto idle = std::chrono::milliseconds(state.range(0));
  LoopbackPair pair;  // tx_: the waker's socket, rx_: ours
  int ours = pair.rx_fd();
  sockaddr_in waker = address_of(pair.tx_fd());
  int ep = epoll_on(ours);
  std::atomic<bool> stop{false};
  // As in bench/compare: the server on CPU 0, its peer on CPU 1.
  pin_to_cpu(0);
  std::thread waker_thread([&] {
    pin_to_cpu(1);
    sockaddr_in to = address_of(ours);
    std::array<uint8_t, kPacketSize> pkt = packet_template();
    std::array<uint8_t, kSlotSize> sink{};
    while (!stop.load()) {
      ::sendto(pair.tx_fd(), pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
      std::this_thread::sleep_for(idle);
      while (::recv(pair.tx_fd(), sink.data(), sink.size(), MSG_DONTWAIT) > 0) {
      }
    }
  });
  int on = 1;
  setsockopt(ours, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  std::vector<int64_t> wake_ns;
  wake_ns.reserve(size_t(state.max_iterations));
  std::array<uint8_t, kSlotSize> buf{};
  alignas(cmsghdr) std::array<uint8_t, CMSG_SPACE(sizeof(timespec))> control{};
  const double cpu0 = thread_cpu_seconds();
  for (auto _ : state) {
    epoll_event got;
    while (epoll_wait(ep, &got, 1, 1000) != 1) {
    }
    const int64_t read_ns = sb::net::realtime_ns();
    iovec iov{buf.data(), buf.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    ssize_t n = ::recvmsg(ours, &msg, MSG_DONTWAIT);
    if (n > 0) ::sendto(ours, buf.data(), size_t(n), 0, reinterpret_cast<sockaddr*>(&waker), sizeof waker);
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c))
      if (int64_t arrived = sb::net::rx_timestamp_ns(*c)) wake_ns.push_back(read_ns - arrived);
  }
  const double cpu_s = thread_cpu_seconds() - cpu0;
  stop = true;
  waker_thread.join();
  ::close(ep);
  unpin();
  // CPU seconds of the woken thread per wakeup ("62u" is 62 µs).
  state.counters["cpu_per_wakeup"] = cpu_s / double(std::max<int64_t>(1, state.iterations()));
  // Arrival to read, in seconds ("45u" is 45 µs): the median and the 99th percentile.
  if (!wake_ns.empty()) {
    std::sort(wake_ns.begin(), wake_ns.end());
    state.counters["wake_p50"] = double(wake_ns[wake_ns.size() / 2]) * 1e-9;
    state.counters["wake_p99"] = double(wake_ns[wake_ns.size() * 99 / 100]) * 1e-9;
  }
}

/// How late this machine wakes a thread whose timer expires: the thread (on
/// CPU 1, where bench/compare runs the load generator) sleeps in epoll_pwait2
/// for `timeout_us` again and again for 5 s, as the generator does between
/// frames. A late wakeup holds back every frame due meanwhile, which then
/// leave together; on a virtual machine an idle vCPU's timer can fire
/// milliseconds late. Counters: lateness beyond the timeout at the median, the
/// 99th and 99.9th percentiles and the maximum, and wakeups more than 1 ms
/// late per second.
void BM_TimerWake(benchmark::State& state) {
  const auto timeout = std::chrono::microseconds(state.range(0));
  const auto run_for = std::chrono::seconds(5);
  pin_to_cpu(1);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  std::vector<int64_t> late_ns;
  int64_t over_1ms = 0;
  for (auto _ : state) {
    late_ns.clear();
    over_1ms = 0;
    const auto end = std::chrono::steady_clock::now() + run_for;
    while (std::chrono::steady_clock::now() < end) {
      const timespec ts{0, long(std::chrono::nanoseconds(timeout).count())};
      epoll_event ev;
      const auto before = std::chrono::steady_clock::now();
      epoll_pwait2(ep, &ev, 1, &ts, nullptr);
      const int64_t late = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::now() - before - timeout).count();
      late_ns.push_back(late);
      over_1ms += late > 1'000'000;
    }
  }
  ::close(ep);
  unpin();
  if (late_ns.empty()) return;
  std::sort(late_ns.begin(), late_ns.end());
  const size_t n = late_ns.size();
  // Seconds ("80u" is 80 µs).
  state.counters["late_p50"] = double(late_ns[n / 2]) * 1e-9;
  state.counters["late_p99"] = double(late_ns[n * 99 / 100]) * 1e-9;
  state.counters["late_p999"] = double(late_ns[n * 999 / 1000]) * 1e-9;
  state.counters["late_max"] = double(late_ns.back()) * 1e-9;
  state.counters["over_1ms_per_s"] = double(over_1ms) / double(run_for.count());
}

/// The floor in the rhythm of a real room. BM_ProtectAndSendFanout runs the
/// fan-out back to back with warm caches; a server forwarding one 30 fps
/// stream does the same work once per frame, from a core that has been asleep
/// for 33 ms. Here a publisher thread (on CPU 1, where bench/compare runs the
/// load generator, with the receivers) sends a frame of `frame` packets every
/// 33.3 ms; the measured thread (CPU 0) sleeps in epoll_wait until it arrives,
/// reads it with recvmmsg and fans it out to S subscribers as above. CPU time
/// is the measured thread's per forwarded packet: protect and send, the
/// wakeup, and whatever running from cold caches adds. Nothing is decrypted
/// or parsed, so a forwarder cannot do this work for less.
void BM_PacedFanout(benchmark::State& state) {
  const size_t fanout = size_t(state.range(0));
  const size_t frame = 4;
  const auto interval = std::chrono::microseconds(1'000'000 / 30);
  pin_to_cpu(0);
  FanoutSender sender(fanout, frame, 1);
  LoopbackPair pair;  // tx_: the publisher's socket, rx_: ours
  int ours = pair.rx_fd();
  int ep = epoll_on(ours);
  std::atomic<bool> stop{false};
  std::thread publisher([&] {
    pin_to_cpu(1);
    sockaddr_in to = address_of(ours);
    std::array<uint8_t, kPacketSize> pkt = packet_template();
    std::array<iovec, frame> iov{};
    std::array<mmsghdr, frame> msgs{};
    for (size_t k = 0; k < frame; ++k) {
      iov[k] = {pkt.data(), pkt.size()};
      msgs[k].msg_hdr.msg_iov = &iov[k];
      msgs[k].msg_hdr.msg_iovlen = 1;
      msgs[k].msg_hdr.msg_name = &to;
      msgs[k].msg_hdr.msg_namelen = sizeof to;
    }
    auto next = std::chrono::steady_clock::now();
    while (!stop.load()) {
      sendmmsg(pair.tx_fd(), msgs.data(), unsigned(frame), 0);
      next += interval;
      std::this_thread::sleep_until(next);
    }
  });
  ReceiveBatch batch;
  uint64_t frames = 0;
  const double cpu0 = thread_cpu_seconds();
  for (auto _ : state) {
    epoll_event got;
    while (epoll_wait(ep, &got, 1, 1000) != 1) {
    }
    // A frame's packets are forwarded as one frame, as the server's batched
    // fan-out does (the publisher sends them together).
    int n = batch.receive(ours);
    if (n > 0) {
      for (int k = 0; k < n; k += int(frame)) {
        sender.send_frame();
        ++frames;
      }
    }
  }
  const double cpu_s = thread_cpu_seconds() - cpu0;
  stop = true;
  publisher.join();
  ::close(ep);
  unpin();
  const double packets = double(std::max<uint64_t>(1, frames)) * double(fanout * frame);
  state.counters["fanout"] = double(fanout);
  // CPU seconds of the forwarding thread per forwarded packet ("4.1u" is 4.1 µs).
  state.counters["cpu_per_packet"] = cpu_s / packets;
  if (sender.sent() < frames * fanout * frame * 9 / 10) state.SkipWithError("more than 10% not sent");
}

}  // namespace

// Benchmark's registration macros paste the function name into identifiers,
// so each session type gets a plain wrapper.
void BM_Protect_Evp(benchmark::State& s, Profile p) { BM_Protect<sb::srtp::Session>(s, p); }
void BM_Protect_Libsrtp(benchmark::State& s, Profile p) { BM_Protect<sb::srtp::LibSrtpSession>(s, p); }
void BM_ProtectAndSend_Evp(benchmark::State& s, Profile p) { BM_ProtectAndSend<sb::srtp::Session>(s, p); }
void BM_ProtectAndSend_Libsrtp(benchmark::State& s, Profile p) {
  BM_ProtectAndSend<sb::srtp::LibSrtpSession>(s, p);
}

BENCHMARK_CAPTURE(BM_Protect_Evp, aead_aes128_gcm, Profile::AeadAes128Gcm);
BENCHMARK_CAPTURE(BM_Protect_Evp, aes_cm128_hmac_sha1_80, Profile::AesCm128HmacSha1_80);
BENCHMARK_CAPTURE(BM_Protect_Libsrtp, aead_aes128_gcm, Profile::AeadAes128Gcm);
BENCHMARK_CAPTURE(BM_Protect_Libsrtp, aes_cm128_hmac_sha1_80, Profile::AesCm128HmacSha1_80);
BENCHMARK(BM_Sendmmsg);
BENCHMARK_CAPTURE(BM_ProtectAndSend_Evp, aead_aes128_gcm, Profile::AeadAes128Gcm);
BENCHMARK_CAPTURE(BM_ProtectAndSend_Evp, aes_cm128_hmac_sha1_80, Profile::AesCm128HmacSha1_80);
BENCHMARK_CAPTURE(BM_ProtectAndSend_Libsrtp, aead_aes128_gcm, Profile::AeadAes128Gcm);
BENCHMARK_CAPTURE(BM_ProtectAndSend_Libsrtp, aes_cm128_hmac_sha1_80, Profile::AesCm128HmacSha1_80);
BENCHMARK_CAPTURE(BM_ProtectAndSendGso, aead_aes128_gcm, Profile::AeadAes128Gcm)->Arg(4)->ArgName("segments");
BENCHMARK_CAPTURE(BM_ProtectAndSendGso, aes_cm128_hmac_sha1_80, Profile::AesCm128HmacSha1_80)
    ->Arg(4)
    ->ArgName("segments");
BENCHMARK(BM_EvpAes128GcmSeal);
BENCHMARK(BM_WakeOnDatagram)->Arg(20)->Arg(1)->ArgName("idle_ms")->Iterations(500)->UseRealTime();
BENCHMARK(BM_ProtectAndSendFanout)
    ->ArgsProduct({{1, 20, 200}, {1, 4}})
    ->ArgNames({"subscribers", "frame"});
BENCHMARK(BM_TimerWake)->Arg(250)->ArgName("timeout_us")->Iterations(1)->UseRealTime();
// 150 frames: 5 s at 30 fps.
BENCHMARK(BM_PacedFanout)->Arg(20)->Arg(200)->ArgName("subscribers")->Iterations(150)->UseRealTime();

BENCHMARK_MAIN();
