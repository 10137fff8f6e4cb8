// Loss repair and reports through the WorkerCore: a subscriber's NACK answered
// with RTX from the cache, the publisher's losses NACKed and repaired by its
// RTX, sender reports carrying the publisher's clock, receiver reports and
// transport-wide feedback towards the publisher, a subscriber's REMB.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "rtp/rtcp/Remb.hpp"
#include "sfu/SfuHarness.hpp"

namespace sb::sfu::test {
namespace {

namespace rtcp = rtp::rtcp;

/// Alice publishes, Bob receives; both connected and a second of media passed.
struct Call : TwoPublishers {
  explicit Call(uint64_t seed) : TwoPublishers(seed) {
    EXPECT_TRUE(connected);
    auto s = b.stream_for("alice-video");
    EXPECT_TRUE(s.has_value());
    if (s) video = *s;
  }
  bool nack(uint16_t seq) {
    uint8_t buf[64];
    uint16_t lost[] = {seq};
    size_t n = rtcp::Nack::write(buf, rtp::Ssrc{b.rtcp_ssrc}, rtp::Ssrc{video.ssrc}, lost);
    return n > 0 && b.send_rtcp({buf, n});
  }
  /// Bob sends this RTCP; 20 ms later, what the server counted for him.
  const ParticipantSnapshot* bob_sends(util::ByteView rtcp) {
    EXPECT_TRUE(!rtcp.empty() && b.send_rtcp(rtcp));
    h.run_for(20ms);
    return h.snapshot_of("bob");
  }
  /// Bob still receives Alice's video.
  void expect_video_goes_on() {
    size_t before = b.rtp_from(video.ssrc).size();
    h.run_for(500ms);
    EXPECT_GT(b.rtp_from(video.ssrc).size(), before + 5);
  }
  /// Drops Alice's first transmission of these video sequence numbers on their way to the core.
  void drop_publisher_video(std::set<uint16_t> seqs) {
    h.net.set_filter([this, seqs = std::move(seqs)](const sim::SimDatagram& d) mutable {
      if (d.from != a.addr || d.data.size() < 12 || rtp::is_rtcp(d.data) || d.data[0] < 128 || d.data[0] > 191)
        return true;
      if (util::load_be32(&d.data[8]) != a.video_ssrc) return true;  // SRTP leaves the header in clear
      return seqs.erase(util::load_be16(&d.data[2])) == 0;
    });
  }

