#include <gtest/gtest.h>

#include "sdp/SdpParser.hpp"
#include "sdp/SessionDescription.hpp"
#include "sdp/SdpSamples.hpp"

using namespace sb::sdp;

namespace {

SessionDescription parse_ok(std::string_view text) {
  auto r = SessionDescription::parse(text);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
  return r.ok() ? *r : SessionDescription{};
}

}  // namespace

TEST(SdpParser, ChromiumOfferSessionLevel) {
  auto sd = parse_ok(sdp_samples::kChromiumOffer);
  EXPECT_EQ(sd.origin.username, "-");
  EXPECT_EQ(sd.origin.session_id, 4611731400430051336ull);
  EXPECT_EQ(sd.origin.session_version, 2u);
  EXPECT_EQ(sd.origin.address, "127.0.0.1");
  EXPECT_EQ(sd.session_name, "-");
  EXPECT_EQ(sd.timing, (Timing{0, 0}));
  ASSERT_NE(sd.bundle_group(), nullptr);
  EXPECT_EQ(sd.bundle_group()->mids, (std::vector<std::string>{"0", "1"}));
  EXPECT_TRUE(sd.is_bundled("1"));
  EXPECT_FALSE(sd.is_bundled("2"));
  EXPECT_TRUE(sd.extmap_allow_mixed);
  EXPECT_EQ(sd.msid_semantic, "WMS 9f4b3c1e-5c2a-4d8e-a0f3-6b1d2e7c8a90");
  EXPECT_FALSE(sd.ice_lite);
  EXPECT_TRUE(sd.transport.empty());
  EXPECT_TRUE(sd.other_attributes.empty());
  ASSERT_EQ(sd.media.size(), 2u);
}

