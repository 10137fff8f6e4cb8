#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "rtp/ExtensionIdMap.hpp"
#include "rtp/ExtensionValues.hpp"
#include "rtp/ExtensionWriter.hpp"
#include "rtp/MutablePacket.hpp"
#include "rtp/PacketView.hpp"

using namespace sb::rtp;
using sb::util::Bytes;

namespace {

Bytes with_extension(std::initializer_list<uint8_t> block) {
  Bytes b = {0x90, 0x60, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01};
  b.reserve(b.size() + block.size() + 1);
  for (uint8_t x : block) b.push_back(x);
  b.push_back(0x77);  // one payload byte
  return b;
}

std::vector<std::pair<uint8_t, Bytes>> elements_of(const PacketView& p) {
  std::vector<std::pair<uint8_t, Bytes>> out;
  for (const HeaderExtension& e : p.extensions()) out.emplace_back(e.id, Bytes(e.value.begin(), e.value.end()));
  return out;
}

using Elements = std::vector<std::pair<uint8_t, Bytes>>;

}  // namespace

TEST(HeaderExtensions, IteratesOneByteFormSkippingPadding) {
  // id1 len1 = aa, two padding bytes, id14 len2 = 01 02, padding to 8.
  const Bytes b = with_extension({0xbe, 0xde, 0x00, 0x02, 0x10, 0xaa, 0x00, 0x00, 0xe1, 0x01, 0x02, 0x00});
  auto p = PacketView::parse(b);
  ASSERT_TRUE(p) << to_string(p.error());
  EXPECT_EQ(p->extensions().profile(), ExtensionProfile::kOneByte);
  EXPECT_EQ(elements_of(*p), (Elements{{1, {0xaa}}, {14, {0x01, 0x02}}}));
  EXPECT_EQ(p->payload_size(), 1u);
}

