#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sdp/SdpSamples.hpp"
#include "sdp/SessionDescription.hpp"

using namespace sb::sdp;

namespace {

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t e = s.find("\r\n", pos);
    if (e == std::string::npos) {
      out.push_back(s.substr(pos));
      break;
    }
    out.push_back(s.substr(pos, e - pos));
    pos = e + 2;
  }
  return out;
}

size_t index_of(const std::vector<std::string>& lines, std::string_view prefix, size_t from = 0) {
  for (size_t i = from; i < lines.size(); ++i)
    if (lines[i].rfind(prefix, 0) == 0) return i;
  return std::string::npos;
}

}  // namespace

class SdpRoundTrip : public ::testing::TestWithParam<const char*> {};

TEST_P(SdpRoundTrip, ParseWriteParseIsEqual) {
  auto first = SessionDescription::parse(GetParam());
  ASSERT_TRUE(first.ok()) << first.error();
  std::string written = first->to_string();
  auto second = SessionDescription::parse(written);
  ASSERT_TRUE(second.ok()) << second.error() << "\n" << written;
  EXPECT_EQ(*first, *second) << written;
  // Writing is stable: the second write is byte for byte the first.
  EXPECT_EQ(second->to_string(), written);
}

INSTANTIATE_TEST_SUITE_P(Offers, SdpRoundTrip,
                         ::testing::Values(sdp_samples::kChromiumOffer, sdp_samples::kChromiumSimulcastOffer,
                                           sdp_samples::kAiortcOffer, sdp_samples::kFirefoxOffer,
                                           sdp_samples::kDataChannelOffer,
                                           "v=0\no=- 1 2 IN IP4 0.0.0.0\ni=info\nb=AS:1\nt=0 0\nr=7d 1h\n"
                                           "a=sendonly\na=x:1\na=y\nm=text 0/2 RTP/AVP 98\nb=AS:3\ni=t\n"
                                           "a=rtcp-fb:* nack\na=rtcp-fb:98 x\na=fmtp:98 a=b\na=bundle-only\n"
                                           "a=extmap:3/recvonly urn:x a b\na=simulcast:recv a,~b;c send d\n"
                                           "a=ssrc:5 cname\na=rtcp:9\na=msid:s\nm=x 1 y z\n",
                                           // Unmodelled lines out of RFC order, an empty fmtp.
                                           "v=0\no=- 1 2 IN IP4 0.0.0.0\nz=0 -1h\nb=AS:1\nu=http://x\n"
                                           "c=IN IP4 0.0.0.0\nt=1 2\nt=3 4\ni=late\nm=audio 0 RTP/AVP 0 8\n"
                                           "k=clear:x\ni=m\na=fmtp:8\na=fmtp:0 \nc=IN IP6 ::\n"));

TEST(SdpWriter, ChromiumOfferWritesCrlfInBrowserOrder) {
  auto sd = SessionDescription::parse(sdp_samples::kChromiumOffer);
  ASSERT_TRUE(sd.ok());
  std::string out = sd->to_string();
  EXPECT_EQ(out.find('\n'), out.find("\r\n") + 1);
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '\n') {
      ASSERT_EQ(out[i - 1], '\r') << "bare LF at " << i;
    }
  }
  ASSERT_EQ(out.substr(out.size() - 2), "\r\n");

  auto l = lines_of(out);
  EXPECT_EQ(l[0], "v=0");
  EXPECT_EQ(l[1], "o=- 4611731400430051336 2 IN IP4 127.0.0.1");
  EXPECT_EQ(l[2], "s=-");
  EXPECT_EQ(l[3], "t=0 0");
  EXPECT_EQ(l[4], "a=group:BUNDLE 0 1");
  EXPECT_EQ(l[5], "a=extmap-allow-mixed");
  EXPECT_EQ(l[6], "a=msid-semantic: WMS 9f4b3c1e-5c2a-4d8e-a0f3-6b1d2e7c8a90");

  size_t video = index_of(l, "m=video");
  ASSERT_NE(video, std::string::npos);
  EXPECT_EQ(l[video], "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 100 101 102 103 45 46");
  EXPECT_EQ(l[video + 1], "c=IN IP4 0.0.0.0");
  // The usual browser order of a=lines inside an m-section.
  const char* order[] = {"a=rtcp:",      "a=ice-ufrag:", "a=ice-pwd:", "a=ice-options:", "a=fingerprint:",
                         "a=setup:",     "a=mid:",       "a=extmap:",  "a=sendrecv",     "a=msid:",
                         "a=rtcp-mux",   "a=rtcp-rsize", "a=rtpmap:96 VP8/90000", "a=rtcp-fb:96 goog-remb",
                         "a=rtpmap:97 rtx/90000", "a=fmtp:97 apt=96", "a=ssrc-group:FID 2415613296 1148794435",
                         "a=ssrc:2415613296 cname:uXq2nV7tY4bZ0aLs"};
  size_t at = video;
  for (const char* p : order) {
    size_t next = index_of(l, p, at);
    ASSERT_NE(next, std::string::npos) << p;
    at = next;
  }
  size_t audio = index_of(l, "m=audio");
  size_t cand = index_of(l, "a=candidate:", audio);
  EXPECT_LT(index_of(l, "a=ssrc:", audio), cand);
  EXPECT_LT(cand, video);
}

