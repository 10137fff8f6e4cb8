// Server-initiated renegotiation: the server offers the tracks it forwards and
// applies the answers a browser gives. The answers below are written the way
// Chromium writes them: same mids in the same order, recvonly for what we send,
// a=setup:active, its own ICE credentials and certificate unchanged.
#include <gtest/gtest.h>

#include <set>

#include "rtc/Capabilities.hpp"
#include "rtc/Negotiator.hpp"
#include "sdp/SdpSamples.hpp"

using namespace sb;
using namespace sb::rtc;

namespace {

constexpr std::string_view kClientUfrag = "Xk3f";
constexpr std::string_view kClientPwd = "yF8Ah2mK1mOq9TZb3vL0jQ7c";
constexpr std::string_view kClientFingerprint =
    "sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08";
constexpr std::string_view kClientStream = "9f4b3c1e-5c2a-4d8e-a0f3-6b1d2e7c8a90";

std::string crlf(std::string_view lf_text) {
  std::string out;
  for (char c : lf_text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
  return s;
}

// What the client of kChromiumOffer sends on its own transceivers (mid 0 and 1),
// and on a screen-share transceiver it may add as mid 2.
std::string client_send_attrs(const std::string& mid) {
  std::string stream(kClientStream);
  if (mid == "0")
    return "a=msid:" + stream + " 2d6a7e1b-0c3f-4a5e-8b9d-1c2e3f4a5b6d\r\n"
           "a=ssrc:3735928559 cname:uXq2nV7tY4bZ0aLs\r\n"
           "a=ssrc:3735928559 msid:" + stream + " 2d6a7e1b-0c3f-4a5e-8b9d-1c2e3f4a5b6d\r\n";
  if (mid == "1")
    return "a=msid:" + stream + " 7e8f9a0b-1c2d-4e3f-9a5b-6c7d8e9f0a1b\r\n"
           "a=ssrc-group:FID 2415613296 1148794435\r\n"
           "a=ssrc:2415613296 cname:uXq2nV7tY4bZ0aLs\r\n"
           "a=ssrc:1148794435 cname:uXq2nV7tY4bZ0aLs\r\n";
  if (mid == "2")
    return "a=msid:" + stream + " 0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f\r\n"
           "a=ssrc-group:FID 3001 3002\r\n"
           "a=ssrc:3001 cname:uXq2nV7tY4bZ0aLs\r\n"
           "a=ssrc:3002 cname:uXq2nV7tY4bZ0aLs\r\n";
  return {};
}

struct SectionStyle {
  std::string port = "9";
  std::string setup = "active";
  std::string ufrag = std::string(kClientUfrag);
  sdp::Direction direction = sdp::Direction::RecvOnly;
};

// One m-section in Chromium's attribute order.
void append_section(std::string& s, const sdp::MediaSection& m, const SectionStyle& st) {
  std::string fmts;
  for (const auto& f : m.formats) fmts += " " + f;
  s += "m=" + m.media + " " + st.port + " " + m.protocol + fmts + "\r\n";
  s += "c=IN IP4 0.0.0.0\r\n";
  if (st.port == "0") {
    s += "a=mid:" + m.mid + "\r\na=inactive\r\n";
    return;
  }
  s += "a=rtcp:9 IN IP4 0.0.0.0\r\n";
  s += "a=ice-ufrag:" + st.ufrag + "\r\na=ice-pwd:" + std::string(kClientPwd) + "\r\na=ice-options:trickle\r\n";
  s += "a=fingerprint:" + std::string(kClientFingerprint) + "\r\n";
  s += "a=setup:" + st.setup + "\r\n";
  s += "a=mid:" + m.mid + "\r\n";
  for (const auto& e : m.extmaps) s += "a=extmap:" + std::to_string(e.id) + " " + e.uri + "\r\n";
  s += "a=" + std::string(sdp::to_string(st.direction)) + "\r\n";
  bool sends = sdp::sends(st.direction) && !client_send_attrs(m.mid).empty();
  std::string send_attrs = sends ? client_send_attrs(m.mid) : "";
  if (sends) s += send_attrs.substr(0, send_attrs.find("\r\n") + 2);  // a=msid
  s += "a=rtcp-mux\r\na=rtcp-rsize\r\n";
  for (const auto& c : m.codecs) {
    std::string pt = std::to_string(c.pt);
    s += "a=rtpmap:" + pt + " " + c.name + "/" + std::to_string(c.clock_rate) +
         (c.channels ? "/" + std::to_string(c.channels) : "") + "\r\n";
    for (const auto& f : c.feedback) s += "a=rtcp-fb:" + pt + " " + f.type + (f.parameter.empty() ? "" : " " + f.parameter) + "\r\n";
    if (!c.fmtp.empty()) s += "a=fmtp:" + pt + " " + c.fmtp + "\r\n";
  }
  if (sends) s += send_attrs.substr(send_attrs.find("\r\n") + 2);  // ssrc lines
}

struct AnswerEdits {
  std::set<std::string> reject;  ///< mids Chromium answers with port 0
  std::string setup = "active";
  std::string ufrag = std::string(kClientUfrag);
};

// Chromium's answer to one of our offers.
std::string chromium_answer(const std::string& offer_text, const AnswerEdits& e = {}) {
  auto parsed = sdp::SessionDescription::parse(offer_text);
  EXPECT_TRUE(parsed) << parsed.error();
  const auto& offer = parsed.value();
  std::string s = "v=0\r\no=- 4611731400430051336 3 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE";
  for (const auto& m : offer.media)
    if (!m.is_rejected() && !e.reject.contains(m.mid)) s += " " + m.mid;
  s += "\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS " + std::string(kClientStream) + "\r\n";
  for (const auto& m : offer.media) {
    SectionStyle st;
    st.setup = e.setup;
    st.ufrag = e.ufrag;
    if (m.is_rejected() || e.reject.contains(m.mid)) st.port = "0";
    // The client sends on its own transceivers; it only receives on ours.
    bool client_has_track = !client_send_attrs(m.mid).empty();
    st.direction = sdp::make_direction(sdp::receives(m.direction) && client_has_track, sdp::sends(m.direction));
    append_section(s, m, st);
  }
  return s;
}

struct ReofferEdits {
  std::set<std::string> stop;  ///< transceivers the client stopped (port 0)
  bool screen_share = false;   ///< adds a sendrecv video transceiver, mid 2
};

// Chromium's re-offer after it applied our description `ours` (an offer or an
// answer we sent): every m-section again, its full codec list per kind, its own
// transceivers sendrecv, ours recvonly (their direction in the browser).
std::string chromium_reoffer(const std::string& ours, const ReofferEdits& e = {}) {
  auto client = sdp::SessionDescription::parse(sdp_samples::kChromiumOffer).value();
  auto server = sdp::SessionDescription::parse(ours).value();
  std::vector<sdp::MediaSection> sections;
  for (const auto& m : server.media) {
    sdp::MediaSection c = client.media[m.media == "audio" ? 0 : 1];
    c.mid = m.mid;
    c.formats = m.is_rejected() ? m.formats : c.formats;
    sections.push_back(std::move(c));
  }
  if (e.screen_share) {
    sdp::MediaSection c = client.media[1];
    c.mid = "2";
    sections.push_back(std::move(c));
  }
  std::string s = "v=0\r\no=- 4611731400430051336 4 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE";
  for (size_t i = 0; i < sections.size(); ++i) {
    bool rejected = (i < server.media.size() && server.media[i].is_rejected()) || e.stop.contains(sections[i].mid);
    if (!rejected) s += " " + sections[i].mid;
  }
  s += "\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS " + std::string(kClientStream) + "\r\n";
  for (size_t i = 0; i < sections.size(); ++i) {
    SectionStyle st;
    st.setup = "actpass";
    bool rejected = (i < server.media.size() && server.media[i].is_rejected()) || e.stop.contains(sections[i].mid);
    if (rejected) st.port = "0";
    st.direction = client_send_attrs(sections[i].mid).empty() ? sdp::Direction::RecvOnly : sdp::Direction::SendRecv;
    append_section(s, sections[i], st);
  }
  return s;
}

// Chromium's answer to the first offer of OfferTest::add_two_tracks(), written
// out in full.
constexpr std::string_view kAnswerToTwoTracks = R"(v=0
o=- 4611731400430051336 3 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1 s0 s1
a=extmap-allow-mixed
a=msid-semantic: WMS 9f4b3c1e-5c2a-4d8e-a0f3-6b1d2e7c8a90
m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:Xk3f
a=ice-pwd:yF8Ah2mK1mOq9TZb3vL0jQ7c
a=ice-options:trickle
a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08
a=setup:active
a=mid:0
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=sendonly
a=msid:9f4b3c1e-5c2a-4d8e-a0f3-6b1d2e7c8a90 2d6a7e1b-0c3f-4a5e-8b9d-1c2e3f4a5b6d
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=rtcp-fb:111 transport-cc
a=fmtp:111 minptime=10;useinbandfec=1
a=ssrc:3735928559 cname:uXq2nV7tY4bZ0aLs
a=ssrc:3735928559 msid:9f4b3c1e-5c2a-4d8e-a0f3-6b1d2e7c8a90 2d6a7e1b-0c3f-4a5e-8b9d-1c2e3f4a5b6d
m=video 9 UDP/TLS/RTP/SAVPF 96 98 100 102 45 97 99 101 103 46
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:Xk3f
a=ice-pwd:yF8Ah2mK1mOq9TZb3vL0jQ7c
a=ice-options:trickle
a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08
a=setup:active
a=mid:1
a=extmap:14 urn:ietf:params:rtp-hdrext:toffset
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:13 urn:3gpp:video-orientation
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=sendonly
a=msid:9f4b3c1e-5c2a-4d8e-a0f3-6b1d2e7c8a90 7e8f9a0b-1c2d-4e3f-9a5b-6c7d8e9f0a1b
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 goog-remb
a=rtcp-fb:96 transport-cc
a=rtcp-fb:96 ccm fir
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtpmap:98 VP9/90000
a=rtcp-fb:98 goog-remb
a=rtcp-fb:98 transport-cc
a=rtcp-fb:98 ccm fir
a=rtcp-fb:98 nack
a=rtcp-fb:98 nack pli
a=fmtp:98 profile-id=0
a=rtpmap:100 H264/90000
a=rtcp-fb:100 goog-remb
a=rtcp-fb:100 transport-cc
a=rtcp-fb:100 ccm fir
a=rtcp-fb:100 nack
a=rtcp-fb:100 nack pli
a=fmtp:100 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
a=rtpmap:102 H264/90000
a=rtcp-fb:102 goog-remb
a=rtcp-fb:102 transport-cc
a=rtcp-fb:102 ccm fir
a=rtcp-fb:102 nack
a=rtcp-fb:102 nack pli
a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f
a=rtpmap:45 AV1/90000
a=rtcp-fb:45 goog-remb
a=rtcp-fb:45 transport-cc
a=rtcp-fb:45 ccm fir
a=rtcp-fb:45 nack
a=rtcp-fb:45 nack pli
a=fmtp:45 level-idx=5;profile=0;tier=0
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
a=rtpmap:99 rtx/90000
a=fmtp:99 apt=98
a=rtpmap:101 rtx/90000
a=fmtp:101 apt=100
a=rtpmap:103 rtx/90000
a=fmtp:103 apt=102
a=rtpmap:46 rtx/90000
a=fmtp:46 apt=45
a=ssrc-group:FID 2415613296 1148794435
a=ssrc:2415613296 cname:uXq2nV7tY4bZ0aLs
a=ssrc:1148794435 cname:uXq2nV7tY4bZ0aLs
m=video 9 UDP/TLS/RTP/SAVPF 96 97
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:Xk3f
a=ice-pwd:yF8Ah2mK1mOq9TZb3vL0jQ7c
a=ice-options:trickle
a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08
a=setup:active
a=mid:s0
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=recvonly
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 goog-remb
a=rtcp-fb:96 transport-cc
a=rtcp-fb:96 ccm fir
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:Xk3f
a=ice-pwd:yF8Ah2mK1mOq9TZb3vL0jQ7c
a=ice-options:trickle
a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08
a=setup:active
a=mid:s1
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=recvonly
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=rtcp-fb:111 transport-cc
a=fmtp:111 minptime=10;useinbandfec=1
)";

sdp::Codec codec(sdp::PayloadType pt, std::string name, uint32_t clock, uint32_t channels, std::vector<sdp::Param> fmtp = {}) {
  sdp::Codec c;
  c.pt = pt;
  c.name = std::move(name);
  c.clock_rate = clock;
  c.channels = channels;
  c.set_fmtp(std::move(fmtp));
  return c;
}

// A Firefox publisher's VP8 and Opus (its payload types differ from Chromium's).
const sdp::Codec kPublisherVp8 = codec(120, "VP8", 90000, 0, {{"max-fs", "12288"}, {"max-fr", "60"}});
const sdp::Codec kPublisherOpus = codec(109, "opus", 48000, 2, {{"minptime", "10"}, {"useinbandfec", "1"}});
const sdp::Codec kPublisherH264High = codec(126, "H264", 90000, 0,
                                            {{"profile-level-id", "640c1f"}, {"packetization-mode", "1"}});

SendTrackSpec video_spec(std::string publisher, uint32_t ssrc, sdp::Codec c = kPublisherVp8) {
  SendTrackSpec s;
  s.kind = sdp::MediaKind::Video;
  s.codecs = {std::move(c)};
  s.rtx = true;
  s.extensions = {std::string(ext::kMid), std::string(ext::kAbsSendTime), std::string(ext::kTransportCc)};
  s.stream_id = publisher;
  s.track_id = publisher + "-cam";
  s.cname = publisher + "-cname";
  s.ssrc = ssrc;
  s.rtx_ssrc = ssrc + 1;
  return s;
}

SendTrackSpec audio_spec(std::string publisher, uint32_t ssrc) {
  SendTrackSpec s;
  s.kind = sdp::MediaKind::Audio;
  s.codecs = {kPublisherOpus};
  s.extensions = {std::string(ext::kAudioLevel), std::string(ext::kMid), std::string(ext::kTransportCc)};
  s.stream_id = publisher;
  s.track_id = publisher + "-mic";
  s.cname = publisher + "-cname";
  s.ssrc = ssrc;
  return s;
}

struct OfferTest : ::testing::Test {
  std::unique_ptr<util::Random> rng = util::make_seeded_random(11);
  LocalTransportInfo local{
      "srvU", "serverpasswordserverpass",
      "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99",
      {"candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host generation 0"},
      *util::SocketAddr::parse("127.0.0.1:40000")};
  Negotiator neg{local, *rng};

