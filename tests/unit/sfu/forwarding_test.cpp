// WorkerCore forwarding between simulated browsers: rewriting per subscriber
// (SSRC, payload type, sequence, extension ids, send times) and video that
// starts at a keyframe: a recent one replayed from the track's cache, or one
// asked for, with keyframe requests merged per track.
#include <gtest/gtest.h>

#include <map>

#include "sfu/SfuHarness.hpp"

namespace sb::sfu::test {
namespace {

namespace rtcp = rtp::rtcp;

/// The publisher's packet that `received` is a rewritten copy of: same
/// payload and timestamp, the offset between the numberings fixed by the first.
struct SeqMapping {
  std::optional<int> offset;  ///< subscriber seq - publisher seq (mod 2^16)
};

const SentRtp* original_of(const Client& pub, uint32_t pub_ssrc, const rtp::PacketView& p, SeqMapping& map) {
  auto same = [&](const SentRtp& s) {
    if (s.ssrc != pub_ssrc || s.timestamp != p.timestamp()) return false;
    auto sp = s.payload();
    return std::equal(sp.begin(), sp.end(), p.payload().begin(), p.payload().end());
  };
  if (!map.offset) {
    for (const auto& s : pub.sent)
      if (same(s)) {
        map.offset = uint16_t(p.sequence() - s.seq);
        return &s;
      }
    return nullptr;
  }
  uint16_t want = uint16_t(p.sequence() - *map.offset);
  for (const auto& s : pub.sent)
    if (s.ssrc == pub_ssrc && s.seq == want) return same(s) ? &s : nullptr;
  return nullptr;
}

/// Checks one forwarded stream as the subscriber sees it.
void expect_forwarded(const Client& pub, const Client& sub, bool video) {
  SCOPED_TRACE(pub.spec.name + " -> " + sub.spec.name + (video ? " video" : " audio"));
  auto stream = sub.stream_for(pub.spec.name + (video ? "-video" : "-audio"));
  ASSERT_TRUE(stream.has_value()) << "no m-section for the track in the server's description";
  EXPECT_EQ(stream->stream_id, pub.spec.name);
  auto pt = stream->pt(video ? "VP8" : "opus");
  ASSERT_TRUE(pt.has_value());
  // BUNDLE: the server numbers the codec as the subscriber did.
  EXPECT_EQ(*pt, video ? sub.spec.video_pt : sub.spec.audio_pt);
  if (video) {
    EXPECT_NE(stream->rtx_ssrc, 0u);
    EXPECT_EQ(stream->rtx_pt(*pt), sub.spec.rtx_pt);
  }
  EXPECT_EQ(stream->ext(rtc::ext::kMid), sub.spec.ext_mid);
  EXPECT_EQ(stream->ext(rtc::ext::kAbsSendTime), sub.spec.ext_abs_send_time);
  // The server asks subscribers for no transport-wide feedback (it has no
  // sender-side estimator): no extension, no "transport-cc" feedback, and
  // REMB for video instead.
  EXPECT_FALSE(stream->ext(rtc::ext::kTransportCc).has_value());
  for (const auto& c : stream->section.codecs) {
    EXPECT_FALSE(c.has_feedback("transport-cc")) << c.name;
    if (video && !c.is_rtx()) {
      EXPECT_TRUE(c.has_feedback("goog-remb")) << c.name;
    }
  }

  auto rx = sub.rtp_from(stream->ssrc);
  ASSERT_GT(rx.size(), video ? 20u : 50u);
  SeqMapping map;
  for (size_t i = 0; i < rx.size(); ++i) {
    auto p = rx[i].rtp();
    ASSERT_EQ(uint8_t(p.payload_type()), *pt) << "packet " << i;
    if (i > 0) {
      ASSERT_EQ(p.sequence(), uint16_t(rx[i - 1].rtp().sequence() + 1)) << "packet " << i;
    }
    const SentRtp* orig = original_of(pub, video ? pub.video_ssrc : pub.audio_ssrc, p, map);
    ASSERT_NE(orig, nullptr) << "packet " << i << " (seq " << p.sequence() << ") matches nothing the publisher sent";
    EXPECT_EQ(p.timestamp(), orig->timestamp);
    EXPECT_EQ(p.marker(), rtp::PacketView::parse(orig->packet)->marker());
    // Extensions under the subscriber's ids; the publisher's ids do not leak.
    EXPECT_EQ(string_ext_of(p, sub.spec.ext_mid), stream->mid) << "packet " << i;
    EXPECT_FALSE(transport_seq_of(p, sub.spec.ext_twcc).has_value()) << "packet " << i;
    EXPECT_TRUE(p.extensions().find(sub.spec.ext_abs_send_time).has_value()) << "packet " << i;
    if (pub.spec.ext_mid != sub.spec.ext_mid) {
      EXPECT_FALSE(p.extensions().find(pub.spec.ext_mid).has_value());
    }
    if (!video) {
      auto level = p.extensions().find(sub.spec.ext_audio_level);
      ASSERT_TRUE(level.has_value()) << "audio level is copied under the subscriber's id";
      auto orig_view = rtp::PacketView::parse(orig->packet);
      auto orig_level = orig_view->extensions().find(pub.spec.ext_audio_level);
      ASSERT_TRUE(orig_level.has_value());
      EXPECT_TRUE(std::equal(level->begin(), level->end(), orig_level->begin(), orig_level->end()));
    }
  }
}

/// abs-send-time (6.18 fixed-point seconds, 24 bits) is the server's own send
/// time on every forwarded packet: it never goes back and it follows the
/// simulated clock, which a receive-side estimator needs to see queueing.
void expect_send_times(const Client& sub) {
  SCOPED_TRACE(sub.spec.name);
  std::optional<uint32_t> first, last;
  size_t n = 0;
  for (const auto& r : sub.rtp) {
    auto p = r.rtp();
    auto v = p.extensions().find(sub.spec.ext_abs_send_time);
    ASSERT_TRUE(v.has_value() && v->size() == 3);
    uint32_t t = uint32_t((*v)[0]) << 16 | uint32_t((*v)[1]) << 8 | (*v)[2];
    if (last) {
      ASSERT_LT(uint32_t(t - *last) & 0xffffff, 1u << 23) << "after " << n << " packets";
    }
    if (!first) first = t;
    last = t;
    ++n;
  }
  ASSERT_GT(n, 100u);
  // Two seconds of media: the first and last send times ~1.9 s apart (2^18 per second).
  double span = double((*last - *first) & 0xffffff) / double(1 << 18);
  EXPECT_GT(span, 1.5);
  EXPECT_LT(span, 2.1);
}

TEST(Forwarding, TwoPublishersReceiveEachOtherRewrittenForTheSubscriber) {
  Harness h(1);
  Client& a = h.add_client({.name = "alice"});
  // Bob numbers VP8 as 120 (rtx 121) and uses other extension ids than Alice.
  Client& b = h.add_client({.name = "bob",
                            .video_pt = 120,
                            .rtx_pt = 121,
                            .ext_audio_level = 10,
                            .ext_abs_send_time = 8,
                            .ext_twcc = 7,
                            .ext_mid = 9});
  h.join(a);
  h.join(b);
  ASSERT_TRUE(h.connect_all());
  // The renegotiation round: each got one server offer and answered it.
  EXPECT_EQ(a.offers.size(), 1u);
  EXPECT_EQ(b.offers.size(), 1u);
  EXPECT_TRUE(a.errors.empty() && b.errors.empty());

  a.start_media(h.now());
  b.start_media(h.now());
  h.run_for(2s);

  for (bool video : {false, true}) {
    expect_forwarded(a, b, video);
    expect_forwarded(b, a, video);
  }
  expect_send_times(a);
  expect_send_times(b);
  // The server's SSRCs are its own, not the publisher's.
  auto s = b.stream_for("alice-video");
  ASSERT_TRUE(s);
  EXPECT_NE(s->ssrc, a.video_ssrc);
  EXPECT_EQ(h.core.stats().dropped_unknown_source, 0u);
}

TEST(Forwarding, VideoStartsAtAKeyframeAfterAPli) {
  Harness h(2);
  Client& a = h.add_client({.name = "alice"});
  h.join(a);
  ASSERT_TRUE(h.connect_all());
  // Alice streams delta frames only, until someone asks for a keyframe.
  a.start_media(h.now(), false);
  h.run_for(500ms);
  EXPECT_TRUE(a.plis().empty()) << "nobody subscribes yet: no keyframe request";

  // Alice's encoder misses the first request (Bob's connection asks at once),
  // so delta frames reach the server after Bob can receive, and are held back
  // until the repeated request brings a keyframe.
  a.respond_to_pli = false;
  Client& b = h.add_client({.name = "bob"});
  h.join(b);
  ASSERT_TRUE(h.connect_all());
  util::Timestamp joined = h.now();
  h.run_for(150ms);
  a.respond_to_pli = true;
  h.run_for(1s);

  auto stream = b.stream_for("alice-video");
  ASSERT_TRUE(stream);
  auto rx = b.rtp_from(stream->ssrc);
  ASSERT_FALSE(rx.empty());
  auto first = rx.front().rtp();
  EXPECT_TRUE(vp8_keyframe_payload(first.payload())) << "the first video packet forwarded is a keyframe";

  // The keyframe came from a PLI for Alice's video SSRC.
  auto plis = a.plis();
  ASSERT_FALSE(plis.empty());
  EXPECT_EQ(uint32_t(plis.front().value.media_ssrc), a.video_ssrc);
  EXPECT_GE(plis.front().at, joined - 100ms);

  // Delta frames Alice sent after Bob's subscription started and before that
  // keyframe were held back: every forwarded packet is the keyframe or later.
  const SentRtp* key = nullptr;
  for (const auto& s : a.sent)
    if (s.ssrc == a.video_ssrc && s.keyframe) {
      key = &s;
      break;
    }
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(first.timestamp(), key->timestamp);
  size_t held_back = 0;
  for (const auto& s : a.sent)
    if (s.ssrc == a.video_ssrc && s.at >= joined && s.at < key->at) ++held_back;
  EXPECT_GT(held_back, 0u) << "the test needs deltas between subscription and keyframe";
  size_t after = 0;
  for (const auto& s : a.sent)
    if (s.ssrc == a.video_ssrc && !s.rtx && util::seq_newer(s.seq, uint16_t(key->seq - 1)) && s.at <= h.now() - 10ms)
      ++after;
  EXPECT_EQ(rx.size(), after) << "everything from the keyframe on is forwarded, nothing before it";
  // Audio is not held back.
  auto audio = b.stream_for("alice-audio");
  ASSERT_TRUE(audio);
  EXPECT_FALSE(b.rtp_from(audio->ssrc).empty());
}

/// Alice and Bob in a call, and Bob's keyframe requests for Alice's video.
struct BobAsksAlice : TwoPublishers {
  BobAsksAlice() : TwoPublishers(3) {
    if (connected) stream = b.stream_for("alice-video");
  }
  bool send_pli() {
    uint8_t buf[rtcp::Pli::kSize];
    size_t n = rtcp::Pli::write(buf, rtp::Ssrc{b.rtcp_ssrc}, rtp::Ssrc{stream->ssrc});
    return b.send_rtcp({buf, n});
  }
  size_t keyframes_to_bob() const {
    size_t n = 0;
    for (const auto& r : b.rtp_from(stream->ssrc))
      if (vp8_keyframe_payload(r.rtp().payload())) ++n;
    return n;
  }
  std::optional<OfferedStream> stream;
};

TEST(Forwarding, UnansweredKeyframeRequestsAreNotRepeatedUntilTheRetry) {
  BobAsksAlice call;
  ASSERT_TRUE(call.connected && call.stream);
  Harness& h = call.h;
  Client& a = call.a;
  ASSERT_FALSE(call.b.rtp_from(call.stream->ssrc).empty());
  // Alice's encoder ignores PLIs: every request stays unanswered.
  a.respond_to_pli = false;
  size_t before = a.plis().size();
  // Ten PLIs within 250 ms become one PLI to Alice: the keyframe it asks for
  // would serve them all.
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(call.send_pli());
    h.run_for(25ms);
  }
  auto plis = a.plis();
  ASSERT_EQ(plis.size(), before + 1);
  EXPECT_EQ(uint32_t(plis.back().value.media_ssrc), a.video_ssrc);
  // No keyframe came: once kKeyframeRequestRetry has passed, the request is
  // repeated (the first PLI may have been lost).
  h.run_for(100ms);
  ASSERT_TRUE(call.send_pli());
  h.run_for(20ms);
  ASSERT_EQ(a.plis().size(), before + 2);
  EXPECT_GE(a.plis().back().at - plis.back().at, kKeyframeRequestRetry);
  auto snap = h.snapshot_of("bob");
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(snap->media.plis_received, 11u);
}

TEST(Forwarding, AnsweredPliLetsTheNextGoAfterTheInterval) {
  BobAsksAlice call;
  ASSERT_TRUE(call.connected && call.stream);
  Harness& h = call.h;
  Client& a = call.a;
  // Well past the keyframe requests of the join: Bob is receiving, and his
  // PLIs say he lost his picture (a receiver on a lossy path asks repeatedly).
  h.run_for(1s);
  const size_t plis0 = a.plis().size(), keys0 = call.keyframes_to_bob();
  const util::Timestamp t0 = h.now();
  ASSERT_TRUE(call.send_pli());
  h.run_for(70ms);  // Alice answers with her next frame (every 40 ms)
  ASSERT_EQ(a.plis().size(), plis0 + 1);
  ASSERT_EQ(call.keyframes_to_bob(), keys0 + 1) << "the PLI was answered by a keyframe";
  // Answered, and past the spacing a joining subscriber gets, but within
  // kKeyframeRequestInterval of the last request: held back.
  h.run_for(kKeyframeRequestSpacing + 20ms - (h.now() - t0));
  ASSERT_TRUE(call.send_pli());
  h.run_for(10ms);
  EXPECT_EQ(a.plis().size(), plis0 + 1);
  // After the interval the next goes.
  h.run_for(kKeyframeRequestInterval + 10ms - (h.now() - t0));
  ASSERT_TRUE(call.send_pli());
  h.run_for(10ms);
  EXPECT_EQ(a.plis().size(), plis0 + 2);
  static_assert(kKeyframeRequestSpacing < kKeyframeRequestInterval);
}

/// Alice alone in a room, streaming delta frames unless asked for a keyframe;
/// then viewers join.
struct AliceStreamsDeltas {
  /// `phase`: Alice starts her media this long after she is connected, which
  /// moves her frames (every 40 ms) against everything else in the simulation.
  explicit AliceStreamsDeltas(uint64_t seed, util::Duration warmup = std::chrono::milliseconds(500),
                              util::Duration phase = {})
      : h(seed), a(h.add_client({.name = "alice"})) {
    h.join(a);
    if (!h.connect_all()) return;
    if (phase > util::Duration{}) h.run_for(phase);
    a.start_media(h.now(), false);
    h.run_for(warmup);
    plis0 = a.plis().size();
    ready = true;
  }
  Client& add_viewer(std::string name) { return h.add_client({.name = std::move(name), .publish = false}); }
  /// Runs until Alice sends her next video frame (a keyframe if `keyframe`);
  /// a copy of its first packet, none if she sent none within 100 ms.
  std::optional<SentRtp> next_video_frame(bool keyframe) {
    if (keyframe) a.keyframe_next();
    const size_t sent = a.sent.size();
    auto first = [&]() -> const SentRtp* {
      for (size_t i = sent; i < a.sent.size(); ++i)
        if (a.sent[i].ssrc == a.video_ssrc) return &a.sent[i];
      return nullptr;
    };
    if (!h.net.run_until([&] { return first() != nullptr; }, 100ms)) return std::nullopt;
    return *first();
  }
  /// The viewer's video from Alice, received; empty if none.
  static std::vector<Received> video_of(const Client& viewer) {
    auto s = viewer.stream_for("alice-video");
    return s ? viewer.rtp_from(s->ssrc) : std::vector<Received>{};
  }
  Harness h;
  Client& a;
  size_t plis0 = 0;  ///< PLIs Alice had received before the viewers came
  bool ready = false;
};

TEST(Forwarding, KeyframeIsRequestedOnlyOnceTheSubscriberCanReceiveIt) {
  AliceStreamsDeltas t(6);
  ASSERT_TRUE(t.ready);
  Harness& h = t.h;
  // Carol's signaling completes, but her DTLS handshake does not get through
  // (RFC 7983: first byte 20-63) for a while: her subscription to Alice is
  // negotiated, and her transport cannot carry it yet.
  Client& c = t.add_viewer("carol");
  h.net.set_filter([&](const sim::SimDatagram& d) { return !(d.from == c.addr && d.data[0] >= 20 && d.data[0] <= 63); });
  h.join(c);
  h.run_for(600ms);
  ASSERT_TRUE(c.stream_for("alice-video")) << "the subscription is negotiated";
  ASSERT_FALSE(c.connected());
  EXPECT_EQ(t.a.plis().size(), t.plis0) << "a keyframe now would reach nobody";
  h.net.set_filter(nullptr);
  ASSERT_TRUE(h.connect_all());
  const util::Timestamp connected = h.now();
  h.run_for(1s);
  ASSERT_GT(t.a.plis().size(), t.plis0);
  EXPECT_GE(t.a.plis()[t.plis0].at, connected - 10ms) << "asked once her transport was up";
  auto rx = t.video_of(c);
  ASSERT_FALSE(rx.empty());
  EXPECT_TRUE(vp8_keyframe_payload(rx.front().rtp().payload()));
  EXPECT_LT(rx.front().at - connected, 40ms + 40ms + 10ms);
}

TEST(Forwarding, FirstKeyframeIsAskedForWhenTheTransportComesUp) {
  AliceStreamsDeltas t(7);
  ASSERT_TRUE(t.ready);
  Client& c = t.add_viewer("carol");
  t.h.join(c);
  ASSERT_TRUE(t.h.connect_all());
  const util::Timestamp connected = t.h.now();
  t.h.run_for(1s);
  ASSERT_GT(t.a.plis().size(), t.plis0);
  // The request leaves when Carol's DTLS completes (a network hop, 1 ms, to
  // Alice), not with Alice's next packet up to a frame (40 ms) later.
  const util::Duration pli = t.a.plis()[t.plis0].at - connected;
  EXPECT_GE(pli, -5ms);
  EXPECT_LE(pli, 3ms);
  auto rx = t.video_of(c);
  ASSERT_FALSE(rx.empty());
  EXPECT_TRUE(vp8_keyframe_payload(rx.front().rtp().payload()));
  EXPECT_LT(rx.front().at - connected, 40ms + 10ms);  // Alice's next frame
}

/// True when `d` carries a DTLS record of epoch 1 (RFC 6347 §4.1): after the
/// ChangeCipherSpec, so the handshake's Finished.
bool carries_finished(util::ByteView d) {
  for (size_t at = 0; at + 13 <= d.size();) {
    if (d[at] < 20 || d[at] > 63) return false;
    if (util::load_be16(&d[at + 3]) == 1) return true;
    at += 13 + util::load_be16(&d[at + 11]);
  }
  return false;
}

TEST(Forwarding, OurLastHandshakeFlightLeavesBeforeMediaReadWithIt) {
  AliceStreamsDeltas t(8);
  ASSERT_TRUE(t.ready);
  Harness& h = t.h;
  // The server reads its socket every 10 ms, as a busy worker's recvmmsg does:
  // a subscriber's Finished and a publisher's keyframe can be one batch.
  h.net.set_read_interval(kCoreAddr, 10ms);
  Client& c = t.add_viewer("carol");
  // Alice's next frame after Carol's Finished leaves is a keyframe (a periodic
  // one: nobody asked for it), read by the server with that Finished.
  util::Timestamp finished_sent{}, finished_read{};
  h.net.set_filter([&](const sim::SimDatagram& d) {
    if (d.from == c.addr && carries_finished(d.data) && finished_sent == util::Timestamp{}) {
      finished_sent = d.sent_at;
      t.a.keyframe_next();
    }
    return true;
  });
  std::map<uint16_t, util::Timestamp> alice_read;  // RTP sequence number (plain in SRTP) → read
  h.net.set_tap([&](const sim::SimDatagram& d, util::Timestamp at) {
    if (d.from == c.addr && carries_finished(d.data)) finished_read = at;
    if (d.from == t.a.addr && d.data.size() >= 12 && d.data[0] >= 128 && d.data[0] <= 191 && !rtp::is_rtcp(d.data))
      alice_read.emplace(util::load_be16(&d.data[2]), at);
  });
  h.join(c);
  ASSERT_TRUE(h.connect_all());
  h.run_for(1s);
  h.net.set_filter(nullptr);
  h.net.set_tap(nullptr);
  // The scenario happened: Alice's keyframe was read in the batch with the Finished.
  ASSERT_NE(finished_sent, util::Timestamp{});
  const SentRtp* key = nullptr;
  for (const auto& s : t.a.sent)
    if (s.ssrc == t.a.video_ssrc && s.keyframe && s.at >= finished_sent) {
      key = &s;
      break;
    }
  ASSERT_NE(key, nullptr);
  ASSERT_TRUE(alice_read.count(key->seq));
  ASSERT_EQ(alice_read[key->seq], finished_read) << "not one batch; the test needs another timing";
  // Carol decrypted that keyframe: it left after our Finished, not before.
  auto rx = t.video_of(c);
  ASSERT_FALSE(rx.empty());
  EXPECT_TRUE(vp8_keyframe_payload(rx.front().rtp().payload())) << "Carol's first video is not a keyframe";
  EXPECT_EQ(rx.front().rtp().timestamp(), key->timestamp);
}

TEST(Forwarding, JoinStormGetsVideoWithinTheSpacingAndAFewKeyframes) {
  AliceStreamsDeltas t(5, 1s);
  ASSERT_TRUE(t.ready);
  Harness& h = t.h;
  Client& a = t.a;
  const size_t plis0 = t.plis0;
  // Eight viewers join 30 ms apart (a webinar starting): each arrives while a
  // keyframe is in flight or just after one.
  std::vector<std::pair<Client*, util::Timestamp>> viewers;
  const util::Timestamp storm = h.now();
  for (int i = 0; i < 8; ++i) {
    Client& c = t.add_viewer("viewer" + std::to_string(i));
    viewers.push_back({&c, h.now()});
    h.join(c);
    h.run_for(30ms);
  }
  ASSERT_TRUE(h.connect_all());
  h.run_for(1s);
  const util::Duration span = h.now() - storm;
  for (auto& [c, joined] : viewers) {
    ASSERT_TRUE(c->stream_for("alice-video")) << c->spec.name;
    auto rx = t.video_of(*c);
    ASSERT_FALSE(rx.empty()) << c->spec.name;
    EXPECT_TRUE(vp8_keyframe_payload(rx.front().rtp().payload())) << c->spec.name;
    // At most the spacing, one frame interval (40 ms) and the join itself.
    EXPECT_LT(rx.front().at - joined, kKeyframeRequestSpacing + 40ms + 80ms) << c->spec.name;
  }
  // Not a keyframe per viewer: at most one request per spacing.
  const size_t plis = a.plis().size() - plis0;
  EXPECT_GE(plis, 2u);
  EXPECT_LE(plis, size_t(span / kKeyframeRequestSpacing) + 1);
  EXPECT_LT(plis, viewers.size());
}

/// Join to connected in the simulation (signaling, ICE, DTLS over 1 ms hops).
constexpr util::Duration kJoinTime = 6ms;

/// Alice sends a keyframe (on her own: nobody asks), and Carol joins so that
/// she is connected about `age` after it.
struct ViewerAfterKeyframe {
  ViewerAfterKeyframe(AliceStreamsDeltas& fixture, util::Duration age) : t(fixture), c(t.add_viewer("carol")) {
    Harness& h = t.h;
    key = t.next_video_frame(true);
    if (!key || !key->keyframe) return;
    h.run_for(age - kJoinTime);
    h.join(c);
    ready = h.connect_all();
    connected = h.now();
  }
  util::Duration age() const { return connected - key->at; }
  /// Carol's first video packet: a keyframe, and which one.
  void expect_first_keyframe(bool the_cached_one) const {
    auto rx = AliceStreamsDeltas::video_of(c);
    ASSERT_FALSE(rx.empty());
    EXPECT_TRUE(vp8_keyframe_payload(rx.front().rtp().payload()));
    if (the_cached_one) {
      EXPECT_EQ(rx.front().rtp().timestamp(), key->timestamp);
      EXPECT_LE(rx.front().at - connected, 3ms);
    } else {
      EXPECT_NE(rx.front().rtp().timestamp(), key->timestamp);
    }
    EXPECT_EQ(t.h.snapshot_of("carol")->media.keyframe_replays, the_cached_one ? 1u : 0u);
  }
  /// A PLI went to Alice the moment Carol was connected.
  void expect_asked_at_connect() const {
    ASSERT_GT(t.a.plis().size(), t.plis0);
    EXPECT_LE(t.a.plis()[t.plis0].at - connected, 3ms);
  }

