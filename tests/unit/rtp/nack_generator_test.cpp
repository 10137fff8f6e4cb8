#include <gtest/gtest.h>

#include <array>
#include <random>
#include <set>
#include <vector>

#include "rtp/NackGenerator.hpp"

using namespace sb::rtp;
using sb::util::Timestamp;
using std::chrono::milliseconds;

namespace {

const Timestamp kT0 = Timestamp(std::chrono::seconds(100));

std::vector<uint16_t> poll(NackGenerator& g, Timestamp now, size_t max = 64) {
  std::vector<uint16_t> out(max);
  out.resize(g.poll_nacks(now, out));
  return out;
}

using Seqs = std::vector<uint16_t>;

}  // namespace

TEST(NackGenerator, InOrderStreamHasNothingMissing) {
  NackGenerator g;
  for (uint16_t s = 0; s < 100; ++s) EXPECT_FALSE(g.on_packet(kT0, s));
  EXPECT_EQ(g.missing_count(), 0u);
  EXPECT_EQ(g.poll_timeout(), sb::util::kNever);
  EXPECT_TRUE(poll(g, kT0).empty());
}

TEST(NackGenerator, GapIsNackedAtOnceThenAfterEachRtt) {
  NackGenerator g;
  g.set_rtt(milliseconds(50));
  g.on_packet(kT0, 10);
  g.on_packet(kT0, 11);
  g.on_packet(kT0, 14);
  EXPECT_EQ(g.missing_count(), 2u);
  EXPECT_EQ(g.poll_timeout(), kT0);
  EXPECT_EQ(poll(g, kT0), (Seqs{12, 13}));
  EXPECT_EQ(g.poll_timeout(), kT0 + milliseconds(50));
  EXPECT_TRUE(poll(g, kT0 + milliseconds(49)).empty());
  EXPECT_EQ(poll(g, kT0 + milliseconds(50)), (Seqs{12, 13}));
  EXPECT_EQ(g.stats().nacks_sent, 4u);
}

TEST(NackGenerator, ResendIntervalHasAFloor) {
  NackGenerator g;
  g.set_rtt(milliseconds(1));
  EXPECT_EQ(g.resend_interval(), NackGenerator::kMinResendInterval);
  g.set_rtt(milliseconds(-5));
  EXPECT_EQ(g.resend_interval(), NackGenerator::kMinResendInterval);
  EXPECT_EQ(NackGenerator().resend_interval(), NackGenerator::kDefaultRtt);
}

TEST(NackGenerator, LateArrivalIsRecoveredAndNoLongerNacked) {
  NackGenerator g;
  g.on_packet(kT0, 1);
  g.on_packet(kT0, 5);
  EXPECT_EQ(poll(g, kT0), (Seqs{2, 3, 4}));
  EXPECT_TRUE(g.on_packet(kT0 + milliseconds(10), 3));
  EXPECT_FALSE(g.on_packet(kT0 + milliseconds(10), 3));  // duplicate of the recovered one
  EXPECT_FALSE(g.on_packet(kT0 + milliseconds(10), 5));  // duplicate of the newest
  EXPECT_FALSE(g.on_packet(kT0 + milliseconds(10), 1));  // duplicate of an old one
  EXPECT_EQ(g.missing_count(), 2u);
  EXPECT_EQ(poll(g, kT0 + milliseconds(100)), (Seqs{2, 4}));
  EXPECT_EQ(g.stats().recovered, 1u);
}

TEST(NackGenerator, ReorderedBeforeAnyNackCountsAsRecovered) {
  NackGenerator g;
  g.on_packet(kT0, 1);
  g.on_packet(kT0, 3);
  EXPECT_TRUE(g.on_packet(kT0, 2));
  EXPECT_EQ(g.missing_count(), 0u);
  EXPECT_TRUE(poll(g, kT0).empty());
}

