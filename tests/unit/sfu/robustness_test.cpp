// Input the WorkerCore must shrug off: datagrams from addresses ICE never
// validated, garbage and replayed SRTP/SRTCP, STUN for nobody, malformed STUN.
// Each is counted and dropped, and the call goes on undisturbed.
#include <gtest/gtest.h>

#include <set>

#include "sfu/SfuHarness.hpp"
#include "stun/MessageBuilder.hpp"

namespace sb::sfu::test {
namespace {

const util::SocketAddr kStranger = util::SocketAddr::v4({203, 0, 113, 9}, 40000);

util::Bytes fake_rtp(uint32_t ssrc, uint16_t seq, size_t size = 120) {
  util::Bytes p(size, 0xAB);
  p[0] = 0x80;
  p[1] = 96;
  util::store_be16(&p[2], seq);
  util::store_be32(&p[4], 1234);
  util::store_be32(&p[8], ssrc);
  return p;
}

TEST(Robustness, UnknownAndMalformedInputIsCountedAndDropped) {
  TwoPublishers call(41);
  ASSERT_TRUE(call.connected);
  Harness& h = call.h;
  Client& a = call.a;
  Client& b = call.b;
  auto video = b.stream_for("alice-video");
  ASSERT_TRUE(video);
  size_t received_before = b.rtp_from(video->ssrc).size();
  const auto stats0 = h.core.stats();
  const auto alice0 = *h.snapshot_of("alice");

  // Capture one of Alice's SRTP packets on its way to the core, to replay it.
  std::optional<util::Bytes> captured;
  h.net.set_tap([&](const sim::SimDatagram& d, util::Timestamp) {
    if (!captured && d.from == a.addr && d.data.size() > 12 && d.data[0] >= 128 && !rtp::is_rtcp(d.data))
      captured = d.data;
  });
  h.run_for(100ms);
  h.net.set_tap(nullptr);
  ASSERT_TRUE(captured.has_value());

  sim::FnNode stranger;
  auto stranger_ep = h.net.add_node(kStranger, stranger);
  auto& from_stranger = h.net.sink(stranger_ep);
  auto& from_alice = h.net.sink(a.endpoint);

  // 1. RTP and DTLS from an address that never passed ICE.
  from_stranger.send(kCoreAddr, fake_rtp(a.video_ssrc, 1));
  const uint8_t dtls[] = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  from_stranger.send(kCoreAddr, dtls);
  // 2. Garbage SRTP and SRTCP, and a replay, from Alice's validated address.
  from_alice.send(kCoreAddr, fake_rtp(a.video_ssrc, 7));
  util::Bytes garbage_rtcp = fake_rtp(a.video_ssrc, 7);
  garbage_rtcp[1] = 200;  // SR packet type
  from_alice.send(kCoreAddr, garbage_rtcp);
  from_alice.send(kCoreAddr, *captured);
  // 3. STUN for a ufrag nobody has, and bytes that only look like STUN.
  std::array<uint8_t, 256> buf{};
  stun::MessageBuilder sb(buf, stun::MessageClass::kRequest, stun::Method::kBinding,
                          stun::TransactionId::random(*a.rng));
  sb.add_username("nobody00:whoever").add_message_integrity(std::string_view("not-a-password-at-all-x")).add_fingerprint();
  auto n = sb.finish();
  ASSERT_TRUE(n);
  from_stranger.send(kCoreAddr, util::ByteView(buf).first(*n));
  const uint8_t not_stun[] = {0x00, 0x01, 0x00, 0x50, 0x21, 0x12};
  from_stranger.send(kCoreAddr, not_stun);
  from_alice.send(kCoreAddr, util::ByteView{});
  h.run_for(1s);

  const auto& st = h.core.stats();
  EXPECT_EQ(st.dropped_unknown_source - stats0.dropped_unknown_source, 2u);
  EXPECT_EQ(st.dropped_unknown_ufrag - stats0.dropped_unknown_ufrag, 1u);
  EXPECT_EQ(st.dropped_malformed_stun - stats0.dropped_malformed_stun, 1u);
  const auto* alice = h.snapshot_of("alice");
  ASSERT_NE(alice, nullptr);
  EXPECT_EQ(alice->transport.dropped_srtp - alice0.transport.dropped_srtp, 3u) << "garbage RTP, RTCP, replay";
  EXPECT_GE(alice->srtp_replays - alice0.srtp_replays, 1u);
  EXPECT_EQ(alice->transport_state, "connected");
  EXPECT_EQ(alice->media.unknown_ssrc, alice0.media.unknown_ssrc);

  // The call goes on: Bob keeps receiving Alice's video without a gap.
  auto rx = b.rtp_from(video->ssrc);
  EXPECT_GT(rx.size(), received_before + 20);  // 25 frames per second
  for (size_t i = 1; i < rx.size(); ++i) ASSERT_EQ(rx[i].rtp().sequence(), uint16_t(rx[i - 1].rtp().sequence() + 1));
  EXPECT_TRUE(a.connected() && b.connected());
  h.net.remove_node(stranger_ep);
}

TEST(Robustness, LossyJitteryNetworkKeepsTheMappingConsistent) {
  sim::LinkConfig link;
  link.delay = 20ms;
  link.jitter = 8ms;  // reorders packets 40 ms apart rarely, 20 ms apart often
  link.loss = 0.03;
  Harness h(42, link);
  Client& a = h.add_client({.name = "alice"});
  Client& b = h.add_client({.name = "bob"});
  h.join(a);
  h.join(b);
  ASSERT_TRUE(h.connect_all(20s));
  a.start_media(h.now());
  h.run_for(5s);
  auto video = b.stream_for("alice-video");
  ASSERT_TRUE(video);
  auto rx = b.rtp_from(video->ssrc);
  ASSERT_GT(rx.size(), 60u);
  // Every packet Bob got is Alice's packet under one fixed offset, once.
  std::optional<uint16_t> offset;
  std::set<uint16_t> seen;
  for (const auto& r : rx) {
    auto p = r.rtp();
    EXPECT_TRUE(seen.insert(p.sequence()).second) << "duplicate " << p.sequence();
    const SentRtp* orig = nullptr;
    for (const auto& s : a.sent) {
      if (s.ssrc != a.video_ssrc || s.timestamp != p.timestamp()) continue;
      auto sp = s.payload();
      if (std::equal(sp.begin(), sp.end(), p.payload().begin(), p.payload().end())) orig = &s;
    }
    ASSERT_NE(orig, nullptr);
    if (!offset) offset = uint16_t(p.sequence() - orig->seq);
    EXPECT_EQ(uint16_t(p.sequence() - orig->seq), *offset);
  }
  // Publisher-side loss is repaired by NACK/RTX; only the last hop loses.
  size_t sent = 0;
  for (const auto& s : a.sent)
    if (s.ssrc == a.video_ssrc && s.at < h.now() - 200ms && s.at > rx.front().at) ++sent;
  EXPECT_GT(double(rx.size()), 0.9 * double(sent));
  EXPECT_GT(h.snapshot_of("alice")->media.rtx_received, 0u);
}

}  // namespace
}  // namespace sb::sfu::test
