#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "rtp/rtcp/Bye.hpp"
#include "rtp/rtcp/Compound.hpp"
#include "rtp/rtcp/Fir.hpp"
#include "rtp/rtcp/Nack.hpp"
#include "rtp/rtcp/Pli.hpp"
#include "rtp/rtcp/ReceiverReport.hpp"
#include "rtp/rtcp/Remb.hpp"
#include "rtp/rtcp/Sdes.hpp"
#include "rtp/rtcp/SenderReport.hpp"

using namespace sb::rtp;
using namespace sb::rtp::rtcp;
using sb::util::Bytes;
using sb::util::ByteView;

namespace {

rtcp::PacketView single(ByteView data) {
  auto p = rtcp::PacketView::parse(data);
  EXPECT_TRUE(p) << to_string(p.error());
  EXPECT_EQ(p->size(), data.size());
  return *p;
}

// SR, one report block.
const Bytes kSr = {
    0x81, 0xc8, 0x00, 0x0c,                          // V=2 RC=1 PT=200 length 12
    0x00, 0x00, 0x00, 0x01,                          // sender SSRC
    0xe1, 0x2c, 0x5f, 0x3b, 0x80, 0x00, 0x00, 0x00,  // NTP
    0x00, 0x01, 0xe2, 0x40,                          // RTP timestamp 123456
    0x00, 0x00, 0x00, 0x64,                          // packet count 100
    0x00, 0x00, 0x27, 0x10,                          // octet count 10000
    0x00, 0x00, 0x00, 0x02,                          // block: SSRC
    0x19, 0xff, 0xff, 0xfe,                          // fraction 25, cumulative -2
    0x00, 0x01, 0x00, 0x05,                          // extended highest seq
    0x00, 0x00, 0x00, 0x20,                          // jitter
    0x5f, 0x3b, 0x80, 0x00,                          // LSR
    0x00, 0x01, 0x00, 0x00};                         // DLSR

const Bytes kSdes = {0x81, 0xca, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01,
                     0x01, 0x05, 'h',  'e',  'l',  'l',  'o',  0x00};

}  // namespace

TEST(Rtcp, ParsesSenderReportFieldByField) {
  auto sr = SenderReport::parse(single(kSr));
  ASSERT_TRUE(sr) << to_string(sr.error());
  EXPECT_EQ(sr->sender_ssrc(), Ssrc{1});
  EXPECT_EQ(sr->sender_info().ntp.seconds(), 0xe12c5f3bu);
  EXPECT_EQ(sr->sender_info().ntp.fraction(), 0x80000000u);
  EXPECT_EQ(sr->sender_info().ntp.compact(), 0x5f3b8000u);
  EXPECT_EQ(sr->sender_info().rtp_timestamp, 123456u);
  EXPECT_EQ(sr->sender_info().packet_count, 100u);
  EXPECT_EQ(sr->sender_info().octet_count, 10000u);
  ASSERT_EQ(sr->report_blocks().size(), 1u);
  const ReportBlock b = sr->report_blocks()[0];
  EXPECT_EQ(b.ssrc, Ssrc{2});
  EXPECT_EQ(b.fraction_lost, 25);
  EXPECT_EQ(b.cumulative_lost, -2);
  EXPECT_EQ(b.extended_highest_sequence, 0x00010005u);
  EXPECT_EQ(b.jitter, 32u);
  EXPECT_EQ(b.last_sr, 0x5f3b8000u);
  EXPECT_EQ(b.delay_since_last_sr, 0x10000u);
  // Writing the same values gives the same bytes.
  std::array<uint8_t, 128> out{};
  const size_t n = SenderReport::write(out, Ssrc{1}, sr->sender_info(), std::span(&b, 1));
  EXPECT_EQ(Bytes(out.begin(), out.begin() + n), kSr);
  EXPECT_FALSE(ReceiverReport::parse(single(kSr)));
}

