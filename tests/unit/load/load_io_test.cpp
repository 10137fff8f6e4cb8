// The load generator's I/O plumbing: the timer queue of its participants and the
// shared sockets that carry many participants' datagrams, told apart by address.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "load/BatchSender.hpp"
#include "load/SharedSocket.hpp"
#include "load/TimerQueue.hpp"
#include "net/UdpSocket.hpp"

using namespace sb;
using namespace sb::load;
using namespace std::chrono_literals;

namespace {
constexpr uint32_t kLoopback1 = 0x7F000001;  // 127.0.0.1
constexpr uint32_t kLoopback2 = 0x7F000002;  // 127.0.0.2

util::SocketAddr v4(uint32_t ip, uint16_t port) {
  return util::SocketAddr::v4({uint8_t(ip >> 24), uint8_t(ip >> 16), uint8_t(ip >> 8), uint8_t(ip)}, port);
}

uint32_t host_ip_of(const util::SocketAddr& a) {
  const auto& b = a.ip_bytes();
  return uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | b[3];
}

size_t receive_shared(SharedSocket& s, SharedRecvBatch& b, std::vector<std::pair<uint32_t, std::vector<uint8_t>>>& got,
                      size_t want) {
  for (int i = 0; i < 200 && got.size() < want; ++i) {
    size_t n = s.receive(b);
    for (size_t j = 0; j < n; ++j) {
      auto d = b.data(j);
      if (!d.empty()) got.emplace_back(b.local_ip(j), std::vector<uint8_t>(d.begin(), d.end()));
    }
    if (got.size() < want) std::this_thread::sleep_for(5ms);
  }
  return got.size();
}
}  // namespace

TEST(TimerQueue, PopsInDeadlineOrderAndMovesDeadlines) {
  const util::Timestamp t0{};
  TimerQueue q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.next(), util::kNever);
  q.set(3, t0 + 30ms);
  q.set(1, t0 + 10ms);
  q.set(2, t0 + 20ms);
  q.set(0, util::kNever);  // not queued
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.next(), t0 + 10ms);
  q.set(3, t0 + 5ms);  // earlier
  q.set(1, t0 + 40ms);  // later
  EXPECT_EQ(q.get(1), t0 + 40ms);
  EXPECT_EQ(q.pop(), 3u);
  EXPECT_EQ(q.pop(), 2u);
  q.set(2, util::kNever);  // removing what is not queued is fine
  EXPECT_EQ(q.pop(), 1u);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.get(1), util::kNever);
}

TEST(TimerQueue, MatchesASortedReferenceUnderRandomUpdates) {
  const util::Timestamp t0{};
  std::mt19937 rng(7);
  TimerQueue q;
  std::vector<util::Timestamp> ref(200, util::kNever);
  for (int step = 0; step < 20000; ++step) {
    size_t id = rng() % ref.size();
    util::Timestamp t = rng() % 8 == 0 ? util::kNever : t0 + std::chrono::microseconds(rng() % 1000);
    q.set(id, t);
    ref[id] = t;
    if (step % 97 == 0 && !q.empty()) {
      auto min = *std::min_element(ref.begin(), ref.end());
      ASSERT_EQ(q.next(), min);
      size_t popped = q.pop();
      ASSERT_EQ(ref[popped], min);
      ref[popped] = util::kNever;
    }
  }
  size_t live = size_t(std::count_if(ref.begin(), ref.end(), [](auto t) { return t != util::kNever; }));
  ASSERT_EQ(q.size(), live);
  util::Timestamp last{};
  while (!q.empty()) {
    util::Timestamp t = q.next();
    EXPECT_LE(last, t);
    last = t;
    size_t id = q.pop();
    EXPECT_EQ(ref[id], t);
  }
}

