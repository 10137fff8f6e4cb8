#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "net/Interfaces.hpp"
#include "net/UdpSocket.hpp"
#include "net/Worker.hpp"

using namespace sb;
using namespace sb::net;

namespace {
util::SocketAddr loopback(uint16_t port = 0) { return util::SocketAddr::v4({127, 0, 0, 1}, port); }

size_t receive_all(UdpSocket& s, RecvBatch& b, size_t want) {
  size_t got = 0;
  for (int i = 0; i < 200 && got < want; ++i) {
    got += s.receive(b);
    if (got < want) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return got;
}
}  // namespace

TEST(UdpSocket, SendsAndReceivesBatchesOnLoopback) {
  auto a = UdpSocket::bind(loopback());
  auto b = UdpSocket::bind(loopback());
  ASSERT_TRUE(a) << a.error();
  ASSERT_TRUE(b) << b.error();
  SendQueue q;
  for (uint8_t i = 0; i < 10; ++i) {
    uint8_t payload[3] = {i, uint8_t(i + 1), uint8_t(i + 2)};
    ASSERT_TRUE(q.push(b->local_address(), payload));
  }
  a->send(q);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(a->stats().tx_packets, 10u);
  RecvBatch batch;
  size_t got = receive_all(*b, batch, 10);
  EXPECT_EQ(got, 10u);
  EXPECT_EQ(batch.from(0), a->local_address());
  EXPECT_EQ(batch.data(0).size(), 3u);
}

TEST(UdpSocket, DualStackSocketTalksToIPv4Peers) {
  auto any = UdpSocket::bind(util::SocketAddr::v6({}, 0));
  ASSERT_TRUE(any) << any.error();
  auto v4 = UdpSocket::bind(loopback());
  ASSERT_TRUE(v4);
  SendQueue q;
  const uint8_t hello[] = {'h', 'i'};
  q.push(loopback(any->local_address().port()), hello);
  v4->send(q);
  RecvBatch batch;
  ASSERT_EQ(receive_all(*any, batch, 1), 1u);
  // The peer is reported as plain IPv4, and replies reach it.
  EXPECT_TRUE(batch.from(0).is_v4());
  EXPECT_EQ(batch.from(0), v4->local_address());
  q.push(batch.from(0), hello);
  any->send(q);
  ASSERT_EQ(receive_all(*v4, batch, 1), 1u);
}

namespace {
/// Queues the same pattern of datagrams as a fan-out of two video packets and
/// a shorter last one to each of two receivers, then a larger one and a tiny
/// one to the first: every datagram must arrive whole, once, in order.
struct Queued {
  size_t to;  // receiver index
  size_t len;
};
const Queued kPattern[] = {{0, 1100}, {0, 1100}, {0, 700}, {1, 1100}, {1, 1100}, {1, 1100}, {1, 300},
                           {0, 1100}, {0, 1200}, {0, 40},  {0, 40},   {1, 1500}, {1, 1500}};

std::vector<std::vector<uint8_t>> send_pattern(UdpSocket& tx, UdpSocket* rx[2], std::vector<size_t>* order) {
  SendQueue q;
  std::vector<std::vector<uint8_t>> sent;
  for (size_t i = 0; i < std::size(kPattern); ++i) {
    std::vector<uint8_t> d(kPattern[i].len);
    for (size_t k = 0; k < d.size(); ++k) d[k] = uint8_t(i * 37 + k);
    EXPECT_TRUE(q.push(rx[kPattern[i].to]->local_address(), d));
    sent.push_back(std::move(d));
    order->push_back(kPattern[i].to);
  }
  tx.send(q);
  return sent;
}

void expect_received_in_order(UdpSocket* rx[2], const std::vector<std::vector<uint8_t>>& sent,
                              const std::vector<size_t>& order) {
  for (size_t r = 0; r < 2; ++r) {
    std::vector<const std::vector<uint8_t>*> want;
    for (size_t i = 0; i < sent.size(); ++i)
      if (order[i] == r) want.push_back(&sent[i]);
    RecvBatch batch;
    ASSERT_EQ(receive_all(*rx[r], batch, want.size()), want.size()) << "receiver " << r;
    for (size_t i = 0; i < want.size(); ++i) {
      auto got = batch.data(i);
      ASSERT_EQ(got.size(), want[i]->size()) << "receiver " << r << " datagram " << i;
      EXPECT_TRUE(std::equal(got.begin(), got.end(), want[i]->begin())) << "receiver " << r << " datagram " << i;
    }
  }
}
}  // namespace

TEST(UdpSocket, RunsToOneDestinationLeaveAsGsoAndArriveAsTheSameDatagrams) {
  auto tx = UdpSocket::bind(loopback());
  auto a = UdpSocket::bind(loopback());
  auto b = UdpSocket::bind(loopback());
  ASSERT_TRUE(tx && a && b);
  UdpSocket* rx[2] = {&*a, &*b};
  std::vector<size_t> order;
  auto sent = send_pattern(*tx, rx, &order);
  expect_received_in_order(rx, sent, order);
  EXPECT_EQ(tx->stats().tx_packets, std::size(kPattern));
  EXPECT_EQ(tx->stats().tx_dropped, 0u);
  if (tx->gso()) {
    // Runs: {1100,1100,700} {1100,1100,1100,300} {1100} {1200,40} {40} {1500} {1500}
    // (a shorter datagram ends a run; over 1400 bytes is never merged): 9
    // datagrams in three GSO sends.
    EXPECT_EQ(tx->stats().tx_gso_segments, 9u);
  } else {
    GTEST_LOG_(INFO) << "this kernel refused UDP GSO; datagrams were sent one by one";
  }
}

TEST(UdpSocket, WithoutGsoTheSameDatagramsArrive) {
  auto tx = UdpSocket::bind(loopback());
  auto a = UdpSocket::bind(loopback());
  auto b = UdpSocket::bind(loopback());
  ASSERT_TRUE(tx && a && b);
  tx->set_gso(false);
  UdpSocket* rx[2] = {&*a, &*b};
  std::vector<size_t> order;
  auto sent = send_pattern(*tx, rx, &order);
  expect_received_in_order(rx, sent, order);
  EXPECT_EQ(tx->stats().tx_gso_segments, 0u);
  EXPECT_EQ(tx->stats().tx_packets, std::size(kPattern));
}

TEST(UdpSocket, GsoOffSurvivesAMove) {
  // The server sets the flag right after bind() and then moves the socket into
  // its worker: the setting must travel with it.
  auto bound = UdpSocket::bind(loopback());
  auto a = UdpSocket::bind(loopback());
  auto b = UdpSocket::bind(loopback());
  ASSERT_TRUE(bound && a && b);
  bound->set_gso(false);
  UdpSocket moved(std::move(*bound));
  EXPECT_FALSE(moved.gso());
  UdpSocket assigned = std::move(*UdpSocket::bind(loopback()));
  assigned = std::move(moved);
  EXPECT_FALSE(assigned.gso());
  UdpSocket* rx[2] = {&*a, &*b};
  std::vector<size_t> order;
  auto sent = send_pattern(assigned, rx, &order);
  expect_received_in_order(rx, sent, order);
  EXPECT_EQ(assigned.stats().tx_gso_segments, 0u);
}

TEST(UdpSocket, DualStackSocketSendsGsoRunsToIPv4Peers) {
  auto any = UdpSocket::bind(util::SocketAddr::v6({}, 0));
  auto a = UdpSocket::bind(loopback());
  auto b = UdpSocket::bind(loopback());
  ASSERT_TRUE(any && a && b);
  // The dual-stack socket reaches the IPv4 receivers through their loopback address.
  UdpSocket* rx[2] = {&*a, &*b};
  std::vector<size_t> order;
  auto sent = send_pattern(*any, rx, &order);
  expect_received_in_order(rx, sent, order);
  EXPECT_EQ(any->stats().tx_packets, std::size(kPattern));
  EXPECT_EQ(any->stats().tx_dropped, 0u);
}

TEST(UdpSocket, StampsArrivalsOnlyWhenAsked) {
  // The worker's receive_wait_us and forward_delay_us are measured from these.
  auto tx = UdpSocket::bind(loopback());
  auto stamped = UdpSocket::bind(loopback());
  auto plain = UdpSocket::bind(loopback());
  ASSERT_TRUE(tx && stamped && plain);
  ASSERT_TRUE(stamped->enable_rx_timestamps());
  const int64_t before = realtime_ns();
  SendQueue q;
  const uint8_t payload[4] = {1, 2, 3, 4};
  ASSERT_TRUE(q.push(stamped->local_address(), payload));
  ASSERT_TRUE(q.push(plain->local_address(), payload));
  tx->send(q);
  RecvBatch b1, b2;
  ASSERT_EQ(receive_all(*stamped, b1, 1), 1u);
  ASSERT_EQ(receive_all(*plain, b2, 1), 1u);
  const int64_t after = realtime_ns();
  EXPECT_GE(b1.rx_time_ns(0), before);
  EXPECT_LE(b1.rx_time_ns(0), after);
  EXPECT_EQ(b2.rx_time_ns(0), 0);
}

TEST(UdpSocket, ReadsOnlyWholeTimestampControlMessages) {
  alignas(cmsghdr) uint8_t buf[CMSG_SPACE(sizeof(timespec))] = {};
  auto* c = reinterpret_cast<cmsghdr*>(buf);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_TIMESTAMPNS;
  c->cmsg_len = CMSG_LEN(sizeof(timespec));
  const timespec ts{12, 345};
  std::memcpy(CMSG_DATA(c), &ts, sizeof ts);
  EXPECT_EQ(rx_timestamp_ns(*c), 12'000'000'345);
  c->cmsg_len = CMSG_LEN(sizeof(timespec) - 1);  // truncated
  EXPECT_EQ(rx_timestamp_ns(*c), 0);
  c->cmsg_len = CMSG_LEN(sizeof(timespec));
  c->cmsg_level = IPPROTO_IP;  // some other control message
  EXPECT_EQ(rx_timestamp_ns(*c), 0);
}

TEST(UdpSocket, ReportsBindFailures) {
  auto a = UdpSocket::bind(loopback());
  ASSERT_TRUE(a);
  auto b = UdpSocket::bind(a->local_address());
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().find("cannot bind"), std::string::npos);
}

namespace {
/// A datagram that starts with `head` and carries `tag` at byte 20 (24 bytes).
std::vector<uint8_t> tagged(std::initializer_list<uint8_t> head, uint8_t tag) {
  std::vector<uint8_t> d(24, 0);
  std::copy(head.begin(), head.end(), d.begin());
  d[20] = tag;
  return d;
}
}  // namespace

// The kernel steers periodic RTCP reports (compounds opening with an SR or RR,
// RFC 3550 §6.1) to the report socket, and everything a worker must answer at
// once to the main one: RTP, STUN, DTLS, and feedback sent alone (RFC 5506).
TEST(UdpSocket, TheReportSocketGetsThePeriodicReportsAndNothingElse) {
  auto main = UdpSocket::bind(loopback(), true);
  ASSERT_TRUE(main) << main.error();
  auto reports = UdpSocket::bind_report_socket(*main);
  ASSERT_TRUE(reports) << reports.error();
  EXPECT_EQ(reports->local_address(), main->local_address());
  auto client = UdpSocket::bind(loopback());
  ASSERT_TRUE(client);
  // One datagram per send: on loopback a UDP GSO send reaches the receiving
  // side whole, and the kernel picks the socket once, by its first datagram.
  client->set_gso(false);

  struct Kind {
    const char* what;
    std::vector<uint8_t> bytes;
    bool report;
  };
  const std::vector<Kind> kinds = {
      {"receiver report compound", tagged({0x81, 201, 0, 7, 0x11, 0x22, 0x33, 0x44}, 0), true},
      {"sender report compound", tagged({0x80, 200, 0, 6, 0x11, 0x22, 0x33, 0x44}, 1), true},
      {"receiver report without blocks", tagged({0x80, 201, 0, 1}, 2), true},
      {"NACK alone", tagged({0x81, 205, 0, 3}, 3), false},
      {"PLI alone", tagged({0x81, 206, 0, 2}, 4), false},
      {"REMB alone", tagged({0x8f, 206, 0, 5}, 5), false},
      {"BYE alone", tagged({0x81, 203, 0, 1}, 6), false},
      {"RTP, payload type 96", tagged({0x80, 96, 0x12, 0x34}, 7), false},
      {"RTP with the marker bit", tagged({0x80, 0x80 | 96, 0x12, 0x35}, 8), false},
      {"STUN binding request", tagged({0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42}, 9), false},
      {"DTLS handshake", tagged({22, 0xfe, 0xfd}, 10), false},
      {"version 3 with type 201", tagged({0xc1, 201}, 11), false},
      {"one byte", {0x81}, false},
  };
  SendQueue q;
  for (const auto& k : kinds) ASSERT_TRUE(q.push(main->local_address(), k.bytes));
  client->send(q);

  std::vector<std::string> at_main, at_reports;
  RecvBatch batch;
  auto name_of = [&](util::MutableBytes d) -> std::string {
    if (d.size() == 1) return "one byte";
    return d.size() > 20 && d[20] < kinds.size() ? kinds[d[20]].what : "?";
  };
  for (int i = 0; i < 200 && at_main.size() + at_reports.size() < kinds.size(); ++i) {
    for (size_t n = main->receive(batch), j = 0; j < n; ++j) at_main.push_back(name_of(batch.data(j)));
    for (size_t n = reports->receive(batch), j = 0; j < n; ++j) at_reports.push_back(name_of(batch.data(j)));
    if (at_main.size() + at_reports.size() < kinds.size()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::vector<std::string> want_main, want_reports;
  for (const auto& k : kinds) (k.report ? want_reports : want_main).push_back(k.what);
  std::sort(at_main.begin(), at_main.end());
  std::sort(want_main.begin(), want_main.end());
  std::sort(at_reports.begin(), at_reports.end());
  std::sort(want_reports.begin(), want_reports.end());
  EXPECT_EQ(at_reports, want_reports);
  EXPECT_EQ(at_main, want_main);
}

// Sharing a port with its own report socket does not let another socket (a
// second server started by mistake) join in.
TEST(UdpSocket, APortSharedWithTheReportSocketIsStillRefusedToOthers) {
  auto main = UdpSocket::bind(loopback(), true);
  ASSERT_TRUE(main) << main.error();
  auto reports = UdpSocket::bind_report_socket(*main);
  ASSERT_TRUE(reports) << reports.error();
  for (bool reuse : {true, false}) {
    auto other = UdpSocket::bind(main->local_address(), reuse);
    ASSERT_FALSE(other) << "reuse_port " << reuse;
    EXPECT_NE(other.error().find("cannot bind"), std::string::npos) << other.error();
  }
}

TEST(Interfaces, IncludeLoopback) {
  auto addrs = local_interface_addresses();
  bool has_lo = false;
  for (auto& a : addrs) has_lo |= a.is_loopback();
  EXPECT_TRUE(has_lo);
}

namespace {
// Echoes every datagram and counts timer wakeups: enough to see the loop run.
class EchoProcessor final : public PacketProcessor {
 public:
  void handle_datagram(util::Timestamp, const util::SocketAddr& from, util::MutableBytes data,
                       Transmitter& out) override {
    ++received;
    out.send(from, data);
  }
  void handle_timeout(util::Timestamp now, Transmitter&) override {
    if (now >= due) {
      if (now < deadline) ++early_timeouts;
      ++timeouts;
      due = util::kNever;
      deadline = util::kNever;
    }
  }
  util::Timestamp poll_timeout() const override { return deadline; }
  util::Timestamp poll_due() const override { return due; }
  void flush(util::Timestamp, Transmitter&) override {}

  std::atomic<int> received{0};
  std::atomic<int> timeouts{0};
  std::atomic<int> early_timeouts{0};  ///< run before the deadline, on a wakeup for a datagram
  util::Timestamp due = util::kNever;
  util::Timestamp deadline = util::kNever;
};

/// A started worker on a loopback socket, echoing through an EchoProcessor.
struct EchoWorker {
  explicit EchoWorker(bool with_reports = false) {
    auto s = UdpSocket::bind(loopback(), with_reports);
    if (!s) return;
    address = s->local_address();
    UdpSocket reports;
    if (with_reports) {
      auto r = UdpSocket::bind_report_socket(*s);
      if (!r) return;
      reports = std::move(*r);
    }
    worker = std::make_unique<Worker>("test-worker", std::move(*s), std::move(reports));
    worker->set_processor(&proc);
    worker->start();
  }
  EchoProcessor proc;  // outlives the worker (declared first, destroyed last)
  util::SocketAddr address;
  std::unique_ptr<Worker> worker;
};
}  // namespace

TEST(Worker, EchoesDatagramsRunsPostedWorkAndTimers) {
  EchoWorker ew;
  ASSERT_TRUE(ew.worker);
  auto server_addr = ew.address;
  auto& proc = ew.proc;
  auto& w = *ew.worker;

  auto client = UdpSocket::bind(loopback());
  ASSERT_TRUE(client);
  SendQueue q;
  const uint8_t ping[] = {1, 2, 3, 4};
  for (int i = 0; i < 100; ++i) {
    if (q.full()) client->send(q);
    ASSERT_TRUE(q.push(server_addr, ping));
  }
  client->send(q);
  RecvBatch batch;
  size_t got = 0;
  for (int i = 0; i < 400 && got < 100; ++i) {
    got += client->receive(batch);
    if (got < 100) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(got, 100u);

  std::promise<void> ran;
  w.post([&](util::Timestamp now, Transmitter&) {
    proc.due = proc.deadline = now + std::chrono::milliseconds(20);
    ran.set_value();
  });
  ran.get_future().wait();
  for (int i = 0; i < 200 && proc.timeouts == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(proc.timeouts, 1);
  w.stop();
}

// Flexible timers (due now, deadline far away) cost no wakeup of their own:
// they run at the end of the next round the worker has anyway, here a datagram.
TEST(Worker, RunsDueTimersOnAWakeupForADatagram) {
  EchoWorker ew;
  ASSERT_TRUE(ew.worker);
  auto server_addr = ew.address;
  auto& proc = ew.proc;
  auto& w = *ew.worker;

  std::promise<void> armed;
  w.post([&](util::Timestamp now, Transmitter&) {
    proc.due = now + std::chrono::milliseconds(1);
    proc.deadline = now + std::chrono::seconds(30);
    armed.set_value();
  });
  armed.get_future().wait();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(proc.timeouts, 0) << "nothing woke the worker, and the deadline is 30 s away";

  auto client = UdpSocket::bind(loopback());
  ASSERT_TRUE(client);
  SendQueue q;
  const uint8_t ping[] = {9};
  ASSERT_TRUE(q.push(server_addr, ping));
  client->send(q);
  for (int i = 0; i < 400 && proc.timeouts == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(proc.received, 1);
  EXPECT_EQ(proc.timeouts, 1);
  EXPECT_EQ(proc.early_timeouts, 1);
  w.stop();
}

namespace {
WorkerStats stats_of(Worker& w) {
  std::promise<WorkerStats> got;
  w.post([&](util::Timestamp, Transmitter&) { got.set_value(w.stats()); });
  return got.get_future().get();
}
}  // namespace

// A report reaches the processor without waking the worker: it waits in the
// report socket until the next wakeup of any kind, at the latest kReportBound
// after the last read while datagrams are coming.
TEST(Worker, AReportIsReadWithoutWakingTheWorkerForIt) {
  EchoWorker ew(true);
  ASSERT_TRUE(ew.worker) << "no report socket";
  auto& proc = ew.proc;
  auto& w = *ew.worker;
  auto client = UdpSocket::bind(loopback());
  ASSERT_TRUE(client);
  RecvBatch batch;
  auto send = [&](std::vector<uint8_t> d) {
    SendQueue q;
    ASSERT_TRUE(q.push(ew.address, d));
    client->send(q);
  };
  auto wait_received = [&](int n) {
    for (int i = 0; i < 400 && proc.received < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return proc.received.load();
  };

  WorkerStats s0 = stats_of(w);  // one wakeup, for the posted task
  send(tagged({0x80, 96, 0, 1}, 0));  // RTP wakes it
  ASSERT_EQ(wait_received(1), 1);
  ASSERT_EQ(receive_all(*client, batch, 1), 1u);
  send(tagged({0x81, 201, 0, 7}, 1));  // a receiver report does not
  const auto sent_report = std::chrono::steady_clock::now();
  ASSERT_EQ(wait_received(2), 2) << "the report was never read";
  const auto waited = std::chrono::steady_clock::now() - sent_report;
  WorkerStats s1 = stats_of(w);  // one more wakeup, for this task

  EXPECT_EQ(s1.wakeups - s0.wakeups, 2u) << "the RTP packet and the stats task wake the worker; the report must not";
  EXPECT_EQ(s1.reports - s0.reports, 1u);
  EXPECT_GE(s1.report_timeouts - s0.report_timeouts, 1u) << "read when the bound ran out";
  EXPECT_LT(waited, std::chrono::seconds(1));
  // It was answered like any datagram (the echo goes out from the main socket).
  ASSERT_EQ(receive_all(*client, batch, 1), 1u);
  EXPECT_EQ(batch.from(0), ew.address);
  EXPECT_EQ(batch.data(0)[1], 201);
  w.stop();
}

// With nothing arriving for a second, the bound is disarmed: an idle worker
// does not wake every kReportBound for reports that cannot come.
TEST(Worker, AnIdleWorkerDoesNotWakeForReports) {
  EchoWorker ew(true);
  ASSERT_TRUE(ew.worker) << "no report socket";
  auto& w = *ew.worker;
  auto client = UdpSocket::bind(loopback());
  ASSERT_TRUE(client);
  SendQueue q;
  const uint8_t rtp[] = {0x80, 96, 0, 1};
  ASSERT_TRUE(q.push(ew.address, rtp));
  client->send(q);
  for (int i = 0; i < 400 && ew.proc.received < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(ew.proc.received, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  WorkerStats s0 = stats_of(w);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  WorkerStats s1 = stats_of(w);
  EXPECT_EQ(s1.report_timeouts, s0.report_timeouts);
  EXPECT_LE(s0.report_timeouts, 15u) << "about one a kReportBound during the armed second";
  w.stop();
}
