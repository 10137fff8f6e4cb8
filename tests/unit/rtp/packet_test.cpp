#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "rtp/ExtensionWriter.hpp"
#include "rtp/MutablePacket.hpp"
#include "rtp/PacketView.hpp"
#include "rtp/PacketWriter.hpp"
#include "rtp/Types.hpp"

using namespace sb::rtp;
using sb::util::Bytes;

namespace {

// V=2, no P/X/CC, M=0, PT=96, seq 0x1234, ts 4096, SSRC 0xdeadbeef, payload 01 02 03.
const Bytes kSimple = {0x80, 0x60, 0x12, 0x34, 0x00, 0x00, 0x10, 0x00,
                       0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03};

// P=1, X=1, CC=2, M=1, PT=96, one-byte extension, payload ca fe, 3 bytes padding.
const Bytes kFull = {
    0xb2, 0xe0, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03,  // fixed header
    0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22,                          // 2 CSRCs
    0xbe, 0xde, 0x00, 0x02,                                                  // one-byte, 2 words
    0x10, 0xaa, 0x00, 0x22, 0x01, 0x02, 0x03, 0x00,                          // id1=aa, pad, id2=010203, pad
    0xca, 0xfe,                                                              // payload
    0x00, 0x00, 0x03};                                                       // padding

}  // namespace

TEST(RtpPacket, ParsesFixedHeaderFieldByField) {
  auto p = PacketView::parse(kSimple);
  ASSERT_TRUE(p) << to_string(p.error());
  EXPECT_FALSE(p->has_padding());
  EXPECT_FALSE(p->has_extension());
  EXPECT_EQ(p->csrc_count(), 0u);
  EXPECT_FALSE(p->marker());
  EXPECT_EQ(p->payload_type(), PayloadType{96});
  EXPECT_EQ(p->sequence(), 0x1234);
  EXPECT_EQ(p->timestamp(), 4096u);
  EXPECT_EQ(p->ssrc(), Ssrc{0xdeadbeef});
  EXPECT_EQ(p->header_size(), 12u);
  ASSERT_EQ(p->payload_size(), 3u);
  EXPECT_EQ(p->payload()[0], 1);
  EXPECT_EQ(p->payload()[2], 3);
  EXPECT_TRUE(p->extensions().empty());
  EXPECT_EQ(p->extensions().profile(), ExtensionProfile::kNone);
}

TEST(RtpPacket, ParsesCsrcsExtensionAndPadding) {
  auto p = PacketView::parse(kFull);
  ASSERT_TRUE(p) << to_string(p.error());
  EXPECT_TRUE(p->has_padding());
  EXPECT_TRUE(p->has_extension());
  EXPECT_TRUE(p->marker());
  EXPECT_EQ(p->payload_type(), PayloadType{96});
  EXPECT_EQ(p->sequence(), 1);
  EXPECT_EQ(p->timestamp(), 2u);
  EXPECT_EQ(p->ssrc(), Ssrc{3});
  ASSERT_EQ(p->csrc_count(), 2u);
  EXPECT_EQ(p->csrc(0), 0x11111111u);
  EXPECT_EQ(p->csrc(1), 0x22222222u);
  EXPECT_EQ(p->extension_profile_id(), 0xBEDE);
  EXPECT_EQ(p->header_size(), 32u);
  EXPECT_EQ(p->padding_size(), 3u);
  ASSERT_EQ(p->payload_size(), 2u);
  EXPECT_EQ(p->payload()[0], 0xca);
  EXPECT_EQ(p->payload()[1], 0xfe);
  auto e1 = p->extensions().find(1);
  ASSERT_TRUE(e1);
  ASSERT_EQ(e1->size(), 1u);
  EXPECT_EQ((*e1)[0], 0xaa);
  auto e2 = p->extensions().find(2);
  ASSERT_TRUE(e2);
  EXPECT_EQ(Bytes(e2->begin(), e2->end()), (Bytes{1, 2, 3}));
  EXPECT_FALSE(p->extensions().find(3));
}

TEST(RtpPacket, AcceptsPaddingOnlyPacket) {
  Bytes b = {0xa0, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 4};
  auto p = PacketView::parse(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->payload_size(), 0u);
  EXPECT_EQ(p->padding_size(), 4u);
}

