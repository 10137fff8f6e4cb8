#include "load/LoadGenerator.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <sstream>

#include "dtls/Certificate.hpp"
#include "load/BatchSender.hpp"
#include "load/Histogram.hpp"
#include "load/JanusSignaling.hpp"
#include "load/MediaStats.hpp"
#include "load/ServerStats.hpp"
#include "load/SharedSocket.hpp"
#include "load/SignalingClient.hpp"
#include "load/TimerQueue.hpp"
#include "load/VirtualPeer.hpp"
#include "net/UdpSocket.hpp"
#include "util/Log.hpp"

namespace sb::load {

namespace {

constexpr size_t kMaxErrorMessages = 20;
constexpr int kMaxEpollEvents = 256;
/// After publishers stop, receivers keep listening this long for packets in flight.
constexpr util::Duration kDrainTime = std::chrono::milliseconds(500);
constexpr util::Duration kProgressInterval = std::chrono::seconds(1);
constexpr util::Duration kSignalingCloseLimit = std::chrono::seconds(3);
/// Participants not connected yet are checked against the connect timeout this often.
constexpr util::Duration kConnectCheckInterval = std::chrono::milliseconds(100);
/// Whether everyone is up and receiving (a look at every participant) is asked
/// at most this often while the steady window waits to open.
constexpr util::Duration kSettleCheckInterval = std::chrono::milliseconds(10);
/// Participants per shared socket: few sockets read many datagrams per recvmmsg;
/// more sockets spread the queueing over more receive buffers.
constexpr size_t kPeersPerSharedSocket = 256;
/// recvmmsg calls on one shared socket per round: a backlog is worked off over
/// several rounds, so that timers and signaling are not starved meanwhile.
constexpr int kMaxBatchesPerRound = 4;
/// epoll tokens: 0 the signaling eventfd, 1 + i participant i's own socket,
/// kSharedToken + k shared socket k.
constexpr uint64_t kSharedToken = uint64_t(1) << 32;

/// When a datagram arrived, on the steady clock, from its kernel receive
/// timestamp (CLOCK_REALTIME) and the two clocks read together now; `now` when
/// the kernel gave none. Delays and loss timers then do not depend on when the
/// generator got round to reading.
util::Timestamp arrival(util::Timestamp now, int64_t real_now_ns, int64_t rx_ns) {
  if (rx_ns <= 0 || rx_ns > real_now_ns) return now;
  return now - std::chrono::duration_cast<util::Duration>(std::chrono::nanoseconds(real_now_ns - rx_ns));
}
/// An epoll_pwait2 timeout from now until `at` (at most 1 s; zero if past).
timespec timeout_of(util::Timestamp now, util::Timestamp at) {
  timespec t{};
  if (at > now) {
    int64_t ns = std::min<int64_t>(1'000'000'000, std::chrono::duration_cast<std::chrono::nanoseconds>(at - now).count());
    t.tv_sec = time_t(ns / 1'000'000'000);
    t.tv_nsec = long(ns % 1'000'000'000);
  }
  return t;
}

const auto& log() {
  static auto l = util::logger("load");
  return l;
}

uint32_t host_ip(const util::SocketAddr& a) {
  const auto& b = a.ip_bytes();
  return uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | b[3];
}

util::SocketAddr v4_addr(uint32_t ip, uint16_t port) {
  return util::SocketAddr::v4({uint8_t(ip >> 24), uint8_t(ip >> 16), uint8_t(ip >> 8), uint8_t(ip)}, port);
}

std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "used from a signal handler");

double seconds(util::Duration d) { return std::chrono::duration<double>(d).count(); }

double rusage_seconds(int who) {
  rusage ru{};
  if (getrusage(who, &ru) != 0) return 0;
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/// User + system CPU time of a process, in seconds: its CPU-time clock (ns
/// resolution, every thread, exited ones included), else utime + stime from
/// /proc/<pid>/stat (fields 14 and 15, in clock ticks).
double process_cpu_seconds(int pid) {
  clockid_t clock{};
  timespec ts{};
  if (clock_getcpuclockid(pid_t(pid), &clock) == 0 && clock_gettime(clock, &ts) == 0)
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

/// VmRSS of a process from /proc/<pid>/status, in KiB (-1 when unreadable).
double process_rss_kb(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.starts_with("VmRSS:")) return std::strtod(line.c_str() + 6, nullptr);
  return -1;
}

void raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

/// Why participants cannot have the addresses first, first + 1, … (`count` of
/// them) on shared sockets; empty when they can.
std::string shared_addresses_unusable(const util::SocketAddr& first, size_t count) {
  if (!first.is_v4()) return "needs an IPv4 bind address";
  const uint32_t ip = host_ip(first);
  if (ip == 0) return "needs a concrete bind address (--bind), not 0.0.0.0";
  // Loopback stays inside 127.0.0.0/8, short of its broadcast address.
  const uint64_t limit = first.is_loopback() ? 0x7FFFFFFEu : 0xFFFFFFFEu;
  if (uint64_t(ip) + count - 1 > limit) return "not enough addresses after " + first.ip_string();
  for (size_t i = 0; i < count; ++i)
    if (!SharedSocket::is_local(ip + uint32_t(i)))
      return v4_addr(ip + uint32_t(i), 0).ip_string() + " is not a local address (participant " +
             std::to_string(i) + ")";
  return {};
}

Quantiles quantiles(const Histogram& h) {
  return {double(h.quantile(0.5)), double(h.quantile(0.99)), double(h.max())};
}

}  // namespace

util::Result<WsUrl> parse_ws_url(const std::string& url) {
  std::string_view rest = url;
  if (rest.starts_with("ws://")) rest.remove_prefix(5);
  else if (rest.find("://") != std::string_view::npos) return util::make_error("only ws:// URLs are supported: " + url);
  WsUrl out;
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  std::string_view host = authority, port = "80";
  if (authority.starts_with('[')) {
    auto end = authority.find(']');
    if (end == std::string_view::npos) return util::make_error("bad IPv6 literal in " + url);
    host = authority.substr(1, end - 1);
    if (end + 1 < authority.size() && authority[end + 1] == ':') port = authority.substr(end + 2);
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty() || port.empty()) return util::make_error("no host or port in " + url);
  out.host = std::string(host);
  out.port = std::string(port);
  return out;
}

/// Everything one run owns; lives on the heap (the batch buffers are large).
struct LoadGenerator::State {
  LoadConfig config;
  std::shared_ptr<const dtls::Certificate> certificate;
  std::unique_ptr<util::Random> rng = util::make_system_random();
  MediaStats stats;
  BatchSender sender;
  std::vector<PeerConfig> plans;
  std::vector<std::unique_ptr<VirtualPeer>> peers;  // index = plan index, started in order
  TimerQueue timers;  // every participant's deadline(), by index
  std::vector<size_t> due;
  std::unique_ptr<Signaling> signaling;
  util::SocketAddr bind_addr;
  bool shared_mode = false;
  // A socket per participant (index = participant).
  net::RecvBatch recv;
  std::vector<net::UdpSocket> sockets;
  // Shared sockets: participant i is first_ip + i on shared[i / kPeersPerSharedSocket].
  SharedRecvBatch shared_recv;
  std::vector<SharedSocket> shared;
  uint32_t first_ip = 0;
  uint64_t stray_datagrams = 0;  // to a shared socket, for no participant of it
  int epoll_fd = -1;
  int quiet_epoll_fd = -1;  ///< signaling alone: the sleep between moderated reads
  int wake_fd = -1;
  uint64_t errors = 0;
  std::vector<std::string> error_messages;
  // Progress.
  uint64_t last_sent = 0, last_received = 0;
  int64_t last_expected = 0, last_received_seq = 0;

  ~State() {
    signaling.reset();
    if (epoll_fd >= 0) ::close(epoll_fd);
    if (quiet_epoll_fd >= 0) ::close(quiet_epoll_fd);
    if (wake_fd >= 0) ::close(wake_fd);
  }

  /// Every participant is up (or given up on) and receiving when it should.
  bool settled(bool subscribers_receive, bool publishers_receive) const {
    if (peers.size() < plans.size()) return false;
    for (const auto& p : peers) {
      if (p->failed()) continue;
      bool should_receive = p->config().publisher ? publishers_receive : subscribers_receive;
      if (!p->connected() || (should_receive && !p->receiving())) return false;
    }
    return true;
  }

  int64_t expected_packets() const {
    int64_t n = 0;
    for (const auto& p : peers) n += p->packets_expected();
    return n;
  }

  void error(std::string message) {
    ++errors;
    if (error_messages.size() < kMaxErrorMessages) error_messages.push_back(std::move(message));
  }

  void fail_peer(VirtualPeer& p, const std::string& why) {
    if (p.failed()) return;
    p.fail(why);
    error(p.config().self_id + ": " + why);
    timers.set(p.config().index, util::kNever);
  }

  /// Where participant i's datagrams go out next (its socket, or its address on its shared socket).
  util::DatagramSink& out_for(size_t i) {
    if (shared_mode) sender.use(shared[i / kPeersPerSharedSocket], first_ip + uint32_t(i));
    else sender.use(sockets[i]);
    return sender;
  }

  /// Re-reads participant i's deadline into the timer queue.
  void touch(size_t i) { timers.set(i, peers[i]->deadline()); }

  /// Runs the participants whose deadline has passed, each once (one due again
  /// at once waits for the next call), and sends what they queued. Called
  /// between receive batches too: a publisher's frame leaves when it is due
  /// even while the generator works off a burst of copies, as an independent
  /// client's would. Otherwise frames due meanwhile leave together, the
  /// server's copies of them come back together and take longer to read, and
  /// the generator's publishers fall into step with one another.
  void run_due(util::Timestamp now) {
    due.clear();
    while (timers.next() <= now) due.push_back(timers.pop());
    for (size_t i : due) {
      peers[i]->on_timeout(now, out_for(i));
      touch(i);
    }
    sender.flush();
  }

  util::Result<void> start_peer(size_t i) {
    util::SocketAddr local;
    if (shared_mode) {
      size_t k = i / kPeersPerSharedSocket;
      if (k == shared.size()) {
        auto socket = SharedSocket::open();
        if (!socket) return util::make_error(socket.error());
        if (auto r = watch(socket->fd(), kSharedToken + k); !r) return r;
        shared.push_back(std::move(socket.value()));
      }
      local = v4_addr(first_ip + uint32_t(i), shared[k].port());
    } else {
      auto socket = net::UdpSocket::bind(bind_addr);
      if (!socket) return util::make_error(socket.error());
      socket->enable_rx_timestamps();
      if (auto r = watch(socket->fd(), i + 1); !r) return r;
      local = socket->local_address();
      sockets.push_back(std::move(socket.value()));
    }
    auto peer = std::make_unique<VirtualPeer>(plans[i], local, certificate, *rng, stats);
    signaling->join(i, JoinRequest{plans[i].room_id, plans[i].self_id, plans[i].publisher, peer->create_offer(),
                                   config.publishers});
    peers.push_back(std::move(peer));
    return {};
  }

  util::Result<void> watch(int fd, uint64_t token) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = token;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0)
      return util::make_error("epoll_ctl failed (too many sockets?)");
    return {};
  }

  /// Everything waiting on participant i's own socket.
  size_t receive_own(size_t i) {
    VirtualPeer& p = *peers[i];
    net::UdpSocket& socket = sockets[i];
    sender.use(socket);
    size_t got = 0;
    for (;;) {
      size_t n = socket.receive(recv);
      if (n == 0) break;
      got += n;
      util::Timestamp now = util::Clock::now();
      const int64_t real_ns = net::realtime_ns();
      for (size_t j = 0; j < n; ++j)
        p.on_datagram(arrival(now, real_ns, recv.rx_time_ns(j)), recv.from(j), recv.data(j), sender);
      if (n < net::kBatchSize) break;
    }
    touch(i);
    return got;
  }

  /// Everything waiting on shared socket k, handed to the participants by the
  /// address each datagram was sent to.
  size_t receive_shared(size_t k) {
    SharedSocket& socket = shared[k];
    size_t got = 0;
    for (int round = 0; round < kMaxBatchesPerRound; ++round) {
      size_t n = socket.receive(shared_recv);
      if (n == 0) break;
      got += n;
      util::Timestamp now = util::Clock::now();
      const int64_t real_ns = net::realtime_ns();
      for (size_t j = 0; j < n; ++j) {
        auto data = shared_recv.data(j);
        if (data.empty()) continue;
        size_t i = size_t(shared_recv.local_ip(j) - first_ip);  // wraps (and is refused) below first_ip
        if (i >= peers.size() || i / kPeersPerSharedSocket != k) {
          ++stray_datagrams;
          continue;
        }
        VirtualPeer& p = *peers[i];
        const util::Timestamp before = p.deadline();
        sender.use(socket, shared_recv.local_ip(j));
        p.on_datagram(arrival(now, real_ns, shared_recv.rx_time_ns(j)), shared_recv.from(j), data, sender);
        if (p.deadline() != before) touch(i);
      }
      run_due(util::Clock::now());
      if (n < kSharedBatchSize) break;
    }
    return got;
  }

  void handle_signaling(util::Timestamp now, bool closing) {
    uint64_t counter = 0;
    [[maybe_unused]] auto n = ::read(wake_fd, &counter, sizeof counter);
    for (auto& e : signaling->take_events()) {
      if (e.peer >= peers.size()) continue;
      VirtualPeer& p = *peers[e.peer];
      switch (e.kind) {
        case SignalEvent::Kind::kJoined: p.on_joined(e.at); break;
        case SignalEvent::Kind::kAnswer:
          if (auto r = p.on_answer(now, e.text); !r) fail_peer(p, r.error());
          break;
        case SignalEvent::Kind::kOffer:
          if (p.failed()) break;
          if (auto a = p.on_offer(now, e.text)) signaling->send_answer(e.peer, std::move(a.value()));
          else error(p.config().self_id + ": " + a.error());
          break;
        case SignalEvent::Kind::kCandidate: p.on_candidate(e.text); break;
        case SignalEvent::Kind::kError: error(p.config().self_id + ": server error " + e.text); break;
        case SignalEvent::Kind::kClosed:
          if (!closing) fail_peer(p, "signaling: " + e.text);
          break;
      }
      touch(e.peer);  // an answer or offer starts the transport: its first checks are due at once
    }
  }
};

LoadGenerator::LoadGenerator(LoadConfig config, std::optional<int> server_pid)
    : config_(std::move(config)), server_pid_(server_pid) {}

LoadGenerator::~LoadGenerator() = default;

void LoadGenerator::interrupt() { g_interrupted.store(true); }

util::Result<Summary> LoadGenerator::run() {
  auto url = parse_ws_url(config_.url);
  if (!url) return util::make_error(url.error());
  raise_fd_limit();
  auto s = std::make_unique<State>();
  State& st = *s;
  st.config = config_;
  auto cert = dtls::Certificate::generate(std::chrono::system_clock::now());
  if (!cert) return util::make_error("certificate: " + cert.error());
  st.certificate = cert.value();

  // Local sockets: loopback when the server is on loopback (the server's
  // candidates then include 127.0.0.1), any address otherwise.
  std::string bind_ip = config_.bind_ip;
  if (bind_ip.empty()) {
    auto host_ip = util::SocketAddr::parse_ip(url->host, 0);
    bool loopback = url->host == "localhost" || (host_ip && host_ip->is_loopback());
    bind_ip = loopback ? (host_ip && host_ip->is_v6() ? "::1" : "127.0.0.1") : "0.0.0.0";
  }
  auto bind_addr = util::SocketAddr::parse_ip(bind_ip, 0);
  if (!bind_addr) return util::make_error("bad bind address " + bind_ip);
  st.bind_addr = *bind_addr;

  st.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  st.quiet_epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  st.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (st.epoll_fd < 0 || st.quiet_epoll_fd < 0 || st.wake_fd < 0) return util::make_error("epoll/eventfd failed");
  epoll_event wake_ev{};
  wake_ev.events = EPOLLIN;
  wake_ev.data.u64 = 0;
  epoll_ctl(st.epoll_fd, EPOLL_CTL_ADD, st.wake_fd, &wake_ev);
  epoll_ctl(st.quiet_epoll_fd, EPOLL_CTL_ADD, st.wake_fd, &wake_ev);

  if (config_.target == Target::kJanus)
    st.signaling = std::make_unique<JanusSignaling>(url->host, url->port, url->target, st.wake_fd);
  else st.signaling = std::make_unique<SignalingClient>(url->host, url->port, url->target, st.wake_fd);
  if (auto r = st.signaling->start(); !r) return util::make_error(r.error());

  // Publishers first (rooms interleaved), so subscribers find tracks to receive.
  dtls::SessionConfig dtls;
  dtls.srtp_profiles = config_.srtp_profiles;
  auto tag = std::to_string(getpid());
  auto plan = [&](int room, bool publisher, int k) {
    PeerConfig c;
    c.index = st.plans.size();
    c.room_id = config_.room_prefix + "-" + tag + "-" + std::to_string(room);
    c.self_id = (publisher ? "pub-" : "sub-") + std::to_string(room) + "-" + std::to_string(k);
    c.publisher = publisher;
    c.audio = config_.audio;
    c.video_bitrate = config_.video_bitrate;
    c.fps = config_.fps;
    c.keyframe_interval = std::chrono::duration_cast<util::Duration>(std::chrono::duration<double>(config_.keyframe_interval_s));
    c.dtls = dtls;
    c.loopback_only = st.bind_addr.is_loopback();
    c.twcc_feedback = config_.twcc_feedback;
    c.receiver_report_interval = std::chrono::duration_cast<util::Duration>(
        std::chrono::duration<double>(std::max(0.01, config_.receiver_report_interval_s)));
    c.advertise_host_candidate = config_.target == Target::kJanus;
    st.plans.push_back(std::move(c));
  };
  for (int k = 0; k < config_.publishers; ++k)
    for (int r = 0; r < config_.rooms; ++r) plan(r, true, k);
  for (int k = 0; k < config_.subscribers; ++k)
    for (int r = 0; r < config_.rooms; ++r) plan(r, false, k);

  // Sockets (see SocketMode): shared when asked, or by default on IPv4 loopback,
  // where every participant can have an address of its own.
  const bool v4_loopback = st.bind_addr.is_v4() && st.bind_addr.is_loopback();
  if (config_.sockets == SocketMode::kShared || (config_.sockets == SocketMode::kAuto && v4_loopback)) {
    std::string why_not = shared_addresses_unusable(st.bind_addr, st.plans.size());
    if (why_not.empty()) {
      st.shared_mode = true;
      st.first_ip = host_ip(st.bind_addr);
    } else if (config_.sockets == SocketMode::kShared) {
      return util::make_error("--sockets shared: " + why_not);
    } else {
      log()->warn("a socket per participant: {}", why_not);
    }
  }
  // Reserved: the sender keeps pointers to these sockets.
  if (st.shared_mode) st.shared.reserve((st.plans.size() + kPeersPerSharedSocket - 1) / kPeersPerSharedSocket);
  else st.sockets.reserve(st.plans.size());

  const util::Timestamp t0 = util::Clock::now();
  const double cpu0 = rusage_seconds(RUSAGE_SELF);
  const double thread_cpu0 = rusage_seconds(RUSAGE_THREAD);
  const double server_cpu0 = server_pid_ ? process_cpu_seconds(*server_pid_) : -1;
  const double server_rss0 = server_pid_ ? process_rss_kb(*server_pid_) : -1;
  // Everyone receives when there is a publisher in the room besides themselves
  // (Janus publishers only publish: receiving takes a subscriber handle of its own).
  const bool subscribers_receive = config_.publishers > 0;
  const bool publishers_receive = config_.publishers > 1 && config_.target == Target::kSwitchboard;
  const util::Duration warmup =
      std::chrono::duration_cast<util::Duration>(std::chrono::duration<double>(std::max(0.0, config_.warmup_s)));
  // The steady window: counters where it began, and what it measured.
  SteadyWindow steady;
  util::Timestamp window_start = util::kNever;
  uint64_t window_sent0 = 0, window_received0 = 0;
  int64_t window_expected0 = 0;
  double window_server_cpu0 = -1, server_rss_steady = -1, server_rss_end = -1;
  // The server's /stats is read off the media thread: a GET takes milliseconds.
  std::future<util::Result<DelaySnapshot>> delay_before, delay_after;
  auto fetch_delay = [url = config_.server_stats_url] {
    return std::async(std::launch::async, [url] { return fetch_delay_snapshot(url, std::chrono::seconds(5)); });
  };
  const util::Duration ramp_step =
      std::chrono::duration_cast<util::Duration>(std::chrono::duration<double>(1.0 / std::max(0.001, config_.ramp_per_s)));
  const util::Duration subscriber_delay = std::chrono::duration_cast<util::Duration>(
      std::chrono::duration<double>(std::max(0.0, config_.subscriber_delay_s)));
  // Participant i starts at the ramp rate; subscribers (planned after all publishers) later still.
  auto start_time = [&](size_t i) {
    return t0 + ramp_step * int64_t(i) + (st.plans[i].publisher ? util::Duration::zero() : subscriber_delay);
  };
  const util::Duration duration =
      std::chrono::duration_cast<util::Duration>(std::chrono::duration<double>(config_.duration_s));
  const util::Duration connect_timeout =
      std::chrono::duration_cast<util::Duration>(std::chrono::duration<double>(config_.connect_timeout_s));
  util::Timestamp all_started = util::kNever;
  util::Timestamp stop_at = util::kNever;    // publishers stop
  util::Timestamp drain_end = util::kNever;  // the loop ends
  util::Timestamp next_progress = t0 + kProgressInterval;
  util::Timestamp last_progress = t0;
  util::Timestamp next_connect_check = t0 + kConnectCheckInterval;
  util::Timestamp next_settle_check = t0;
  double window_thread_cpu0 = 0;
  std::array<epoll_event, kMaxEpollEvents> events;
  const util::Duration rx_moderation = std::chrono::microseconds(std::max(0, config_.rx_moderation_us));
  bool moderating = false;  // the last look at the sockets found datagrams

  for (;;) {
    util::Timestamp now = util::Clock::now();
    // Start participants that are due.
    while (!g_interrupted.load() && st.peers.size() < st.plans.size() && now >= start_time(st.peers.size())) {
      if (auto r = st.start_peer(st.peers.size()); !r) return util::make_error(r.error());
    }
    if (st.peers.size() == st.plans.size() && all_started == util::kNever) {
      all_started = now;
      stop_at = now + duration;
    }
    if (g_interrupted.load() && drain_end == util::kNever) {
      stop_at = util::earliest(stop_at, now);
      all_started = util::earliest(all_started, now);
    }
    bool window_due = false;
    if (window_start == util::kNever && all_started != util::kNever && stop_at != util::kNever && now < stop_at &&
        now >= all_started + warmup) {
      if (now >= all_started + std::max(warmup, duration / 2)) {
        window_due = true;
      } else if (now >= next_settle_check) {
        next_settle_check = now + kSettleCheckInterval;
        window_due = st.settled(subscribers_receive, publishers_receive);
      }
    }
    if (window_due) {
      window_start = now;
      window_thread_cpu0 = rusage_seconds(RUSAGE_THREAD);
      steady.start_s = seconds(now - t0);
      steady.settled = st.settled(subscribers_receive, publishers_receive);
      window_sent0 = st.stats.sent_packets;
      window_received0 = st.stats.received_packets;
      window_expected0 = st.expected_packets();
      st.stats.delay_window_us.reset();
      st.stats.frame_lateness_window_us.reset();
      if (server_pid_) {
        window_server_cpu0 = process_cpu_seconds(*server_pid_);
        server_rss_steady = process_rss_kb(*server_pid_);
      }
      if (!config_.server_stats_url.empty()) delay_before = fetch_delay();
    }
    if (now >= stop_at && drain_end == util::kNever) {
      if (window_start != util::kNever) {
        steady.duration_s = seconds(now - window_start);
        steady.sent_packets = st.stats.sent_packets - window_sent0;
        steady.received_packets = st.stats.received_packets - window_received0;
        int64_t expected = std::max<int64_t>(0, st.expected_packets() - window_expected0);
        steady.expected_packets = uint64_t(expected);
        steady.loss_fraction =
            expected > 0 ? double(std::max<int64_t>(0, expected - int64_t(steady.received_packets))) / double(expected) : 0;
        steady.delay_us = quantiles(st.stats.delay_window_us);
        steady.frame_lateness_us = quantiles(st.stats.frame_lateness_window_us);
        steady.media_thread_cpu_s = rusage_seconds(RUSAGE_THREAD) - window_thread_cpu0;
        if (server_pid_ && window_server_cpu0 >= 0) {
          double c = process_cpu_seconds(*server_pid_);
          steady.server_cpu_s = c >= 0 ? c - window_server_cpu0 : -1;
        }
        if (delay_before.valid()) delay_after = fetch_delay();
      }
      if (server_pid_) server_rss_end = process_rss_kb(*server_pid_);
      for (auto& p : st.peers) p->stop_media();
      drain_end = now + kDrainTime;
    }
    if (now >= drain_end) break;

    util::Timestamp wake = util::earliest(next_progress, drain_end == util::kNever ? stop_at : drain_end);
    if (st.peers.size() < st.plans.size()) wake = util::earliest(wake, start_time(st.peers.size()));
    wake = util::earliest(wake, st.timers.next());
    // The timeout in ns (epoll_pwait2), not whole ms: each publisher sends
    // its frame when it is due, as independent clients would, instead of
    // with every other frame due within the same millisecond.
    int n;
    if (moderating) {
      // Receive moderation: datagrams came in the last look, so more are
      // likely on their way. Sleep on signaling alone until the next look
      // (the server's copies land meanwhile without waking us), then take
      // whatever the sockets hold without waiting.
      util::Timestamp look = util::earliest(wake, now + rx_moderation);
      timespec until = timeout_of(now, look);
      epoll_pwait2(st.quiet_epoll_fd, events.data(), 1, &until, nullptr);
      const timespec zero{};
      n = epoll_pwait2(st.epoll_fd, events.data(), int(events.size()), &zero, nullptr);
    } else {
      timespec timeout = timeout_of(now, wake);
      n = epoll_pwait2(st.epoll_fd, events.data(), int(events.size()), &timeout, nullptr);
    }
    now = util::Clock::now();
    size_t datagrams = 0;
    for (int i = 0; i < n; ++i) {
      uint64_t id = events[size_t(i)].data.u64;
      if (id == 0) st.handle_signaling(now, false);
      else if (id >= kSharedToken) datagrams += st.receive_shared(size_t(id - kSharedToken));
      else datagrams += st.receive_own(size_t(id - 1));
      if (id != 0 && id < kSharedToken) st.run_due(util::Clock::now());  // shared sockets do it per batch
    }
    moderating = rx_moderation > util::Duration::zero() && datagrams > 0;
    now = util::Clock::now();
    st.run_due(now);
    if (now >= next_connect_check) {
      next_connect_check = now + kConnectCheckInterval;
      for (auto& p : st.peers)
        if (!p->connected() && !p->failed() && now - p->created() > connect_timeout)
          st.fail_peer(*p, "not connected after " + std::to_string(config_.connect_timeout_s) + " s");
    }
    st.sender.flush();

    if (now >= next_progress) {
      next_progress += kProgressInterval;
      if (config_.progress) {
        int up = 0, rx = 0;
        int64_t expected = 0, received = 0;
        for (auto& p : st.peers) {
          up += p->connected() && !p->failed();
          rx += p->receiving();
          expected += p->packets_expected();
          received += p->packets_received();
        }
        double dt = std::max(1e-3, seconds(now - last_progress));
        int64_t de = expected - st.last_expected, dr = received - st.last_received_seq;
        double loss = de > 0 ? double(std::max<int64_t>(0, de - dr)) / double(de) : 0;
        std::fprintf(stderr,
                     "[%6.1fs] peers %d/%zu up, %d receiving | out %.0f pps | in %.0f pps | loss %.2f%% | "
                     "delay p50 %.2f ms p99 %.2f ms | errors %llu\n",
                     seconds(now - t0), up, st.plans.size(), rx,
                     double(st.stats.sent_packets - st.last_sent) / dt,
                     double(st.stats.received_packets - st.last_received) / dt, loss * 100,
                     double(st.stats.delay_interval_us.quantile(0.5)) / 1000,
                     double(st.stats.delay_interval_us.quantile(0.99)) / 1000, (unsigned long long)st.errors);
        st.last_expected = expected;
        st.last_received_seq = received;
      }
      st.last_sent = st.stats.sent_packets;
      st.last_received = st.stats.received_packets;
      st.stats.delay_interval_us.reset();
      last_progress = now;
    }
  }

  // Summary, before closing (closing is not part of the measurement).
  util::Timestamp end = util::Clock::now();
  Summary sum;
  sum.rooms = config_.rooms;
  sum.publishers = config_.publishers * config_.rooms;
  sum.subscribers = config_.subscribers * config_.rooms;
  sum.duration_s = seconds((stop_at == util::kNever ? end : stop_at) - t0);
  sum.sent_packets = st.stats.sent_packets;
  sum.received_packets = st.stats.received_packets;
  sum.sent_bytes = st.stats.sent_bytes;
  sum.received_bytes = st.stats.received_bytes;
  sum.retransmissions = st.stats.retransmissions_sent;
  sum.nacks_sent = st.stats.nacks_sent;
  sum.rtcp_sent = st.stats.rtcp_sent;
  sum.rtcp_received = st.stats.rtcp_received;
  sum.keyframes_sent = st.stats.keyframes_sent;
  sum.keyframe_requests = st.stats.keyframe_requests_received;
  sum.delay_us = quantiles(st.stats.delay_us);
  Histogram join, keyframe, connect;
  int64_t expected = 0, received = 0;
  bool gcm = false, cm = false;
  for (auto& p : st.peers) {
    bool should_receive = p->config().publisher ? publishers_receive : subscribers_receive;
    sum.expected_receivers += should_receive;
    if (p->connected() && !p->failed()) ++sum.connected;
    if (p->receiving()) ++sum.receiving;
    else if (should_receive && !p->failed()) st.error(p->config().self_id + ": received no media");
    if (auto j = p->join_time()) join.record(uint64_t(util::to_millis(*j)));
    if (auto k = p->keyframe_time()) keyframe.record(uint64_t(util::to_millis(*k)));
    if (auto c = p->connect_time()) connect.record(uint64_t(util::to_millis(*c)));
    expected += p->packets_expected();
    received += p->packets_received();
    std::string_view prof = p->srtp_profile();
    gcm |= prof == "gcm";
    cm |= prof == "cm";
  }
  sum.expected_packets = uint64_t(std::max<int64_t>(0, expected));
  sum.loss_fraction = expected > 0 ? double(std::max<int64_t>(0, expected - received)) / double(expected) : 0;
  sum.join_ms = quantiles(join);
  sum.keyframe_ms = quantiles(keyframe);
  sum.connect_ms = quantiles(connect);
  sum.srtp_profile = gcm && cm ? "mixed" : gcm ? "gcm" : cm ? "cm" : "";
  sum.sockets = st.shared_mode ? "shared" : "per-peer";
  sum.cpu_s = rusage_seconds(RUSAGE_SELF) - cpu0;
  sum.media_thread_cpu_s = rusage_seconds(RUSAGE_THREAD) - thread_cpu0;
  if (server_pid_ && server_cpu0 >= 0) {
    double c = process_cpu_seconds(*server_pid_);
    sum.server_cpu_s = c >= 0 ? c - server_cpu0 : -1;
  }
  sum.server_rss_start_kb = server_rss0;
  sum.server_rss_steady_kb = server_rss_steady;
  sum.server_rss_end_kb = server_rss_end;
  if (delay_before.valid() && delay_after.valid()) {
    auto before = delay_before.get();
    auto after = delay_after.get();
    if (before && after) {
      steady.server_delay_us = window_quantiles(before->buckets, after->buckets);
      steady.server_wait_us = window_quantiles(before->wait_buckets, after->wait_buckets);
    } else {
      steady.server_delay_error = before ? after.error() : before.error();
    }
  } else if (!config_.server_stats_url.empty()) {
    steady.server_delay_error = "no steady window";
  }
  sum.steady = steady;

  // Leave: DTLS close_notify, then the WebSockets.
  util::Timestamp now = util::Clock::now();
  for (size_t i = 0; i < st.peers.size(); ++i) st.peers[i]->close(now, st.out_for(i));
  st.sender.flush();
  st.signaling->close_all(kSignalingCloseLimit);
  st.handle_signaling(util::Clock::now(), true);
  st.signaling->stop();
  sum.errors = st.errors;
  if (st.stray_datagrams > 0)
    log()->info("{} datagrams to shared sockets were for no participant (dropped)", st.stray_datagrams);
  sum.error_messages = st.error_messages;
  return sum;
}

}  // namespace sb::load