  AliceStreamsDeltas& t;
  Client& c;
  std::optional<SentRtp> key;
  util::Timestamp connected{};
  bool ready = false;
};

TEST(Forwarding, ANewcomerStartsFromARecentKeyframeWithoutARequest) {
  AliceStreamsDeltas t(9);
  ASSERT_TRUE(t.ready);
  ViewerAfterKeyframe v(t, 60ms);
  ASSERT_TRUE(v.ready);
  ASSERT_GT(v.age(), 30ms) << "the test needs another timing";
  ASSERT_LT(v.age(), kKeyframeReplayWindow - 10ms) << "the test needs another timing";
  t.h.run_for(2s);
  t.a.stop_media();
  t.h.run_for(100ms);  // everything in flight arrives
  // Carol's video starts with that keyframe, at once, and everything Alice sent
  // since follows in order, once each (expect_forwarded: consecutive numbers,
  // each a copy of what Alice sent; the server counted no more than arrived).
  v.expect_first_keyframe(true);
  expect_forwarded(t.a, v.c, true);
  EXPECT_EQ(t.h.snapshot_of("carol")->media.forwarded, v.c.rtp.size());
  // Nobody asked Alice for anything: the keyframe she had sent served.
  EXPECT_EQ(t.a.plis().size(), t.plis0);
}

TEST(Forwarding, AKeyframeOlderThanTheReplayWindowIsAskedForAgain) {
  AliceStreamsDeltas t(9);
  ASSERT_TRUE(t.ready);
  ViewerAfterKeyframe v(t, 150ms);
  ASSERT_TRUE(v.ready);
  ASSERT_GE(v.age(), kKeyframeReplayWindow) << "the test needs another timing";
  t.h.run_for(1s);
  // Starting 150 ms behind live is worse than asking: a PLI goes at once and
  // Carol's video starts at the keyframe that answers it.
  v.expect_asked_at_connect();
  v.expect_first_keyframe(false);
  expect_forwarded(t.a, v.c, true);
}

TEST(Forwarding, AHoleInTheCachedFramesMeansAFreshKeyframeInstead) {
  AliceStreamsDeltas t(9);
  ASSERT_TRUE(t.ready);
  Harness& h = t.h;
  Client& a = t.a;
  // The packet after Alice's next keyframe is lost, and Alice does not answer
  // NACKs: the frames since the keyframe cannot be replayed whole once the
  // next one has shown the gap (Alice sends a frame every 40 ms).
  a.respond_to_nack = false;
  std::optional<uint16_t> lost;
  h.net.set_filter([&](const sim::SimDatagram& d) {
    if (d.from != a.addr || d.data.size() < 12 || d.data[0] < 128 || d.data[0] > 191 || rtp::is_rtcp(d.data))
      return true;
    const uint16_t seq = util::load_be16(&d.data[2]);
    if (!lost) {
      for (const auto& s : a.sent)
        if (s.keyframe && s.ssrc == a.video_ssrc && uint16_t(seq - s.seq) == uint16_t(a.video_packets_per_keyframe) &&
            s.at >= h.now() - 100ms)
          lost = seq;
    }
    return !lost || seq != *lost;
  });
  ViewerAfterKeyframe v(t, 88ms);
  ASSERT_TRUE(v.ready);
  ASSERT_TRUE(lost.has_value()) << "the packet after the keyframe went through";
  ASSERT_GT(v.age(), 80ms + 1ms) << "the test needs another timing";
  ASSERT_LT(v.age(), kKeyframeReplayWindow) << "the test needs another timing";
  h.run_for(1s);
  v.expect_asked_at_connect();
  v.expect_first_keyframe(false);
}

TEST(Forwarding, AReplayDoesNotRepeatWhatItsBatchBroughtBeforeTheFinished) {
  AliceStreamsDeltas t(10, 520ms, 14ms);
  ASSERT_TRUE(t.ready);
  Harness& h = t.h;
  // The server reads its socket every 20 ms (a busy worker's recvmmsg). Alice
  // makes a keyframe when Carol's handshake starts, so that it is recent when
  // Carol's Finished is read; Alice's packets read in that batch ahead of the
  // Finished are in the cache when the replay runs, and in the batch's
  // fan-out after it.
  h.net.set_read_interval(kCoreAddr, 20ms);
  Client& c = t.add_viewer("carol");
  util::Timestamp finished_sent{}, finished_read{};
  bool hello = false;
  h.net.set_filter([&](const sim::SimDatagram& d) {
    if (d.from == c.addr && d.data.size() > 13 && d.data[0] == 22 && !hello) {
      hello = true;
      t.a.keyframe_next();
    }
    if (d.from == c.addr && carries_finished(d.data) && finished_sent == util::Timestamp{}) finished_sent = d.sent_at;
    return true;
  });
  std::vector<std::pair<util::Timestamp, util::Timestamp>> alice_video;  // sent, read
  h.net.set_tap([&](const sim::SimDatagram& d, util::Timestamp at) {
    if (d.from == c.addr && carries_finished(d.data) && finished_read == util::Timestamp{}) finished_read = at;
    if (d.from == t.a.addr && d.data.size() >= 12 && d.data[0] >= 128 && d.data[0] <= 191 && !rtp::is_rtcp(d.data) &&
        (d.data[1] & 0x7f) == t.a.spec.video_pt)
      alice_video.emplace_back(d.sent_at, at);
  });
  h.join(c);
  ASSERT_TRUE(h.connect_all());
  h.run_for(2s);
  h.net.set_filter(nullptr);
  h.net.set_tap(nullptr);
  ASSERT_TRUE(hello);
  ASSERT_NE(finished_read, util::Timestamp{});
  // The scenario happened: video of Alice's was read in the Finished's batch,
  // sent before it.
  size_t ahead = 0;
  for (auto [sent, read] : alice_video) ahead += read == finished_read && sent < finished_sent;
  ASSERT_GT(ahead, 0u) << "the test needs another timing";
  // Everything in flight arrives.
  t.a.stop_media();
  h.run_for(100ms);
  const auto* snap = h.snapshot_of("carol");
  ASSERT_NE(snap, nullptr);
  ASSERT_EQ(snap->media.keyframe_replays, 1u) << "the test needs another timing";
  // Each packet went to Carol once (her SRTP would drop a second copy as a
  // replay, RFC 3711 §3.3.2: so what the server sent is compared with what
  // she accepted), in order, each a copy of Alice's (expect_forwarded).
  EXPECT_EQ(snap->media.forwarded, c.rtp.size());
  EXPECT_EQ(c.transport->stats().dropped_srtp, 0u);
  expect_forwarded(t.a, c, true);
  EXPECT_EQ(t.a.plis().size(), t.plis0);
}

/// Carol is connected but holds the server's offer of Alice's tracks (a
/// browser busy elsewhere); she answers it just after one of Alice's frames
/// (a keyframe if `keyframe`), so that Alice's next packet is a frame interval
/// away. Returns when she answered.
util::Timestamp answer_after_a_frame(AliceStreamsDeltas& t, Client& c, bool keyframe) {
  Harness& h = t.h;
  c.auto_answer = false;
  h.join(c);
  if (!h.connect_all() || c.held_offers.empty()) return {};
  h.run_for(300ms);
  if (!t.next_video_frame(keyframe)) return {};
  h.run_for(1ms);  // the frame reaches the server
  c.answer_pending();
  return h.now();
}

TEST(Forwarding, VideoAnsweredOnAConnectedTransportStartsAtOnce) {
  for (bool keyframe_passed : {false, true}) {
    SCOPED_TRACE(keyframe_passed ? "a keyframe just passed" : "no recent keyframe");
    AliceStreamsDeltas t(11);
    ASSERT_TRUE(t.ready);
    Client& c = t.add_viewer("carol");
    const util::Timestamp answered = answer_after_a_frame(t, c, keyframe_passed);
    ASSERT_NE(answered, util::Timestamp{});
    t.h.run_for(1s);
    auto rx = t.video_of(c);
    ASSERT_FALSE(rx.empty());
    EXPECT_TRUE(vp8_keyframe_payload(rx.front().rtp().payload()));
    if (keyframe_passed) {
      // Carol gets that keyframe at once, from the cache, and Alice is not asked.
      EXPECT_LE(rx.front().at - answered, 3ms);
      EXPECT_EQ(t.a.plis().size(), t.plis0);
      EXPECT_EQ(t.h.snapshot_of("carol")->media.keyframe_replays, 1u);
    } else {
      // The subscription became active with the answer, on a transport that
      // was up: the PLI leaves then, not with Alice's next packet 40 ms later.
      ASSERT_GT(t.a.plis().size(), t.plis0);
      EXPECT_LE(t.a.plis()[t.plis0].at - answered, 3ms);
    }
  }
}

TEST(Forwarding, LongCallAcrossSequenceWrapAndConsentChecks) {
  Harness h(4);
  Client& a = h.add_client({.name = "alice"});
  Client& b = h.add_client({.name = "bob"});
  h.join(a);
  h.join(b);
  ASSERT_TRUE(h.connect_all());
  // Alice's sequence numbers wrap within the first seconds.
  a.next_video_seq = 65500;
  a.next_audio_seq = 65400;
  a.start_media(h.now());
  b.start_media(h.now());
  // Longer than ICE consent's 30 s (RFC 7675): the clients' checks keep it alive.
  h.run_for(40s);
  EXPECT_TRUE(a.closed.empty() && b.closed.empty());
  EXPECT_TRUE(a.connected() && b.connected());
  EXPECT_EQ(h.snapshot_of("alice")->transport_state, "connected");
  for (bool video : {false, true}) expect_forwarded(a, b, video);
  auto s = b.stream_for("alice-video");
  ASSERT_TRUE(s);
  auto rx = b.rtp_from(s->ssrc);
  EXPECT_GT(rx.back().at, h.now() - 100ms);
  EXPECT_GT(rx.size(), 1000u);
}

namespace sb::sfu::test {
namespace {

TEST(Forwarding, PublisherSsrcChangeContinuesTheSubscribersStream) {
  TwoPublishers call(3);
  ASSERT_TRUE(call.connected);
  Harness& h = call.h;
  Client& a = call.a;
  Client& b = call.b;
  auto stream = b.stream_for("alice-video");
  ASSERT_TRUE(stream.has_value());
  size_t before = b.rtp_from(stream->ssrc).size();
  ASSERT_GT(before, 10u);
  // The publisher restarts its encoder: a new SSRC and a new sequence space.
  a.video_ssrc ^= 0x5a5a5a5au;
  a.next_video_seq = 40000;
  h.run_for(2s);
  auto rx = b.rtp_from(stream->ssrc);
  ASSERT_GT(rx.size(), before + 20) << "nothing was forwarded from the new source";
  // The subscriber still sees one source: +1 sequence numbers, timestamps that
  // never go back.
  for (size_t i = 1; i < rx.size(); ++i) {
    auto p = rx[i].rtp();
    auto q = rx[i - 1].rtp();
    ASSERT_EQ(p.sequence(), uint16_t(q.sequence() + 1)) << "packet " << i;
    ASSERT_GE(int32_t(p.timestamp() - q.timestamp()), 0) << "packet " << i;
  }
}

}  // namespace
}  // namespace sb::sfu::test

/// Records what the core sends, in order, without delivering it.
struct RecordingSink : util::DatagramSink {
  util::MutableBytes reserve() override { return slot; }
  void commit(const util::SocketAddr& to, size_t len) override {
    sent.push_back({to, util::Bytes(slot.begin(), slot.begin() + long(len))});
  }
  std::array<uint8_t, util::kMaxDatagram> slot{};
  std::vector<std::pair<util::SocketAddr, util::Bytes>> sent;
};

// A video frame arrives as a burst of packets that the worker receives in one
// batch. The fan-out waits for the end of the batch and then sends each
// subscriber its copies of the whole burst back to back, which is what lets
// the socket merge them into one GSO send per subscriber. The copies must be
// the same as when packets are forwarded one at a time: consecutive sequence
// numbers, decryptable, the publisher's payloads.
TEST(Forwarding, ABatchOfPacketsGoesToEachSubscriberBackToBack) {
  Harness h(11);
  Client& pub = h.add_client({.name = "pub"});
  pub.video_packets_per_delta = 3;
  pub.video_payload_size = 1000;
  Client& s1 = h.add_client({.name = "s1", .publish = false});
  Client& s2 = h.add_client({.name = "s2", .publish = false});
  h.join(pub);
  h.join(s1);
  h.join(s2);
  ASSERT_TRUE(h.connect_all());
  pub.start_media(h.now());
  h.run_for(1s);  // both subscribers have had their keyframe
  auto v1 = s1.stream_for("pub-video");
  auto v2 = s2.stream_for("pub-video");
  ASSERT_TRUE(v1 && v2);
  ASSERT_FALSE(s1.rtp_from(v1->ssrc).empty());
  ASSERT_FALSE(s2.rtp_from(v2->ssrc).empty());

  // Hold back the publisher's next three video packets (the SSRC is in the
  // clear in SRTP, RFC 3711 §3.1) and hand them to the core as one batch.
  std::vector<sim::SimDatagram> held;
  h.net.set_filter([&](const sim::SimDatagram& d) {
    if (d.from == pub.addr && d.data.size() >= 12 && !rtp::is_rtcp(d.data) && d.data[0] >= 128 &&
        util::load_be32(&d.data[8]) == pub.video_ssrc && held.size() < 3) {
      held.push_back(d);
      return false;
    }
    return true;
  });
  h.net.run_until([&] { return held.size() == 3; }, 2s);
  h.net.set_filter(nullptr);
  ASSERT_EQ(held.size(), 3u);

  const size_t before1 = s1.rtp_from(v1->ssrc).size(), before2 = s2.rtp_from(v2->ssrc).size();
  RecordingSink sink;
  std::vector<util::Bytes> buffers;  // the receive batch: valid until flush
  for (const auto& d : held) buffers.push_back(d.data);
  for (auto& b : buffers) h.core.handle_datagram(h.now(), pub.addr, b, sink);
  EXPECT_TRUE(sink.sent.empty()) << "the fan-out waits for the end of the batch";
  h.core.flush(h.now(), sink);

  // Six copies, each subscriber's three next to each other.
  std::vector<util::SocketAddr> media_to;
  for (const auto& [to, data] : sink.sent)
    if (!rtp::is_rtcp(data)) media_to.push_back(to);
  ASSERT_EQ(media_to.size(), 6u);
  EXPECT_TRUE(media_to[0] == media_to[1] && media_to[1] == media_to[2]);
  EXPECT_TRUE(media_to[3] == media_to[4] && media_to[4] == media_to[5]);
  EXPECT_FALSE(media_to[0] == media_to[3]);

  // Delivered, they decrypt and continue each subscriber's stream in order.
  for (auto& [to, data] : sink.sent) {
    Client& c = to == s1.addr ? s1 : s2;
    c.handle_datagram(h.now(), kCoreAddr, data);
  }
  for (auto [c, stream, before] : {std::tuple{&s1, &*v1, before1}, std::tuple{&s2, &*v2, before2}}) {
    SCOPED_TRACE(c->spec.name);
    auto got = c->rtp_from(stream->ssrc);
    ASSERT_EQ(got.size(), before + 3);
    for (size_t k = 0; k < 3; ++k) {
      auto p = got[before + k].rtp();
      EXPECT_EQ(p.sequence(), uint16_t(got[before - 1].rtp().sequence() + 1 + k));
      auto sent = rtp::PacketView::parse(held[k].data);  // header in the clear
      ASSERT_TRUE(sent);
      EXPECT_EQ(p.timestamp(), sent->timestamp());  // timestamps are kept (one continuous source)
      EXPECT_EQ(p.payload_size(), pub.video_payload_size);
    }
  }
}

}  // namespace
}  // namespace sb::sfu::test