  std::string initial_answer;  ///< our answer to the client's first offer

  void SetUp() override {
    auto a = neg.handle_offer(sdp_samples::kChromiumOffer);
    ASSERT_TRUE(a) << a.error();
    initial_answer = a.value();
  }
  std::string add(const SendTrackSpec& s) {
    auto mid = neg.add_send_track(s);
    EXPECT_TRUE(mid) << mid.error();
    return mid ? mid.value() : std::string();
  }
  std::string offer() {
    auto o = neg.create_offer();
    EXPECT_TRUE(o) << o.error();
    return o ? o.value() : std::string();
  }
  static sdp::SessionDescription parse(const std::string& text) {
    auto p = sdp::SessionDescription::parse(text);
    EXPECT_TRUE(p) << p.error() << "\n" << text;
    return p ? p.value() : sdp::SessionDescription{};
  }
  void answer(const std::string& text) {
    auto r = neg.handle_answer(text);
    ASSERT_TRUE(r) << r.error() << "\n" << text;
    EXPECT_EQ(neg.signaling_state(), SignalingState::kStable);
  }
  // One full round: offer, Chromium's answer, applied.
  sdp::SessionDescription round(const AnswerEdits& e = {}) {
    std::string o = offer();
    answer(chromium_answer(o, e));
    return parse(o);
  }
  // Client offered audio+video; server adds a video (s0) and an audio (s1) track.
  void add_two_tracks() {
    ASSERT_EQ(add(video_spec("pubB", 1111)), "s0");
    ASSERT_EQ(add(audio_spec("pubB", 3333)), "s1");
  }
};

std::string without_origin(std::string s) {
  auto pos = s.find("\r\no=");
  if (pos != std::string::npos) s.erase(pos, s.find("\r\n", pos + 2) - pos);
  return s;
}

std::vector<int> payload_types(const sdp::MediaSection& m) {
  std::vector<int> v;
  for (auto pt : m.payload_types()) v.push_back(pt);
  return v;
}

}  // namespace

