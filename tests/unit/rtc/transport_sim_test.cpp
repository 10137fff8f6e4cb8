// rtc::Transport through an impaired simulated network: loss, jitter (reordering)
// and duplication during the handshake and the call, and a client that changes
// its address mid-call.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "rtc/TransportCall.hpp"
#include "stun/MessageBuilder.hpp"

using namespace sb;
using namespace sb::rtc;
using namespace sb::rtc::test;
using namespace std::chrono_literals;

namespace {

constexpr uint32_t kUpSsrc = 0x0A0A0A0A;
constexpr uint32_t kDownSsrc = 0x0B0B0B0B;

sim::LinkConfig lossy_link() {
  sim::LinkConfig l;
  l.delay = 20ms;
  l.jitter = 10ms;
  l.loss = 0.10;
  l.duplicate = 0.02;
  return l;
}

/// What one direction of a media run delivered.
struct Delivery {
  size_t sent = 0;
  size_t received = 0;
  size_t distinct = 0;
  size_t corrupted = 0;  ///< received but not what was sent with that sequence number
};

Delivery check_delivery(const std::map<uint16_t, util::Bytes>& sent, const std::vector<util::Bytes>& received) {
  Delivery d;
  d.sent = sent.size();
  d.received = received.size();
  std::set<uint16_t> seen;
  for (const auto& p : received) {
    seen.insert(rtp_seq(p));
    auto it = sent.find(rtp_seq(p));
    if (it == sent.end() || it->second != p) ++d.corrupted;
  }
  d.distinct = seen.size();
  return d;
}

/// Records what arrives at one address.
struct Receiver {
  sim::FnNode node;
  std::vector<std::pair<util::Timestamp, util::Bytes>> got;
  Receiver() {
    node.on_datagram = [this](util::Timestamp now, const util::SocketAddr&, util::MutableBytes d) {
      got.emplace_back(now, util::Bytes(d.begin(), d.end()));
    };
  }
};

const util::SocketAddr kA = util::SocketAddr::v4({10, 1, 0, 1}, 1000);
const util::SocketAddr kB = util::SocketAddr::v4({10, 1, 0, 2}, 2000);

util::Bytes numbered(uint32_t i, size_t size = 100) {
  util::Bytes d(size, 0);
  util::store_be32(d.data(), i);
  return d;
}
uint32_t number_of(const util::Bytes& d) { return util::load_be32(d.data()); }

/// Sends `n` numbered datagrams A → B, `spacing` apart, and runs until all settled.
std::vector<std::pair<util::Timestamp, util::Bytes>> send_numbered(uint64_t seed, const sim::LinkConfig& link, int n,
                                                                   util::Duration spacing, size_t size = 100) {
  sim::SimNetwork net(seed);
  net.set_default_link(link);
  Receiver b;
  sim::FnNode a;
  net.add_node(kA, a);
  net.add_node(kB, b.node);
  for (int i = 0; i < n; ++i) {
    net.send(kA, kB, numbered(uint32_t(i), size), net.now());
    if (spacing > util::Duration::zero()) net.run_for(spacing);
  }
  net.run_for(10s);
  return b.got;
}

class TransportLossy : public ::testing::TestWithParam<uint64_t> {};

}  // namespace