TEST(SdpParser, ChromiumOfferAudioSection) {
  auto sd = parse_ok(sdp_samples::kChromiumOffer);
  const MediaSection& a = sd.media[0];
  EXPECT_EQ(a.kind(), MediaKind::Audio);
  EXPECT_EQ(a.port, 9);
  EXPECT_EQ(a.protocol, "UDP/TLS/RTP/SAVPF");
  EXPECT_TRUE(a.is_rtp());
  EXPECT_EQ(a.payload_types(), (std::vector<PayloadType>{111, 63, 9, 0, 8, 13, 110, 126}));
  ASSERT_TRUE(a.connection);
  EXPECT_EQ(a.connection->address, "0.0.0.0");
  ASSERT_TRUE(a.rtcp);
  EXPECT_EQ(a.rtcp->port, 9);
  EXPECT_EQ(a.rtcp->address, "IN IP4 0.0.0.0");
  EXPECT_EQ(a.mid, "0");
  EXPECT_EQ(a.direction, Direction::SendRecv);
  EXPECT_TRUE(a.rtcp_mux);
  EXPECT_TRUE(a.rtcp_rsize);
  EXPECT_FALSE(a.is_rejected());
  EXPECT_FALSE(a.is_bundle_only());

  EXPECT_EQ(a.transport.ice_ufrag, "Xk3f");
  EXPECT_EQ(a.transport.ice_pwd, "yF8Ah2mK1mOq9TZb3vL0jQ7c");
  EXPECT_TRUE(a.transport.has_ice_option("trickle"));
  ASSERT_EQ(a.transport.fingerprints.size(), 1u);
  EXPECT_EQ(a.transport.fingerprints[0].algorithm, "sha-256");
  EXPECT_EQ(a.transport.fingerprints[0].value.substr(0, 8), "7B:8B:F0");
  EXPECT_EQ(a.transport.setup, SetupRole::ActPass);

  ASSERT_EQ(a.candidates.size(), 2u);
  EXPECT_EQ(a.candidates[0],
            "candidate:2999745851 1 udp 2122260223 3c9a1f0e-7b4d-4e2a-9c3f-1d2e3f4a5b6c.local 54400 typ host "
            "generation 0 network-id 1");
  EXPECT_FALSE(a.end_of_candidates);

  ASSERT_EQ(a.extmaps.size(), 4u);
  EXPECT_EQ(a.extmap_id("urn:ietf:params:rtp-hdrext:ssrc-audio-level"), 1);
  EXPECT_EQ(a.extmap_id("urn:ietf:params:rtp-hdrext:sdes:mid"), 4);
  EXPECT_FALSE(a.extmap_id("urn:3gpp:video-orientation"));
  EXPECT_FALSE(a.extmaps[0].direction);

  ASSERT_EQ(a.msids.size(), 1u);
  EXPECT_EQ(a.msids[0].stream_id, "9f4b3c1e-5c2a-4d8e-a0f3-6b1d2e7c8a90");
  EXPECT_EQ(a.msids[0].track_id, "2d6a7e1b-0c3f-4a5e-8b9d-1c2e3f4a5b6d");

  ASSERT_EQ(a.codecs.size(), 8u);
  const Codec* opus = a.find_codec(111);
  ASSERT_NE(opus, nullptr);
  EXPECT_EQ(opus->name, "opus");
  EXPECT_EQ(opus->clock_rate, 48000u);
  EXPECT_EQ(opus->channels, 2u);
  EXPECT_EQ(opus->fmtp, "minptime=10;useinbandfec=1");
  EXPECT_EQ(opus->fmtp_param("useinbandfec"), "1");
  EXPECT_EQ(opus->fmtp_param("minptime"), "10");
  EXPECT_TRUE(opus->has_feedback("transport-cc"));
  const Codec* red = a.find_codec(63);
  ASSERT_NE(red, nullptr);
  EXPECT_EQ(red->name, "red");
  EXPECT_EQ(red->fmtp, "111/111");
  EXPECT_EQ(red->fmtp_params.size(), 1u);
  EXPECT_EQ(red->fmtp_params[0].key, "111/111");
  const Codec* pcmu = a.find_codec(0);
  ASSERT_NE(pcmu, nullptr);
  EXPECT_EQ(pcmu->name, "PCMU");
  EXPECT_EQ(pcmu->clock_rate, 8000u);
  EXPECT_EQ(pcmu->channels, 0u);
  EXPECT_EQ(a.find_codec(9)->name, "G722");
  EXPECT_EQ(a.codecs_named("TELEPHONE-EVENT").size(), 2u);
  EXPECT_EQ(a.find_codec(96), nullptr);

  EXPECT_EQ(a.primary_ssrcs(), (std::vector<Ssrc>{3735928559u}));
  EXPECT_EQ(a.cname(3735928559u), "uXq2nV7tY4bZ0aLs");
  EXPECT_EQ(a.ssrc_attribute(3735928559u, "msid"),
            "9f4b3c1e-5c2a-4d8e-a0f3-6b1d2e7c8a90 2d6a7e1b-0c3f-4a5e-8b9d-1c2e3f4a5b6d");
  EXPECT_FALSE(a.rtx_ssrc(3735928559u));
}

