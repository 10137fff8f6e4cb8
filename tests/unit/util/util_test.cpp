#include <gtest/gtest.h>

#include "util/Bytes.hpp"
#include "util/Hex.hpp"
#include "util/Random.hpp"
#include "util/SeqUnwrapper.hpp"
#include "util/SocketAddr.hpp"

using namespace sb::util;

TEST(SocketAddr, ParsesAndPrintsBothFamilies) {
  auto a = SocketAddr::parse("127.0.0.1:5000");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v4());
  EXPECT_TRUE(a->is_loopback());
  EXPECT_EQ(a->to_string(), "127.0.0.1:5000");
  auto b = SocketAddr::parse("[::1]:443");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->is_v6());
  EXPECT_TRUE(b->is_loopback());
  EXPECT_EQ(b->to_string(), "[::1]:443");
  EXPECT_FALSE(SocketAddr::parse("1.2.3.4"));
  EXPECT_FALSE(SocketAddr::parse("1.2.3.4:70000"));
  EXPECT_FALSE(SocketAddr::parse("::1:5"));
  EXPECT_FALSE(SocketAddr::parse("nonsense:1"));
}

TEST(SocketAddr, EqualityAndHashFollowAddressAndPort) {
  auto a = *SocketAddr::parse("10.0.0.1:1");
  auto b = *SocketAddr::parse("10.0.0.1:1");
  auto c = *SocketAddr::parse("10.0.0.1:2");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_NE(a, c);
}

TEST(ByteReader, StopsAtTheEndWithoutReadingPastIt) {
  const uint8_t data[] = {1, 2, 3};
  ByteReader r(data);
  EXPECT_EQ(r.u16(), 0x0102);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.u16(), 0);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.u8(), 0);
}

TEST(ByteWriter, ReportsOverflow) {
  uint8_t buf[3];
  ByteWriter w(buf);
  w.u16(0xabcd);
  EXPECT_TRUE(w.ok());
  w.u16(1);
  EXPECT_FALSE(w.ok());
  EXPECT_EQ(w.size(), 2u);
  EXPECT_EQ(buf[0], 0xab);
}

TEST(Hex, RoundTripsAndRejectsOddInput) {
  auto b = from_hex("de:AD be ef");
  ASSERT_TRUE(b);
  EXPECT_EQ(to_hex(*b), "deadbeef");
  EXPECT_FALSE(from_hex("abc"));
  EXPECT_FALSE(from_hex("zz"));
}

TEST(SeqUnwrapper, CrossesTheWrapBothWays) {
  SeqUnwrapper<uint16_t> u;
  int64_t a = u.unwrap(65534);
  EXPECT_EQ(u.unwrap(65535), a + 1);
  EXPECT_EQ(u.unwrap(0), a + 2);
  EXPECT_EQ(u.unwrap(65535), a + 1);  // late packet from before the wrap
  EXPECT_EQ(u.unwrap(5), a + 7);
  EXPECT_TRUE(seq_newer(1, 65535));
  EXPECT_FALSE(seq_newer(65535, 1));
}

TEST(Random, SeededIsRepeatable) {
  auto a = make_seeded_random(42);
  auto b = make_seeded_random(42);
  EXPECT_EQ(a->ice_chars(16), b->ice_chars(16));
  auto s = make_system_random()->ice_chars(24);
  EXPECT_EQ(s.size(), 24u);
}