TEST_P(TransportLossy, ConnectsAndCarriesMediaThroughLossJitterAndDuplicates) {
  CallOptions opt;
  opt.seed = GetParam();
  opt.link = lossy_link();
  TransportCall call(opt);

  // ICE checks retransmit from 100 ms and DTLS flights from 1 s (doubling), so
  // 10 % loss costs a few seconds at worst.
  const auto start = call.net.now();
  ASSERT_TRUE(call.connect(30s)) << "server " << to_string(call.server->state()) << " client "
                                 << to_string(call.client->state()) << " failure: " << call.server->failure()
                                 << call.client->failure();
  EXPECT_LT(call.net.now() - start, 30s);
  EXPECT_EQ(call.server->srtp()->profile(), srtp::Profile::AeadAes128Gcm);
  EXPECT_EQ(call.client->srtp()->profile(), srtp::Profile::AeadAes128Gcm);

  constexpr int kPackets = 500;
  std::map<uint16_t, util::Bytes> up, down;
  for (int i = 0; i < kPackets; ++i) {
    // Starting near the wrap exercises the 16-bit rollover (RFC 3711 §3.3.1 ROC).
    const auto seq = uint16_t(65300 + i);
    up[seq] = make_rtp(kUpSsrc, seq, 100 + size_t(i % 200));
    down[seq] = make_rtp(kDownSsrc, seq, 900);
    ASSERT_TRUE(call.send_rtp(call.client, up[seq]));
    ASSERT_TRUE(call.send_rtp(call.server, down[seq]));
    call.net.run_for(20ms);
  }
  call.net.run_for(1s);
  ASSERT_FALSE(call.net.stalled());

  const Delivery at_server = check_delivery(up, call.server.rtp);
  const Delivery at_client = check_delivery(down, call.client.rtp);
  for (const Delivery& d : {at_server, at_client}) {
    EXPECT_GE(d.received, kPackets * 8 / 10);
    EXPECT_EQ(d.received, d.distinct) << "a duplicate was accepted twice";
    EXPECT_EQ(d.corrupted, 0u);
  }
  // The network did duplicate media; SRTP replay protection is what dropped the copies.
  EXPECT_GT(call.net.stats().duplicated, 0u);
  EXPECT_GT(call.server->stats().dropped_srtp + call.client->stats().dropped_srtp, 0u);
  EXPECT_EQ(call.server->srtp()->stats().auth_failures + call.client->srtp()->stats().auth_failures, 0u);
  EXPECT_TRUE(call.server->connected());
  EXPECT_TRUE(call.client->connected());
}

INSTANTIATE_TEST_SUITE_P(Seeds, TransportLossy, ::testing::Values(1u, 2u, 3u, 4u, 5u));

namespace {

/// A client on a clean link that has exchanged media, then moves to a new port
/// (a NAT rebinding): the server still sends to the old one, which is gone.
struct MovedClient : TransportCall {
  static CallOptions options() {
    CallOptions opt;
    opt.seed = 42;
    opt.link.delay = 20ms;
    return opt;
  }
  MovedClient() : TransportCall(options()) {}

  void connect_and_move() {
    ASSERT_TRUE(connect());
    exchange(5);
    ASSERT_EQ(server.rtp.size(), 5u);
    ASSERT_EQ(client.rtp.size(), 5u);
    net.move_node(client.endpoint, kMovedAddr);
  }

  /// `n` packets each way, 20 ms apart.
  void exchange(int n) {
    for (int i = 0; i < n; ++i) {
      ++seq;
      (void)send_rtp(client, make_rtp(kUpSsrc, seq));
      (void)send_rtp(server, make_rtp(kDownSsrc, seq));
      net.run_for(20ms);
    }
    net.run_for(100ms);
  }

  /// A Binding request from the moved client as a browser would send it on its
  /// nominated pair: USE-CANDIDATE, signed with the server's password (RFC 8445 §7.1.1-3).
  void send_nominating_check() {
    std::array<uint8_t, 512> buf{};
    stun::MessageBuilder b(buf, stun::MessageClass::kRequest, stun::Method::kBinding,
                           stun::TransactionId::random(*rng));
    b.add_username(server->local_ufrag() + ":" + client->local_ufrag())
        .add_priority(ice::candidate_priority(ice::CandidateType::kPeerReflexive, 65535))
        .add_ice_controlling(1)
        .add_use_candidate()
        .add_message_integrity(server->local_pwd())
        .add_fingerprint();
    auto n = b.finish();
    ASSERT_TRUE(n);
    net.sink(client.endpoint).send(kServerAddr, util::ByteView(buf).first(*n));
  }

  static inline const util::SocketAddr kMovedAddr = util::SocketAddr::v4({192, 168, 1, 20}, 50001);
  uint16_t seq = 0;
};

}  // namespace