TEST(RtpPacket, RejectsMalformedInput) {
  // Truncated fixed header.
  EXPECT_EQ(PacketView::parse(Bytes(kSimple.begin(), kSimple.begin() + 11)).error(), ParseError::kTruncated);
  EXPECT_EQ(PacketView::parse(Bytes{}).error(), ParseError::kTruncated);
  // Bad version (1).
  Bytes v1 = kSimple;
  v1[0] = 0x40;
  EXPECT_EQ(PacketView::parse(v1).error(), ParseError::kBadVersion);
  // CSRC count past the end.
  Bytes cc = kSimple;
  cc[0] = 0x8F;
  EXPECT_EQ(PacketView::parse(cc).error(), ParseError::kTruncated);
  // Padding larger than the payload, and a zero padding count.
  Bytes pad = kSimple;
  pad[0] |= 0x20;
  pad.back() = 4;
  EXPECT_EQ(PacketView::parse(pad).error(), ParseError::kBadPadding);
  pad.back() = 0;
  EXPECT_EQ(PacketView::parse(pad).error(), ParseError::kBadPadding);
  // Extension header cut off.
  Bytes ext_hdr = {0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde};
  EXPECT_EQ(PacketView::parse(ext_hdr).error(), ParseError::kTruncated);
  // Extension length (5 words) past the end.
  Bytes ext_len = {0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0x00, 0x05, 0x10, 0xaa, 0, 0};
  EXPECT_EQ(PacketView::parse(ext_len).error(), ParseError::kBadExtension);
  // One-byte element claiming 16 bytes inside a 4-byte block.
  Bytes elem = {0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0x00, 0x01, 0x1f, 0xaa, 0, 0};
  EXPECT_EQ(PacketView::parse(elem).error(), ParseError::kBadExtension);
  // Two-byte element whose length byte is missing.
  Bytes two = {0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05};
  EXPECT_EQ(PacketView::parse(two).error(), ParseError::kBadExtension);
  // Padding that would eat into the extension.
  Bytes pad_ext = kFull;
  pad_ext.back() = 6;
  EXPECT_EQ(PacketView::parse(pad_ext).error(), ParseError::kBadPadding);
}

TEST(RtpPacket, ClassifiesRtpAndRtcpByFirstBytes) {
  EXPECT_TRUE(is_rtp_or_rtcp(kSimple));
  EXPECT_FALSE(is_rtcp(kSimple));
  const Bytes rtcp = {0x81, 0xc9, 0x00, 0x01};
  EXPECT_TRUE(is_rtcp(rtcp));
  const Bytes stun = {0x00, 0x01, 0x00, 0x00};
  EXPECT_FALSE(is_rtp_or_rtcp(stun));
  const Bytes dtls = {22, 0xfe, 0xfd};
  EXPECT_FALSE(is_rtp_or_rtcp(dtls));
  const Bytes edge_low = {191, 0x60};
  EXPECT_TRUE(is_rtp_or_rtcp(edge_low));
  const Bytes edge_high = {192, 0x60};
  EXPECT_FALSE(is_rtp_or_rtcp(edge_high));
  // Marker bit set on PT 96 is 0xe0 = 224: RTP, not RTCP.
  const Bytes marker_pt96 = {0x80, 0xe0, 0, 0};
  EXPECT_FALSE(is_rtcp(marker_pt96));
  const Bytes rtcp_low = {0x80, 192};
  EXPECT_TRUE(is_rtcp(rtcp_low));
  const Bytes rtcp_high = {0x80, 223};
  EXPECT_TRUE(is_rtcp(rtcp_high));
  EXPECT_FALSE(is_rtcp(Bytes{0x80}));
}

