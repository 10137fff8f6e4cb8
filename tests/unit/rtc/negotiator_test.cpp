#include <gtest/gtest.h>

#include "rtc/Capabilities.hpp"
#include "rtc/Negotiator.hpp"
#include "sdp/SdpSamples.hpp"

using namespace sb;
using namespace sb::rtc;

namespace {

struct NegotiatorTest : ::testing::Test {
  std::unique_ptr<util::Random> rng = util::make_seeded_random(7);
  LocalTransportInfo local{
      "srvU", "serverpasswordserverpass",
      "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99",
      {"candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host generation 0"},
      *util::SocketAddr::parse("127.0.0.1:40000")};
  Negotiator neg{local, *rng};

  sdp::SessionDescription answer(std::string_view offer) {
    auto a = neg.handle_offer(offer);
    EXPECT_TRUE(a) << a.error();
    auto parsed = sdp::SessionDescription::parse(a.value());
    EXPECT_TRUE(parsed) << parsed.error() << "\n" << a.value();
    return parsed.value();
  }
};

std::string replace(std::string s, std::string_view from, std::string_view to) {
  auto pos = s.find(from);
  if (pos != std::string::npos) s.replace(pos, from.size(), to);
  return s;
}

}  // namespace

TEST_F(NegotiatorTest, AnswersChromiumOfferAsIceLitePassiveReceiver) {
  auto a = answer(sdp_samples::kChromiumOffer);
  EXPECT_TRUE(a.ice_lite);
  ASSERT_NE(a.bundle_group(), nullptr);
  EXPECT_EQ(a.bundle_group()->mids, (std::vector<std::string>{"0", "1"}));
  ASSERT_EQ(a.media.size(), 2u);
  for (const auto& m : a.media) {
    auto t = a.transport_for(m);
    EXPECT_EQ(t.ice_ufrag, "srvU");
    EXPECT_EQ(t.setup, sdp::SetupRole::Passive);
    ASSERT_EQ(t.fingerprints.size(), 1u);
    EXPECT_EQ(t.fingerprints[0].algorithm, "sha-256");
    EXPECT_TRUE(m.rtcp_mux);
    EXPECT_EQ(m.direction, sdp::Direction::RecvOnly);
    EXPECT_EQ(m.candidates, local.candidates);
    EXPECT_EQ(m.port, 40000);
  }
  // Audio: only Opus, with the offerer's payload type and feedback we support.
  const auto& audio = a.media[0];
  ASSERT_EQ(audio.codecs.size(), 1u);
  EXPECT_TRUE(audio.codecs[0].is("opus"));
  EXPECT_EQ(audio.codecs[0].pt, 111);
  EXPECT_EQ(audio.extmap_id("urn:ietf:params:rtp-hdrext:sdes:mid"), 4);
  // Video: every forwarded codec plus its RTX, in the offer's order; playout-delay declined.
  const auto& video = a.media[1];
  std::vector<int> pts;
  for (auto pt : video.payload_types()) pts.push_back(pt);
  EXPECT_EQ(pts, (std::vector<int>{96, 98, 100, 102, 45, 97, 99, 101, 103, 46}));
  EXPECT_EQ(video.rtx_payload_type(96), 97);
  EXPECT_TRUE(video.find_codec(96)->has_feedback("nack", "pli"));
  EXPECT_TRUE(video.find_codec(96)->has_feedback("transport-cc"));
  EXPECT_FALSE(video.extmap_id("http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"));
  EXPECT_EQ(video.extmap_id("http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"), 3);

  const auto& remote = neg.remote_parameters();
  ASSERT_TRUE(remote);
  EXPECT_EQ(remote->ufrag, "Xk3f");
  EXPECT_EQ(remote->local_dtls_role, dtls::Role::kServer);
  // What the peer sends, for demultiplexing.
  const auto* vline = neg.find_line("1");
  ASSERT_NE(vline, nullptr);
  EXPECT_EQ(vline->remote_ssrcs, std::vector<uint32_t>{2415613296u});
  ASSERT_EQ(vline->remote_rtx.size(), 1u);
  EXPECT_EQ(vline->remote_rtx[0].second, 1148794435u);
}

TEST_F(NegotiatorTest, AnswersSimulcastWithRecvRids) {
  auto a = answer(sdp_samples::kChromiumSimulcastOffer);
  const sdp::MediaSection* video = nullptr;
  for (const auto& m : a.media)
    if (m.media == "video") video = &m;
  ASSERT_NE(video, nullptr);
  ASSERT_TRUE(video->simulcast);
  EXPECT_FALSE(video->rids.empty());
  for (const auto& r : video->rids) EXPECT_EQ(r.direction, sdp::RidDirection::Recv);
  EXPECT_EQ(video->simulcast->recv.size(), video->rids.size());
}

TEST_F(NegotiatorTest, AnswersAiortcAndFirefoxOffers) {
  auto a = answer(sdp_samples::kAiortcOffer);
  EXPECT_FALSE(a.media.empty());
  Negotiator other(local, *rng);
  auto b = other.handle_offer(sdp_samples::kFirefoxOffer);
  EXPECT_TRUE(b) << b.error();
}

TEST_F(NegotiatorTest, DeclinesDataChannelsWithoutFailing) {
  auto a = neg.handle_offer(sdp_samples::kDataChannelOffer);
  if (!a) {
    // A data-channel-only offer has nothing we accept; the reason says so.
    EXPECT_NE(a.error().find("codec"), std::string::npos) << a.error();
    return;
  }
  auto parsed = sdp::SessionDescription::parse(a.value());
  ASSERT_TRUE(parsed);
  for (const auto& m : parsed->media)
    if (m.media == "application") {
      EXPECT_EQ(m.port, 0);
    }
}