TEST(SdpParser, ChromiumOfferVideoSection) {
  auto sd = parse_ok(sdp_samples::kChromiumOffer);
  const MediaSection& v = sd.media[1];
  EXPECT_EQ(v.kind(), MediaKind::Video);
  EXPECT_EQ(v.mid, "1");
  EXPECT_EQ(sd.find_media("1"), &sd.media[1]);
  EXPECT_EQ(v.codecs.size(), 10u);

  const Codec* vp8 = v.find_codec(96);
  ASSERT_NE(vp8, nullptr);
  EXPECT_TRUE(vp8->is("vp8"));
  EXPECT_EQ(vp8->clock_rate, 90000u);
  ASSERT_EQ(vp8->feedback.size(), 5u);
  EXPECT_EQ(vp8->feedback[2], (RtcpFeedback{"ccm", "fir"}));
  EXPECT_TRUE(vp8->has_feedback("nack"));
  EXPECT_TRUE(vp8->has_feedback("nack", "pli"));
  EXPECT_TRUE(vp8->has_feedback("goog-remb"));
  EXPECT_FALSE(vp8->has_feedback("nack", "sli"));
  EXPECT_EQ(v.rtx_payload_type(96), 97);
  EXPECT_EQ(v.rtx_payload_type(98), 99);
  EXPECT_EQ(v.rtx_payload_type(100), 101);
  EXPECT_EQ(v.rtx_payload_type(102), 103);
  EXPECT_EQ(v.rtx_payload_type(45), 46);
  EXPECT_FALSE(v.rtx_payload_type(97));
  EXPECT_TRUE(v.find_codec(97)->is_rtx());
  EXPECT_EQ(v.find_codec(97)->apt(), 96);

  EXPECT_EQ(v.find_codec(98)->fmtp_param("profile-id"), "0");
  auto h264 = v.codecs_named("h264");
  ASSERT_EQ(h264.size(), 2u);
  EXPECT_EQ(h264[0]->pt, 100);
  EXPECT_EQ(h264[0]->fmtp_param("packetization-mode"), "1");
  EXPECT_EQ(h264[0]->fmtp_param("profile-level-id"), "42e01f");
  EXPECT_EQ(h264[1]->fmtp_param("packetization-mode"), "0");
  EXPECT_FALSE(h264[0]->fmtp_param("sprop-parameter-sets"));
  const Codec* av1 = v.find_codec(45);
  ASSERT_NE(av1, nullptr);
  EXPECT_EQ(av1->name, "AV1");
  EXPECT_EQ(av1->fmtp_param("level-idx"), "5");

  EXPECT_EQ(v.extmaps.size(), 8u);
  EXPECT_EQ(v.extmap_id("urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"), 10);
  EXPECT_EQ(v.extmap_id("http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"), 3);
  ASSERT_NE(v.find_extmap(14), nullptr);
  EXPECT_EQ(v.find_extmap(14)->uri, "urn:ietf:params:rtp-hdrext:toffset");

  ASSERT_EQ(v.ssrc_groups.size(), 1u);
  EXPECT_EQ(v.ssrc_groups[0].semantics, "FID");
  EXPECT_EQ(v.ssrc_groups[0].ssrcs, (std::vector<Ssrc>{2415613296u, 1148794435u}));
  EXPECT_EQ(v.primary_ssrcs(), (std::vector<Ssrc>{2415613296u}));
  EXPECT_EQ(v.rtx_ssrc(2415613296u), 1148794435u);
  EXPECT_EQ(v.cname(1148794435u), "uXq2nV7tY4bZ0aLs");
  EXPECT_EQ(v.ssrcs.size(), 4u);
  EXPECT_TRUE(v.candidates.empty());
}

TEST(SdpParser, ChromiumSimulcastOffer) {
  auto sd = parse_ok(sdp_samples::kChromiumSimulcastOffer);
  EXPECT_EQ(sd.msid_semantic, "WMS");
  ASSERT_EQ(sd.media.size(), 1u);
  const MediaSection& v = sd.media[0];
  EXPECT_EQ(v.direction, Direction::SendOnly);
  ASSERT_EQ(v.msids.size(), 1u);
  EXPECT_EQ(v.msids[0].stream_id, "-");
  ASSERT_EQ(v.rids.size(), 3u);
  EXPECT_EQ(v.rids[0].id, "q");
  EXPECT_EQ(v.rids[0].direction, RidDirection::Send);
  EXPECT_TRUE(v.rids[0].params.empty());
  const Rid* f = v.find_rid("f");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->params, "max-width=1280;max-height=720");
  ASSERT_EQ(f->parsed_params.size(), 2u);
  EXPECT_EQ(f->parsed_params[1], (Param{"max-height", "720"}));
  ASSERT_TRUE(v.simulcast);
  ASSERT_EQ(v.simulcast->send.size(), 3u);
  EXPECT_TRUE(v.simulcast->recv.empty());
  EXPECT_EQ(v.simulcast->send[0], (SimulcastStream{{"q", false}}));
  EXPECT_EQ(v.simulcast->send[2], (SimulcastStream{{"f", true}}));
  EXPECT_TRUE(v.ssrcs.empty());
  EXPECT_TRUE(v.primary_ssrcs().empty());
  EXPECT_EQ(v.extmap_id("urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"), 11);
}