TEST(Rtcp, ReceiverReportRoundTrip) {
  std::vector<ReportBlock> blocks(3);
  for (size_t i = 0; i < blocks.size(); ++i) {
    blocks[i].ssrc = Ssrc{uint32_t(100 + i)};
    blocks[i].fraction_lost = uint8_t(i * 10);
    blocks[i].cumulative_lost = int32_t(i) - 1;
    blocks[i].extended_highest_sequence = 70000 + uint32_t(i);
    blocks[i].jitter = 5;
    blocks[i].last_sr = 0x12345678;
    blocks[i].delay_since_last_sr = 99;
  }
  std::array<uint8_t, 256> out{};
  const size_t n = ReceiverReport::write(out, Ssrc{7}, blocks);
  ASSERT_EQ(n, 8u + 3 * 24);
  EXPECT_EQ(out[0], 0x83);
  EXPECT_EQ(out[1], 201);
  auto rr = ReceiverReport::parse(single(std::span(out).first(n)));
  ASSERT_TRUE(rr);
  EXPECT_EQ(rr->sender_ssrc(), Ssrc{7});
  std::vector<ReportBlock> parsed(rr->report_blocks().begin(), rr->report_blocks().end());
  EXPECT_EQ(parsed, blocks);
  // Empty RR is valid; too many blocks is not writable; cumulative lost clamps.
  EXPECT_EQ(ReceiverReport::write(out, Ssrc{7}), 8u);
  std::vector<ReportBlock> too_many(32);
  EXPECT_EQ(ReceiverReport::write(out, Ssrc{7}, too_many), 0u);
  ReportBlock huge;
  huge.cumulative_lost = 10'000'000;
  ASSERT_GT(ReceiverReport::write(out, Ssrc{7}, std::span(&huge, 1)), 0u);
  EXPECT_EQ(ReceiverReport::parse(single(std::span(out).first(32)))->report_blocks()[0].cumulative_lost, 0x7FFFFF);
}

TEST(Rtcp, RejectsReportWhoseBlocksDoNotFit) {
  Bytes rr = {0x82, 0xc9, 0x00, 0x07, 0, 0, 0, 1};  // RC=2 but room for one block
  rr.resize(32, 0);
  EXPECT_EQ(ReceiverReport::parse(single(rr)).error(), ParseError::kTruncated);
}

TEST(Rtcp, SdesCnameParseAndRoundTrip) {
  auto s = Sdes::parse(single(kSdes));
  ASSERT_TRUE(s) << to_string(s.error());
  EXPECT_EQ(s->chunk_count(), 1u);
  EXPECT_EQ(s->cname(Ssrc{1}), "hello");
  EXPECT_FALSE(s->cname(Ssrc{2}));

  const Sdes::Chunk chunks[] = {{Ssrc{1}, "hello"}, {Ssrc{2}, "abcdefgh"}, {Ssrc{3}, ""}};
  std::array<uint8_t, 128> out{};
  const size_t n = Sdes::write(out, chunks);
  ASSERT_GT(n, 0u);
  EXPECT_EQ(n % 4, 0u);
  EXPECT_EQ(Bytes(out.begin() + 4, out.begin() + 16), Bytes(kSdes.begin() + 4, kSdes.end()));
  auto parsed = Sdes::parse(single(std::span(out).first(n)));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->chunk_count(), 3u);
  EXPECT_EQ(parsed->cname(Ssrc{2}), "abcdefgh");
  EXPECT_EQ(parsed->cname(Ssrc{3}), "");
  int items = 0;
  parsed->for_each_item([&](Ssrc, SdesItemType type, std::string_view) {
    EXPECT_EQ(type, SdesItemType::kCname);
    ++items;
  });
  EXPECT_EQ(items, 3);
}

TEST(Rtcp, SdesRejectsUnterminatedOrOverlongItems) {
  // Item length runs past the end.
  Bytes overlong = {0x81, 0xca, 0x00, 0x02, 0, 0, 0, 1, 0x01, 0x09, 'a', 'b'};
  EXPECT_EQ(Sdes::parse(single(overlong)).error(), ParseError::kMalformed);
  // No null item ends the list.
  Bytes unterminated = {0x81, 0xca, 0x00, 0x02, 0, 0, 0, 1, 0x01, 0x02, 'a', 'b'};
  EXPECT_EQ(Sdes::parse(single(unterminated)).error(), ParseError::kMalformed);
  // Two chunks declared, one present.
  Bytes missing = kSdes;
  missing[0] = 0x82;
  EXPECT_EQ(Sdes::parse(single(missing)).error(), ParseError::kMalformed);
}