TEST(MutableRtpPacket, RewritesHeaderFieldsInPlace) {
  Bytes b = kFull;
  auto m = MutablePacket::parse(b);
  ASSERT_TRUE(m);
  m->set_ssrc(Ssrc{0xcafebabe});
  m->set_sequence(0xfffe);
  m->set_timestamp(0x01020304);
  m->set_payload_type(PayloadType{111});
  m->set_marker(false);
  const PacketView& v = m->view();
  EXPECT_EQ(v.ssrc(), Ssrc{0xcafebabe});
  EXPECT_EQ(v.sequence(), 0xfffe);
  EXPECT_EQ(v.timestamp(), 0x01020304u);
  EXPECT_EQ(v.payload_type(), PayloadType{111});
  EXPECT_FALSE(v.marker());
  EXPECT_EQ(b[0], 0xb2);  // first byte untouched
  EXPECT_EQ(b[1], 111);
  m->set_marker(true);
  EXPECT_EQ(b[1], 0x80 | 111);
  m->set_payload_type(PayloadType{96});
  EXPECT_EQ(b[1], 0xe0);
  // Everything after the fixed header is unchanged and still parses the same.
  EXPECT_TRUE(std::equal(b.begin() + 12, b.end(), kFull.begin() + 12));
  auto again = PacketView::parse(b);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->payload_size(), 2u);
}

TEST(MutableRtpPacket, CopiesIntoAPooledBufferWithoutReparsing) {
  auto src = PacketView::parse(kFull);
  ASSERT_TRUE(src);
  std::array<uint8_t, 64> buffer{};
  auto m = MutablePacket::copy_from(*src, buffer);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data().data(), buffer.data());
  EXPECT_EQ(m->view().size(), kFull.size());
  m->set_sequence(7);
  EXPECT_EQ(m->view().sequence(), 7);
  EXPECT_EQ(src->sequence(), 1);  // the original is not touched
  auto ext = m->find_extension(2);
  ASSERT_TRUE(ext);
  (*ext)[0] = 0x42;
  EXPECT_EQ((*m->view().extensions().find(2))[0], 0x42);
  std::array<uint8_t, 8> small{};
  EXPECT_FALSE(MutablePacket::copy_from(*src, small));
}

TEST(RtpPacketWriter, BuildsAPacketThatParsesBack) {
  std::array<uint8_t, 32> ext{};
  ExtensionWriter ew(ext, ExtensionProfile::kOneByte);
  ASSERT_TRUE(ew.add_transport_sequence(3, 0x1234));
  const size_t ext_size = ew.finish();
  ASSERT_EQ(ext_size, 8u);
  const uint32_t csrcs[] = {0xabcdef01};
  RtpHeader h;
  h.marker = true;
  h.payload_type = PayloadType{100};
  h.sequence = 65535;
  h.timestamp = 0xfffffff0;
  h.ssrc = Ssrc{42};
  h.csrcs = csrcs;
  const Bytes payload = {9, 8, 7, 6, 5};
  std::array<uint8_t, 128> out{};
  const size_t n = write_packet(out, h, std::span(ext).first(ext_size), payload, 4);
  ASSERT_EQ(n, 12u + 4 + 8 + 5 + 4);
  auto p = PacketView::parse(std::span(out).first(n));
  ASSERT_TRUE(p) << to_string(p.error());
  EXPECT_TRUE(p->marker());
  EXPECT_EQ(p->payload_type(), PayloadType{100});
  EXPECT_EQ(p->sequence(), 65535);
  EXPECT_EQ(p->timestamp(), 0xfffffff0u);
  EXPECT_EQ(p->ssrc(), Ssrc{42});
  ASSERT_EQ(p->csrc_count(), 1u);
  EXPECT_EQ(p->csrc(0), 0xabcdef01u);
  EXPECT_EQ(p->padding_size(), 4u);
  EXPECT_EQ(Bytes(p->payload().begin(), p->payload().end()), payload);
  auto seq = p->extensions().find(3);
  ASSERT_TRUE(seq);
  EXPECT_EQ(seq->size(), 2u);
  // Too small a buffer writes nothing.
  std::array<uint8_t, 20> tiny{};
  EXPECT_EQ(write_packet(tiny, h, std::span(ext).first(ext_size), payload), 0u);
  // No extension, no padding.
  const size_t plain = write_packet(out, RtpHeader{}, {}, payload);
  EXPECT_EQ(plain, 17u);
  EXPECT_EQ(out[0], 0x80);
}