TEST(SdpParser, SimulcastAlternativesAndRecvAndLegacyPrefix) {
  std::string sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
                    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
                    "a=rid:a recv pt=96;max-fps=30\r\na=rid:b recv\r\na=rid:c recv\r\n"
                    "a=simulcast:recv a,~b;c send x\r\n";
  auto sd = parse_ok(sdp);
  const auto& m = sd.media[0];
  EXPECT_EQ(m.rids[0].direction, RidDirection::Recv);
  EXPECT_EQ(m.rids[0].parsed_params[0], (Param{"pt", "96"}));
  ASSERT_TRUE(m.simulcast);
  ASSERT_EQ(m.simulcast->recv.size(), 2u);
  EXPECT_EQ(m.simulcast->recv[0], (SimulcastStream{{"a", false}, {"b", true}}));
  EXPECT_EQ(m.simulcast->send, (std::vector<SimulcastStream>{{{"x", false}}}));

  auto legacy = parse_ok("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
                         "a=simulcast: send rid=h;m;l\r\n");
  ASSERT_TRUE(legacy.media[0].simulcast);
  EXPECT_EQ(legacy.media[0].simulcast->send.size(), 3u);
  EXPECT_EQ(legacy.media[0].simulcast->send[1][0].rid, "m");
}

TEST(SdpParser, AiortcOfferWithLfLines) {
  auto sd = parse_ok(sdp_samples::kAiortcOffer);
  EXPECT_EQ(sd.origin.session_id, 3905447291u);
  EXPECT_EQ(sd.msid_semantic, "WMS *");
  ASSERT_EQ(sd.media.size(), 2u);
  const auto& a = sd.media[0];
  EXPECT_EQ(a.port, 51233);
  EXPECT_EQ(a.connection->address, "10.0.3.15");
  EXPECT_EQ(a.transport.ice_ufrag, "Ht5q");
  EXPECT_EQ(a.transport.ice_pwd, "kP3nW8xV2bR6tY9uZ1aQ4s");
  EXPECT_EQ(a.transport.setup, SetupRole::ActPass);
  EXPECT_EQ(a.candidates.size(), 2u);
  EXPECT_NE(a.candidates[1].find("typ srflx raddr 10.0.3.15"), std::string::npos);
  EXPECT_TRUE(a.end_of_candidates);
  EXPECT_FALSE(a.rtcp_rsize);
  EXPECT_EQ(a.find_codec(96)->name, "opus");
  EXPECT_EQ(a.cname(1906447411u), "4a7b2c9d-3e1f-4a5b-8c6d-7e8f9a0b1c2d");
  // aiortc reuses extmap id 1 for mid in both sections and id 2/3 differently.
  EXPECT_EQ(a.extmap_id("urn:ietf:params:rtp-hdrext:sdes:mid"), 1);
  const auto& v = sd.media[1];
  EXPECT_EQ(v.extmap_id("urn:ietf:params:rtp-hdrext:sdes:mid"), 1);
  EXPECT_EQ(v.rtx_payload_type(97), 98);
  EXPECT_EQ(v.primary_ssrcs(), (std::vector<Ssrc>{2276304447u}));
  EXPECT_EQ(v.rtx_ssrc(2276304447u), 3527411930u);
  // Per-section credentials are what transport_for returns.
  auto t = sd.transport_for(v);
  EXPECT_EQ(t.ice_ufrag, "Ht5q");
  EXPECT_EQ(t.fingerprints.size(), 1u);
}