TEST(Rtcp, ByeParseAndRoundTrip) {
  const Bytes bye = {0x82, 0xcb, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2, 0x03, 'b', 'y', 'e'};
  auto b = Bye::parse(single(bye));
  ASSERT_TRUE(b);
  ASSERT_EQ(b->ssrcs().size(), 2u);
  EXPECT_EQ(b->ssrcs()[0], Ssrc{1});
  EXPECT_EQ(b->ssrcs()[1], Ssrc{2});
  EXPECT_EQ(b->reason(), "bye");
  std::array<uint8_t, 64> out{};
  const Ssrc ssrcs[] = {Ssrc{1}, Ssrc{2}};
  const size_t n = Bye::write(out, ssrcs, "bye");
  EXPECT_EQ(Bytes(out.begin(), out.begin() + n), bye);
  const size_t m = Bye::write(out, std::span(ssrcs, 1), "gone away");
  auto c = Bye::parse(single(std::span(out).first(m)));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->reason(), "gone away");
  // Reason longer than the packet.
  Bytes bad = bye;
  bad[12] = 9;
  EXPECT_EQ(Bye::parse(single(bad)).error(), ParseError::kMalformed);
}

TEST(Rtcp, NackExpandsPidAndBlp) {
  const Bytes nack = {0x81, 0xcd, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2, 0x00, 0x64, 0x80, 0x05};
  auto n = Nack::parse(single(nack));
  ASSERT_TRUE(n);
  EXPECT_EQ(n->sender_ssrc(), Ssrc{1});
  EXPECT_EQ(n->media_ssrc(), Ssrc{2});
  std::vector<uint16_t> lost;
  n->for_each_lost([&](uint16_t s) { lost.push_back(s); });
  EXPECT_EQ(lost, (std::vector<uint16_t>{100, 101, 103, 116}));
}

TEST(Rtcp, NackBuildsFromListAcrossWrap) {
  const std::vector<uint16_t> lost = {65534, 65535, 0, 15, 16, 40, 1000};
  EXPECT_EQ(Nack::item_count(lost), 4u);  // {65534: 65535, 0}, {15: 16}, {40}, {1000}
  std::array<uint8_t, 64> out{};
  const size_t size = Nack::write(out, Ssrc{9}, Ssrc{10}, lost);
  ASSERT_EQ(size, 12u + 4 * 4);
  auto n = Nack::parse(single(std::span(out).first(size)));
  ASSERT_TRUE(n);
  EXPECT_EQ(n->items()[0].pid, 65534);
  EXPECT_EQ(n->items()[0].blp, 0b11);  // 65535, 0
  EXPECT_EQ(n->items()[1].pid, 15);
  EXPECT_EQ(n->items()[1].blp, 0b1);  // 16
  std::vector<uint16_t> back;
  n->for_each_lost([&](uint16_t s) { back.push_back(s); });
  EXPECT_EQ(back, lost);
  EXPECT_EQ(Nack::write(out, Ssrc{9}, Ssrc{10}, {}), 0u);
  // A NACK with no FCI is malformed.
  const Bytes empty = {0x81, 0xcd, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2};
  EXPECT_EQ(Nack::parse(single(empty)).error(), ParseError::kMalformed);
}