TEST(HeaderExtensions, OneByteIdFifteenStopsProcessing) {
  // RFC 8285 §4.2: elements after id 15 are ignored, its length nibble too.
  const Bytes b = with_extension({0xbe, 0xde, 0x00, 0x01, 0x10, 0xaa, 0xff, 0x20});
  auto p = PacketView::parse(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(elements_of(*p), (Elements{{1, {0xaa}}}));
}

TEST(HeaderExtensions, IteratesTwoByteFormWithEmptyValues) {
  // 0x1000 with appbits 0x5, id1 len0, id200 len3, padding.
  const Bytes b = with_extension({0x10, 0x05, 0x00, 0x02, 0x01, 0x00, 0xc8, 0x03, 0xaa, 0xbb, 0xcc, 0x00});
  auto p = PacketView::parse(b);
  ASSERT_TRUE(p) << to_string(p.error());
  EXPECT_EQ(p->extensions().profile(), ExtensionProfile::kTwoByte);
  EXPECT_EQ(elements_of(*p), (Elements{{1, {}}, {200, {0xaa, 0xbb, 0xcc}}}));
  auto empty = p->extensions().find(1);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(HeaderExtensions, UnknownProfileHasNoElementsButIsValid) {
  const Bytes b = with_extension({0x12, 0x34, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff});
  auto p = PacketView::parse(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->extension_profile_id(), 0x1234);
  EXPECT_TRUE(p->extensions().empty());
}

TEST(HeaderExtensions, EmptyBlockIsValid) {
  const Bytes b = with_extension({0xbe, 0xde, 0x00, 0x00});
  auto p = PacketView::parse(b);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->extensions().empty());
}

TEST(HeaderExtensions, RemapsOneByteIdsAndDropsAsPadding) {
  Bytes b = with_extension({0xbe, 0xde, 0x00, 0x02, 0x10, 0xaa, 0x22, 0x01, 0x02, 0x03, 0x30, 0xbb});
  auto m = MutablePacket::parse(b);
  ASSERT_TRUE(m);
  ExtensionIdMap map;
  map.set(1, 5);
  map.set(2, 0);   // dropped
  map.set(3, 20);  // cannot be encoded in one byte: dropped
  EXPECT_EQ(remap_extension_ids(*m, map), 1u);
  const Bytes expected_block = {0x50, 0xaa, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(Bytes(b.begin() + 16, b.begin() + 24), expected_block);
  auto p = PacketView::parse(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(elements_of(*p), (Elements{{5, {0xaa}}}));
  EXPECT_EQ(p->payload()[0], 0x77);
}

TEST(HeaderExtensions, RemapsTwoByteIds) {
  Bytes b = with_extension({0x10, 0x00, 0x00, 0x02, 0x01, 0x01, 0xaa, 0x02, 0x02, 0xbb, 0xcc, 0x00});
  auto m = MutablePacket::parse(b);
  ASSERT_TRUE(m);
  ExtensionIdMap map = ExtensionIdMap::identity();
  map.set(1, 200);
  map.set(2, 3);
  EXPECT_EQ(remap_extension_ids(*m, map), 2u);
  auto p = PacketView::parse(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(elements_of(*p), (Elements{{200, {0xaa}}, {3, {0xbb, 0xcc}}}));
  map.set(200, 0);
  EXPECT_EQ(remap_extension_ids(*m, map), 1u);
  auto q = PacketView::parse(b);
  ASSERT_TRUE(q);
  EXPECT_EQ(elements_of(*q), (Elements{{3, {0xbb, 0xcc}}}));
}

TEST(HeaderExtensions, RemapWithoutExtensionIsANoop) {
  Bytes b = {0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xaa};
  const Bytes before = b;
  auto m = MutablePacket::parse(b);
  ASSERT_TRUE(m);
  EXPECT_EQ(remap_extension_ids(*m, ExtensionIdMap::identity()), 0u);
  EXPECT_EQ(b, before);
}

TEST(ExtensionWriter, BuildsOneByteBlock) {
  std::array<uint8_t, 32> out{};
  ExtensionWriter w(out, ExtensionProfile::kOneByte);
  EXPECT_TRUE(w.add_transport_sequence(3, 0x1234));
  EXPECT_TRUE(w.add_abs_send_time(2, 0xabcdef));
  const size_t n = w.finish();
  ASSERT_EQ(n, 12u);
  const Bytes expected = {0xbe, 0xde, 0x00, 0x02, 0x31, 0x12, 0x34, 0x22, 0xab, 0xcd, 0xef, 0x00};
  EXPECT_EQ(Bytes(out.begin(), out.begin() + n), expected);
  EXPECT_EQ(w.finish(), n);              // idempotent
  EXPECT_FALSE(w.add_string(4, "x"));  // closed
}

TEST(ExtensionWriter, BuildsTwoByteBlock) {
  std::array<uint8_t, 32> out{};
  ExtensionWriter w(out, ExtensionProfile::kTwoByte);
  EXPECT_TRUE(w.add_string(20, "abc"));
  EXPECT_TRUE(w.add(21, {}));
  const size_t n = w.finish();
  ASSERT_EQ(n, 12u);
  const Bytes expected = {0x10, 0x00, 0x00, 0x02, 20, 3, 'a', 'b', 'c', 21, 0, 0};
  EXPECT_EQ(Bytes(out.begin(), out.begin() + n), expected);
}

TEST(ExtensionWriter, RejectsWhatTheFormCannotCarry) {
  std::array<uint8_t, 64> out{};
  const uint8_t big[17] = {};
  {
    ExtensionWriter w(out, ExtensionProfile::kOneByte);
    EXPECT_FALSE(w.add(15, Bytes{1}));
    EXPECT_EQ(w.finish(), 0u);
  }
  {
    ExtensionWriter w(out, ExtensionProfile::kOneByte);
    EXPECT_FALSE(w.add(0, Bytes{1}));
  }
  {
    ExtensionWriter w(out, ExtensionProfile::kOneByte);
    EXPECT_FALSE(w.add(1, big));
  }
  {
    ExtensionWriter w(out, ExtensionProfile::kOneByte);
    EXPECT_FALSE(w.add(1, {}));
  }
  {
    ExtensionWriter w{std::span(out).first(6), ExtensionProfile::kOneByte};
    EXPECT_TRUE(w.add(1, Bytes{1}));  // 2 bytes fit, but padding to 8 does not
    EXPECT_EQ(w.finish(), 0u);
  }
  {
    ExtensionWriter w(out, ExtensionProfile::kTwoByte);
    EXPECT_EQ(w.finish(), 0u);  // nothing added: no block
  }
}

TEST(ExtensionValues, ReadAndWriteEachKind) {
  uint8_t two[2];
  EXPECT_TRUE(write_transport_sequence(two, 0xbeef));
  EXPECT_EQ(two[0], 0xbe);
  EXPECT_EQ(read_transport_sequence(two), 0xbeef);
  EXPECT_FALSE(read_transport_sequence(std::span(two).first(1)));

  uint8_t three[3];
  EXPECT_TRUE(write_abs_send_time(three, 0x123456));
  EXPECT_EQ(read_abs_send_time(three), 0x123456u);
  EXPECT_FALSE(write_abs_send_time(two, 1));
  // 1.5 s is 1.5 * 2^18 in 6.18 fixed point; NTP 1.5 s gives the same bits.
  EXPECT_EQ(abs_send_time_from(std::chrono::milliseconds(1500)), 0x060000u);
  EXPECT_EQ(abs_send_time_from(NtpTime::from_parts(1, 0x80000000)), 0x060000u);
  // Wraps every 64 s.
  EXPECT_EQ(abs_send_time_from(std::chrono::seconds(64)), 0u);

  uint8_t one[1];
  EXPECT_TRUE(write_audio_level(one, AudioLevel{true, 30}));
  EXPECT_EQ(one[0], 0x80 | 30);
  auto level = read_audio_level(one);
  ASSERT_TRUE(level);
  EXPECT_TRUE(level->voice_activity);
  EXPECT_EQ(level->level_dbov, 30);

  const Bytes mid = {'a', 'u', 'd', 'i', 'o', 0, 0};
  EXPECT_EQ(read_string_value(mid), "audio");
  EXPECT_FALSE(read_string_value(Bytes{0}));
}

TEST(ExtensionValues, MidAndRidRoundTripThroughAPacket) {
  std::array<uint8_t, 64> block{};
  ExtensionWriter w(block, ExtensionProfile::kOneByte);
  ASSERT_TRUE(w.add_string(1, "0"));
  ASSERT_TRUE(w.add_string(2, "hi"));
  ASSERT_TRUE(w.add_audio_level(3, false, 127));
  const size_t n = w.finish();
  ASSERT_GT(n, 0u);
  Bytes pkt = {0x90, 0x6f, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1};
  for (size_t i = 0; i < n; ++i) pkt.push_back(block[i]);
  auto p = PacketView::parse(pkt);
  ASSERT_TRUE(p);
  EXPECT_EQ(read_string_value(*p->extensions().find(1)), "0");
  EXPECT_EQ(read_string_value(*p->extensions().find(2)), "hi");
  EXPECT_EQ(read_audio_level(*p->extensions().find(3))->level_dbov, 127);
}