TEST_F(OfferTest, AddsTracksWithTheClientsPayloadTypesAndExtensionIds) {
  EXPECT_FALSE(neg.needs_offer());
  add_two_tracks();
  EXPECT_TRUE(neg.needs_offer());
  EXPECT_EQ(neg.find_line("s0"), nullptr);  // nothing is negotiated before the answer

  auto o = parse(offer());
  EXPECT_EQ(neg.signaling_state(), SignalingState::kHaveLocalOffer);
  EXPECT_FALSE(neg.needs_offer());
  EXPECT_TRUE(o.ice_lite);
  ASSERT_NE(o.bundle_group(), nullptr);
  EXPECT_EQ(o.bundle_group()->mids, (std::vector<std::string>{"0", "1", "s0", "s1"}));
  ASSERT_EQ(o.media.size(), 4u);
  for (const auto& m : o.media) {
    auto t = o.transport_for(m);
    EXPECT_EQ(t.setup, sdp::SetupRole::ActPass) << m.mid;
    EXPECT_EQ(t.ice_ufrag, "srvU");
    EXPECT_EQ(t.ice_pwd, "serverpasswordserverpass");
    ASSERT_EQ(t.fingerprints.size(), 1u);
    EXPECT_EQ(t.fingerprints[0].value, local.fingerprint_sha256);
    EXPECT_EQ(m.candidates, local.candidates);
    EXPECT_TRUE(m.rtcp_mux);
  }
  // The client's own lines as negotiated: we receive.
  EXPECT_EQ(o.media[0].direction, sdp::Direction::RecvOnly);
  EXPECT_EQ(payload_types(o.media[0]), std::vector<int>{111});
  EXPECT_EQ(o.media[1].direction, sdp::Direction::RecvOnly);
  EXPECT_EQ(payload_types(o.media[1]), (std::vector<int>{96, 98, 100, 102, 45, 97, 99, 101, 103, 46}));
  EXPECT_TRUE(o.media[1].msids.empty());

  // s0: the publisher's VP8 (its PT 120) under the client's VP8 number, RTX too.
  const auto& v = o.media[2];
  EXPECT_EQ(v.media, "video");
  EXPECT_EQ(v.direction, sdp::Direction::SendOnly);
  EXPECT_EQ(payload_types(v), (std::vector<int>{96, 97}));
  ASSERT_NE(v.find_codec(96), nullptr);
  EXPECT_TRUE(v.find_codec(96)->is("VP8"));
  EXPECT_EQ(v.rtx_payload_type(96), 97);
  EXPECT_TRUE(v.find_codec(96)->has_feedback("nack", "pli"));
  EXPECT_TRUE(v.find_codec(96)->has_feedback("transport-cc"));
  EXPECT_EQ(v.extmap_id(ext::kMid), 4);
  EXPECT_EQ(v.extmap_id(ext::kAbsSendTime), 2);
  EXPECT_EQ(v.extmap_id(ext::kTransportCc), 3);
  ASSERT_EQ(v.msids.size(), 1u);
  EXPECT_EQ(v.msids[0], (sdp::Msid{"pubB", "pubB-cam"}));
  EXPECT_EQ(v.primary_ssrcs(), std::vector<uint32_t>{1111});
  EXPECT_EQ(v.rtx_ssrc(1111), 1112u);
  EXPECT_EQ(v.cname(1111), "pubB-cname");
  ASSERT_NE(v.find_ssrc_group("FID"), nullptr);

  // s1: Opus under 111; audio-level keeps the client's id 1.
  const auto& a = o.media[3];
  EXPECT_EQ(a.media, "audio");
  EXPECT_EQ(a.direction, sdp::Direction::SendOnly);
  EXPECT_EQ(payload_types(a), std::vector<int>{111});
  EXPECT_EQ(a.find_codec(111)->channels, 2u);
  EXPECT_EQ(a.extmap_id(ext::kAudioLevel), 1);
  EXPECT_EQ(a.extmap_id(ext::kMid), 4);
  EXPECT_EQ(a.msids[0], (sdp::Msid{"pubB", "pubB-mic"}));
  EXPECT_EQ(a.find_ssrc_group("FID"), nullptr);

  answer(crlf(kAnswerToTwoTracks));
  EXPECT_FALSE(neg.needs_offer());
  const MediaLine* vl = neg.find_line("s0");
  ASSERT_NE(vl, nullptr);
  EXPECT_TRUE(vl->sending());
  EXPECT_EQ(vl->origin, LineOrigin::kLocal);
  EXPECT_EQ(vl->direction, sdp::Direction::SendOnly);
  EXPECT_TRUE(vl->rejection.empty());
  EXPECT_EQ(vl->payload_type_for(kPublisherVp8), 96);
  EXPECT_EQ(vl->rtx_payload_type_for(kPublisherVp8), 97);
  EXPECT_FALSE(vl->payload_type_for(kPublisherH264High));
  EXPECT_EQ(vl->extmap_id(ext::kTransportCc), 3);
  const MediaLine* al = neg.find_line("s1");
  ASSERT_NE(al, nullptr);
  EXPECT_TRUE(al->sending());
  EXPECT_EQ(al->payload_type_for(kPublisherOpus), 111);
  EXPECT_FALSE(al->rtx_payload_type_for(kPublisherOpus));
  // The client's lines still tell where its media arrives.
  EXPECT_EQ(neg.line_for_remote_ssrc(2415613296u), neg.find_line("1"));
  EXPECT_EQ(neg.line_for_remote_ssrc(1148794435u), neg.find_line("1"));
  EXPECT_EQ(neg.line_for_remote_ssrc(3735928559u), neg.find_line("0"));
  EXPECT_EQ(neg.line_for_remote_ssrc(1111), nullptr);
  EXPECT_EQ(neg.remote_parameters()->local_dtls_role, dtls::Role::kServer);
  EXPECT_EQ(neg.remote_parameters()->ufrag, kClientUfrag);
}