TEST(Rtcp, PliParseAndBuild) {
  const Bytes pli = {0x81, 0xce, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2};
  auto p = Pli::parse(single(pli));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->sender_ssrc(), Ssrc{1});
  EXPECT_EQ(p->media_ssrc(), Ssrc{2});
  std::array<uint8_t, 12> out{};
  ASSERT_EQ(Pli::write(out, Ssrc{1}, Ssrc{2}), 12u);
  EXPECT_EQ(Bytes(out.begin(), out.end()), pli);
  std::array<uint8_t, 11> small{};
  EXPECT_EQ(Pli::write(small, Ssrc{1}, Ssrc{2}), 0u);
  EXPECT_EQ(Pli::parse(single(kSr)).error(), ParseError::kWrongType);
  // FIR is PSFB too but FMT 4.
  const Bytes fir = {0x84, 0xce, 0x00, 0x04, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 7, 0, 0, 0};
  EXPECT_EQ(Pli::parse(single(fir)).error(), ParseError::kWrongType);
  // Feedback shorter than its two SSRCs.
  const Bytes short_fb = {0x81, 0xce, 0x00, 0x01, 0, 0, 0, 1};
  EXPECT_EQ(Pli::parse(single(short_fb)).error(), ParseError::kTruncated);
}

TEST(Rtcp, FirParseAndRoundTrip) {
  const Bytes fir = {0x84, 0xce, 0x00, 0x04, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 7, 0, 0, 0};
  auto f = Fir::parse(single(fir));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->sender_ssrc(), Ssrc{1});
  ASSERT_EQ(f->entries().size(), 1u);
  EXPECT_EQ(f->entries()[0].ssrc, Ssrc{2});
  EXPECT_EQ(f->entries()[0].seq, 7);
  std::array<uint8_t, 64> out{};
  const FirEntry entries[] = {{Ssrc{2}, 7}};
  const size_t n = Fir::write(out, Ssrc{1}, entries);
  EXPECT_EQ(Bytes(out.begin(), out.begin() + n), fir);
  const FirEntry two[] = {{Ssrc{5}, 1}, {Ssrc{6}, 255}};
  auto g = Fir::parse(single(std::span(out).first(Fir::write(out, Ssrc{1}, two))));
  ASSERT_TRUE(g);
  ASSERT_EQ(g->entries().size(), 2u);
  EXPECT_EQ(g->entries()[1].ssrc, Ssrc{6});
  EXPECT_EQ(g->entries()[1].seq, 255);
}

