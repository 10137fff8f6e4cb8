#include <gtest/gtest.h>

#include <array>
#include <map>
#include <random>
#include <vector>

#include "rtp/TwccRecorder.hpp"
#include "rtp/rtcp/PacketView.hpp"
#include "rtp/rtcp/TransportFeedback.hpp"

using namespace sb::rtp;
using sb::util::ByteView;
using sb::util::Timestamp;
using std::chrono::microseconds;
using std::chrono::milliseconds;

namespace {

const Timestamp kT0 = Timestamp(std::chrono::seconds(100));
constexpr uint32_t kSender = 0x11111111;
constexpr uint32_t kMedia = 0x22222222;

int64_t us_of(Timestamp t) { return sb::util::to_micros(t.time_since_epoch()); }

struct Feedback {
  uint16_t base = 0;
  uint8_t count = 0;
  std::vector<rtcp::TwccPacketStatus> statuses;
};

/// Parses what the recorder wrote, as a publisher would.
Feedback parse(ByteView data) {
  Feedback f;
  auto p = rtcp::PacketView::parse(data);
  EXPECT_TRUE(p) << to_string(p.error());
  if (!p) return f;
  EXPECT_EQ(p->size(), data.size());
  auto fb = rtcp::TransportFeedback::parse(*p);
  EXPECT_TRUE(fb) << to_string(fb.error());
  if (!fb) return f;
  EXPECT_EQ(fb->sender_ssrc(), Ssrc{kSender});
  EXPECT_EQ(fb->media_ssrc(), Ssrc{kMedia});
  f.base = fb->base_sequence();
  f.count = fb->feedback_count();
  fb->for_each_packet([&](const rtcp::TwccPacketStatus& s) { f.statuses.push_back(s); });
  EXPECT_EQ(f.statuses.size(), fb->status_count());
  return f;
}

std::optional<Feedback> poll(TwccRecorder& r, Timestamp now, size_t space = 1200) {
  std::vector<uint8_t> out(space);
  const size_t n = r.poll_feedback(now, kSender, kMedia, out);
  if (n == 0) return std::nullopt;
  EXPECT_EQ(n % 4, 0u);
  return parse(ByteView(out).first(n));
}

}  // namespace

TEST(TwccRecorder, NothingPendingNothingDue) {
  TwccRecorder r;
  EXPECT_EQ(r.poll_timeout(), sb::util::kNever);
  EXPECT_FALSE(poll(r, kT0));
}

TEST(TwccRecorder, ReportsArrivalsAfterTheInterval) {
  TwccRecorder r;
  for (uint16_t s = 0; s < 10; ++s) r.on_packet(kT0 + microseconds(1250 * s), uint16_t(500 + s));
  EXPECT_EQ(r.poll_timeout(), kT0 + TwccRecorder::kInterval);
  EXPECT_FALSE(poll(r, kT0 + milliseconds(49)));
  auto f = poll(r, kT0 + milliseconds(50));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->base, 500);
  EXPECT_EQ(f->count, 0);
  ASSERT_EQ(f->statuses.size(), 10u);
  for (size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(f->statuses[i].seq, 500 + i);
    EXPECT_TRUE(f->statuses[i].received);
    // Reference time (64 ms units) plus 250 µs deltas give back the arrival.
    EXPECT_EQ(f->statuses[i].arrival_us, us_of(kT0) + int64_t(1250 * i)) << i;
  }
  EXPECT_EQ(r.pending_count(), 0u);
  EXPECT_EQ(r.poll_timeout(), sb::util::kNever);

  r.on_packet(kT0 + milliseconds(60), 510);
  EXPECT_EQ(r.poll_timeout(), kT0 + milliseconds(100));
  auto g = poll(r, kT0 + milliseconds(100));
  ASSERT_TRUE(g);
  EXPECT_EQ(g->base, 510);
  EXPECT_EQ(g->count, 1);
  EXPECT_EQ(r.stats().feedback_sent, 2u);
}

