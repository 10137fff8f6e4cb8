// Server-initiated renegotiation through the WorkerCore: a participant
// leaving, a late joiner, and glare (the server is the polite side).
#include <gtest/gtest.h>

#include "sfu/SfuHarness.hpp"

namespace sb::sfu::test {
namespace {

sdp::SessionDescription parse(const std::string& text) {
  auto d = sdp::SessionDescription::parse(text);
  EXPECT_TRUE(d.ok()) << d.error();
  return d.ok() ? d.value() : sdp::SessionDescription{};
}

/// The m-sections of a server description that send `track_id`.
std::vector<const sdp::MediaSection*> sending(const sdp::SessionDescription& d, std::string_view track_id) {
  std::vector<const sdp::MediaSection*> out;
  for (const auto& m : d.media)
    if (sdp::sends(m.direction) && !m.msids.empty() && m.msids.front().track_id == track_id) out.push_back(&m);
  return out;
}

TEST(Renegotiation, LeaveMakesTheTracksInactiveForTheOthers) {
  TwoPublishers call(31);
  ASSERT_TRUE(call.connected);
  Harness& h = call.h;
  Client& a = call.a;
  Client& b = call.b;
  auto bob_audio = a.stream_for("bob-audio");
  auto bob_video = a.stream_for("bob-video");
  ASSERT_TRUE(bob_audio && bob_video);
  ASSERT_FALSE(a.rtp_from(bob_video->ssrc).empty());
  size_t offers = a.offers.size();

  h.leave(b);
  h.run_for(50ms);
  EXPECT_EQ(h.core.participant_count(), 1u);
  ASSERT_EQ(a.offers.size(), offers + 1) << "Alice is told Bob's tracks stopped";
  auto offer = parse(a.offers.back());
  for (const auto& mid : {bob_audio->mid, bob_video->mid}) {
    const auto* m = offer.find_media(mid);
    ASSERT_NE(m, nullptr) << "m-sections are never removed (mid " << mid << ")";
    EXPECT_NE(m->port, 0) << "inactive, not rejected";
    EXPECT_EQ(m->direction, sdp::Direction::Inactive);
    EXPECT_TRUE(m->msids.empty());
    EXPECT_TRUE(m->ssrcs.empty());
    EXPECT_TRUE(m->ssrc_groups.empty());
  }
  EXPECT_TRUE(a.errors.empty());
  EXPECT_TRUE(a.held_offers.empty());
  // Nothing of Bob's reaches Alice any more; Alice's own media is unaffected.
  size_t before = a.rtp_from(bob_video->ssrc).size();
  h.run_for(500ms);
  EXPECT_EQ(a.rtp_from(bob_video->ssrc).size(), before);
  EXPECT_TRUE(a.connected());
  EXPECT_TRUE(b.closed.empty()) << "the leaver is not sent a closed signal";
}

TEST(Renegotiation, LateJoinerIsOfferedEveryTrackRightAfterItsAnswer) {
  Harness h(32);
  Client& a = h.add_client({.name = "alice"});
  Client& b = h.add_client({.name = "bob"});
  h.join(a);
  h.join(b);
  ASSERT_TRUE(h.connect_all());
  a.start_media(h.now());
  b.start_media(h.now());
  h.run_for(500ms);

  Client& c = h.add_client({.name = "carol"});
  c.auto_answer = false;
  h.join(c);
  // Answer, trickled candidate(s), then the server's offer, all in one go.
  ASSERT_FALSE(c.signal_kinds.empty());
  EXPECT_EQ(c.signal_kinds.front(), "answer");
  EXPECT_EQ(c.signal_kinds.back(), "offer");
  ASSERT_EQ(c.held_offers.size(), 1u);
  auto offer = parse(c.held_offers.front());
  for (const char* track : {"alice-audio", "alice-video", "bob-audio", "bob-video"}) {
    auto lines = sending(offer, track);
    ASSERT_EQ(lines.size(), 1u) << track;
    EXPECT_FALSE(lines.front()->ssrcs.empty()) << track;
    EXPECT_EQ(lines.front()->direction, sdp::Direction::SendOnly) << track;
  }
  c.answer_pending();
  EXPECT_TRUE(c.errors.empty());
  ASSERT_TRUE(h.connect_all());
  c.start_media(h.now());
  h.run_for(1s);
  for (const char* track : {"alice-audio", "alice-video", "bob-audio", "bob-video"}) {
    auto s = c.stream_for(track);
    ASSERT_TRUE(s) << track;
    EXPECT_GT(c.rtp_from(s->ssrc).size(), 10u) << track;
  }
  // The others were offered Carol's tracks and receive them.
  for (Client* x : {&a, &b}) {
    auto s = x->stream_for("carol-video");
    ASSERT_TRUE(s) << x->spec.name;
    EXPECT_GT(x->rtp_from(s->ssrc).size(), 10u) << x->spec.name;
    EXPECT_TRUE(x->errors.empty());
  }
}

TEST(Renegotiation, GlareTheServerAnswersThenOffersAgain) {
  Harness h(33);
  Client& a = h.add_client({.name = "alice"});
  Client& b = h.add_client({.name = "bob"});
  h.join(a);
  h.join(b);
  ASSERT_TRUE(h.connect_all());
  a.start_media(h.now());
  b.start_media(h.now());
  h.run_for(500ms);

  // Carol's arrival makes the server offer her tracks to Alice; Alice holds it…
  a.auto_answer = false;
  Client& c = h.add_client({.name = "carol"});
  h.join(c);
  ASSERT_EQ(a.held_offers.size(), 1u);
  ASSERT_EQ(sending(parse(a.held_offers.front()), "carol-video").size(), 1u);
  // …and sends an offer of her own: glare.
  size_t kinds = a.signal_kinds.size();
  a.send_offer();
  ASSERT_EQ(a.signal_kinds.size(), kinds + 2);
  EXPECT_EQ(a.signal_kinds[kinds], "answer") << "the polite server rolls back and answers";
  EXPECT_EQ(a.signal_kinds[kinds + 1], "offer") << "then offers its changes again";
  EXPECT_TRUE(a.errors.empty());
  // Alice (impolite) ignores the server's first offer and answers the new one.
  a.held_offers.erase(a.held_offers.begin());
  ASSERT_EQ(a.held_offers.size(), 1u);
  ASSERT_EQ(sending(parse(a.held_offers.front()), "carol-video").size(), 1u);
  a.answer_pending();
  EXPECT_TRUE(a.errors.empty());
  EXPECT_TRUE(a.held_offers.empty());

  ASSERT_TRUE(h.connect_all());
  c.start_media(h.now());
  h.run_for(1s);
  // Converged: Alice receives Carol's audio and video and still Bob's.
  for (const char* track : {"carol-audio", "carol-video", "bob-video"}) {
    auto s = a.stream_for(track);
    ASSERT_TRUE(s) << track;
    EXPECT_GT(a.rtp_from(s->ssrc).size(), 10u) << track;
  }
  // No further offers pending: nothing left to negotiate.
  h.run_for(100ms);
  EXPECT_TRUE(a.held_offers.empty());
  for (auto& x : h.clients) EXPECT_TRUE(x->errors.empty()) << x->spec.name;
}


/// Everyone in `clients` receives every other one's audio and video.
void expect_full_mesh(Harness& h, const std::vector<Client*>& clients) {
  for (Client* to : clients) {
    EXPECT_TRUE(to->errors.empty()) << to->spec.name << ": " << (to->errors.empty() ? "" : to->errors.front().message);
    for (Client* from : clients) {
      if (from == to) continue;
      for (const char* kind : {"-audio", "-video"}) {
        auto s = to->stream_for(from->spec.name + kind);
        ASSERT_TRUE(s) << to->spec.name << " has no m-section for " << from->spec.name << kind;
        auto rx = to->rtp_from(s->ssrc);
        EXPECT_FALSE(rx.empty()) << to->spec.name << " receives nothing of " << from->spec.name << kind;
        if (!rx.empty()) {
          EXPECT_GT(rx.back().at, h.now() - 100ms) << to->spec.name << " <- " << from->spec.name << kind;
        }
      }
    }
  }
}

TEST(Renegotiation, ChurnWhileOffersAreOutstandingConverges) {
  Harness h(34);
  Client& a = h.add_client({.name = "alice"});
  Client& b = h.add_client({.name = "bob"});
  Client& c = h.add_client({.name = "carol"});
  for (Client* x : {&a, &b, &c}) h.join(*x);
  ASSERT_TRUE(h.connect_all());
  for (Client* x : {&a, &b, &c}) x->start_media(h.now());
  h.run_for(500ms);
  expect_full_mesh(h, {&a, &b, &c});

  // Dave joins while Alice sits on the offer with his tracks, and leaves
  // before she answers it.
  a.auto_answer = false;
  Client& d = h.add_client({.name = "dave"});
  h.join(d);
  ASSERT_TRUE(h.connect_all());
  d.start_media(h.now());
  h.run_for(300ms);
  ASSERT_EQ(a.held_offers.size(), 1u);
  auto dave_lines = sending(parse(a.held_offers.front()), "dave-video");
  ASSERT_EQ(dave_lines.size(), 1u);
  const std::string dave_video_mid = dave_lines.front()->mid;
  h.leave(d);
  h.run_for(50ms);
  EXPECT_EQ(a.held_offers.size(), 1u) << "one server offer at a time";
  a.answer_pending();
  // The removal follows at once.
  ASSERT_EQ(a.held_offers.size(), 1u);
  {
    auto offer = parse(a.held_offers.front());
    const auto* m = offer.find_media(dave_video_mid);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->direction, sdp::Direction::Inactive);
    EXPECT_TRUE(m->ssrcs.empty());
  }
  a.answer_pending();
  a.auto_answer = true;

  // Erin takes Dave's place: Alice's inactive m-sections are reused.
  Client& e = h.add_client({.name = "erin"});
  h.join(e);
  ASSERT_TRUE(h.connect_all());
  e.start_media(h.now());
  h.run_for(1s);
  auto erin_video = a.stream_for("erin-video");
  ASSERT_TRUE(erin_video);
  EXPECT_EQ(erin_video->mid, dave_video_mid) << "the stopped m-section is recycled with its mid";
  expect_full_mesh(h, {&a, &b, &c, &e});
  EXPECT_EQ(h.core.participant_count(), 4u);
}

}  // namespace
}  // namespace sb::sfu::test