TEST(Rtcp, RembParseAndRoundTrip) {
  // 1 SSRC, exponent 2, mantissa 250000: 1 Mbit/s.
  const Bytes remb = {0x8f, 0xce, 0x00, 0x05, 0, 0, 0, 1, 0, 0, 0, 0,
                      'R',  'E',  'M',  'B',  1, 0x0b, 0xd0, 0x90, 0, 0, 0, 2};
  auto r = Remb::parse(single(remb));
  ASSERT_TRUE(r) << to_string(r.error());
  EXPECT_EQ(r->sender_ssrc(), Ssrc{1});
  EXPECT_EQ(r->bitrate_bps(), 1'000'000u);
  ASSERT_EQ(r->ssrcs().size(), 1u);
  EXPECT_EQ(r->ssrcs()[0], Ssrc{2});
  std::array<uint8_t, 64> out{};
  const Ssrc ssrcs[] = {Ssrc{2}};
  const size_t n = Remb::write(out, Ssrc{1}, 1'000'000, ssrcs);
  EXPECT_EQ(Bytes(out.begin(), out.begin() + n), remb);
  // A large bitrate keeps 18 significant bits.
  const size_t m = Remb::write(out, Ssrc{1}, 123'456'789'012, ssrcs);
  auto big = Remb::parse(single(std::span(out).first(m)));
  ASSERT_TRUE(big);
  EXPECT_LE(big->bitrate_bps(), 123'456'789'012u);
  EXPECT_GT(big->bitrate_bps(), 123'456'789'012u - (123'456'789'012u >> 17));
  // Another application layer feedback is not REMB.
  Bytes other = remb;
  other[12] = 'X';
  EXPECT_EQ(Remb::parse(single(other)).error(), ParseError::kWrongType);
  // SSRC count past the end.
  Bytes count = remb;
  count[16] = 2;
  EXPECT_EQ(Remb::parse(single(count)).error(), ParseError::kTruncated);
}

TEST(RtcpCompound, IteratesSrPlusSdes) {
  std::array<uint8_t, 256> buf{};
  SenderInfo info;
  info.ntp = NtpTime::from_parts(10, 20);
  info.rtp_timestamp = 30;
  size_t n = SenderReport::write(buf, Ssrc{1}, info);
  ASSERT_EQ(n, 28u);
  const Sdes::Chunk chunk{Ssrc{1}, "cname-1"};
  n += Sdes::write(std::span(buf).subspan(n), std::span(&chunk, 1));
  const ByteView compound = std::span(buf).first(n);
  EXPECT_EQ(validate_compound(compound), ParseError::kNone);

  std::vector<PacketType> types;
  bool ok = rtcp::for_each(compound, [&](const rtcp::PacketView& p) {
    types.push_back(p.type());
    if (auto sr = SenderReport::parse(p)) {
      EXPECT_EQ(sr->sender_info().ntp, info.ntp);
      EXPECT_EQ(sr->sender_info().rtp_timestamp, 30u);
      EXPECT_TRUE(sr->report_blocks().empty());
    }
    if (auto sdes = Sdes::parse(p)) {
      EXPECT_EQ(sdes->cname(Ssrc{1}), "cname-1");
    }
  });
  EXPECT_TRUE(ok);
  EXPECT_EQ(types, (std::vector<PacketType>{PacketType::kSr, PacketType::kSdes}));
}

TEST(RtcpCompound, AcceptsALoneReducedSizePli) {
  const Bytes pli = {0x81, 0xce, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2};
  int count = 0;
  EXPECT_TRUE(rtcp::for_each(pli, [&](const rtcp::PacketView& p) {
    EXPECT_TRUE(p.is(PacketType::kPsfb, kFmtPli));
    EXPECT_TRUE(Pli::parse(p));
    ++count;
  }));
  EXPECT_EQ(count, 1);
}

TEST(RtcpCompound, RejectsMalformedHeadersAsAWhole) {
  int calls = 0;
  auto count = [&](const rtcp::PacketView&) { ++calls; };
  // Second packet's length runs past the end: nothing is delivered.
  Bytes past = kSr;
  const Bytes tail = {0x81, 0xce, 0x00, 0x05, 0, 0, 0, 1};
  past.insert(past.end(), tail.begin(), tail.end());
  EXPECT_FALSE(rtcp::for_each(past, count));
  EXPECT_EQ(validate_compound(past), ParseError::kBadLength);
  // Bad version.
  Bytes v1 = kSdes;
  v1[0] = 0x41;
  EXPECT_EQ(validate_compound(v1), ParseError::kBadVersion);
  // Truncated header, and trailing garbage after a valid packet.
  EXPECT_EQ(validate_compound(Bytes{0x80, 0xc8}), ParseError::kTruncated);
  Bytes trailing = kSdes;
  trailing.push_back(0x80);
  EXPECT_NE(validate_compound(trailing), ParseError::kNone);
  // Padding count larger than the body, or zero.
  Bytes pad = {0xa1, 0xce, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 0x09};
  EXPECT_EQ(validate_compound(pad), ParseError::kBadPadding);
  pad.back() = 0;
  EXPECT_EQ(validate_compound(pad), ParseError::kBadPadding);
  EXPECT_EQ(validate_compound({}), ParseError::kTruncated);
  EXPECT_EQ(calls, 0);
  // Valid padding is stripped from the body.
  pad.back() = 4;
  auto p = rtcp::PacketView::parse(pad);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->body().size(), 4u);
  EXPECT_EQ(p->size(), 12u);
}

TEST(RtcpCompound, IteratorReportsWhereItStopped) {
  Bytes data = kSdes;
  data.push_back(0x80);
  data.push_back(0xc8);
  CompoundIterator it(data);
  auto first = it.next();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->type(), PacketType::kSdes);
  EXPECT_FALSE(it.next());
  EXPECT_EQ(it.error(), ParseError::kTruncated);
  EXPECT_FALSE(it.next());
}
