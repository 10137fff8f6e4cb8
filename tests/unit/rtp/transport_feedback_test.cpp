#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "rtp/rtcp/Compound.hpp"
#include "rtp/rtcp/TransportFeedback.hpp"

using namespace sb::rtp;
using namespace sb::rtp::rtcp;
using sb::util::Bytes;
using sb::util::ByteView;
using sb::util::Timestamp;
using std::chrono::microseconds;
using std::chrono::milliseconds;

namespace {

std::vector<TwccPacketStatus> statuses_of(const TransportFeedback& fb) {
  std::vector<TwccPacketStatus> out;
  fb.for_each_packet([&](const TwccPacketStatus& s) { out.push_back(s); });
  return out;
}

Parsed<TransportFeedback> parse_single(ByteView data) {
  auto p = rtcp::PacketView::parse(data);
  if (!p) return p.error();
  EXPECT_EQ(p->size(), data.size());
  return TransportFeedback::parse(*p);
}

Timestamp at_us(int64_t us) { return Timestamp(microseconds(us)); }

uint16_t first_chunk(ByteView packet) { return sb::util::load_be16(&packet[20]); }

}  // namespace

TEST(TransportFeedback, ParsesHandMadeTwoBitVector) {
  // base 100, 5 statuses, reference time 1 (64 ms), feedback count 7.
  // One 2-bit vector chunk: small, not received, large, small, small.
  // Deltas: 4 (1 ms), -1 (-250 µs), 8 (2 ms), 255; one byte of RTCP padding.
  const Bytes fb = {0xaf, 0xcd, 0x00, 0x06, 0, 0, 0, 1, 0, 0, 0, 2,
                    0x00, 0x64, 0x00, 0x05, 0x00, 0x00, 0x01, 0x07,
                    0xd2, 0x50, 0x04, 0xff, 0xff, 0x08, 0xff, 0x01};
  auto t = parse_single(fb);
  ASSERT_TRUE(t) << to_string(t.error());
  EXPECT_EQ(t->sender_ssrc(), Ssrc{1});
  EXPECT_EQ(t->media_ssrc(), Ssrc{2});
  EXPECT_EQ(t->base_sequence(), 100);
  EXPECT_EQ(t->status_count(), 5);
  EXPECT_EQ(t->reference_time(), 1u);
  EXPECT_EQ(t->reference_time_us(), 64'000);
  EXPECT_EQ(t->feedback_count(), 7);
  auto s = statuses_of(*t);
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s[0].seq, 100);
  EXPECT_TRUE(s[0].received);
  EXPECT_EQ(s[0].delta_us, 1000);
  EXPECT_EQ(s[0].arrival_us, 65'000);
  EXPECT_EQ(s[1].seq, 101);
  EXPECT_FALSE(s[1].received);
  EXPECT_TRUE(s[2].received);
  EXPECT_EQ(s[2].delta_us, -250);
  EXPECT_EQ(s[2].arrival_us, 64'750);
  EXPECT_EQ(s[3].arrival_us, 66'750);
  EXPECT_EQ(s[4].seq, 104);
  EXPECT_EQ(s[4].delta_us, 255 * 250);
  EXPECT_EQ(s[4].arrival_us, 130'500);
}

TEST(TransportFeedback, ParsesRunLengthAndOneBitChunks) {
  // Run of 3 "small", then a 1-bit vector: received, lost, received (11 unused slots).
  const Bytes fb = {0x8f, 0xcd, 0x00, 0x07, 0, 0, 0, 1, 0, 0, 0, 2,
                    0xff, 0xfe, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00,
                    0x20, 0x03, 0xa8, 0x00, 1, 2, 3, 4, 5, 0, 0, 0};
  auto t = parse_single(fb);
  ASSERT_TRUE(t) << to_string(t.error());
  auto s = statuses_of(*t);
  ASSERT_EQ(s.size(), 6u);
  const std::vector<uint16_t> seqs = {65534, 65535, 0, 1, 2, 3};
  const std::vector<bool> received = {true, true, true, true, false, true};
  const std::vector<int64_t> arrivals = {250, 750, 1500, 2500, 0, 3750};
  for (size_t i = 0; i < s.size(); ++i) {
    EXPECT_EQ(s[i].seq, seqs[i]) << i;
    EXPECT_EQ(s[i].received, received[i]) << i;
    if (received[i]) {
      EXPECT_EQ(s[i].arrival_us, arrivals[i]) << i;
    }
  }
}

TEST(TransportFeedback, RejectsMalformed) {
  const Bytes good = {0xaf, 0xcd, 0x00, 0x06, 0, 0, 0, 1, 0, 0, 0, 2,
                      0x00, 0x64, 0x00, 0x05, 0x00, 0x00, 0x01, 0x07,
                      0xd2, 0x50, 0x04, 0xff, 0xff, 0x08, 0xff, 0x01};
  // More statuses than chunks.
  Bytes more = good;
  more[15] = 8;
  EXPECT_EQ(parse_single(more).error(), ParseError::kMalformed);
  // Deltas missing: the last delta byte becomes padding.
  Bytes fewer = good;
  fewer[27] = 2;
  EXPECT_EQ(parse_single(fewer).error(), ParseError::kMalformed);
  // Reserved symbol 11 in a 2-bit vector.
  Bytes reserved = good;
  reserved[20] = 0xf2;
  EXPECT_EQ(parse_single(reserved).error(), ParseError::kMalformed);
  // FCI shorter than its fixed part.
  const Bytes tiny = {0x8f, 0xcd, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 0, 1};
  EXPECT_EQ(parse_single(tiny).error(), ParseError::kTruncated);
  // A NACK is not transport feedback.
  const Bytes nack = {0x81, 0xcd, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 0, 0};
  EXPECT_EQ(parse_single(nack).error(), ParseError::kWrongType);
}

TEST(TransportFeedback, RoundTripWithLossLargeAndNegativeDeltas) {
  // Starts near the wrap; 65535 missing from the list (a gap), 1 explicitly lost,
  // 3 arrives 100 ms late (large), 4 before 3 (negative, large).
  const int64_t t0 = 1'000'000'123'000;  // arbitrary clock origin, multiple of 250 µs
  std::vector<TwccEntry> entries = {
      {65533, at_us(t0)},
      {65534, at_us(t0 + 1'000)},
      {0, at_us(t0 + 2'500)},
      {1, std::nullopt},
      {2, at_us(t0 + 3'000)},
      {3, at_us(t0 + 103'000)},
      {4, at_us(t0 + 90'000)},
      {5, at_us(t0 + 90'250)},
  };
  std::array<uint8_t, 256> out{};
  size_t written = 0;
  const size_t n = TransportFeedback::write(out, Ssrc{11}, Ssrc{22}, 9, entries, &written);
  ASSERT_GT(n, 0u);
  EXPECT_EQ(n % 4, 0u);
  EXPECT_EQ(written, entries.size());
  // Valid as a lone (reduced-size) RTCP packet.
  EXPECT_EQ(validate_compound(std::span(out).first(n)), ParseError::kNone);

  auto t = parse_single(std::span(out).first(n));
  ASSERT_TRUE(t) << to_string(t.error());
  EXPECT_EQ(t->sender_ssrc(), Ssrc{11});
  EXPECT_EQ(t->media_ssrc(), Ssrc{22});
  EXPECT_EQ(t->feedback_count(), 9);
  EXPECT_EQ(t->base_sequence(), 65533);
  EXPECT_EQ(t->status_count(), 9);  // 65533 .. 5
  // Reference time is the first arrival floored to 64 ms.
  EXPECT_EQ(t->reference_time(), uint32_t(t0 / 64'000) & 0xFFFFFF);
  auto s = statuses_of(*t);
  ASSERT_EQ(s.size(), 9u);
  const int64_t origin = s[0].arrival_us;
  EXPECT_EQ(origin - t->reference_time_us(), t0 % 64'000);
  const std::vector<std::pair<uint16_t, int64_t>> expected = {
      {65533, 0}, {65534, 1'000}, {65535, -1}, {0, 2'500}, {1, -1},
      {2, 3'000}, {3, 103'000},  {4, 90'000}, {5, 90'250}};
  for (size_t i = 0; i < s.size(); ++i) {
    EXPECT_EQ(s[i].seq, expected[i].first) << i;
    EXPECT_EQ(s[i].received, expected[i].second >= 0) << i;
    if (s[i].received) {
      EXPECT_EQ(s[i].arrival_us - origin, expected[i].second) << i;
    }
  }
  EXPECT_EQ(s[6].delta_us, 100'000);  // large
  EXPECT_EQ(s[7].delta_us, -13'000);  // negative
}

TEST(TransportFeedback, UsesRunLengthForLongRuns) {
  std::vector<TwccEntry> entries;
  for (uint16_t i = 0; i < 20; ++i) entries.push_back({uint16_t(500 + i), at_us(64'000 * 10 + 1000 * i)});
  std::array<uint8_t, 256> out{};
  const size_t n = TransportFeedback::write(out, Ssrc{1}, Ssrc{2}, 0, entries);
  ASSERT_GT(n, 0u);
  // 20 small deltas in a single run-length chunk: T=0, S=01, length 20.
  EXPECT_EQ(first_chunk(out), 0x2000 | 20);
  EXPECT_EQ(n, 20u + 2 + 20 + 2);  // fixed, one chunk, deltas, padding
  auto t = parse_single(std::span(out).first(n));
  ASSERT_TRUE(t);
  auto s = statuses_of(*t);
  ASSERT_EQ(s.size(), 20u);
  for (size_t i = 1; i < s.size(); ++i) EXPECT_EQ(s[i].delta_us, 1000);

  // A long run of losses between two received packets: a 1-bit vector takes the
  // first 14 statuses, then one run chunk holds the remaining 16 losses.
  std::vector<TwccEntry> gap = {{10, at_us(0)}, {40, at_us(250)}};
  const size_t m = TransportFeedback::write(out, Ssrc{1}, Ssrc{2}, 0, gap);
  auto g = parse_single(std::span(out).first(m));
  ASSERT_TRUE(g);
  EXPECT_EQ(g->status_count(), 31);
  EXPECT_EQ(first_chunk(out) & 0xC000, 0x8000);
  EXPECT_EQ(sb::util::load_be16(&out[22]), 16);  // T=0, S=00 (not received), length 16
  auto gs = statuses_of(*g);
  EXPECT_TRUE(gs.front().received);
  EXPECT_TRUE(gs.back().received);
  EXPECT_EQ(gs.back().arrival_us - gs.front().arrival_us, 250);
}

TEST(TransportFeedback, UsesOneBitAndTwoBitVectors) {
  std::array<uint8_t, 256> out{};
  // Alternating received/lost, small deltas only: a 1-bit vector.
  std::vector<TwccEntry> alternate;
  for (uint16_t i = 0; i < 10; ++i) {
    alternate.push_back({i, i % 2 ? std::nullopt : std::optional<Timestamp>(at_us(1000 * i))});
  }
  size_t n = TransportFeedback::write(out, Ssrc{1}, Ssrc{2}, 0, alternate);
  ASSERT_GT(n, 0u);
  EXPECT_EQ(first_chunk(out) & 0xC000, 0x8000);
  auto a = parse_single(std::span(out).first(n));
  ASSERT_TRUE(a);
  auto as = statuses_of(*a);
  ASSERT_EQ(as.size(), 10u);
  for (size_t i = 0; i < as.size(); ++i) EXPECT_EQ(as[i].received, i % 2 == 0) << i;

  // A large delta among mixed statuses: a 2-bit vector.
  std::vector<TwccEntry> mixed = {{0, at_us(0)}, {1, std::nullopt}, {2, at_us(500'000)}, {3, at_us(500'250)}};
  n = TransportFeedback::write(out, Ssrc{1}, Ssrc{2}, 0, mixed);
  ASSERT_GT(n, 0u);
  EXPECT_EQ(first_chunk(out) & 0xC000, 0xC000);
  auto m = parse_single(std::span(out).first(n));
  ASSERT_TRUE(m);
  auto ms = statuses_of(*m);
  ASSERT_EQ(ms.size(), 4u);
  EXPECT_FALSE(ms[1].received);
  EXPECT_EQ(ms[2].arrival_us - ms[0].arrival_us, 500'000);
  EXPECT_EQ(ms[3].delta_us, 250);
}

TEST(TransportFeedback, StopsWhereADeltaCannotBeEncoded) {
  // 10 s is beyond a signed 16-bit count of 250 µs units (8.19 s).
  std::vector<TwccEntry> entries = {{1, at_us(0)}, {2, at_us(1000)}, {3, at_us(10'001'000)}, {4, at_us(10'002'000)}};
  std::array<uint8_t, 256> out{};
  size_t written = 0;
  const size_t n = TransportFeedback::write(out, Ssrc{1}, Ssrc{2}, 0, entries, &written);
  ASSERT_GT(n, 0u);
  EXPECT_EQ(written, 2u);
  auto t = parse_single(std::span(out).first(n));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->status_count(), 2);
  // The rest goes into the next feedback with its own reference time.
  const size_t m = TransportFeedback::write(out, Ssrc{1}, Ssrc{2}, 1, std::span(entries).subspan(written), &written);
  ASSERT_GT(m, 0u);
  EXPECT_EQ(written, 2u);
}

TEST(TransportFeedback, StopsAtOutOfOrderEntriesAndFullBuffers) {
  std::array<uint8_t, 256> out{};
  size_t written = 0;
  std::vector<TwccEntry> unordered = {{5, at_us(0)}, {6, at_us(250)}, {6, at_us(500)}};
  ASSERT_GT(TransportFeedback::write(out, Ssrc{1}, Ssrc{2}, 0, unordered, &written), 0u);
  EXPECT_EQ(written, 2u);

  // 200 packets with large deltas do not fit 64 bytes: a prefix goes out.
  std::vector<TwccEntry> many;
  for (uint16_t i = 0; i < 200; ++i) many.push_back({i, at_us(int64_t(i) * 100'000)});
  std::array<uint8_t, 64> small{};
  const size_t n = TransportFeedback::write(small, Ssrc{1}, Ssrc{2}, 0, many, &written);
  ASSERT_GT(n, 0u);
  EXPECT_LE(n, small.size());
  EXPECT_GT(written, 0u);
  EXPECT_LT(written, many.size());
  auto t = parse_single(std::span(small).first(n));
  ASSERT_TRUE(t) << to_string(t.error());
  EXPECT_EQ(t->status_count(), written);
  auto s = statuses_of(*t);
  for (size_t i = 1; i < s.size(); ++i) EXPECT_EQ(s[i].arrival_us - s[i - 1].arrival_us, 100'000);

  EXPECT_EQ(TransportFeedback::write(out, Ssrc{1}, Ssrc{2}, 0, {}), 0u);
  std::array<uint8_t, 20> too_small{};
  EXPECT_EQ(TransportFeedback::write(too_small, Ssrc{1}, Ssrc{2}, 0, many), 0u);
}

TEST(TransportFeedback, AllLostIsValid) {
  std::vector<TwccEntry> lost = {{7, std::nullopt}, {8, std::nullopt}};
  std::array<uint8_t, 64> out{};
  const size_t n = TransportFeedback::write(out, Ssrc{1}, Ssrc{2}, 0, lost);
  ASSERT_GT(n, 0u);
  auto t = parse_single(std::span(out).first(n));
  ASSERT_TRUE(t);
  auto s = statuses_of(*t);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_FALSE(s[0].received);
  EXPECT_FALSE(s[1].received);
}