TEST_F(NegotiatorTest, RejectsUnusableOffersWithReasons) {
  auto e1 = neg.handle_offer("v=0\r\nthis is not sdp");
  ASSERT_FALSE(e1);
  EXPECT_NE(e1.error().find("malformed"), std::string::npos);

  std::string no_pwd = sdp_samples::kChromiumOffer;
  while (no_pwd.find("a=ice-pwd:") != std::string::npos) no_pwd = replace(no_pwd, "a=ice-pwd:yF8Ah2mK1mOq9TZb3vL0jQ7c\r\n", "");
  auto e2 = neg.handle_offer(no_pwd);
  ASSERT_FALSE(e2);
  EXPECT_NE(e2.error().find("ice-pwd"), std::string::npos) << e2.error();

  std::string no_fp = sdp_samples::kChromiumOffer;
  while (no_fp.find("a=fingerprint:") != std::string::npos) {
    auto pos = no_fp.find("a=fingerprint:");
    no_fp.erase(pos, no_fp.find("\r\n", pos) + 2 - pos);
  }
  auto e3 = neg.handle_offer(no_fp);
  ASSERT_FALSE(e3);
  EXPECT_NE(e3.error().find("fingerprint"), std::string::npos);

  std::string no_mux = sdp_samples::kChromiumOffer;
  while (no_mux.find("a=rtcp-mux\r\n") != std::string::npos) no_mux = replace(no_mux, "a=rtcp-mux\r\n", "");
  auto e4 = neg.handle_offer(no_mux);
  ASSERT_FALSE(e4);
  EXPECT_NE(e4.error().find("rtcp-mux"), std::string::npos);

  std::string no_bundle = replace(sdp_samples::kChromiumOffer, "a=group:BUNDLE 0 1\r\n", "");
  auto e5 = neg.handle_offer(no_bundle);
  ASSERT_FALSE(e5);
  EXPECT_NE(e5.error().find("BUNDLE"), std::string::npos);
  // Nothing was applied by the failed offers.
  EXPECT_TRUE(neg.lines().empty());
  EXPECT_FALSE(neg.remote_parameters());
}

TEST_F(NegotiatorTest, RenegotiationKeepsOrderAndRefusesIceRestart) {
  answer(sdp_samples::kChromiumOffer);
  // The same offer again (e.g. after a track change) is fine and bumps our version.
  auto v1 = neg.local_version();
  answer(sdp_samples::kChromiumOffer);
  EXPECT_EQ(neg.local_version(), v1 + 1);

  std::string restart = sdp_samples::kChromiumOffer;
  while (restart.find("a=ice-ufrag:Xk3f") != std::string::npos) restart = replace(restart, "a=ice-ufrag:Xk3f", "a=ice-ufrag:Zz9q");
  auto e = neg.handle_offer(restart);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().find("ICE restart"), std::string::npos);

  // Swapping mids of existing sections is refused.
  std::string swapped = replace(replace(replace(sdp_samples::kChromiumOffer, "a=mid:0", "a=mid:X"), "a=mid:1", "a=mid:0"),
                                "a=mid:X", "a=mid:1");
  swapped = replace(swapped, "a=group:BUNDLE 0 1", "a=group:BUNDLE 1 0");
  auto e2 = neg.handle_offer(swapped);
  ASSERT_FALSE(e2);
  EXPECT_NE(e2.error().find("mid"), std::string::npos);
}

TEST_F(NegotiatorTest, PassiveOffererMakesUsTheDtlsClient) {
  std::string passive = sdp_samples::kChromiumOffer;
  while (passive.find("a=setup:actpass") != std::string::npos) passive = replace(passive, "a=setup:actpass", "a=setup:passive");
  auto a = answer(passive);
  EXPECT_EQ(a.transport_for(a.media[0]).setup, sdp::SetupRole::Active);
  EXPECT_EQ(neg.remote_parameters()->local_dtls_role, dtls::Role::kClient);
}

TEST(MsidToken, EncodesWhatIsNotATokenAndBoundsTheLength) {
  EXPECT_EQ(rtc::to_msid_token("alice"), "alice");
  EXPECT_EQ(rtc::to_msid_token("Grace Hopper"), "Grace%20Hopper");
  EXPECT_EQ(rtc::to_msid_token("50%"), "50%25");
  EXPECT_EQ(rtc::to_msid_token(""), "-");
  EXPECT_EQ(rtc::to_msid_token(std::string(100, 'x')).size(), 64u);
  EXPECT_EQ(rtc::to_msid_token("caf\xc3\xa9"), "caf%C3%A9");
}

TEST_F(NegotiatorTest, PayloadTypeListedTwiceIsAnsweredOnce) {
  // Found by fuzzing: a repeated format on the m= line made the answer carry the
  // codec twice, which no parser accepts.
  std::string offer = replace(sdp_samples::kChromiumOffer, "m=video 9 UDP/TLS/RTP/SAVPF 96 97",
                              "m=video 9 UDP/TLS/RTP/SAVPF 96 96 97 97");
  auto a = answer(offer);
  const auto* video = a.find_media("1");
  ASSERT_NE(video, nullptr);
  auto pts = video->payload_types();
  EXPECT_EQ(std::count(pts.begin(), pts.end(), 96), 1);
  EXPECT_EQ(std::count(pts.begin(), pts.end(), 97), 1);
}
