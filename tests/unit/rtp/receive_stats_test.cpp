#include <gtest/gtest.h>

#include "rtp/NtpTime.hpp"
#include "rtp/ReceiveStats.hpp"
#include "rtp/rtcp/ReportBlock.hpp"

using namespace sb::rtp;
using sb::util::Timestamp;
using std::chrono::microseconds;
using std::chrono::milliseconds;

namespace {

Timestamp at_ms(int64_t ms) { return Timestamp(milliseconds(ms)); }

}  // namespace

TEST(ReceiveStats, TenPercentLossAcrossSequenceWrap) {
  ReceiveStats stats(Ssrc{5}, 90000);
  // Sequence numbers 65000 .. 65999 (wrapping past 65535), every tenth dropped.
  for (int i = 0; i < 1000; ++i) {
    if (i % 10 == 5) continue;
    stats.on_packet(uint16_t(65000 + i), uint32_t(i * 3000), at_ms(1000 + i * 33));
  }
  EXPECT_EQ(stats.packets_received(), 900u);
  EXPECT_EQ(stats.packets_expected(), 1000);
  EXPECT_EQ(stats.cumulative_lost(), 100);
  EXPECT_EQ(stats.extended_highest_sequence(), 65999u);  // one wrap: cycles 1, seq 463
  auto block = stats.report_block(at_ms(40'000));
  EXPECT_EQ(block.ssrc, Ssrc{5});
  EXPECT_EQ(block.fraction_lost, 25);  // 100 * 256 / 1000
  EXPECT_EQ(block.cumulative_lost, 100);
  EXPECT_EQ(block.extended_highest_sequence, 65999u);
  EXPECT_EQ(block.last_sr, 0u);
  EXPECT_EQ(block.delay_since_last_sr, 0u);

  // The next interval has no loss: fraction 0, cumulative unchanged.
  for (int i = 1000; i < 1100; ++i) stats.on_packet(uint16_t(65000 + i), uint32_t(i * 3000), at_ms(1000 + i * 33));
  block = stats.report_block(at_ms(45'000));
  EXPECT_EQ(block.fraction_lost, 0);
  EXPECT_EQ(block.cumulative_lost, 100);
  EXPECT_EQ(block.extended_highest_sequence, 65536u + 563u);
  // No packets at all since the last report: fraction 0.
  EXPECT_EQ(stats.report_block(at_ms(46'000)).fraction_lost, 0);
}

TEST(ReceiveStats, ConstantTransitGivesZeroJitter) {
  ReceiveStats stats(Ssrc{1}, 48000);
  for (int i = 0; i < 500; ++i) stats.on_packet(uint16_t(i), uint32_t(777 + i * 960), at_ms(5 + i * 20));
  EXPECT_EQ(stats.jitter(), 0u);
  EXPECT_EQ(stats.report_block(at_ms(20'000)).jitter, 0u);
}

TEST(ReceiveStats, AlternatingTransitConvergesToTheDifference) {
  // Every other packet arrives 1 ms late: |D| = 90 ticks at 90 kHz each time,
  // so J converges to 90 (RFC 3550 §A.8: J += (|D| - J) / 16).
  ReceiveStats stats(Ssrc{1}, 90000);
  for (int i = 0; i < 400; ++i) {
    const int64_t late_us = (i % 2) ? 1000 : 0;
    stats.on_packet(uint16_t(i), uint32_t(i * 3000), Timestamp(microseconds(int64_t(i) * 33'333 + late_us + 1)));
  }
  EXPECT_GE(stats.jitter(), 87u);
  EXPECT_LE(stats.jitter(), 91u);
}

TEST(ReceiveStats, ReorderingDoesNotCountAsLossAndDuplicatesGoNegative) {
  ReceiveStats stats(Ssrc{1}, 90000);
  const uint16_t order[] = {10, 12, 11, 13, 13, 14};
  int t = 0;
  for (uint16_t s : order) stats.on_packet(s, 0, at_ms(t++));
  EXPECT_EQ(stats.highest_sequence() - 65536, 14);
  EXPECT_EQ(stats.packets_expected(), 5);
  EXPECT_EQ(stats.packets_received(), 6u);
  EXPECT_EQ(stats.cumulative_lost(), -1);
  auto b = stats.report_block(at_ms(100));
  EXPECT_EQ(b.cumulative_lost, -1);
  EXPECT_EQ(b.fraction_lost, 0);
}

TEST(ReceiveStats, BigJumpIsBelievedOnlyWhenFollowedUp) {
  ReceiveStats stats(Ssrc{1}, 90000);
  for (uint16_t s = 100; s < 110; ++s) stats.on_packet(s, 0, at_ms(s));
  // A lone stray packet far away is ignored.
  stats.on_packet(40'000, 0, at_ms(200));
  EXPECT_EQ(stats.packets_received(), 10u);
  EXPECT_EQ(stats.cumulative_lost(), 0);
  stats.on_packet(110, 0, at_ms(201));
  EXPECT_EQ(stats.packets_received(), 11u);
  // Two in a row after the jump: the source restarted; counting starts over.
  stats.on_packet(50'000, 0, at_ms(300));
  stats.on_packet(50'001, 0, at_ms(301));
  EXPECT_EQ(stats.packets_received(), 1u);
  EXPECT_EQ(stats.packets_expected(), 1);
  stats.on_packet(50'002, 0, at_ms(302));
  EXPECT_EQ(stats.packets_received(), 2u);
  EXPECT_EQ(stats.cumulative_lost(), 0);
}

TEST(ReceiveStats, ReportsLastSrAndDelaySinceIt) {
  ReceiveStats stats(Ssrc{1}, 90000);
  stats.on_packet(1, 0, at_ms(0));
  const NtpTime sr_ntp = NtpTime::from_parts(0x12345678, 0x9abcdef0);
  stats.on_sender_report(sr_ntp, at_ms(1000));
  auto b = stats.report_block(at_ms(1500));
  EXPECT_EQ(b.last_sr, 0x56789abcu);
  EXPECT_EQ(b.delay_since_last_sr, 32768u);  // 0.5 s in 1/65536 s
  // The SR sender computes RTT = now - LSR - DLSR: here 0.25 s of network time.
  const uint32_t now_compact = b.last_sr + 32768 + 16384;
  auto rtt = rtcp::round_trip_time(b, now_compact);
  ASSERT_TRUE(rtt);
  EXPECT_EQ(std::chrono::duration_cast<milliseconds>(*rtt).count(), 250);
  EXPECT_FALSE(rtcp::round_trip_time(b, b.last_sr));  // negative
  EXPECT_FALSE(rtcp::round_trip_time(rtcp::ReportBlock{}, now_compact));
}

TEST(NtpTime, ConvertsFromUnixTimeAndCompactForms) {
  const NtpTime epoch = NtpTime::from_unix(microseconds(0));
  EXPECT_EQ(epoch.seconds(), 2'208'988'800u);
  EXPECT_EQ(epoch.fraction(), 0u);
  const NtpTime half = NtpTime::from_unix(microseconds(1'500'000));
  EXPECT_EQ(half.seconds(), 2'208'988'801u);
  EXPECT_EQ(half.fraction(), 0x80000000u);
  EXPECT_EQ(half.compact(), (2'208'988'801u << 16) | 0x8000u);
  const microseconds some(1'700'000'000'123'456);
  EXPECT_EQ(NtpTime::from_unix(some).to_unix(), some);
  const auto wall = std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(some));
  EXPECT_EQ(NtpTime::from_system_time(wall), NtpTime::from_unix(some));

  EXPECT_EQ(to_compact_ntp(std::chrono::seconds(1)), 65536u);
  EXPECT_EQ(to_compact_ntp(milliseconds(-5)), 0u);
  EXPECT_EQ(to_compact_ntp(std::chrono::hours(24 * 365)), 0xFFFFFFFFu);
  EXPECT_EQ(std::chrono::duration_cast<milliseconds>(from_compact_ntp(65536 * 3 / 2)).count(), 1500);
}