TEST_F(OfferTest, CodecTheClientNeverUsedGetsAFreePayloadType) {
  // Chromium offered H.264 only in Constrained Baseline (42e0), not High (640c).
  add(video_spec("pubH", 5000, kPublisherH264High));
  auto o = parse(offer());
  const auto& m = o.media[2];
  // 96-103 are the client's; 104/105 are the first numbers nobody uses.
  EXPECT_EQ(payload_types(m), (std::vector<int>{104, 105}));
  EXPECT_EQ(m.find_codec(104)->fmtp_param("profile-level-id"), "640c1f");
  EXPECT_EQ(m.find_codec(105)->apt(), 104);
}

TEST_F(OfferTest, SameCodecWithAnotherProfileIsNotConfused) {
  // VP9 profile 2 differs from the client's profile-id=0 at 98.
  add(video_spec("pub9", 5000, codec(98, "VP9", 90000, 0, {{"profile-id", "2"}})));
  add(video_spec("pub0", 6000, codec(100, "VP9", 90000, 0, {{"profile-id", "0"}})));
  auto o = parse(offer());
  EXPECT_EQ(payload_types(o.media[2]), (std::vector<int>{104, 105}));
  EXPECT_EQ(payload_types(o.media[3]), (std::vector<int>{98, 99}));
}