// Feedback runs on a grid fixed by the first arrival: a late one does not move
// the next, so publishers served in the same round stay on grids of their own.
TEST(TwccRecorder, LateFeedbackKeepsThePublishersGrid) {
  TwccRecorder r;
  r.on_packet(kT0, 0);
  r.on_packet(kT0 + milliseconds(70), 1);
  EXPECT_EQ(r.poll_timeout(), kT0 + milliseconds(50));
  ASSERT_TRUE(poll(r, kT0 + milliseconds(80)));  // 30 ms late
  r.on_packet(kT0 + milliseconds(90), 2);
  // The slot at 100 ms is skipped (feedback stays at least 25 ms apart); the
  // next is at 150, not 80 + 50.
  EXPECT_EQ(r.poll_timeout(), kT0 + milliseconds(150));
  EXPECT_FALSE(poll(r, kT0 + milliseconds(130)));
  ASSERT_TRUE(poll(r, kT0 + milliseconds(150)));
  r.on_packet(kT0 + milliseconds(160), 3);
  EXPECT_EQ(r.poll_timeout(), kT0 + milliseconds(200));
}

TEST(TwccRecorder, RecordersServedTogetherStayApart) {
  TwccRecorder a, b;
  a.on_packet(kT0, 0);
  b.on_packet(kT0 + milliseconds(20), 0);
  // One timer round serves both, late (a worker that stalled).
  const Timestamp round = kT0 + milliseconds(90);
  ASSERT_TRUE(poll(a, round));
  ASSERT_TRUE(poll(b, round));
  a.on_packet(round + milliseconds(1), 1);
  b.on_packet(round + milliseconds(1), 1);
  EXPECT_EQ(a.poll_timeout(), kT0 + milliseconds(150));  // a's grid: 50, 100, 150
  EXPECT_EQ(b.poll_timeout(), kT0 + milliseconds(120));  // b's grid: 70, 120
}

TEST(TwccRecorder, APausedPublisherResumesOnItsGrid) {
  TwccRecorder r;
  r.on_packet(kT0, 0);
  ASSERT_TRUE(poll(r, kT0 + milliseconds(50)));
  EXPECT_EQ(r.poll_timeout(), sb::util::kNever);
  // A second of silence, then one packet: it waits for the grid's next slot
  // instead of going out alone at once.
  r.on_packet(kT0 + milliseconds(1003), 1);
  EXPECT_EQ(r.poll_timeout(), kT0 + milliseconds(1050));
  EXPECT_FALSE(poll(r, kT0 + milliseconds(1004)));
}

TEST(TwccRecorder, TheFirstDelaySetsThePhase) {
  TwccRecorder r(milliseconds(30));
  r.on_packet(kT0, 0);
  EXPECT_EQ(r.poll_timeout(), kT0 + milliseconds(30));
  ASSERT_TRUE(poll(r, kT0 + milliseconds(30)));
  r.on_packet(kT0 + milliseconds(40), 1);
  EXPECT_EQ(r.poll_timeout(), kT0 + milliseconds(80));
  // A delay beyond the interval is capped at it.
  TwccRecorder late(std::chrono::seconds(3));
  late.on_packet(kT0, 0);
  EXPECT_EQ(late.poll_timeout(), kT0 + TwccRecorder::kInterval);
}