TEST(TransportMove, ServerFollowsTheClientAfterANominatingCheckFromItsNewAddress) {
  MovedClient call;
  call.connect_and_move();

  // Media from an address ICE has not validated is dropped; the server's media
  // goes to the old address, where nobody listens any more.
  const auto unverified_before = call.server->stats().dropped_unverified_source;
  call.exchange(3);
  EXPECT_EQ(call.server->stats().dropped_unverified_source - unverified_before, 3u);
  EXPECT_EQ(call.server.rtp.size(), 5u);
  EXPECT_EQ(call.client.rtp.size(), 5u);
  EXPECT_EQ(call.server->remote_address(), kClientAddr);

  call.send_nominating_check();
  ASSERT_TRUE(call.net.run_until([&] { return call.server->remote_address() == MovedClient::kMovedAddr; }, 1s));
  EXPECT_TRUE(call.server->connected());
  EXPECT_TRUE(call.server->lite_agent()->is_from_selected(MovedClient::kMovedAddr));

  // Media resumes both ways on the same SRTP contexts (no new handshake).
  call.exchange(10);
  EXPECT_EQ(call.server.rtp.size(), 15u);
  EXPECT_EQ(call.client.rtp.size(), 15u);
  EXPECT_EQ(call.server.events_of<TransportConnected>().size(), 1u);
  EXPECT_EQ(call.server->stats().dropped_srtp, 0u);
  EXPECT_EQ(call.client->stats().dropped_srtp, 0u);

  // The client's own consent checks now refresh the new pair: the call outlives
  // the 30 s consent timeout.
  call.net.run_for(45s);
  EXPECT_TRUE(call.server->connected());
  EXPECT_TRUE(call.client->connected());
  call.exchange(5);
  EXPECT_EQ(call.server.rtp.size(), 20u);
  EXPECT_EQ(call.client.rtp.size(), 20u);
}

// What the client transport does by itself today: its consent checks (RFC 7675)
// carry no USE-CANDIDATE (ice::ClientAgent::send_consent), and the lite server
// moves the selected pair only on a nomination (ice::LiteAgent::nominate). The
// checks do validate the new address, so the client's media gets through, but the
// server keeps sending to the old address and, since consent is tracked on the
// selected pair only, gives up 30 s after the move.
TEST(TransportMove, ServerFollowsTheClientThroughItsConsentChecks) {
  MovedClient call;
  call.connect_and_move();

  // The client's next consent check (every 4-6 s) nominates the pair from its
  // new address; the server moves its media there and consent holds.
  call.net.run_for(7s);
  EXPECT_TRUE(call.server->lite_agent()->is_validated(MovedClient::kMovedAddr));
  EXPECT_EQ(call.server->remote_address(), MovedClient::kMovedAddr);
  call.exchange(5);
  EXPECT_EQ(call.server.rtp.size(), 10u);
  EXPECT_EQ(call.client.rtp.size(), 10u);
  call.net.run_for(45s);
  EXPECT_EQ(call.server->state(), Transport::State::kConnected);
  EXPECT_TRUE(call.client->connected());
}


TEST(SimNetwork, DeliversAfterTheDelayInOrderWithoutImpairments) {
  sim::LinkConfig link;
  link.delay = 15ms;
  sim::SimNetwork net(1);
  net.set_default_link(link);
  Receiver b;
  sim::FnNode a;
  net.add_node(kA, a);
  net.add_node(kB, b.node);
  const auto t0 = net.now();
  for (uint32_t i = 0; i < 10; ++i) net.send(kA, kB, numbered(i), t0);
  net.run_for(14ms);
  EXPECT_TRUE(b.got.empty());
  net.run_for(1ms);
  ASSERT_EQ(b.got.size(), 10u);
  for (uint32_t i = 0; i < 10; ++i) {
    EXPECT_EQ(number_of(b.got[i].second), i);
    EXPECT_EQ(b.got[i].first, t0 + 15ms);
  }
  EXPECT_EQ(net.now(), t0 + 15ms);  // run_for ends exactly at its limit
  EXPECT_EQ(net.stats().delivered, 10u);
}