TEST(SdpParser, FirefoxOffer) {
  auto sd = parse_ok(sdp_samples::kFirefoxOffer);
  EXPECT_EQ(sd.origin.username, "mozilla...THIS_IS_SDPARTA-99.0");
  EXPECT_EQ(sd.origin.session_id, 3298413837282413383ull);
  EXPECT_EQ(sd.origin.session_version, 0u);
  EXPECT_TRUE(sd.extmap_allow_mixed);
  ASSERT_EQ(sd.transport.fingerprints.size(), 1u);
  EXPECT_EQ(sd.transport.fingerprints[0].algorithm, "sha-256");
  EXPECT_TRUE(sd.transport.has_ice_option("trickle"));
  EXPECT_EQ(sd.msid_semantic, "WMS *");
  ASSERT_EQ(sd.media.size(), 2u);

  const auto& a = sd.media[0];
  EXPECT_TRUE(a.transport.fingerprints.empty());
  auto t = sd.transport_for(a);
  ASSERT_EQ(t.fingerprints.size(), 1u);
  EXPECT_EQ(t.fingerprints[0].value, sd.transport.fingerprints[0].value);
  EXPECT_EQ(t.ice_ufrag, "9a8b7c6d");
  EXPECT_TRUE(t.has_ice_option("trickle"));
  EXPECT_EQ(t.setup, SetupRole::ActPass);

  EXPECT_EQ(a.direction, Direction::SendRecv);
  ASSERT_EQ(a.extmaps.size(), 3u);
  EXPECT_EQ(a.extmaps[1].direction, Direction::RecvOnly);
  EXPECT_EQ(a.extmaps[1].uri, "urn:ietf:params:rtp-hdrext:csrc-audio-level");
  // fmtp before rtpmap: the codec is the same object, in order of first mention.
  EXPECT_EQ(a.codecs[0].pt, 109);
  EXPECT_EQ(a.codecs[0].name, "opus");
  EXPECT_EQ(a.codecs[0].fmtp_param("stereo"), "1");
  EXPECT_EQ(a.find_codec(9)->channels, 1u);
  EXPECT_EQ(a.find_codec(101)->fmtp, "0-15");
  EXPECT_EQ(a.msids[0].stream_id, "{3c1e7b2a-5f4d-4a6e-9b8c-0d1e2f3a4b5c}");

  const auto& v = sd.media[1];
  EXPECT_EQ(v.rtx_payload_type(120), 124);
  EXPECT_EQ(v.rtx_payload_type(126), 127);
  EXPECT_EQ(v.find_codec(126)->fmtp_param("packetization-mode"), "1");
  EXPECT_EQ(v.find_codec(120)->name, "VP8");
  EXPECT_TRUE(v.find_codec(120)->has_feedback("transport-cc"));
  // ssrc-group after the ssrc lines still pairs them.
  EXPECT_EQ(v.primary_ssrcs(), (std::vector<Ssrc>{2861358162u}));
  EXPECT_EQ(v.rtx_ssrc(2861358162u), 3920741582u);
  EXPECT_EQ(v.find_extmap(6)->direction, Direction::RecvOnly);
}

TEST(SdpParser, DataChannelOffer) {
  auto sd = parse_ok(sdp_samples::kDataChannelOffer);
  ASSERT_EQ(sd.media.size(), 1u);
  const auto& d = sd.media[0];
  EXPECT_EQ(d.kind(), MediaKind::Application);
  EXPECT_EQ(d.protocol, "UDP/DTLS/SCTP");
  EXPECT_FALSE(d.is_rtp());
  EXPECT_EQ(d.formats, (std::vector<std::string>{"webrtc-datachannel"}));
  EXPECT_TRUE(d.payload_types().empty());
  EXPECT_EQ(d.sctp_port, 5000);
  EXPECT_EQ(d.max_message_size, 262144u);
  EXPECT_EQ(d.candidates.size(), 1u);
  EXPECT_TRUE(d.codecs.empty());
}