TEST(SdpWriter, SimulcastAndDataChannelLines) {
  auto sim = SessionDescription::parse(sdp_samples::kChromiumSimulcastOffer);
  ASSERT_TRUE(sim.ok());
  std::string out = sim->to_string();
  EXPECT_NE(out.find("a=rid:f send max-width=1280;max-height=720\r\na=simulcast:send q;h;~f\r\n"), std::string::npos);
  EXPECT_NE(out.find("a=sendonly\r\na=msid:- 5a1d3c7e-2b4f-4e6a-8c0d-9e1f2a3b4c5d\r\n"), std::string::npos);

  auto dc = SessionDescription::parse(sdp_samples::kDataChannelOffer);
  ASSERT_TRUE(dc.ok());
  out = dc->to_string();
  EXPECT_NE(out.find("m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"), std::string::npos);
  EXPECT_NE(out.find("a=sctp-port:5000\r\na=max-message-size:262144\r\n"), std::string::npos);
}

TEST(SdpWriter, BuildsAnAnswerFromScratch) {
  SessionDescription sd;
  sd.origin.session_id = 42;
  sd.origin.session_version = 1;
  sd.ice_lite = true;
  sd.groups.push_back(Group{"BUNDLE", {"0"}});
  sd.msid_semantic = "WMS *";
  MediaSection m;
  m.media = "video";
  m.protocol = "UDP/TLS/RTP/SAVPF";
  m.formats = {"96", "97"};
  m.connection = Connection{};
  m.mid = "0";
  m.transport.ice_ufrag = "sbuf";
  m.transport.ice_pwd = "0123456789abcdefghijkl";
  m.transport.fingerprints.push_back({"sha-256", "AB:CD"});
  m.transport.setup = SetupRole::Passive;
  m.direction = answer_direction(Direction::SendOnly, true, true);
  m.rtcp_mux = true;
  m.rtcp_rsize = true;
  Codec vp8;
  vp8.pt = 96;
  vp8.name = "VP8";
  vp8.clock_rate = 90000;
  vp8.feedback = {{"nack", ""}, {"nack", "pli"}};
  Codec rtx;
  rtx.pt = 97;
  rtx.name = "rtx";
  rtx.clock_rate = 90000;
  rtx.set_fmtp({{"apt", "96"}});
  m.codecs = {vp8, rtx};
  m.candidates.push_back("candidate:1 1 udp 2130706431 192.0.2.1 40000 typ host");
  m.end_of_candidates = true;
  sd.media.push_back(m);

  std::string out = sd.to_string();
  EXPECT_EQ(out,
            "v=0\r\n"
            "o=- 42 1 IN IP4 127.0.0.1\r\n"
            "s=-\r\n"
            "t=0 0\r\n"
            "a=group:BUNDLE 0\r\n"
            "a=msid-semantic: WMS *\r\n"
            "a=ice-lite\r\n"
            "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n"
            "c=IN IP4 0.0.0.0\r\n"
            "a=ice-ufrag:sbuf\r\n"
            "a=ice-pwd:0123456789abcdefghijkl\r\n"
            "a=fingerprint:sha-256 AB:CD\r\n"
            "a=setup:passive\r\n"
            "a=mid:0\r\n"
            "a=recvonly\r\n"
            "a=rtcp-mux\r\n"
            "a=rtcp-rsize\r\n"
            "a=rtpmap:96 VP8/90000\r\n"
            "a=rtcp-fb:96 nack\r\n"
            "a=rtcp-fb:96 nack pli\r\n"
            "a=rtpmap:97 rtx/90000\r\n"
            "a=fmtp:97 apt=96\r\n"
            "a=candidate:1 1 udp 2130706431 192.0.2.1 40000 typ host\r\n"
            "a=end-of-candidates\r\n");
  auto back = SessionDescription::parse(out);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(*back, sd);
}

TEST(Direction, Helpers) {
  EXPECT_EQ(reversed(Direction::SendOnly), Direction::RecvOnly);
  EXPECT_EQ(reversed(Direction::RecvOnly), Direction::SendOnly);
  EXPECT_EQ(reversed(Direction::SendRecv), Direction::SendRecv);
  EXPECT_EQ(reversed(Direction::Inactive), Direction::Inactive);
  EXPECT_EQ(answer_direction(Direction::SendRecv, true, true), Direction::SendRecv);
  EXPECT_EQ(answer_direction(Direction::SendRecv, false, true), Direction::RecvOnly);
  EXPECT_EQ(answer_direction(Direction::SendOnly, true, true), Direction::RecvOnly);
  EXPECT_EQ(answer_direction(Direction::RecvOnly, true, true), Direction::SendOnly);
  EXPECT_EQ(answer_direction(Direction::RecvOnly, false, true), Direction::Inactive);
  EXPECT_EQ(answer_direction(Direction::Inactive, true, true), Direction::Inactive);
  EXPECT_TRUE(sends(Direction::SendOnly));
  EXPECT_FALSE(receives(Direction::SendOnly));
  EXPECT_EQ(parse_direction("recvonly"), Direction::RecvOnly);
  EXPECT_FALSE(parse_direction("sendrcv"));
  EXPECT_EQ(to_string(Direction::Inactive), "inactive");
  EXPECT_EQ(parse_setup_role("holdconn"), SetupRole::HoldConn);
  EXPECT_EQ(to_string(SetupRole::ActPass), "actpass");
}