TEST(NackGenerator, GivesUpAfterMaxRetries) {
  NackGenerator g;
  g.set_rtt(milliseconds(20));
  g.on_packet(kT0, 1);
  g.on_packet(kT0, 3);
  Timestamp t = kT0;
  for (int i = 0; i < NackGenerator::kMaxRetries; ++i) {
    EXPECT_EQ(poll(g, t), (Seqs{2})) << i;
    t += milliseconds(20);
  }
  EXPECT_EQ(g.poll_timeout(), t);
  EXPECT_TRUE(poll(g, t).empty());
  EXPECT_EQ(g.missing_count(), 0u);
  EXPECT_EQ(g.stats().given_up, 1u);
  EXPECT_EQ(g.stats().nacks_sent, uint64_t(NackGenerator::kMaxRetries));
  EXPECT_FALSE(g.on_packet(t, 2));  // too late to count
}

TEST(NackGenerator, GivesUpAfterMaxAge) {
  NackGenerator g;
  g.set_rtt(milliseconds(400));
  g.on_packet(kT0, 1);
  g.on_packet(kT0, 3);
  EXPECT_EQ(poll(g, kT0), (Seqs{2}));
  EXPECT_EQ(poll(g, kT0 + milliseconds(400)), (Seqs{2}));
  EXPECT_EQ(poll(g, kT0 + milliseconds(800)), (Seqs{2}));
  EXPECT_EQ(g.poll_timeout(), kT0 + NackGenerator::kMaxAge);
  EXPECT_TRUE(poll(g, kT0 + NackGenerator::kMaxAge).empty());
  EXPECT_EQ(g.missing_count(), 0u);
  EXPECT_EQ(g.stats().given_up, 1u);
}

TEST(NackGenerator, OutputSpaceLimitsOnePoll) {
  NackGenerator g;
  g.on_packet(kT0, 0);
  g.on_packet(kT0, 11);
  EXPECT_EQ(poll(g, kT0, 4), (Seqs{1, 2, 3, 4}));
  EXPECT_EQ(g.poll_timeout(), kT0);  // the rest is still due
  EXPECT_EQ(poll(g, kT0, 100), (Seqs{5, 6, 7, 8, 9, 10}));
}

TEST(NackGenerator, WrapsAroundSequenceSpace) {
  NackGenerator g;
  g.on_packet(kT0, 65533);
  g.on_packet(kT0, 2);
  EXPECT_EQ(poll(g, kT0), (Seqs{65534, 65535, 0, 1}));
  EXPECT_TRUE(g.on_packet(kT0, 65535));
  EXPECT_TRUE(g.on_packet(kT0, 0));
  EXPECT_EQ(poll(g, kT0 + milliseconds(100)), (Seqs{65534, 1}));
}

TEST(NackGenerator, TracksAtMostMaxMissing) {
  NackGenerator g;
  g.on_packet(kT0, 0);
  g.on_packet(kT0, 500);  // 499 missing; only the newest kMaxMissing are kept
  EXPECT_EQ(g.missing_count(), NackGenerator::kMaxMissing);
  EXPECT_EQ(g.stats().given_up, 499 - NackGenerator::kMaxMissing);
  auto nacked = poll(g, kT0, 1000);
  ASSERT_EQ(nacked.size(), NackGenerator::kMaxMissing);
  EXPECT_EQ(nacked.front(), 500 - NackGenerator::kMaxMissing);
  EXPECT_EQ(nacked.back(), 499);
  // A further gap pushes the oldest out.
  g.on_packet(kT0, 502);
  EXPECT_EQ(g.missing_count(), NackGenerator::kMaxMissing);
  EXPECT_FALSE(g.on_packet(kT0, 500 - NackGenerator::kMaxMissing));
  EXPECT_TRUE(g.on_packet(kT0, 501));
}

TEST(NackGenerator, LargeJumpForwardRestarts) {
  NackGenerator g;
  g.on_packet(kT0, 100);
  g.on_packet(kT0, 102);
  EXPECT_EQ(g.missing_count(), 1u);
  g.on_packet(kT0, 102 + NackGenerator::kMaxGap + 1);
  EXPECT_EQ(g.missing_count(), 0u);
  EXPECT_EQ(g.stats().restarts, 1u);
  // A jump of exactly kMaxGap is a loss burst, not a restart.
  NackGenerator h;
  h.on_packet(kT0, 0);
  h.on_packet(kT0, NackGenerator::kMaxGap);
  EXPECT_EQ(h.missing_count(), NackGenerator::kMaxMissing);
  EXPECT_EQ(h.stats().restarts, 0u);
}