TEST(TwccRecorder, ArrivalTimesAreRoundedDownTo250Microseconds) {
  TwccRecorder r;
  const Timestamp t = kT0 + microseconds(64'000 * 3 + 1'499);  // not on a 64 ms boundary
  r.on_packet(t, 1);
  r.on_packet(t + microseconds(30'100), 2);
  auto f = poll(r, t + milliseconds(50));
  ASSERT_TRUE(f);
  ASSERT_EQ(f->statuses.size(), 2u);
  EXPECT_EQ(f->statuses[0].arrival_us, (us_of(t) / 250) * 250);
  EXPECT_EQ(f->statuses[1].arrival_us, ((us_of(t) + 30'100) / 250) * 250);
}

TEST(TwccRecorder, GapsAreReportedLost) {
  TwccRecorder r;
  for (uint16_t s : {0, 1, 4, 5, 9}) r.on_packet(kT0 + milliseconds(s), s);
  auto f = poll(r, kT0 + milliseconds(50));
  ASSERT_TRUE(f);
  ASSERT_EQ(f->statuses.size(), 10u);
  const std::vector<bool> expected = {true, true, false, false, true, true, false, false, false, true};
  for (size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(f->statuses[i].received, expected[i]) << i;
    if (expected[i]) {
      EXPECT_EQ(f->statuses[i].arrival_us, us_of(kT0) + int64_t(i) * 1000);
    }
  }
}

TEST(TwccRecorder, LossBetweenFeedbacksIsReportedInTheNextOne) {
  TwccRecorder r;
  for (uint16_t s = 0; s < 3; ++s) r.on_packet(kT0, s);
  ASSERT_TRUE(poll(r, kT0 + milliseconds(50)));
  r.on_packet(kT0 + milliseconds(60), 6);
  auto f = poll(r, kT0 + milliseconds(100));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->base, 3);
  ASSERT_EQ(f->statuses.size(), 4u);
  EXPECT_FALSE(f->statuses[0].received);
  EXPECT_FALSE(f->statuses[1].received);
  EXPECT_FALSE(f->statuses[2].received);
  EXPECT_TRUE(f->statuses[3].received);
  EXPECT_EQ(f->statuses[3].arrival_us, us_of(kT0 + milliseconds(60)));
}

TEST(TwccRecorder, WrapsAroundSequenceSpace) {
  TwccRecorder r;
  const uint16_t seqs[] = {65533, 65534, 0, 1};  // 65535 lost
  for (size_t i = 0; i < 4; ++i) r.on_packet(kT0 + milliseconds(i), seqs[i]);
  auto f = poll(r, kT0 + milliseconds(50));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->base, 65533);
  ASSERT_EQ(f->statuses.size(), 5u);
  EXPECT_EQ(f->statuses[2].seq, 65535);
  EXPECT_FALSE(f->statuses[2].received);
  EXPECT_EQ(f->statuses[4].seq, 1);
  EXPECT_EQ(f->statuses[4].arrival_us, us_of(kT0) + 3000);
  // And the next feedback continues after the wrap.
  r.on_packet(kT0 + milliseconds(60), 2);
  auto g = poll(r, kT0 + milliseconds(100));
  ASSERT_TRUE(g);
  EXPECT_EQ(g->base, 2);
}

TEST(TwccRecorder, ReorderedArrivalsAreSortedAndDuplicatesIgnored) {
  TwccRecorder r;
  r.on_packet(kT0 + milliseconds(0), 10);
  r.on_packet(kT0 + milliseconds(1), 12);
  r.on_packet(kT0 + milliseconds(2), 11);  // arrives after 12: negative delta
  r.on_packet(kT0 + milliseconds(3), 12);  // duplicate
  EXPECT_EQ(r.stats().ignored, 1u);
  auto f = poll(r, kT0 + milliseconds(50));
  ASSERT_TRUE(f);
  ASSERT_EQ(f->statuses.size(), 3u);
  EXPECT_EQ(f->statuses[0].arrival_us, us_of(kT0));
  EXPECT_EQ(f->statuses[1].arrival_us, us_of(kT0) + 2000);
  EXPECT_EQ(f->statuses[2].arrival_us, us_of(kT0) + 1000);
  EXPECT_EQ(f->statuses[2].delta_us, -1000);
  // Too late: 9 and 11 were covered by that feedback already.
  r.on_packet(kT0 + milliseconds(60), 11);
  r.on_packet(kT0 + milliseconds(60), 9);
  EXPECT_EQ(r.pending_count(), 0u);
  EXPECT_EQ(r.stats().ignored, 3u);
}

TEST(TwccRecorder, LongRunOfLostPacketsNeedsSeveralRunChunks) {
  TwccRecorder r;
  for (uint16_t s = 0; s < 5; ++s) r.on_packet(kT0 + milliseconds(s), s);
  for (uint16_t s = 10000; s < 10005; ++s) r.on_packet(kT0 + milliseconds(10), s);
  auto f = poll(r, kT0 + milliseconds(50));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->base, 0);
  ASSERT_EQ(f->statuses.size(), 10005u);
  size_t received = 0;
  for (const auto& s : f->statuses) received += s.received;
  EXPECT_EQ(received, 10u);
  EXPECT_FALSE(f->statuses[5].received);
  EXPECT_FALSE(f->statuses[9999].received);
  EXPECT_TRUE(f->statuses[10000].received);
  EXPECT_EQ(f->statuses[10004].arrival_us, us_of(kT0) + 10'000);
}

TEST(TwccRecorder, SequenceJumpBetweenFeedbacksIsNotReportedAsLoss) {
  TwccRecorder r;
  r.on_packet(kT0, 0);
  ASSERT_TRUE(poll(r, kT0 + milliseconds(50)));
  const uint16_t far = uint16_t(1 + TwccRecorder::kMaxReportedGap + 1);
  r.on_packet(kT0 + milliseconds(60), far);
  auto f = poll(r, kT0 + milliseconds(100));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->base, far);
  ASSERT_EQ(f->statuses.size(), 1u);
  // Within kMaxReportedGap, the run is reported lost (in run-length chunks).
  r.on_packet(kT0 + milliseconds(110), uint16_t(far + TwccRecorder::kMaxReportedGap + 1));
  auto g = poll(r, kT0 + milliseconds(150));
  ASSERT_TRUE(g);
  EXPECT_EQ(g->base, uint16_t(far + 1));
  ASSERT_EQ(g->statuses.size(), size_t(TwccRecorder::kMaxReportedGap) + 1);
  EXPECT_FALSE(g->statuses.front().received);
  EXPECT_TRUE(g->statuses.back().received);
}

TEST(TwccRecorder, DeltaTooLargeForOneFeedbackGoesInTheNext) {
  TwccRecorder r;
  r.on_packet(kT0, 1);
  r.on_packet(kT0 + std::chrono::seconds(10), 2);  // > 8.19 s: beyond a 16-bit delta
  const Timestamp now = kT0 + std::chrono::seconds(10);
  auto f = poll(r, now);
  ASSERT_TRUE(f);
  ASSERT_EQ(f->statuses.size(), 1u);
  EXPECT_EQ(f->statuses[0].arrival_us, us_of(kT0));
  EXPECT_EQ(r.poll_timeout(), now);  // the rest is due at once
  auto g = poll(r, now);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->base, 2);
  EXPECT_EQ(g->count, 1);
  ASSERT_EQ(g->statuses.size(), 1u);
  EXPECT_EQ(g->statuses[0].arrival_us, us_of(kT0 + std::chrono::seconds(10)));
  EXPECT_FALSE(poll(r, now));
}

TEST(TwccRecorder, SmallBufferSplitsFeedbackWithoutLosingAnything) {
  TwccRecorder r;
  for (uint16_t s = 0; s < 300; ++s) {
    if (s % 7 == 3) continue;  // lost
    r.on_packet(kT0 + microseconds(750 * s), s);
  }
  std::vector<rtcp::TwccPacketStatus> all;
  Timestamp now = kT0 + milliseconds(210);
  int feedbacks = 0;
  EXPECT_FALSE(poll(r, now, 8));  // not even the fixed part fits: nothing changes
  while (auto f = poll(r, now, 64)) {
    EXPECT_EQ(f->count, feedbacks);
    ++feedbacks;
    all.insert(all.end(), f->statuses.begin(), f->statuses.end());
  }
  EXPECT_GT(feedbacks, 3);
  ASSERT_EQ(all.size(), 300u);
  for (uint16_t s = 0; s < 300; ++s) {
    EXPECT_EQ(all[s].seq, s);
    EXPECT_EQ(all[s].received, s % 7 != 3) << s;
    if (all[s].received) {
      EXPECT_EQ(all[s].arrival_us, us_of(kT0) + 750 * s) << s;
    }
  }
}

TEST(TwccRecorder, ManyPendingMakeFeedbackDueEarly) {
  TwccRecorder r;
  r.on_packet(kT0, 0);
  ASSERT_TRUE(poll(r, kT0 + milliseconds(50)));
  for (uint16_t s = 1; s <= TwccRecorder::kEarlyFeedbackCount; ++s) r.on_packet(kT0 + milliseconds(51), s);
  EXPECT_EQ(r.poll_timeout(), kT0 + milliseconds(50));
  EXPECT_TRUE(poll(r, kT0 + milliseconds(52), 1500));
}

TEST(TwccRecorder, PendingIsBounded) {
  TwccRecorder r;
  const size_t total = TwccRecorder::kMaxPending + 76;
  for (size_t s = 0; s < total; ++s) r.on_packet(kT0 + microseconds(s), uint16_t(s));
  EXPECT_EQ(r.pending_count(), TwccRecorder::kMaxPending);
  EXPECT_EQ(r.stats().dropped, 76u);
  // Arrivals the window moved past count as already reported.
  r.on_packet(kT0, 10);
  EXPECT_EQ(r.stats().dropped, 76u);
  EXPECT_EQ(r.stats().ignored, 1u);
  std::vector<rtcp::TwccPacketStatus> all;
  while (auto f = poll(r, kT0 + milliseconds(50))) all.insert(all.end(), f->statuses.begin(), f->statuses.end());
  ASSERT_EQ(all.size(), TwccRecorder::kMaxPending);
  EXPECT_EQ(all.front().seq, 76);
  for (const auto& s : all) EXPECT_TRUE(s.received);
}

TEST(TwccRecorder, FullWindowDropsAnArrivalOlderThanAllPending) {
  TwccRecorder r;
  r.on_packet(kT0, 0);
  ASSERT_TRUE(poll(r, kT0 + milliseconds(50)));
  for (size_t s = 5; s < 5 + TwccRecorder::kMaxPending; ++s) r.on_packet(kT0 + milliseconds(60), uint16_t(s));
  r.on_packet(kT0 + milliseconds(60), 2);  // not reported yet, but older than a full window
  EXPECT_EQ(r.stats().dropped, 1u);
  EXPECT_EQ(r.pending_count(), TwccRecorder::kMaxPending);
  auto f = poll(r, kT0 + milliseconds(100), 1500);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->base, 1);
  EXPECT_FALSE(f->statuses[1].received);
}