TEST(SdpParser, KeepsUnknownLinesAttributesAndKinds) {
  std::string sdp =
      "v=0\n"
      "o=- 7 1 IN IP4 0.0.0.0\n"
      "s=call\n"
      "i=a session\n"
      "b=CT:1000\n"
      "t=0 0\n"
      "a=x-custom:one\n"
      "a=x-flag\n"
      "a=x-custom:two\n"
      "m=text 0 RTP/AVP 98\n"
      "b=AS:32\n"
      "a=rtpmap:98 t140/1000\n"
      "a=x-google-flag:conference\n"
      "a=ptime:20\n"
      "m=message 7000 TCP/MSRP *\n"
      "a=accept-types:text/plain\n";
  auto sd = parse_ok(sdp);
  EXPECT_EQ(sd.session_name, "call");
  ASSERT_EQ(sd.other_lines.size(), 2u);
  EXPECT_EQ(sd.other_lines[0], (OtherLine{'i', "a session"}));
  EXPECT_EQ(sd.other_lines[1], (OtherLine{'b', "CT:1000"}));
  ASSERT_EQ(sd.other_attributes.size(), 3u);
  EXPECT_EQ(sd.other_attributes[0], (Attribute{"x-custom", std::string("one")}));
  EXPECT_EQ(sd.other_attributes[1], (Attribute{"x-flag", std::nullopt}));
  EXPECT_EQ(sd.other_attributes[2].value, "two");
  ASSERT_EQ(sd.media.size(), 2u);
  EXPECT_EQ(sd.media[0].kind(), MediaKind::Other);
  EXPECT_EQ(sd.media[0].media, "text");
  EXPECT_TRUE(sd.media[0].is_rejected());
  EXPECT_EQ(sd.media[0].other_lines[0], (OtherLine{'b', "AS:32"}));
  ASSERT_EQ(sd.media[0].other_attributes.size(), 2u);
  EXPECT_EQ(sd.media[0].find_attribute("ptime")->value, "20");
  EXPECT_EQ(sd.media[1].protocol, "TCP/MSRP");
  EXPECT_EQ(sd.media[1].formats, (std::vector<std::string>{"*"}));
  EXPECT_EQ(sd.media[1].other_attributes[0].name, "accept-types");
}

TEST(SdpParser, ToleratesTrailingWhitespaceBlankLinesAndMissingNameAndTiming) {
  auto sd = parse_ok("v=0  \r\no=- 1 2 IN IP4 127.0.0.1\t\r\n\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 \r\n"
                     "a=rtpmap:111 opus/48000/2   \r\na=mid:a \r\n\r\n");
  EXPECT_EQ(sd.session_name, "-");
  EXPECT_EQ(sd.timing, (Timing{0, 0}));
  EXPECT_EQ(sd.origin.address, "127.0.0.1");
  EXPECT_EQ(sd.media[0].formats, (std::vector<std::string>{"111"}));
  EXPECT_EQ(sd.media[0].find_codec(111)->channels, 2u);
  EXPECT_EQ(sd.media[0].mid, "a");
}

TEST(SdpParser, SessionLevelDirectionAppliesToSectionsWithoutOne) {
  auto sd = parse_ok("v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=recvonly\r\n"
                     "m=audio 9 RTP/AVP 0\r\nm=audio 9 RTP/AVP 0\r\na=inactive\r\n");
  EXPECT_EQ(sd.direction, Direction::RecvOnly);
  EXPECT_EQ(sd.media[0].direction, Direction::RecvOnly);
  EXPECT_EQ(sd.media[1].direction, Direction::Inactive);
}

TEST(SdpParser, WildcardFeedbackBundleOnlyExtmapAttributes) {
  auto sd = parse_ok("v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
                     "m=video 0 UDP/TLS/RTP/SAVPF 96\r\n"
                     "a=bundle-only\r\na=mid:v\r\n"
                     "a=extmap:4096/sendonly urn:example:ext  some attrs\r\n"
                     "a=rtcp-fb:* nack\r\na=rtcp-fb:* ccm fir\r\na=rtcp-fb:96 nack pli\r\n"
                     "a=rtpmap:96 VP8/90000\r\n");
  const auto& m = sd.media[0];
  EXPECT_TRUE(m.is_bundle_only());
  EXPECT_FALSE(m.is_rejected());
  ASSERT_EQ(m.wildcard_feedback.size(), 2u);
  EXPECT_EQ(m.wildcard_feedback[1], (RtcpFeedback{"ccm", "fir"}));
  ASSERT_EQ(m.codecs.size(), 1u);
  EXPECT_EQ(m.codecs[0].name, "VP8");
  EXPECT_EQ(m.codecs[0].feedback.size(), 1u);
  ASSERT_EQ(m.extmaps.size(), 1u);
  EXPECT_EQ(m.extmaps[0].id, 4096);
  EXPECT_EQ(m.extmaps[0].direction, Direction::SendOnly);
  EXPECT_EQ(m.extmaps[0].attributes, "some attrs");
}

