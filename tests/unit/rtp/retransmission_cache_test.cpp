#include <gtest/gtest.h>

#include <vector>

#include "rtp/RetransmissionCache.hpp"

using namespace sb::rtp;
using sb::util::Bytes;
using sb::util::ByteView;
using sb::util::Timestamp;
using std::chrono::milliseconds;

namespace {

const Timestamp kT0 = Timestamp(std::chrono::seconds(100));

Bytes packet_for(uint16_t seq, size_t size = 100) {
  Bytes b(size);
  for (size_t i = 0; i < size; ++i) b[i] = uint8_t(seq + i);
  return b;
}

bool holds(const RetransmissionCache& c, Timestamp now, uint16_t seq, const Bytes& expected) {
  auto found = c.find(now, seq);
  return found && Bytes(found->begin(), found->end()) == expected;
}

}  // namespace

TEST(RetransmissionCache, CapacityIsRoundedToPowerOfTwo) {
  EXPECT_EQ(RetransmissionCache().capacity(), RetransmissionCache::kDefaultCapacity);
  EXPECT_EQ(RetransmissionCache(64).capacity(), 64u);
  EXPECT_EQ(RetransmissionCache(100).capacity(), 128u);
  EXPECT_EQ(RetransmissionCache(0).capacity(), 1u);
  EXPECT_EQ(RetransmissionCache(1'000'000).capacity(), RetransmissionCache::kMaxCapacity);
}

TEST(RetransmissionCache, FindsWhatWasInserted) {
  RetransmissionCache c(64);
  for (uint16_t s = 10; s < 30; ++s) c.insert(kT0, s, packet_for(s));
  for (uint16_t s = 10; s < 30; ++s) EXPECT_TRUE(holds(c, kT0 + milliseconds(5), s, packet_for(s))) << s;
  EXPECT_FALSE(c.find(kT0, 9));
  EXPECT_FALSE(c.find(kT0, 30));
}

TEST(RetransmissionCache, NewerPacketEvictsTheOneSharingItsSlot) {
  RetransmissionCache c(64);
  for (uint16_t s = 0; s < 100; ++s) c.insert(kT0, s, packet_for(s));
  // 0..35 were overwritten by 64..99: their slot holds another sequence number.
  for (uint16_t s = 0; s < 36; ++s) EXPECT_FALSE(c.find(kT0, s)) << s;
  for (uint16_t s = 36; s < 100; ++s) EXPECT_TRUE(holds(c, kT0, s, packet_for(s))) << s;
}

TEST(RetransmissionCache, ExpiresAfterMaxAge) {
  RetransmissionCache c(64);
  c.insert(kT0, 7, packet_for(7));
  EXPECT_TRUE(c.find(kT0 + RetransmissionCache::kMaxAge - milliseconds(1), 7));
  EXPECT_FALSE(c.find(kT0 + RetransmissionCache::kMaxAge, 7));
}

TEST(RetransmissionCache, WrapsAroundSequenceSpace) {
  RetransmissionCache c(64);
  for (uint32_t i = 0; i < 40; ++i) {
    const uint16_t s = uint16_t(65520 + i);
    c.insert(kT0, s, packet_for(s));
  }
  for (uint32_t i = 0; i < 40; ++i) {
    const uint16_t s = uint16_t(65520 + i);
    EXPECT_TRUE(holds(c, kT0, s, packet_for(s))) << s;
  }
}

TEST(RetransmissionCache, OversizedPacketIsNotStoredAndClearsItsSlot) {
  RetransmissionCache c(64);
  c.insert(kT0, 1, packet_for(1));
  c.insert(kT0, 65, packet_for(65, RetransmissionCache::kSlotBytes + 1));
  EXPECT_FALSE(c.find(kT0, 65));
  EXPECT_FALSE(c.find(kT0, 1));
  c.insert(kT0, 66, packet_for(66, RetransmissionCache::kSlotBytes));
  EXPECT_TRUE(holds(c, kT0, 66, packet_for(66, RetransmissionCache::kSlotBytes)));
}

TEST(RetransmissionCache, StoresACopy) {
  RetransmissionCache c(64);
  Bytes p = packet_for(3);
  c.insert(kT0, 3, p);
  p[0] ^= 0xFF;
  EXPECT_TRUE(holds(c, kT0, 3, packet_for(3)));
}

TEST(RetransmissionCache, DuplicateInsertReplaces) {
  RetransmissionCache c(64);
  c.insert(kT0, 3, packet_for(3, 10));
  c.insert(kT0 + milliseconds(10), 3, packet_for(3, 20));
  EXPECT_TRUE(holds(c, kT0 + milliseconds(10), 3, packet_for(3, 20)));
}

TEST(RetransmissionCache, LateArrivalDoesNotEvictNewerPacket) {
  RetransmissionCache c(64);
  for (uint16_t s = 100; s < 200; ++s) c.insert(kT0, s, packet_for(s));
  // 130 is 69 behind the newest (199): its slot belongs to 194 now.
  c.insert(kT0, 130, packet_for(130));
  EXPECT_TRUE(holds(c, kT0, 194, packet_for(194)));
  EXPECT_FALSE(c.find(kT0, 130));
  // A reordered packet within the window is stored.
  c.insert(kT0, 140, packet_for(140, 7));
  EXPECT_TRUE(holds(c, kT0, 140, packet_for(140, 7)));
}

TEST(RetransmissionCache, RestartedSourceFarBehindIsStored) {
  RetransmissionCache c(64);
  for (uint16_t s = 20000; s < 20010; ++s) c.insert(kT0, s, packet_for(s));
  for (uint16_t s = 100; s < 110; ++s) c.insert(kT0, s, packet_for(s));
  for (uint16_t s = 100; s < 110; ++s) EXPECT_TRUE(holds(c, kT0, s, packet_for(s))) << s;
}

TEST(RetransmissionCache, AfterAPauseAnySequenceIsAccepted) {
  RetransmissionCache c(64);
  c.insert(kT0, 1000, packet_for(1000));
  const Timestamp later = kT0 + RetransmissionCache::kMaxAge;
  c.insert(later, 900, packet_for(900));
  EXPECT_TRUE(holds(c, later, 900, packet_for(900)));
}

TEST(RetransmissionCache, EmptyPacketAndClear) {
  RetransmissionCache c(8);
  c.insert(kT0, 5, {});
  auto found = c.find(kT0, 5);
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->empty());
  c.clear();
  EXPECT_FALSE(c.find(kT0, 5));
}

TEST(RetransmissionCache, NewestIsTheHighestSequenceNotTheLastInserted) {
  RetransmissionCache c(64);
  EXPECT_FALSE(c.newest());
  for (uint16_t s = 65530; s != 5; ++s) c.insert(kT0, s, packet_for(s));
  EXPECT_EQ(c.newest(), uint16_t(4));  // across the wrap
  c.insert(kT0, 2, packet_for(2, 9));  // a late arrival
  EXPECT_EQ(c.newest(), uint16_t(4));
  c.clear();
  EXPECT_FALSE(c.newest());
}