TEST(OfferAiortcTest, FollowsAiortcNumbersAndAllocatesFreeExtmapIds) {
  auto rng = util::make_seeded_random(3);
  Negotiator neg({"srvU", "serverpasswordserverpass",
                  "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99",
                  {}, *util::SocketAddr::parse("127.0.0.1:40000")},
                 *rng);
  ASSERT_TRUE(neg.handle_offer(sdp_samples::kAiortcOffer));
  ASSERT_TRUE(neg.add_send_track(video_spec("pubB", 1111)));
  ASSERT_TRUE(neg.add_send_track(audio_spec("pubB", 3333)));
  auto o = neg.create_offer();
  ASSERT_TRUE(o) << o.error();
  auto d = sdp::SessionDescription::parse(o.value()).value();
  ASSERT_EQ(d.media.size(), 4u);
  // aiortc: opus 96, VP8 97 with RTX 98; mid 1, audio-level 2, abs-send-time 3.
  EXPECT_EQ(payload_types(d.media[2]), (std::vector<int>{97, 98}));
  EXPECT_EQ(payload_types(d.media[3]), std::vector<int>{96});
  EXPECT_EQ(d.media[2].extmap_id(ext::kMid), 1);
  EXPECT_EQ(d.media[2].extmap_id(ext::kAbsSendTime), 3);
  EXPECT_EQ(d.media[2].extmap_id(ext::kTransportCc), 4);  // first id nobody uses
  EXPECT_EQ(d.media[3].extmap_id(ext::kAudioLevel), 2);
  EXPECT_EQ(d.media[3].extmap_id(ext::kTransportCc), 4);
}

TEST_F(OfferTest, RemovedTrackGoesInactiveAndItsLineIsReusedForTheSameKind) {
  add_two_tracks();
  offer();
  answer(crlf(kAnswerToTwoTracks));

  neg.remove_send_track("s0");
  EXPECT_TRUE(neg.needs_offer());
  auto o = round();
  const auto& m = o.media[2];
  EXPECT_EQ(m.mid, "s0");
  EXPECT_NE(m.port, 0);
  EXPECT_EQ(m.direction, sdp::Direction::Inactive);
  EXPECT_EQ(payload_types(m), (std::vector<int>{96, 97}));  // codecs kept
  EXPECT_TRUE(m.msids.empty());
  EXPECT_TRUE(m.ssrcs.empty());
  EXPECT_TRUE(o.bundle_group()->contains("s0"));
  const MediaLine* l = neg.find_line("s0");
  ASSERT_NE(l, nullptr);
  EXPECT_FALSE(l->send);
  EXPECT_FALSE(l->sending());
  EXPECT_EQ(l->direction, sdp::Direction::Inactive);
  EXPECT_FALSE(neg.needs_offer());

  // Policy: an inactive line of ours keeps its mid and is reused only by the
  // same kind; audio gets a new m-section.
  EXPECT_EQ(add(audio_spec("pubD", 7000)), "s2");
  EXPECT_EQ(add(video_spec("pubC", 9000)), "s0");
  auto o2 = round();
  ASSERT_EQ(o2.media.size(), 5u);
  EXPECT_EQ(o2.media[2].direction, sdp::Direction::SendOnly);
  EXPECT_EQ(o2.media[2].msids[0].stream_id, "pubC");
  EXPECT_EQ(o2.media[2].primary_ssrcs(), std::vector<uint32_t>{9000});
  EXPECT_EQ(o2.media[4].mid, "s2");
  EXPECT_EQ(o2.media[4].media, "audio");
  EXPECT_TRUE(neg.find_line("s0")->sending());
  EXPECT_EQ(neg.find_line("s0")->send->track_id, "pubC-cam");
  EXPECT_TRUE(neg.find_line("s2")->sending());
}