TEST(SimNetwork, SameSeedSameRunOtherSeedOtherRun) {
  sim::LinkConfig link;
  link.delay = 20ms;
  link.jitter = 10ms;
  link.loss = 0.1;
  link.duplicate = 0.05;
  auto a = send_numbered(7, link, 300, 5ms);
  auto b = send_numbered(7, link, 300, 5ms);
  auto c = send_numbered(8, link, 300, 5ms);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(SimNetwork, LossDuplicationAndJitterHaveTheConfiguredRates) {
  sim::LinkConfig link;
  link.delay = 20ms;
  link.jitter = 10ms;
  link.loss = 0.1;
  link.duplicate = 0.02;
  const int n = 10000;
  auto got = send_numbered(3, link, n, 1ms);
  std::map<uint32_t, int> copies;
  for (auto& [t, d] : got) ++copies[number_of(d)];
  int twice = 0;
  for (auto& [i, c] : copies) twice += c == 2;
  EXPECT_NEAR(double(copies.size()) / n, 0.90, 0.015);
  EXPECT_NEAR(double(twice) / double(copies.size()), 0.02, 0.006);

  // Packets 1 ms apart with ±10 ms jitter arrive out of order.
  int inversions = 0;
  for (size_t i = 1; i < got.size(); ++i) inversions += number_of(got[i].second) < number_of(got[i - 1].second);
  EXPECT_GT(inversions, n / 10);
}

TEST(SimNetwork, JitterStaysWithinItsBounds) {
  sim::LinkConfig link;
  link.delay = 20ms;
  link.jitter = 10ms;
  sim::SimNetwork net(5);
  net.set_default_link(link);
  Receiver b;
  sim::FnNode a;
  net.add_node(kA, a);
  net.add_node(kB, b.node);
  std::vector<util::Timestamp> sent_at;
  for (uint32_t i = 0; i < 1000; ++i) {
    sent_at.push_back(net.now());
    net.send(kA, kB, numbered(i), net.now());
    net.run_for(1ms);
  }
  net.run_for(1s);
  ASSERT_EQ(b.got.size(), 1000u);
  util::Duration lo = util::Duration::max(), hi = util::Duration::min();
  for (auto& [t, d] : b.got) {
    auto delay = t - sent_at[number_of(d)];
    lo = std::min(lo, delay);
    hi = std::max(hi, delay);
  }
  EXPECT_GE(lo, 10ms);
  EXPECT_LE(hi, 30ms);
  EXPECT_LT(lo, 12ms);
  EXPECT_GT(hi, 28ms);
}

TEST(SimNetwork, BandwidthCapSerialisesAndTailDrops) {
  sim::LinkConfig link;
  link.delay = 10ms;
  link.bandwidth_bps = 1'000'000;  // 1250 bytes take 10 ms
  link.queue_limit_bytes = 12'500;  // 100 ms of backlog
  sim::SimNetwork net(1);
  net.set_default_link(link);
  Receiver b;
  sim::FnNode a;
  net.add_node(kA, a);
  net.add_node(kB, b.node);
  const auto t0 = net.now();
  for (uint32_t i = 0; i < 30; ++i) net.send(kA, kB, numbered(i, 1250), t0);
  net.run_for(2s);
  // Ten fit into the 12.5 kB queue (the wire drains it at 10 ms each); the rest are tail-dropped.
  ASSERT_EQ(b.got.size(), 10u);
  EXPECT_EQ(net.stats().queue_dropped, 20u);
  for (uint32_t i = 0; i < b.got.size(); ++i) {
    EXPECT_EQ(number_of(b.got[i].second), i);
    EXPECT_EQ(b.got[i].first, t0 + 10ms * (i + 1) + 10ms);
  }
  // Once drained, the link takes traffic again; the reverse direction is independent.
  net.send(kA, kB, numbered(99, 1250), net.now());
  net.send(kB, kA, numbered(98, 1250), net.now());
  net.run_for(100ms);
  EXPECT_EQ(b.got.size(), 11u);
}

TEST(SimNetwork, PerLinkConfigOverridesTheDefault) {
  sim::SimNetwork net(1);
  sim::LinkConfig dead;
  dead.loss = 1.0;
  net.set_link(kA, kB, dead);
  Receiver a, b;
  net.add_node(kA, a.node);
  net.add_node(kB, b.node);
  net.send(kA, kB, numbered(1), net.now());
  net.send(kB, kA, numbered(2), net.now());
  net.run_for(100ms);
  EXPECT_TRUE(b.got.empty());
  EXPECT_EQ(a.got.size(), 1u);
  EXPECT_EQ(net.stats().lost, 1u);
}

TEST(SimNetwork, MovedNodeSendsFromAndReceivesAtItsNewAddress) {
  sim::SimNetwork net(1);
  Receiver a, b;
  util::SocketAddr last_from;
  b.node.on_datagram = [&](util::Timestamp now, const util::SocketAddr& from, util::MutableBytes d) {
    last_from = from;
    b.got.emplace_back(now, util::Bytes(d.begin(), d.end()));
  };
  auto ida = net.add_node(kA, a.node);
  net.add_node(kB, b.node);
  net.sink(ida).send(kB, numbered(1));
  net.run_for(10ms);
  EXPECT_EQ(last_from, kA);

  const auto moved = util::SocketAddr::v4({10, 1, 0, 1}, 1001);
  net.send(kB, kA, numbered(2), net.now());  // in flight while A moves: lost
  net.move_node(ida, moved);
  EXPECT_EQ(net.address(ida), moved);
  net.sink(ida).send(kB, numbered(3));
  net.run_for(10ms);
  EXPECT_EQ(last_from, moved);
  EXPECT_TRUE(a.got.empty());
  EXPECT_EQ(net.stats().unroutable, 1u);
  net.send(kB, moved, numbered(4), net.now());
  net.run_for(10ms);
  ASSERT_EQ(a.got.size(), 1u);
  EXPECT_EQ(number_of(a.got[0].second), 4u);
}

TEST(SimNetwork, FiresTimersAtTheirDeadlinesAndStopsWhenDone) {
  sim::SimNetwork net(1);
  sim::FnNode ticker;
  util::Timestamp next = net.now() + 100ms;
  std::vector<util::Timestamp> fired;
  ticker.next_timeout = [&] { return next; };
  ticker.on_timeout = [&](util::Timestamp now) {
    fired.push_back(now);
    next = now + 100ms;
  };
  net.add_node(kA, ticker);
  const auto t0 = net.now();
  EXPECT_TRUE(net.run_until([&] { return fired.size() == 5; }, 10s));
  EXPECT_EQ(net.now(), t0 + 500ms);
  for (size_t i = 0; i < fired.size(); ++i) EXPECT_EQ(fired[i], t0 + 100ms * (i + 1));
  EXPECT_FALSE(net.run_until([&] { return fired.size() == 100; }, 1s));
  EXPECT_EQ(fired.size(), 15u);
}

TEST(SimNetwork, AStuckTimerEndsTheRunInsteadOfHanging) {
  sim::SimNetwork net(1);
  sim::FnNode stuck;
  stuck.next_timeout = [] { return util::Timestamp{}; };  // always due, never advances
  net.add_node(kA, stuck);
  EXPECT_FALSE(net.run_until([] { return false; }, 1s));
  EXPECT_TRUE(net.stalled());
}

TEST(SimNetwork, FilterAndTapSeeEveryDatagram) {
  sim::SimNetwork net(1);
  Receiver b;
  sim::FnNode a;
  net.add_node(kA, a);
  net.add_node(kB, b.node);
  int tapped = 0;
  net.set_filter([](const sim::SimDatagram& d) { return number_of(d.data) % 2 == 0; });
  net.set_tap([&](const sim::SimDatagram& d, util::Timestamp) {
    ++tapped;
    EXPECT_EQ(d.from, kA);
  });
  for (uint32_t i = 0; i < 10; ++i) net.send(kA, kB, numbered(i), net.now());
  net.run_for(10ms);
  EXPECT_EQ(b.got.size(), 5u);
  EXPECT_EQ(tapped, 5);
  EXPECT_EQ(net.stats().filtered, 5u);
}