TEST(NackGenerator, FarBehindNeedsTwoConsecutivePacketsToRestart) {
  NackGenerator g;
  g.on_packet(kT0, 30000);
  g.on_packet(kT0, 30002);
  g.on_packet(kT0, 100);  // stray: ignored
  EXPECT_EQ(g.missing_count(), 1u);
  g.on_packet(kT0, 30003);
  g.on_packet(kT0, 200);
  g.on_packet(kT0, 201);  // confirmed: the source restarted at 200
  EXPECT_EQ(g.missing_count(), 0u);
  EXPECT_EQ(g.stats().restarts, 1u);
  g.on_packet(kT0, 203);
  EXPECT_EQ(poll(g, kT0), (Seqs{202}));
}

TEST(NackGenerator, ResetForgetsEverything) {
  NackGenerator g;
  g.on_packet(kT0, 1);
  g.on_packet(kT0, 5);
  g.reset();
  EXPECT_EQ(g.missing_count(), 0u);
  g.on_packet(kT0, 40000);
  g.on_packet(kT0, 40001);
  EXPECT_EQ(g.missing_count(), 0u);
}

TEST(NackGenerator, PollTimeoutIsEarliestDue) {
  NackGenerator g;
  g.set_rtt(milliseconds(100));
  g.on_packet(kT0, 1);
  g.on_packet(kT0, 3);
  poll(g, kT0);
  g.on_packet(kT0 + milliseconds(30), 5);
  EXPECT_EQ(g.poll_timeout(), kT0 + milliseconds(30));
  EXPECT_EQ(poll(g, kT0 + milliseconds(30)), (Seqs{4}));
  EXPECT_EQ(g.poll_timeout(), kT0 + milliseconds(100));
  EXPECT_EQ(poll(g, kT0 + milliseconds(100)), (Seqs{2}));
  EXPECT_EQ(g.poll_timeout(), kT0 + milliseconds(130));
}

TEST(NackGenerator, RandomisedLossNeverNacksWhatArrived) {
  // Loss, reordering and duplicates across the wrap: a NACKed sequence number
  // never arrived before, and everything lost is requested at least once.
  std::mt19937 rng(99);
  NackGenerator g;
  g.set_rtt(milliseconds(30));
  std::set<int64_t> arrived;
  std::set<int64_t> nacked;
  std::vector<int64_t> in_flight;
  Timestamp now = kT0;
  const int64_t first = 65000;
  int64_t next = first;
  for (int step = 0; step < 20000; ++step) {
    now += milliseconds(1);
    if (rng() % 20 != 0) in_flight.push_back(next);
    ++next;
    while (in_flight.size() > 3 || (!in_flight.empty() && rng() % 2 == 0)) {
      const size_t i = rng() % std::min<size_t>(in_flight.size(), 3);
      const int64_t seq = in_flight[i];
      in_flight.erase(in_flight.begin() + long(i));
      const bool recovered = g.on_packet(now, uint16_t(seq));
      EXPECT_FALSE(recovered && arrived.count(seq));
      arrived.insert(seq);
    }
    ASSERT_LE(g.missing_count(), NackGenerator::kMaxMissing);
    if (now >= g.poll_timeout()) {
      for (uint16_t s : poll(g, now)) {
        // Unwrap against the newest sequence number sent.
        const int64_t u = next - 1 - int64_t(uint16_t(uint16_t(next - 1) - s));
        EXPECT_EQ(arrived.count(u), 0u) << u;
        nacked.insert(u);
      }
    }
  }
  for (int64_t s = first; s < next - 10; ++s) {
    if (!arrived.count(s)) {
      EXPECT_EQ(nacked.count(s), 1u) << s;
    }
  }
  EXPECT_GT(g.stats().nacks_sent, 1000u);
}
