// Track: where its newest keyframe starts, the point a newcomer's video can be
// replayed from (Track::replayable_keyframe).
#include <gtest/gtest.h>

#include <optional>

#include "rtp/PacketWriter.hpp"
#include "sfu/Participant.hpp"
#include "sfu/Track.hpp"

namespace sb::sfu {
namespace {

using std::chrono::milliseconds;

constexpr uint32_t kSsrc = 0x1234;
const util::Timestamp kT0{std::chrono::seconds(50)};

// H.264 NAL unit headers (RFC 6184 §5.3, H.264 Table 7-1): nal_ref_idc 3 and the type.
constexpr uint8_t kSps = 0x67, kPps = 0x68, kIdr = 0x65, kSlice = 0x41;

rtc::MediaLine h264_line() {
  rtc::MediaLine line;
  line.mid = "1";
  line.kind = sdp::MediaKind::Video;
  sdp::Codec c;
  c.pt = 102;
  c.name = "H264";
  c.clock_rate = 90000;
  line.codecs.push_back(c);
  line.remote_ssrcs.push_back(kSsrc);
  return line;
}

struct TrackFixture {
  TrackFixture() : publisher(1, "pub", nullptr, nullptr, 1, "cname"), track(publisher, h264_line(), "t") {}

  /// The publisher's packet `seq` at RTP time `ts` carrying one NAL unit of `nal` type, seen at `at`.
  void receive(util::Timestamp at, uint16_t seq, uint32_t ts, uint8_t nal) {
    const uint8_t payload[] = {nal, 0x11, 0x22, 0x33};
    uint8_t buf[64];
    rtp::RtpHeader h{false, rtp::PayloadType{102}, seq, ts, rtp::Ssrc{kSsrc}, {}};
    const size_t n = rtp::write_packet(buf, h, {}, payload);
    auto packet = rtp::PacketView::parse({buf, n});
    ASSERT_TRUE(packet.has_value());
    track.on_packet(at, *packet, {buf, n});
    if (rtp::is_keyframe(track.video_codec(102), packet->payload())) track.on_keyframe(at, *packet);
  }

  /// Where a newcomer would be started from at `now`, if anywhere.
  std::optional<uint16_t> replay_from(util::Timestamp now) const {
    auto mark = track.replayable_keyframe(now);
    return mark ? std::optional<uint16_t>(mark->seq) : std::nullopt;
  }

  Participant publisher;
  Track track;
};

TEST(Track, AKeyframeIsReplayableFromItsFirstPacketForTheWindow) {
  TrackFixture f;
  EXPECT_FALSE(f.track.replayable_keyframe(kT0));
  // An access unit of SPS, PPS and IDR slice (one RTP timestamp), then deltas.
  f.receive(kT0, 100, 9000, kSps);
  f.receive(kT0, 101, 9000, kPps);
  f.receive(kT0, 102, 9000, kIdr);
  f.receive(kT0 + milliseconds(33), 103, 12000, kSlice);
  // From the SPS: the IDR slice alone could not be decoded by a newcomer.
  EXPECT_EQ(f.replay_from(kT0 + milliseconds(40)), uint16_t(100));
  EXPECT_EQ(f.replay_from(kT0 + kKeyframeReplayWindow - milliseconds(1)), uint16_t(100));
  EXPECT_FALSE(f.replay_from(kT0 + kKeyframeReplayWindow));
}

TEST(Track, TheNextKeyframeMovesTheMarkAndARepairOfAnOlderOneDoesNot) {
  TrackFixture f;
  f.receive(kT0, 100, 9000, kSps);
  f.receive(kT0, 101, 9000, kIdr);
  f.receive(kT0 + milliseconds(500), 140, 54000, kIdr);
  EXPECT_EQ(f.replay_from(kT0 + milliseconds(510)), uint16_t(140));
  // The first keyframe's IDR packet again (a late RTX repair): older, ignored;
  // the window still runs from the newer keyframe's arrival.
  f.receive(kT0 + milliseconds(520), 101, 9000, kIdr);
  EXPECT_EQ(f.replay_from(kT0 + milliseconds(530)), uint16_t(140));
  EXPECT_FALSE(f.replay_from(kT0 + milliseconds(500) + kKeyframeReplayWindow));
}

TEST(Track, AHoleInTheCacheBlocksTheReplayUntilItIsRepaired) {
  TrackFixture f;
  f.receive(kT0, 100, 9000, kIdr);
  f.receive(kT0, 101, 9000, kSlice);
  f.receive(kT0 + milliseconds(33), 103, 12000, kSlice);  // 102 was lost
  auto mark = f.track.replayable_keyframe(kT0 + milliseconds(40));
  ASSERT_TRUE(mark.has_value());
  EXPECT_FALSE(f.track.cache_holds(kT0 + milliseconds(40), *mark, 103));
  EXPECT_TRUE(f.track.cache_holds(kT0 + milliseconds(40), *mark, 101));
  EXPECT_FALSE(f.track.cache_holds(kT0 + milliseconds(40), *mark, 103)) << "the answer is kept per range";
  // The publisher's RTX brings 102 back: the next newcomer can start from the cache.
  f.receive(kT0 + milliseconds(45), 102, 9000, kSlice);
  EXPECT_TRUE(f.track.cache_holds(kT0 + milliseconds(50), *mark, 103));
  // More than kMaxReplayPackets from the keyframe: not replayed.
  EXPECT_FALSE(f.track.cache_holds(kT0 + milliseconds(50), *mark, uint16_t(100 + kMaxReplayPackets)));
}

TEST(Track, AKeyframeOfARetiredSourceIsNotReplayed) {
  TrackFixture f;
  f.receive(kT0, 100, 9000, kIdr);
  ASSERT_TRUE(f.replay_from(kT0 + milliseconds(10)));
  // The publisher restarted its encoder under a new SSRC: what the cache holds
  // of the old one must not start anybody.
  f.track.rebind_source(0x9999);
  EXPECT_FALSE(f.replay_from(kT0 + milliseconds(20)));
}

}  // namespace
}  // namespace sb::sfu