TEST(SdpParser, IceLiteAndSessionTransport) {
  auto sd = parse_ok("v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n"
                     "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijkl\r\na=setup:passive\r\n"
                     "a=fingerprint:sha-256 00:11:22:33\r\na=fingerprint:sha-1 AA:BB\r\n"
                     "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=setup:active\r\n");
  EXPECT_TRUE(sd.ice_lite);
  EXPECT_EQ(sd.transport.ice_ufrag, "abcd");
  EXPECT_EQ(sd.transport.setup, SetupRole::Passive);
  EXPECT_EQ(sd.transport.fingerprints.size(), 2u);
  auto t = sd.transport_for(sd.media[0]);
  EXPECT_EQ(t.setup, SetupRole::Active);
  EXPECT_EQ(t.ice_pwd, "0123456789abcdefghijkl");
}

TEST(SdpParser, SimulcastSsrcGroupsPairPrimaryAndRtx) {
  auto sd = parse_ok("v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n"
                     "a=ssrc-group:SIM 11 22 33\r\na=ssrc-group:FID 11 44\r\n"
                     "a=ssrc-group:FID 22 55\r\na=ssrc-group:FID 33 66\r\n"
                     "a=ssrc:44 cname:c\r\na=ssrc:11 cname:c\r\na=ssrc:77 cname:c\r\n");
  const auto& m = sd.media[0];
  EXPECT_EQ(m.primary_ssrcs(), (std::vector<Ssrc>{11, 22, 33, 77}));
  EXPECT_EQ(m.rtx_ssrc(22), 55u);
  EXPECT_FALSE(m.rtx_ssrc(55));
  ASSERT_NE(m.find_ssrc_group("SIM"), nullptr);
  EXPECT_EQ(m.find_ssrc_group("SIM")->ssrcs.size(), 3u);
  EXPECT_EQ(m.find_ssrc_group("FEC-FR"), nullptr);
}

TEST(SdpParser, EmptyFmtpDoesNotInventACodecAndUnmodelledLinesKeepRfcOrder) {
  auto sd = parse_ok("v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\nt=0 0\r\nb=AS:1\r\ni=info\r\n"
                     "m=audio 9 RTP/AVP 0 8\r\nb=AS:64\r\ni=mic\r\n"
                     "a=fmtp:8\r\na=rtpmap:0 PCMU/8000\r\na=fmtp:0 \r\n");
  // Kept in the order the writer puts them back: i= before b=.
  ASSERT_EQ(sd.other_lines.size(), 2u);
  EXPECT_EQ(sd.other_lines[0].type, 'i');
  EXPECT_EQ(sd.other_lines[1].type, 'b');
  ASSERT_EQ(sd.media[0].other_lines.size(), 2u);
  EXPECT_EQ(sd.media[0].other_lines[0], (OtherLine{'i', "mic"}));
  ASSERT_EQ(sd.media[0].codecs.size(), 1u);
  EXPECT_EQ(sd.media[0].codecs[0].pt, 0);
  EXPECT_EQ(sd.media[0].codecs[0].fmtp, "");
}

TEST(Codec, SetFmtpKeepsRawAndParsedInStep) {
  Codec c;
  c.set_fmtp({{"level-asymmetry-allowed", "1"}, {"packetization-mode", "1"}, {"profile-level-id", "42e01f"}});
  EXPECT_EQ(c.fmtp, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
  EXPECT_EQ(c.fmtp_param("profile-level-id"), "42e01f");
  EXPECT_EQ(parse_param_list(" a = 1 ;; b ;c=2"), (std::vector<Param>{{"a", "1"}, {"b", ""}, {"c", "2"}}));
  c.set_fmtp({{"apt", "300"}});
  EXPECT_FALSE(c.apt());
  c.set_fmtp({{"apt", "96"}});
  EXPECT_EQ(c.apt(), 96);
}