TEST(TwccRecorder, RandomisedArrivalsRoundTrip) {
  // Reordering, loss, duplicates, wrap and random buffer sizes: every sequence
  // number from the first on is reported exactly once, in order, received iff
  // it arrived before the feedback covering it, with its arrival time.
  std::mt19937 rng(1234);
  TwccRecorder r;
  std::map<int64_t, int64_t> arrived;  // unwrapped seq -> arrival µs
  std::vector<rtcp::TwccPacketStatus> reported;
  Timestamp now = kT0;
  const int64_t first = 65000;
  int64_t next = first;
  std::vector<int64_t> in_flight;
  uint8_t expected_count = 0;
  for (int step = 0; step < 20000; ++step) {
    now += microseconds(250 * (rng() % 8));
    if (rng() % 10 != 0) in_flight.push_back(next);
    ++next;
    if (!in_flight.empty() && rng() % 3 != 0) {
      const size_t i = rng() % std::min<size_t>(in_flight.size(), 4);
      const int64_t seq = in_flight[i];
      in_flight.erase(in_flight.begin() + long(i));
      r.on_packet(now, uint16_t(seq));
      // After the feedback that reported it lost, an arrival is ignored.
      if (seq >= first + int64_t(reported.size())) arrived.emplace(seq, us_of(now));
      if (rng() % 20 == 0) r.on_packet(now, uint16_t(seq));  // duplicate
    }
    if (now >= r.poll_timeout()) {
      while (auto f = poll(r, now, 40 + rng() % 400)) {
        EXPECT_EQ(f->count, expected_count++);
        for (const auto& s : f->statuses) {
          const int64_t u = first + int64_t(reported.size());
          ASSERT_EQ(s.seq, uint16_t(u));
          auto it = arrived.find(u);
          ASSERT_EQ(s.received, it != arrived.end()) << u;
          if (s.received) {
            EXPECT_EQ(s.arrival_us, it->second);
          }
          reported.push_back(s);
        }
      }
    }
  }
  EXPECT_GT(reported.size(), 14000u);
}