TEST_F(OfferTest, RejectedLineIsRecycledUnderAFreshMid) {
  // The client cannot decode H.264 High and rejects the m-section (port 0).
  EXPECT_EQ(add(video_spec("pubH", 5000, kPublisherH264High)), "s0");
  AnswerEdits e;
  e.reject = {"s0"};
  round(e);
  const MediaLine* l = neg.find_line("s0");
  ASSERT_NE(l, nullptr);
  EXPECT_TRUE(l->rejected);
  EXPECT_FALSE(l->sending());
  EXPECT_NE(l->rejection.find("rejected"), std::string::npos) << l->rejection;

  // The rejected line stays (port 0, out of BUNDLE) until it is recycled.
  auto o = parse(offer());
  ASSERT_EQ(o.media.size(), 3u);
  EXPECT_EQ(o.media[2].port, 0);
  EXPECT_FALSE(o.bundle_group()->contains("s0"));
  answer(chromium_answer(o.to_string()));

  // Any kind may take a port-0 line, under a mid never used before.
  EXPECT_EQ(add(audio_spec("pubA", 8000)), "s1");
  auto o2 = round();
  ASSERT_EQ(o2.media.size(), 3u);
  EXPECT_EQ(o2.media[2].mid, "s1");
  EXPECT_EQ(o2.media[2].media, "audio");
  EXPECT_NE(o2.media[2].port, 0);
  EXPECT_EQ(o2.bundle_group()->mids, (std::vector<std::string>{"0", "1", "s1"}));
  EXPECT_EQ(neg.find_line("s0"), nullptr);
  ASSERT_NE(neg.find_line("s1"), nullptr);
  EXPECT_TRUE(neg.find_line("s1")->sending());
}

TEST_F(OfferTest, AnswerDroppingEveryCodecOfTheTrackMarksItNotSent) {
  add(video_spec("pubB", 1111));
  std::string o = offer();
  // An answer that keeps only the RTX payload type of our line: no primary codec.
  std::string a = chromium_answer(o);
  a = replace_all(a, "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n", "m=video 9 UDP/TLS/RTP/SAVPF 97\r\n");
  answer(a);
  const MediaLine* l = neg.find_line("s0");
  ASSERT_NE(l, nullptr);
  EXPECT_FALSE(l->rejected);
  EXPECT_FALSE(l->sending());
  EXPECT_EQ(l->direction, sdp::Direction::Inactive);
  EXPECT_NE(l->rejection.find("codecs"), std::string::npos) << l->rejection;
}

TEST_F(OfferTest, GlareRollbackAnswersTheClientAndReoffersThePendingTrack) {
  add(video_spec("pubB", 1111));
  std::string ours = offer();
  ASSERT_EQ(neg.signaling_state(), SignalingState::kHaveLocalOffer);
  EXPECT_FALSE(neg.create_offer());  // one offer at a time

  // The client's offer (adding a screen share, mid 2) crossed ours. We are polite.
  neg.rollback();
  EXPECT_EQ(neg.signaling_state(), SignalingState::kStable);
  EXPECT_TRUE(neg.needs_offer());
  ReofferEdits e;
  e.screen_share = true;
  auto a = neg.handle_offer(chromium_reoffer(initial_answer, e));
  ASSERT_TRUE(a) << a.error();
  auto ad = parse(a.value());
  ASSERT_EQ(ad.media.size(), 3u);
  EXPECT_EQ(ad.media[2].mid, "2");
  EXPECT_EQ(ad.media[2].direction, sdp::Direction::RecvOnly);
  EXPECT_EQ(ad.transport_for(ad.media[2]).setup, sdp::SetupRole::Passive);
  EXPECT_EQ(neg.line_for_remote_ssrc(3001), neg.find_line("2"));

  // The client's answer to our rolled-back offer has nothing to apply to.
  auto late = neg.handle_answer(chromium_answer(ours));
  ASSERT_FALSE(late);
  EXPECT_NE(late.error().find("no offer"), std::string::npos) << late.error();

  // The pending track goes out in the next offer, after the client's new line.
  auto o = round();
  ASSERT_EQ(o.media.size(), 4u);
  EXPECT_EQ(o.bundle_group()->mids, (std::vector<std::string>{"0", "1", "2", "s0"}));
  EXPECT_EQ(o.media[2].direction, sdp::Direction::RecvOnly);
  EXPECT_EQ(o.media[3].direction, sdp::Direction::SendOnly);
  EXPECT_EQ(payload_types(o.media[3]), (std::vector<int>{96, 97}));
  EXPECT_TRUE(neg.find_line("s0")->sending());
  EXPECT_FALSE(neg.needs_offer());
}

TEST_F(OfferTest, ClientOfferDuringOurOfferRollsBackImplicitlyOnlyWhenValid) {
  add(video_spec("pubB", 1111));
  offer();
  // An invalid client offer changes nothing: our offer is still pending.
  EXPECT_FALSE(neg.handle_offer("v=0\r\nnot sdp"));
  EXPECT_EQ(neg.signaling_state(), SignalingState::kHaveLocalOffer);
  // A valid one is answered; our offer is dropped as by rollback().
  ASSERT_TRUE(neg.handle_offer(chromium_reoffer(initial_answer)));
  EXPECT_EQ(neg.signaling_state(), SignalingState::kStable);
  EXPECT_TRUE(neg.needs_offer());
  auto o = round();
  EXPECT_EQ(o.media.back().mid, "s0");
}