  OfferedStream video;
};

TEST(Rtcp, SubscriberNackIsAnsweredWithRtxFromTheCache) {
  Call c(21);
  auto rx = c.b.rtp_from(c.video.ssrc);
  ASSERT_GT(rx.size(), 20u);
  ASSERT_NE(c.video.rtx_ssrc, 0u);
  auto rtx_pt = c.video.rtx_pt(c.b.spec.video_pt);
  ASSERT_TRUE(rtx_pt.has_value());

  const auto target = rx[rx.size() - 5];  // ~200 ms old
  const auto orig = target.rtp();
  ASSERT_TRUE(c.nack(orig.sequence()));
  c.h.run_for(20ms);
  auto rtx = c.b.rtp_from(c.video.rtx_ssrc);
  ASSERT_EQ(rtx.size(), 1u);
  auto p = rtx.front().rtp();
  // RFC 4588 §4: RTX SSRC and PT as signalled (FID group, apt), OSN = the
  // subscriber's sequence number, then the original payload.
  EXPECT_EQ(uint8_t(p.payload_type()), *rtx_pt);
  EXPECT_EQ(uint8_t(p.payload_type()), c.b.spec.rtx_pt);
  EXPECT_EQ(p.timestamp(), orig.timestamp());
  ASSERT_EQ(p.payload().size(), orig.payload().size() + 2);
  EXPECT_EQ(util::load_be16(p.payload().data()), orig.sequence());
  EXPECT_TRUE(std::equal(orig.payload().begin(), orig.payload().end(), p.payload().begin() + 2));

  // Too old for the cache (RetransmissionCache::kMaxAge): nothing.
  c.h.run_for(1500ms);
  ASSERT_TRUE(c.nack(rx.front().rtp().sequence()));
  // Never sent: nothing.
  ASSERT_TRUE(c.nack(uint16_t(c.b.rtp_from(c.video.ssrc).back().rtp().sequence() + 100)));
  c.h.run_for(20ms);
  EXPECT_EQ(c.b.rtp_from(c.video.rtx_ssrc).size(), 1u);
  auto snap = c.h.snapshot_of("bob");
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(snap->media.nacks_received, 3u);
  EXPECT_EQ(snap->media.retransmitted, 1u);
}

// A flood of retransmission requests gets bounded work per datagram: the first
// 256 sequence numbers are served, the rest are counted and ignored.
TEST(Rtcp, ANackFloodIsServedUpToItsBudget) {
  Call c(23);
  auto rx = c.b.rtp_from(c.video.ssrc);
  ASSERT_GT(rx.size(), 20u);
  // 300 sequence numbers in one NACK: the last 10 received, then 290 never sent.
  uint16_t first = rx[rx.size() - 10].rtp().sequence();
  std::vector<uint16_t> seqs;
  for (uint16_t i = 0; i < 300; ++i) seqs.push_back(uint16_t(first + i));
  uint8_t buf[1200];
  size_t n = rtcp::Nack::write(buf, rtp::Ssrc{c.b.rtcp_ssrc}, rtp::Ssrc{c.video.ssrc}, seqs);
  auto snap = c.bob_sends({buf, n});
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(snap->media.nacks_received, 300u);
  EXPECT_EQ(snap->media.nacks_ignored, 300u - 256u);
  EXPECT_GE(snap->media.retransmitted, 9u) << "the recent packets in the budget are still repaired";
  EXPECT_EQ(c.b.rtp_from(c.video.rtx_ssrc).size(), snap->media.retransmitted);
  c.expect_video_goes_on();
}

// A subscriber's receiver estimate (REMB) is what it can take downstream: the
// server keeps the latest, and a malformed one changes nothing.
TEST(Rtcp, ASubscribersRembIsItsDownlinkEstimate) {
  Call c(24);
  uint8_t buf[64];
  rtp::Ssrc media[] = {rtp::Ssrc{c.video.ssrc}};
  size_t n = rtcp::Remb::write(buf, rtp::Ssrc{c.b.rtcp_ssrc}, 1'500'000, media);
  auto snap = c.bob_sends({buf, n});
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(snap->media.rembs_received, 1u);
  EXPECT_EQ(snap->media.downlink_estimate_bps, 1'500'000u);

  n = rtcp::Remb::write(buf, rtp::Ssrc{c.b.rtcp_ssrc}, 300'000, media);
  c.bob_sends({buf, n});
  // An application layer feedback that is not REMB ("RE" then garbage).
  buf[12 + 2] = 'X';
  snap = c.bob_sends({buf, n});
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(snap->media.rembs_received, 2u);
  EXPECT_EQ(snap->media.downlink_estimate_bps, 300'000u);
  c.expect_video_goes_on();
}

TEST(Rtcp, PublisherLossIsNackedAndRepairedWithRtx) {
  Call c(22);
  const uint16_t x = uint16_t(c.a.next_video_seq + 10);
  const std::set<uint16_t> lost = {x, uint16_t(x + 1), uint16_t(x + 5)};
  c.drop_publisher_video(lost);
  c.h.run_for(1s);

  // NACKs (RTPFB FMT 1) for Alice's video SSRC name exactly what was lost.
  std::set<uint16_t> nacked;
  for (const auto& [at, bytes] : c.a.rtcp_of(rtcp::PacketType::kRtpfb, rtcp::kFmtNack)) {
    auto nack = rtcp::Nack::parse(*rtcp::PacketView::parse(bytes));
    ASSERT_TRUE(nack.ok());
    EXPECT_EQ(uint32_t(nack->media_ssrc()), c.a.video_ssrc);
    nack->for_each_lost([&](uint16_t s) { nacked.insert(s); });
  }
  EXPECT_EQ(nacked, lost);
  // Alice answered each once with RTX (OSN = the lost sequence number).
  std::set<uint16_t> repaired;
  for (const auto& s : c.a.sent)
    if (s.rtx) repaired.insert(util::load_be16(s.payload().data()));
  EXPECT_EQ(repaired, lost);

  // Bob gets the restored packets, under his numbering, with the original payload.
  auto rx = c.b.rtp_from(c.video.ssrc);
  ASSERT_FALSE(rx.empty());
  std::optional<uint16_t> offset;
  std::set<uint16_t> bob_seqs;
  for (const auto& r : rx) {
    auto p = r.rtp();
    bob_seqs.insert(p.sequence());
    for (const auto& s : c.a.sent) {
      if (s.ssrc != c.a.video_ssrc || s.timestamp != p.timestamp()) continue;
      auto sp = s.payload();
      if (!std::equal(sp.begin(), sp.end(), p.payload().begin(), p.payload().end())) continue;
      uint16_t o = uint16_t(p.sequence() - s.seq);
      if (!offset) offset = o;
      EXPECT_EQ(o, *offset) << "Bob's seq " << p.sequence() << " is Alice's " << s.seq;
    }
  }
  ASSERT_TRUE(offset.has_value());
  for (uint16_t s : lost) EXPECT_TRUE(bob_seqs.contains(uint16_t(s + *offset))) << "restored " << s;
  // Nothing missing in Bob's stream from first to last.
  uint16_t first = rx.front().rtp().sequence();
  EXPECT_EQ(bob_seqs.size(), size_t(uint16_t(rx.back().rtp().sequence() - first) + 1));
  auto snap = c.h.snapshot_of("alice");
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(snap->media.rtx_received, lost.size());
}

TEST(Rtcp, ReceiverReportsTellThePublisherItsLoss) {
  Call c(23);
  c.a.respond_to_nack = false;
  const uint16_t x = uint16_t(c.a.next_video_seq + 3);
  c.drop_publisher_video({x, uint16_t(x + 2), uint16_t(x + 4), uint16_t(x + 6), uint16_t(x + 8)});
  c.h.run_for(2s);
  auto blocks = c.a.report_blocks(c.a.video_ssrc);
  ASSERT_FALSE(blocks.empty());
  const auto& last = blocks.back().value;
  EXPECT_EQ(last.cumulative_lost, 5);
  // Extended highest sequence number received (RFC 3550 §6.4.1), within the
  // packets still in flight when the report was written.
  uint16_t highest = uint16_t(last.extended_highest_sequence);
  EXPECT_LE(uint16_t(c.a.next_video_seq - 1 - highest), 20);
  bool some_fraction = false;
  for (const auto& b : blocks) some_fraction |= b.value.fraction_lost > 0;
  EXPECT_TRUE(some_fraction) << "a report covering the loss interval says so";
  // Audio lost nothing.
  auto audio = c.a.report_blocks(c.a.audio_ssrc);
  ASSERT_FALSE(audio.empty());
  EXPECT_EQ(audio.back().value.cumulative_lost, 0);
}

/// A subscriber SR sent at `sent` should continue the publisher's SR (N, R)
/// that reached the core at `arrived`: ntp = N + Δ, rtp = R + Δ·clock.
void expect_mapping(const rtcp::SenderInfo& got, util::Timestamp sent, const SentSr& pub, util::Timestamp arrived,
                    uint32_t clock) {
  auto delta = sent - arrived;
  double delta_s = std::chrono::duration<double>(delta).count();
  int64_t ntp_err = int64_t(got.ntp.value - pub.ntp.value) - int64_t(delta_s * 4294967296.0);
  EXPECT_LE(std::abs(util::to_micros(ntp_to_duration(ntp_err))), 1000) << "NTP off by " << ntp_err;
  int64_t rtp_err = int32_t(got.rtp_timestamp - pub.rtp_timestamp) - int64_t(delta_s * clock);
  EXPECT_LE(std::abs(rtp_err), int64_t(clock / 1000)) << "RTP off by " << rtp_err << " ticks";
}

TEST(Rtcp, SenderReportsCarryThePublishersClock) {
  Call c(24);  // links: 1 ms, no jitter
  c.h.run_for(3s);
  auto audio = c.b.stream_for("alice-audio");
  ASSERT_TRUE(audio);
  for (auto [stream, pub_ssrc, clock] : {std::tuple{c.video, c.a.video_ssrc, 90000u},
                                          std::tuple{*audio, c.a.audio_ssrc, 48000u}}) {
    SCOPED_TRACE(clock);
    auto srs = c.b.sender_reports(stream.ssrc);
    ASSERT_GE(srs.size(), 4u);
    size_t checked = 0;
    for (const auto& sr : srs) {
      util::Timestamp sent = sr.at - 1ms;
      // The publisher's latest SR that had reached the core by then.
      const SentSr* pub = nullptr;
      for (const auto& p : c.a.sent_srs)
        if (p.ssrc == pub_ssrc && p.at + 1ms < sent) pub = &p;
      if (pub == nullptr) continue;
      expect_mapping(sr.value, sent, *pub, pub->at + 1ms, clock);
      ++checked;
    }
    EXPECT_GE(checked, 3u);
  }
}

// Every participant reports every 500 ms, but not all in the same timer round:
// each has its own slot in the interval (RFC 3550 §6.3.5: reporters must not
// synchronise). A worker that built a thousand compound packets in one round
// held everyone's media up for milliseconds. Leaving participants are taken
// out of the worker's timer table without disturbing the others' timers.
TEST(Rtcp, ParticipantsReportInSlotsOfTheirOwn) {
  Harness h(27);
  Client& pub = h.add_client({.name = "pub"});
  std::vector<Client*> viewers;
  for (int i = 0; i < 24; ++i) viewers.push_back(&h.add_client({.name = "v" + std::to_string(i), .publish = false}));
  h.join(pub);
  for (Client* v : viewers) h.join(*v);
  ASSERT_TRUE(h.connect_all());
  pub.start_media(h.now());
  h.run_for(1s);
  const util::Timestamp from = h.now();
  h.run_for(2s);

  std::set<int64_t> first_report_ms;  // when each viewer got its first SR of the window
  for (Client* v : viewers) {
    SCOPED_TRACE(v->spec.name);
    auto stream = v->stream_for("pub-video");
    ASSERT_TRUE(stream);
    std::vector<util::Timestamp> at;
    for (const auto& sr : v->sender_reports(stream->ssrc))
      if (sr.at >= from) at.push_back(sr.at);
    // Still every 500 ms (the report timer may run up to 100 ms late to ride
    // on a wakeup that media causes anyway).
    ASSERT_GE(at.size(), 3u);
    for (size_t i = 1; i < at.size(); ++i) {
      EXPECT_GE(at[i] - at[i - 1], 400ms);
      EXPECT_LE(at[i] - at[i - 1], 600ms);
    }
    first_report_ms.insert(util::to_micros(at.front() - from) / 1000);
  }
  // 24 viewers on one grid would all get theirs in the same round; spread
  // over the interval they fall in many rounds (media wakes the worker about
  // every 33 ms, so at most about 15 distinct times in 500 ms).
  EXPECT_GE(first_report_ms.size(), 6u) << "reports are synchronised";

  // Participants leave from the middle of the worker's timer table; everyone
  // else's timers go on (reports every 500 ms, media flowing).
  for (size_t i = 0; i < viewers.size(); i += 2) h.leave(*viewers[i]);
  h.run_for(1s);
  const util::Timestamp after = h.now();
  h.run_for(2s);
  for (size_t i = 1; i < viewers.size(); i += 2) {
    Client* v = viewers[i];
    SCOPED_TRACE(v->spec.name);
    auto stream = v->stream_for("pub-video");
    ASSERT_TRUE(stream);
    size_t reports = 0, media = 0, media_before = 0;
    for (const auto& sr : v->sender_reports(stream->ssrc)) reports += sr.at >= after;
    for (const auto& r : v->rtp_from(stream->ssrc)) {
      media += r.at >= after;
      media_before += r.at >= from && r.at < from + 2s;
    }
    EXPECT_GE(reports, 3u);
    EXPECT_GT(media_before, 20u);
    EXPECT_GE(media * 10, media_before * 9) << "media slowed down after the others left";
  }
}

TEST(Rtcp, TransportWideFeedbackReachesThePublisher) {
  Call c(25);
  c.h.run_for(2s);
  auto fb = c.a.rtcp_of(rtcp::PacketType::kRtpfb, rtcp::kFmtTransportFeedback);
  ASSERT_GT(fb.size(), 20u);
  std::set<uint16_t> covered;
  for (size_t i = 0; i < fb.size(); ++i) {
    auto pv = rtcp::PacketView::parse(fb[i].value);
    ASSERT_TRUE(pv.ok());
    auto t = rtcp::TransportFeedback::parse(*pv);
    ASSERT_TRUE(t.ok()) << "feedback " << i;
    t->for_each_packet([&](const rtcp::TwccPacketStatus& s) {
      if (s.received) covered.insert(s.seq);
    });
    if (i > 0) {
      auto gap = fb[i].at - fb[i - 1].at;
      // Every 50 ms on the publisher's grid, each sent at the first wakeup
      // after its slot (at most 20 ms late).
      EXPECT_GE(gap, 25ms) << "feedback " << i;
      EXPECT_LE(gap, 75ms) << "feedback " << i;
    }
  }
  // Every transport-wide sequence number Alice sent, but the last ~100 ms.
  size_t expected = 0;
  for (const auto& s : c.a.sent) {
    if (s.at > c.h.now() - 100ms) continue;
    ++expected;
    EXPECT_TRUE(covered.contains(s.transport_seq)) << "transport seq " << s.transport_seq;
  }
  EXPECT_GT(expected, 200u);
}

// Transport-wide feedback keeps each publisher on a grid of its own. Feedback
// once timed from when it was sent made a worker that served every publisher
// in one round (after a stall, or publishers whose first packets came
// together) serve them together for good: every 50 ms one timer round built
// and encrypted everyone's feedback while media waited behind it. Spread out,
// the feedback due within one step of the timer grid shares a round: a busy
// worker does not pass over its timer table for every participant.
TEST(Rtcp, PublishersGetTransportFeedbackOnGridsOfTheirOwn) {
  Harness h(31);
  std::vector<Client*> pubs;
  for (int i = 0; i < 24; ++i) {
    Client& c = h.add_client({.name = "p" + std::to_string(i)});
    h.join(c, "room" + std::to_string(i));
    pubs.push_back(&c);
  }
  ASSERT_TRUE(h.connect_all());
  // Independent publishers: their packets arrive at times of their own.
  for (size_t i = 0; i < pubs.size(); ++i) pubs[i]->start_media(h.now() + 850us * i);
  h.run_for(1s);
  // The worker stalls: for two reads it reads its socket only every 150 ms,
  // so every publisher's packets come in the same batches, and everyone's
  // feedback is due in the round that ends each batch.
  constexpr util::Duration every = 150ms;
  h.net.set_read_interval(kCoreAddr, every);
  // To just after the second batch (the network reads at multiples of `every`).
  const auto since = h.now().time_since_epoch();
  const util::Timestamp second_read{((since + every - util::Duration{1}) / every + 1) * every};
  h.run_for(second_read + 1us - h.now());
  h.net.set_read_interval(kCoreAddr, 0ms);
  h.run_for(200ms);

  const util::Timestamp from = h.now();
  const uint64_t rounds_before = h.timer_rounds;
  h.run_for(1s);
  // 24 × 20 feedback and 48 reports a second, in at most 200 + a few rounds
  // (one per 5 ms step of the grid, and deadlines of their own).
  EXPECT_LE(h.timer_rounds - rounds_before, 220u);
  std::map<int64_t, int> served_at;  // feedback arrival (µs) → publishers
  for (Client* c : pubs) {
    SCOPED_TRACE(c->spec.name);
    std::vector<util::Timestamp> at;
    for (const auto& fb : c->rtcp_of(rtcp::PacketType::kRtpfb, rtcp::kFmtTransportFeedback))
      if (fb.at >= from) at.push_back(fb.at);
    ASSERT_GE(at.size(), 15u);  // about every 50 ms
    for (size_t i = 1; i < at.size(); ++i) {
      EXPECT_GE(at[i] - at[i - 1], 25ms) << "feedback " << i;
      EXPECT_LE(at[i] - at[i - 1], 75ms) << "feedback " << i;
    }
    for (auto t : at) ++served_at[util::to_micros(t - from)];
  }
  int most = 0;
  for (const auto& [t, n] : served_at) most = std::max(most, n);
  // 24 random phases over the ten 5 ms steps of an interval: two or three per
  // step on average (6 with this seed; the simulation is deterministic). More
  // than half of them in one step would take a draw of about one in a million,
  // so the bound holds for any seed; in step, all 24 would share one instant.
  EXPECT_LE(most, 12) << "publishers' feedback is synchronised";
  EXPECT_GE(served_at.size(), 150u);
}

}  // namespace
}  // namespace sb::sfu::test
