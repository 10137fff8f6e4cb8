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
  EchoWorker() {
    auto s = UdpSocket::bind(loopback());
    if (!s) return;
    address = s->local_address();
    worker = std::make_unique<Worker>("test-worker", std::move(*s));
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