TEST_F(OfferTest, BadAnswersAreRejectedWithReasonsAndTheStateRecovers) {
  EXPECT_FALSE(neg.handle_answer(chromium_answer(initial_answer)));  // nothing offered
  add(video_spec("pubB", 1111));
  std::string o = offer();
  std::string good = chromium_answer(o);

  std::string swapped = replace_all(replace_all(replace_all(good, "a=mid:1\r\n", "a=mid:X\r\n"), "a=mid:s0\r\n", "a=mid:1\r\n"),
                                    "a=mid:X\r\n", "a=mid:s0\r\n");
  std::string missing = good.substr(0, good.rfind("m=video"));
  AnswerEdits restart;
  restart.ufrag = "Zz9q";
  AnswerEdits passive;
  passive.setup = "passive";
  AnswerEdits actpass;
  actpass.setup = "actpass";
  std::string new_cert = replace_all(good, "7B:8B:F0", "00:8B:F0");
  std::string renumbered = replace_all(good, "a=rtpmap:97 rtx/90000", "a=rtpmap:97 VP9/90000");
  struct Case {
    std::string sdp;
    std::string reason;
  };
  std::vector<Case> cases = {
      {swapped, "mid"},
      {missing, "m-sections"},
      {chromium_answer(o, restart), "ICE restart"},
      {chromium_answer(o, passive), "DTLS roles"},
      {chromium_answer(o, actpass), "active or passive"},
      {new_cert, "fingerprint"},
      {renumbered, "payload type 97"},
      {"v=0\r\ngarbage", "malformed"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.reason);
    ASSERT_EQ(neg.signaling_state(), SignalingState::kHaveLocalOffer);
    auto r = neg.handle_answer(c.sdp);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find(c.reason), std::string::npos) << r.error();
    // Back to stable, nothing applied, the change still waits for an offer.
    EXPECT_EQ(neg.signaling_state(), SignalingState::kStable);
    EXPECT_TRUE(neg.needs_offer());
    EXPECT_EQ(neg.find_line("s0"), nullptr);
    EXPECT_EQ(neg.lines().size(), 2u);
    // The re-offer is the same description with a higher version.
    EXPECT_EQ(without_origin(offer()), without_origin(o));
  }
  answer(good);
  EXPECT_TRUE(neg.find_line("s0")->sending());
}

TEST_F(OfferTest, ClientReofferKeepsOurLinesSendingAddsScreenShareAndStopsLines) {
  add_two_tracks();
  std::string o1 = offer();
  answer(crlf(kAnswerToTwoTracks));

  ReofferEdits share;
  share.screen_share = true;
  auto a = neg.handle_offer(chromium_reoffer(o1, share));
  ASSERT_TRUE(a) << a.error();
  auto d = parse(a.value());
  ASSERT_EQ(d.media.size(), 5u);
  EXPECT_EQ(d.bundle_group()->mids, (std::vector<std::string>{"0", "1", "s0", "s1", "2"}));
  // Our lines keep sending: same msid/SSRCs, only the track's codec (and RTX)
  // out of the client's full list, under the same numbers.
  const auto& v = d.media[2];
  EXPECT_EQ(v.direction, sdp::Direction::SendOnly);
  EXPECT_EQ(v.msids.at(0), (sdp::Msid{"pubB", "pubB-cam"}));
  EXPECT_EQ(v.primary_ssrcs(), std::vector<uint32_t>{1111});
  EXPECT_EQ(v.rtx_ssrc(1111), 1112u);
  EXPECT_EQ(payload_types(v), (std::vector<int>{96, 97}));
  EXPECT_EQ(d.media[3].direction, sdp::Direction::SendOnly);
  EXPECT_EQ(payload_types(d.media[3]), std::vector<int>{111});
  EXPECT_EQ(d.media[3].msids.at(0), (sdp::Msid{"pubB", "pubB-mic"}));
  EXPECT_EQ(d.media[4].direction, sdp::Direction::RecvOnly);
  EXPECT_TRUE(neg.find_line("s0")->sending());
  EXPECT_EQ(neg.find_line("s0")->payload_type_for(kPublisherVp8), 96);
  EXPECT_EQ(neg.find_line("2")->origin, LineOrigin::kRemote);
  EXPECT_EQ(neg.line_for_remote_ssrc(3002), neg.find_line("2"));

  // The client stops its camera transceiver (port 0): that line is rejected.
  ReofferEdits stop;  // the screen share (mid 2) is already in our answer
  stop.stop = {"1"};
  auto a2 = neg.handle_offer(chromium_reoffer(a.value(), stop));
  ASSERT_TRUE(a2) << a2.error();
  auto d2 = parse(a2.value());
  EXPECT_EQ(d2.media[1].port, 0);
  EXPECT_FALSE(d2.bundle_group()->contains("1"));
  EXPECT_TRUE(neg.find_line("1")->rejected);
  EXPECT_EQ(neg.line_for_remote_ssrc(2415613296u), nullptr);
  EXPECT_TRUE(neg.find_line("s0")->sending());

  // The stopped line is recyclable: the next track takes it with a fresh mid.
  EXPECT_EQ(add(video_spec("pubC", 9000)), "s2");
  auto o = round();
  ASSERT_EQ(o.media.size(), 5u);
  EXPECT_EQ(o.media[1].mid, "s2");
  EXPECT_EQ(o.media[1].direction, sdp::Direction::SendOnly);
  EXPECT_TRUE(neg.find_line("s2")->sending());
}

