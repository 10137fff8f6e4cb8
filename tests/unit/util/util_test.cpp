#include <gtest/gtest.h>

#include "util/AddrMap.hpp"
#include "util/Bytes.hpp"
#include "util/LatencyHistogram.hpp"
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

namespace sb::util {
namespace {

TEST(AddrMap, FindsAssignsMovesAndErasesByValue) {
  AddrMap<int> m;
  int a = 1, b = 2;
  EXPECT_EQ(m.find(SocketAddr::v4({10, 0, 0, 1}, 5000)), nullptr) << "empty map";
  // Enough addresses to grow the table several times, v4 and v6 alike.
  std::vector<SocketAddr> addrs;
  for (uint16_t i = 0; i < 300; ++i) {
    addrs.push_back(SocketAddr::v4({10, 0, uint8_t(i >> 8), uint8_t(i)}, uint16_t(40000 + i)));
    std::array<uint8_t, 16> ip{};
    ip[0] = 0xfd;
    ip[14] = uint8_t(i >> 8);
    ip[15] = uint8_t(i);
    addrs.push_back(SocketAddr::v6(ip, 5000));
  }
  for (size_t i = 0; i < addrs.size(); ++i) ASSERT_TRUE(m.assign(addrs[i], i % 2 ? &b : &a, 1000));
  EXPECT_EQ(m.size(), addrs.size());
  for (size_t i = 0; i < addrs.size(); ++i) EXPECT_EQ(m.find(addrs[i]), i % 2 ? &b : &a) << addrs[i].to_string();
  // Same address, same port, other family or port: different keys.
  EXPECT_EQ(m.find(SocketAddr::v4({10, 0, 0, 1}, 40002)), nullptr);
  // Re-assigning moves the address to the new value without growing.
  ASSERT_TRUE(m.assign(addrs[0], &b, 1000));
  EXPECT_EQ(m.find(addrs[0]), &b);
  EXPECT_EQ(m.size(), addrs.size());
  // The limit refuses new addresses only.
  EXPECT_FALSE(m.assign(SocketAddr::v4({192, 168, 1, 1}, 1), &a, addrs.size()));
  EXPECT_TRUE(m.assign(addrs[2], &b, addrs.size()));
  // Erasing a value removes all its addresses and keeps the others findable.
  m.erase_value(&b);
  for (size_t i = 0; i < addrs.size(); ++i) {
    bool was_b = i % 2 == 1 || i == 0 || i == 2;
    EXPECT_EQ(m.find(addrs[i]), was_b ? nullptr : &a) << i;
  }
  EXPECT_EQ(m.size(), addrs.size() / 2 - 2);
}

}  // namespace
}  // namespace sb::util

namespace sb::util {
namespace {

TEST(LatencyHistogram, BucketsCoverEveryValueInOrderWithinSixPercent) {
  // Every value maps to a bucket whose range contains it, buckets are ordered,
  // and a bucket is at most 1/16 of its values wide.
  uint64_t prev_upper = 0;
  for (size_t i = 0; i < LatencyHistogram::kBuckets; ++i) {
    uint64_t upper = LatencyHistogram::upper_bound(i);
    if (i > 0) {
      EXPECT_GT(upper, prev_upper) << i;
    }
    prev_upper = upper;
  }
  for (uint64_t v : {0ull, 1ull, 31ull, 32ull, 33ull, 63ull, 64ull, 100ull, 999ull, 1000ull, 1024ull, 65535ull,
                     1'000'000ull, (1ull << 31) - 1}) {
    size_t i = LatencyHistogram::index(v);
    EXPECT_LE(v, LatencyHistogram::upper_bound(i)) << v;
    if (i > 0) {
      EXPECT_GT(v, LatencyHistogram::upper_bound(i - 1)) << v;
    }
    EXPECT_LE(LatencyHistogram::upper_bound(i) - v, v / 16 + 1) << v;
  }
  EXPECT_EQ(LatencyHistogram::index(1ull << 40), LatencyHistogram::kBuckets - 1);
}

TEST(LatencyHistogram, QuantilesOfAKnownDistribution) {
  LatencyHistogram h;
  EXPECT_EQ(h.quantile(0.5), 0u);
  // 1..1000 µs once each: the median is 500, p99 is 990, within a bucket.
  for (uint64_t v = 1; v <= 1000; ++v) h.add(v);
  EXPECT_EQ(h.count(), 1000u);
  EXPECT_EQ(h.max(), 1000u);
  EXPECT_NEAR(double(h.quantile(0.5)), 500.0, 500.0 / 16);
  EXPECT_NEAR(double(h.quantile(0.99)), 990.0, 990.0 / 16);
  EXPECT_EQ(h.quantile(1.0), 1000u) << "never above the largest sample";
  EXPECT_LE(h.quantile(0.0), 1u);
}

}  // namespace
}  // namespace sb::util
