#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "sdp/SdpParser.hpp"
#include "sdp/SessionDescription.hpp"

using namespace sb::sdp;

namespace {

constexpr const char* kHead = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";  // lines 1-4

std::string rejection(const std::string& sdp) {
  auto r = SessionDescription::parse(sdp);
  if (r.ok()) return "(accepted)";
  return r.error();
}

/// One m-section (line 5) followed by `tail` (line 6 onwards).
std::string with_media(const std::string& tail) {
  return std::string(kHead) + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n" + tail;
}

}  // namespace

TEST(SdpReject, StructureErrors) {
  EXPECT_EQ(rejection(""), "empty description: missing v= line");
  EXPECT_EQ(rejection("\r\n\r\n"), "empty description: missing v= line");
  EXPECT_EQ(rejection("o=- 1 2 IN IP4 0.0.0.0\r\nv=0\r\n"), "line 1: description must start with v=");
  EXPECT_EQ(rejection("v=1\r\n"), "line 1: unsupported version v=1");
  EXPECT_EQ(rejection("v=0\r\ns=-\r\n"), "missing o= line");
  EXPECT_EQ(rejection("v=0\r\nhello\r\n"), "line 2: not a <type>=<value> line");
  EXPECT_EQ(rejection("v=0\r\n a=x\r\n"), "line 2: not a <type>=<value> line");
  EXPECT_EQ(rejection("v=0\r\n1=x\r\n"), "line 2: not a <type>=<value> line");
  EXPECT_EQ(rejection(std::string(kHead) + "v=0\r\n"), "line 5: duplicate v= line");
  EXPECT_EQ(rejection(std::string(kHead) + "o=- 1 2 IN IP4 0.0.0.0\r\n"), "line 5: duplicate o= line");
  EXPECT_EQ(rejection(std::string(kHead) + "s=x\r\n"), "line 5: duplicate s= line");
}

TEST(SdpReject, OriginConnectionTiming) {
  EXPECT_EQ(rejection("v=0\r\no=- 1 2 IN IP4\r\n"), "line 2: o= line needs 6 fields, has 5");
  EXPECT_EQ(rejection("v=0\r\no=- x 2 IN IP4 0.0.0.0\r\n"), "line 2: o= session id is not a number: 'x'");
  EXPECT_EQ(rejection("v=0\r\no=- 1 -2 IN IP4 0.0.0.0\r\n"), "line 2: o= session version is not a number: '-2'");
  EXPECT_EQ(rejection("v=0\r\no=- 99999999999999999999 2 IN IP4 0.0.0.0\r\n"),
            "line 2: o= session id is not a number: '99999999999999999999'");
  EXPECT_EQ(rejection("v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\nc=IN IP4\r\n"), "line 3: c= line needs 3 fields, has 2");
  EXPECT_EQ(rejection("v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\nt=0\r\n"), "line 3: t= line needs 2 fields, has 1");
  EXPECT_EQ(rejection("v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\nt=now 0\r\n"), "line 3: t= times are not numbers");
  EXPECT_EQ(rejection(with_media("c=IN IP4 0.0.0.0\r\nc=IN IP4 0.0.0.0\r\n")),
            "line 7: duplicate c= line in m-section");
}

