#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

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