TEST(SharedSocket, SendsFromAndReceivesOnSeveralLoopbackAddresses) {
  if (!SharedSocket::is_local(kLoopback2)) GTEST_SKIP() << "127.0.0.2 is not local here";
  auto shared = SharedSocket::open();
  ASSERT_TRUE(shared) << shared.error();
  ASSERT_NE(shared->port(), 0);
  auto server = net::UdpSocket::bind(v4(kLoopback1, 0));
  ASSERT_TRUE(server) << server.error();

  // Out: each datagram leaves from the address it was queued with.
  for (uint32_t src : {kLoopback1, kLoopback2, kLoopback2}) {
    auto slot = shared->reserve();
    slot[0] = uint8_t(src);
    shared->commit(src, server->local_address(), 1);
  }
  EXPECT_TRUE(shared->has_queued());
  shared->flush();
  EXPECT_FALSE(shared->has_queued());
  EXPECT_EQ(shared->stats().tx_packets, 3u);
  net::RecvBatch batch;
  std::vector<util::SocketAddr> sources;
  for (int i = 0; i < 200 && sources.size() < 3; ++i) {
    size_t n = server->receive(batch);
    for (size_t j = 0; j < n; ++j) {
      sources.push_back(batch.from(j));
      EXPECT_EQ(batch.data(j)[0], uint8_t(host_ip_of(batch.from(j))));
    }
    if (sources.size() < 3) std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ(sources.size(), 3u);
  EXPECT_EQ(sources[0], v4(kLoopback1, shared->port()));
  EXPECT_EQ(sources[1], v4(kLoopback2, shared->port()));

  // In: datagrams to either address arrive on the one socket, with that address.
  net::SendQueue q;
  uint8_t one = 1, two = 2;
  ASSERT_TRUE(q.push(v4(kLoopback2, shared->port()), {&two, 1}));
  ASSERT_TRUE(q.push(v4(kLoopback1, shared->port()), {&one, 1}));
  server->send(q);
  SharedRecvBatch rb;
  std::vector<std::pair<uint32_t, std::vector<uint8_t>>> got;
  ASSERT_EQ(receive_shared(*shared, rb, got, 2), 2u);
  EXPECT_EQ(got[0].first, kLoopback2);
  EXPECT_EQ(got[0].second, std::vector<uint8_t>{2});
  EXPECT_EQ(got[1].first, kLoopback1);
  EXPECT_EQ(got[1].second, std::vector<uint8_t>{1});
  EXPECT_EQ(rb.from(1), server->local_address());
}

TEST(SharedSocket, IsLocalTellsLocalAddressesApart) {
  EXPECT_TRUE(SharedSocket::is_local(kLoopback1));
  EXPECT_FALSE(SharedSocket::is_local(0xC0000201));  // 192.0.2.1 (TEST-NET-1, RFC 5737)
}

TEST(BatchSender, QueuesSharedDatagramsPerSocketUntilFlushed) {
  if (!SharedSocket::is_local(kLoopback2)) GTEST_SKIP() << "127.0.0.2 is not local here";
  auto a = SharedSocket::open();
  auto b = SharedSocket::open();
  auto server = net::UdpSocket::bind(v4(kLoopback1, 0));
  ASSERT_TRUE(a && b && server);
  BatchSender sender;
  // More than one batch on `a` (it sends a full batch by itself), one datagram on `b`.
  for (size_t i = 0; i < kSharedBatchSize + 3; ++i) {
    sender.use(*a, i % 2 ? kLoopback1 : kLoopback2);
    uint8_t byte = uint8_t(i);
    sender.send(server->local_address(), {&byte, 1});
    if (i == 5) {
      sender.use(*b, kLoopback2);
      sender.send(server->local_address(), {&byte, 1});
    }
  }
  EXPECT_EQ(a->stats().tx_packets, kSharedBatchSize);
  EXPECT_EQ(b->stats().tx_packets, 0u);
  sender.flush();
  EXPECT_EQ(a->stats().tx_packets, kSharedBatchSize + 3);
  EXPECT_EQ(b->stats().tx_packets, 1u);
  EXPECT_FALSE(a->has_queued());
  EXPECT_FALSE(b->has_queued());
}