TEST(SdpReject, MediaLines) {
  std::string h = kHead;
  EXPECT_EQ(rejection(h + "m=audio\r\n"), "line 5: m= line has no port");
  EXPECT_EQ(rejection(h + "m=audio x UDP/TLS/RTP/SAVPF 111\r\n"), "line 5: m= line port is not a number: 'x'");
  EXPECT_EQ(rejection(h + "m=audio -9 UDP/TLS/RTP/SAVPF 111\r\n"), "line 5: m= line port is not a number: '-9'");
  EXPECT_EQ(rejection(h + "m=audio 70000 UDP/TLS/RTP/SAVPF 111\r\n"), "line 5: m= line port 70000 is out of range");
  EXPECT_EQ(rejection(h + "m=audio 9/ UDP/TLS/RTP/SAVPF 111\r\n"), "line 5: m= line port count is not a number: ''");
  EXPECT_EQ(rejection(h + "m=audio 9\r\n"), "line 5: m= line has no protocol");
  EXPECT_EQ(rejection(h + "m=audio 9 UDP/TLS/RTP/SAVPF\r\n"), "line 5: m= line has no formats");
  EXPECT_EQ(rejection(h + "m=audio 9 UDP/TLS/RTP/SAVPF 111 opus\r\n"),
            "line 5: m= line format 'opus' is not a payload type (0-127)");
  EXPECT_EQ(rejection(h + "m=audio 9 UDP/TLS/RTP/SAVPF 128\r\n"),
            "line 5: m= line format '128' is not a payload type (0-127)");
  // Non-RTP protocols carry other formats.
  EXPECT_EQ(rejection(h + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"), "(accepted)");
}

TEST(SdpReject, CodecAttributes) {
  EXPECT_EQ(rejection(with_media("a=rtpmap:abc VP8/90000\r\n")), "line 6: a=rtpmap:abc: payload type is not a number");
  EXPECT_EQ(rejection(with_media("a=rtpmap:200 VP8/90000\r\n")),
            "line 6: a=rtpmap:200: payload type is out of range (0-127)");
  EXPECT_EQ(rejection(with_media("a=rtpmap:96\r\n")), "line 6: a=rtpmap: missing encoding name");
  EXPECT_EQ(rejection(with_media("a=rtpmap:96 VP8\r\n")), "line 6: a=rtpmap: missing clock rate");
  EXPECT_EQ(rejection(with_media("a=rtpmap:96 VP8/fast\r\n")), "line 6: a=rtpmap: clock rate is not a number: 'fast'");
  EXPECT_EQ(rejection(with_media("a=rtpmap:96 opus/48000/two\r\n")),
            "line 6: a=rtpmap: channel count is not a number: 'two'");
  EXPECT_EQ(rejection(with_media("a=rtpmap:96 opus/48000/2/1\r\n")),
            "line 6: a=rtpmap: too many '/' fields in the encoding");
  EXPECT_EQ(rejection(with_media("a=rtpmap:96 VP8/90000 extra\r\n")),
            "line 6: a=rtpmap: unexpected text after the encoding: 'extra'");
  EXPECT_EQ(rejection(with_media("a=rtpmap:96 VP8/90000\r\na=rtpmap:96 VP9/90000\r\n")),
            "line 7: a=rtpmap: payload type 96 has two rtpmap lines");
  EXPECT_EQ(rejection(with_media("a=fmtp:x apt=1\r\n")), "line 6: a=fmtp:x: payload type is not a number");
  EXPECT_EQ(rejection(with_media("a=fmtp:96 a=1\r\na=fmtp:96 b=2\r\n")),
            "line 7: a=fmtp: payload type 96 has two fmtp lines");
  EXPECT_EQ(rejection(with_media("a=rtcp-fb:96\r\n")), "line 6: a=rtcp-fb: missing feedback type");
  EXPECT_EQ(rejection(with_media("a=rtcp-fb:v nack\r\n")), "line 6: a=rtcp-fb:v: payload type is not a number");
}

TEST(SdpReject, OtherMediaAttributes) {
  EXPECT_EQ(rejection(with_media("a=extmap:x urn:a\r\n")), "line 6: a=extmap: id is not a number: 'x'");
  EXPECT_EQ(rejection(with_media("a=extmap:0 urn:a\r\n")), "line 6: a=extmap: id 0 is out of range");
  EXPECT_EQ(rejection(with_media("a=extmap:256 urn:a\r\n")), "line 6: a=extmap: id 256 is out of range");
  EXPECT_EQ(rejection(with_media("a=extmap:1/sideways urn:a\r\n")), "line 6: a=extmap: unknown direction 'sideways'");
  EXPECT_EQ(rejection(with_media("a=extmap:1\r\n")), "line 6: a=extmap: missing extension URI");
  EXPECT_EQ(rejection(with_media("a=extmap:1 urn:a\r\na=extmap:1 urn:b\r\n")), "line 7: a=extmap: id 1 is used twice");
  EXPECT_EQ(rejection(with_media("a=ssrc:abc cname:x\r\n")), "line 6: a=ssrc: SSRC is not a 32-bit number: 'abc'");
  EXPECT_EQ(rejection(with_media("a=ssrc:4294967296 cname:x\r\n")),
            "line 6: a=ssrc: SSRC is not a 32-bit number: '4294967296'");
  EXPECT_EQ(rejection(with_media("a=ssrc:1\r\n")), "line 6: a=ssrc: missing source attribute");
  EXPECT_EQ(rejection(with_media("a=ssrc-group:FID\r\n")), "line 6: a=ssrc-group: group has no SSRCs");
  EXPECT_EQ(rejection(with_media("a=ssrc-group:FID 1 x\r\n")), "line 6: a=ssrc-group: SSRC is not a 32-bit number: 'x'");
  EXPECT_EQ(rejection(with_media("a=mid:0\r\na=mid:1\r\n")), "line 7: a=mid: duplicate attribute");
  EXPECT_EQ(rejection(with_media("a=mid: \r\n")), "line 6: a=mid: empty value");
  EXPECT_EQ(rejection(with_media("a=sendrecv\r\na=recvonly\r\n")), "line 7: a=recvonly: more than one direction attribute");
  EXPECT_EQ(rejection(with_media("a=msid:a b c\r\n")), "line 6: a=msid: expected '<stream id> [<track id>]'");
  EXPECT_EQ(rejection(with_media("a=rid:h both\r\n")), "line 6: a=rid: direction must be send or recv, not 'both'");
  EXPECT_EQ(rejection(with_media("a=rid:h! send\r\n")), "line 6: a=rid: invalid rid id 'h!'");
  EXPECT_EQ(rejection(with_media("a=rid:h send\r\na=rid:h send\r\n")), "line 7: a=rid: rid 'h' is declared twice");
  EXPECT_EQ(rejection(with_media("a=simulcast:send\r\n")), "line 6: a=simulcast: expected 'send|recv <rid list>' pairs");
  EXPECT_EQ(rejection(with_media("a=simulcast:up h;m\r\n")), "line 6: a=simulcast: unexpected 'up' where send or recv belongs");
  EXPECT_EQ(rejection(with_media("a=simulcast:send h;;m\r\n")), "line 6: a=simulcast: invalid rid id ''");
  EXPECT_EQ(rejection(with_media("a=simulcast:send h send m\r\n")),
            "line 6: a=simulcast: unexpected 'send' where send or recv belongs");
  EXPECT_EQ(rejection(with_media("a=sctp-port:x\r\n")), "line 6: a=sctp-port: port is not a number: 'x'");
  EXPECT_EQ(rejection(with_media("a=sctp-port:70000\r\n")), "line 6: a=sctp-port: port is not a number: '70000'");
  EXPECT_EQ(rejection(with_media("a=max-message-size:big\r\n")), "line 6: a=max-message-size: size is not a number: 'big'");
  EXPECT_EQ(rejection(with_media("a=rtcp:port\r\n")), "line 6: a=rtcp: port is not a number: 'port'");
}

TEST(SdpReject, TransportAttributes) {
  std::string h = kHead;
  EXPECT_EQ(rejection(h + "a=ice-ufrag:\r\n"), "line 5: a=ice-ufrag: empty value");
  EXPECT_EQ(rejection(h + "a=ice-pwd:a\r\na=ice-pwd:b\r\n"), "line 6: a=ice-pwd: duplicate attribute");
  EXPECT_EQ(rejection(h + "a=setup:both\r\n"), "line 5: a=setup: unknown role 'both'");
  EXPECT_EQ(rejection(with_media("a=fingerprint:sha-256\r\n")), "line 6: a=fingerprint: needs a hash function and a value");
  EXPECT_EQ(rejection(with_media("a=fingerprint:sha-256 ZZ:11\r\n")), "line 6: a=fingerprint: value is not hex: 'ZZ:11'");
  EXPECT_EQ(rejection(h + "a=group:\r\n"), "line 5: a=group: missing group semantics");
  EXPECT_EQ(rejection(h + "a=sendonly\r\na=inactive\r\n"), "line 6: a=inactive: more than one direction attribute");
}

TEST(SdpReject, ControlCharacters) {
  EXPECT_EQ(rejection(with_media("a=mid:a\x01" "b\r\n")), "line 6: control character 0x01 in line");
  EXPECT_EQ(rejection(with_media("a=ice-ufrag:a\tb\r\n")), "line 6: control character 0x09 in line");
  EXPECT_EQ(rejection(with_media(std::string("a=x:a\0b\r\n", 9))), "line 6: control character 0x00 in line");
  EXPECT_EQ(rejection(with_media("a=x:a\rb\r\n")), "line 6: control character 0x0d in line");
  EXPECT_EQ(rejection(with_media("a=x:\x7f\r\n")), "line 6: control character 0x7f in line");
  // UTF-8 in the session name is fine.
  EXPECT_EQ(rejection("v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=R\xc3\xa9union\r\n"), "(accepted)");
}

TEST(SdpReject, SizeAndLineLimits) {
  std::string big = std::string(kHead) + "a=x:" + std::string(kMaxSdpBytes, 'y') + "\r\n";
  EXPECT_EQ(rejection(big), "description is " + std::to_string(big.size()) + " bytes, more than the limit of 262144");

  // kHead is 4 lines; blank lines count too.
  std::string many = kHead;
  for (size_t i = 4; i < kMaxSdpLines + 1; ++i) many += (i % 2) ? "a=x\n" : "\r\n";
  EXPECT_EQ(rejection(many), "description has 10001 lines, more than the limit of 10000");
  many.erase(many.rfind('\n', many.size() - 2) + 1);
  EXPECT_EQ(rejection(many), "(accepted)");

  auto small = SdpParser::parse(kHead, SdpLimits{10, 100});
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.error(), "description is " + std::to_string(std::strlen(kHead)) + " bytes, more than the limit of 10");
}