TEST_F(OfferTest, TrackMovesWhenTheClientStopsTheLineItWasToReuse) {
  add_two_tracks();
  offer();
  answer(crlf(kAnswerToTwoTracks));
  neg.remove_send_track("s0");
  std::string inactive = round().to_string();
  EXPECT_EQ(add(video_spec("pubC", 9000)), "s0");  // reuse, not yet offered
  ReofferEdits stop;
  stop.stop = {"s0"};
  ASSERT_TRUE(neg.handle_offer(chromium_reoffer(inactive, stop)));
  EXPECT_TRUE(neg.find_line("s0")->rejected);
  auto moved = neg.take_moved_tracks();
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].track_id, "pubC-cam");
  EXPECT_EQ(moved[0].old_mid, "s0");
  EXPECT_EQ(moved[0].new_mid, "s2");
  EXPECT_TRUE(neg.take_moved_tracks().empty());
  // It recycles the now-stopped line under its new mid.
  auto o = round();
  ASSERT_EQ(o.media.size(), 4u);
  EXPECT_EQ(o.media[2].mid, "s2");
  EXPECT_EQ(o.media[2].msids.at(0).stream_id, "pubC");
  EXPECT_TRUE(neg.find_line("s2")->sending());
}

TEST_F(OfferTest, RemovalBeforeTheOfferForgetsTheTrackAndRemovalDuringItWaits) {
  std::string mid = add(video_spec("pubB", 1111));
  neg.remove_send_track(mid);
  EXPECT_FALSE(neg.needs_offer());
  neg.remove_send_track("no-such-mid");
  EXPECT_FALSE(neg.needs_offer());

  // Removed while its offer is out: the removal waits for the next offer.
  EXPECT_EQ(add(video_spec("pubC", 2222)), "s1");
  std::string o = offer();
  neg.remove_send_track("s1");
  EXPECT_TRUE(neg.needs_offer());
  answer(chromium_answer(o));
  EXPECT_TRUE(neg.find_line("s1")->sending());
  EXPECT_TRUE(neg.needs_offer());
  round();
  EXPECT_FALSE(neg.find_line("s1")->send);
  EXPECT_FALSE(neg.needs_offer());

  // Rolled back with both the addition and its removal unsignalled: nothing is left.
  std::string audio = add(audio_spec("pubD", 4444));
  EXPECT_EQ(audio, "s2");  // s0 was never signalled, yet its mid is not minted again
  offer();
  neg.remove_send_track(audio);
  neg.rollback();
  EXPECT_FALSE(neg.needs_offer());
  EXPECT_EQ(neg.create_offer().ok(), true);
  EXPECT_EQ(neg.lines().size(), 3u);
}

TEST_F(OfferTest, InvalidTrackSpecsAreRefused) {
  auto bad_codec = video_spec("p", 1, codec(100, "H263", 90000, 0));
  EXPECT_FALSE(neg.add_send_track(bad_codec));
  auto bad_ext = video_spec("p", 1);
  bad_ext.extensions.push_back("http://example.com/unknown-ext");
  EXPECT_FALSE(neg.add_send_track(bad_ext));
  auto no_ssrc = video_spec("p", 0);
  no_ssrc.ssrc = 0;
  EXPECT_FALSE(neg.add_send_track(no_ssrc));
  auto no_rtx_ssrc = video_spec("p", 5);
  no_rtx_ssrc.rtx_ssrc = 0;
  EXPECT_FALSE(neg.add_send_track(no_rtx_ssrc));
  auto blank_id = video_spec("p", 5);
  blank_id.track_id = "has space";
  EXPECT_FALSE(neg.add_send_track(blank_id));
  auto wrong_kind = audio_spec("p", 5);
  wrong_kind.codecs = {kPublisherVp8};
  EXPECT_FALSE(neg.add_send_track(wrong_kind));
  EXPECT_FALSE(neg.needs_offer());
}

TEST(OfferServerFirstTest, ServerMayOfferBeforeTheClientDoes) {
  auto rng = util::make_seeded_random(5);
  Negotiator neg({"srvU", "serverpasswordserverpass",
                  "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99",
                  {}, *util::SocketAddr::parse("127.0.0.1:40000")},
                 *rng);
  EXPECT_FALSE(neg.create_offer());  // nothing to offer yet
  ASSERT_TRUE(neg.add_send_track(video_spec("pubB", 1111)));
  auto o = neg.create_offer();
  ASSERT_TRUE(o) << o.error();
  auto d = sdp::SessionDescription::parse(o.value()).value();
  EXPECT_EQ(payload_types(d.media.at(0)), (std::vector<int>{96, 97}));
  EXPECT_EQ(d.media[0].extmap_id(ext::kMid), 1);
  auto r = neg.handle_answer(chromium_answer(o.value()));
  ASSERT_TRUE(r) << r.error();
  ASSERT_TRUE(neg.remote_parameters());
  EXPECT_EQ(neg.remote_parameters()->local_dtls_role, dtls::Role::kServer);
  EXPECT_TRUE(neg.find_line("s0")->sending());
}

TEST(OfferSimulcastTest, ReofferKeepsReceivingTheClientsSimulcastLayers) {
  auto rng = util::make_seeded_random(5);
  Negotiator neg({"srvU", "serverpasswordserverpass",
                  "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99",
                  {}, *util::SocketAddr::parse("127.0.0.1:40000")},
                 *rng);
  ASSERT_TRUE(neg.handle_offer(sdp_samples::kChromiumSimulcastOffer));
  ASSERT_TRUE(neg.add_send_track(audio_spec("pubB", 1111)));
  auto o = neg.create_offer();
  ASSERT_TRUE(o) << o.error();
  auto d = sdp::SessionDescription::parse(o.value()).value();
  ASSERT_TRUE(d.media.at(0).simulcast);
  EXPECT_EQ(d.media[0].rids.size(), 3u);
  for (const auto& r : d.media[0].rids) EXPECT_EQ(r.direction, sdp::RidDirection::Recv);
  EXPECT_FALSE(d.media[1].simulcast);
}
