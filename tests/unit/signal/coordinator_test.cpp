#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>

#include "signal/Coordinator.hpp"

using namespace sb::signal;
namespace json = boost::json;

namespace {

// Records what the coordinator asks of the media side.
class RecordingBackend final : public MediaBackend {
 public:
  std::optional<ProtocolError> join(const ParticipantKey& k) override {
    calls.push_back("join " + k.self_id);
    return std::nullopt;
  }
  std::optional<ProtocolError> offer(const ParticipantKey& k, std::string) override {
    calls.push_back("offer " + k.self_id);
    return std::nullopt;
  }
  std::optional<ProtocolError> answer(const ParticipantKey& k, std::string) override {
    calls.push_back("answer " + k.self_id);
    return std::nullopt;
  }
  std::optional<ProtocolError> candidate(const ParticipantKey& k, IceCandidate c) override {
    calls.push_back("candidate " + k.self_id + " " + c.candidate);
    return std::nullopt;
  }
  void leave(const ParticipantKey& k) override { calls.push_back("leave " + k.self_id); }
  std::vector<std::string> calls;
};

struct Fixture : ::testing::Test {
  RecordingBackend media;
  Coordinator coord{media};

  std::vector<std::pair<ConnId, json::value>> drain() {
    std::vector<std::pair<ConnId, json::value>> out;
    while (auto o = coord.poll_output()) out.emplace_back(o->conn, json::parse(o->text));
    return out;
  }
  void join(ConnId c, const std::string& room, const std::string& self) {
    coord.handle_open(c);
    coord.handle_text(c, R"({"event":"joinRoom","data":{"room_id":")" + room + R"(","self_id":")" + self + R"("}})");
  }
  static std::string offer_text() { return R"({"event":"offer","data":{"offer":{"type":"offer","sdp":"v=0\r\n"}}})"; }
  static std::string cand_text(const std::string& c) {
    return R"({"event":"ice-candidate","data":{"candidate":{"candidate":")" + c + R"(","sdpMid":"0","sdpMLineIndex":0}}})";
  }
};

}  // namespace

TEST_F(Fixture, MembersSeeEachOtherJoinAndLeave) {
  join(1, "room", "alice");
  auto out = drain();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].second.at("event").as_string(), "roomJoined");
  EXPECT_TRUE(out[0].second.at("data").at("participants").as_array().empty());

  join(2, "room", "bob");
  out = drain();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].first, 1u);
  EXPECT_EQ(out[0].second.at("event").as_string(), "participantJoined");
  EXPECT_EQ(out[0].second.at("data").at("self_id").as_string(), "bob");
  EXPECT_EQ(out[1].first, 2u);
  EXPECT_EQ(out[1].second.at("data").at("participants").as_array().at(0).as_string(), "alice");

  coord.handle_text(2, R"({"event":"leaveRoom","data":{}})");
  out = drain();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].first, 1u);
  EXPECT_EQ(out[0].second.at("event").as_string(), "participantLeft");
  EXPECT_EQ(out[0].second.at("data").at("reason").as_string(), "left");
  EXPECT_EQ(out[1].second.at("event").as_string(), "roomLeft");
  EXPECT_EQ(coord.room_members("room"), std::vector<std::string>{"alice"});
}

namespace {
std::vector<std::string> ids_of(const json::value& list) {
  std::vector<std::string> out;
  for (const auto& v : list.as_array())
    out.emplace_back(v.is_string() ? v.as_string() : v.at("self_id").as_string());
  return out;
}
}  // namespace

// Past kAnnounceEachUpTo members a room's joins and leaves are not a message
// to everyone each: every member gets one participantsChanged per batch with
// what changed since it joined, net of changes that undid each other.
TEST_F(Fixture, LargeRoomsHearOfJoinsAndLeavesInBatches) {
  const ConnId n = ConnId(kAnnounceEachUpTo) + 1;  // members m0 … m50
  for (ConnId c = 1; c <= n; ++c) join(c, "big", "m" + std::to_string(c - 1));
  auto out = drain();
  EXPECT_EQ(out.back().second.at("event").as_string(), "roomJoined");
  EXPECT_EQ(out[out.size() - 2].second.at("event").as_string(), "participantJoined") << "still announced one by one";
  EXPECT_FALSE(coord.membership_pending());

  join(100, "big", "late");
  out = drain();
  ASSERT_EQ(out.size(), 1u) << "the newcomer is told who is there, nobody else yet";
  EXPECT_EQ(out[0].first, 100u);
  EXPECT_EQ(out[0].second.at("data").at("participants").as_array().size(), size_t(n));
  EXPECT_TRUE(coord.membership_pending());
  coord.handle_close(4);                   // m3 goes
  join(101, "big", "later");               // joins after m3 left
  join(102, "big", "brief");               // in and out within the batch
  coord.handle_close(102);
  coord.handle_text(2, R"({"event":"leaveRoom","data":{}})");  // m1 leaves and comes back
  coord.handle_text(2, R"({"event":"joinRoom","data":{"room_id":"big","self_id":"m1"}})");
  out = drain();
  ASSERT_EQ(out.size(), 4u);  // roomJoined for later, brief and m1; roomLeft for m1
  for (const auto& [conn, msg] : out) EXPECT_NE(msg.at("event").as_string(), "participantJoined");

  coord.flush_membership();
  EXPECT_FALSE(coord.membership_pending());
  out = drain();
  std::map<ConnId, json::value> got;
  for (auto& [conn, msg] : out) {
    EXPECT_EQ(msg.at("event").as_string(), "participantsChanged");
    EXPECT_TRUE(got.emplace(conn, msg.at("data")).second) << "one message per member";
  }
  // m0 and the other members from before the batch: everything, net.
  const auto& old = got.at(1);
  EXPECT_EQ(old.at("room_id").as_string(), "big");
  EXPECT_EQ(ids_of(old.at("joined")), (std::vector<std::string>{"late", "later", "m1"}));
  EXPECT_EQ(ids_of(old.at("left")), (std::vector<std::string>{"m3", "brief"}));
  EXPECT_EQ(old.at("left").as_array()[0].at("reason").as_string(), "disconnected");
  EXPECT_EQ(got.at(n), old);
  // Those who joined during the batch hear only what happened after their join.
  EXPECT_EQ(ids_of(got.at(100).at("joined")), (std::vector<std::string>{"later", "m1"}));
  EXPECT_EQ(ids_of(got.at(100).at("left")), (std::vector<std::string>{"m3", "brief"}));
  EXPECT_EQ(ids_of(got.at(101).at("joined")), (std::vector<std::string>{"m1"}));
  EXPECT_EQ(ids_of(got.at(101).at("left")), (std::vector<std::string>{"brief"}));
  EXPECT_FALSE(got.contains(2)) << "m1 rejoined last: nothing happened since";
  EXPECT_FALSE(got.contains(4)) << "m3 is gone";
  EXPECT_EQ(got.size(), size_t(n) - 2 + 2);  // old members but m1 and m3, plus late and later

  coord.flush_membership();
  EXPECT_TRUE(drain().empty());
}

TEST_F(Fixture, ClosedSocketIsALeaveAndEmptyRoomsDisappear) {
  join(1, "room", "alice");
  join(2, "room", "bob");
  drain();
  coord.handle_close(1);
  auto out = drain();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].first, 2u);
  EXPECT_EQ(out[0].second.at("data").at("reason").as_string(), "disconnected");
  coord.handle_close(2);
  EXPECT_EQ(coord.room_count(), 0u);
  EXPECT_EQ(media.calls.back(), "leave bob");
}

TEST_F(Fixture, SameSelfIdFromSecondSocketDoesNotTakeOver) {
  join(1, "room", "alice");
  drain();
  join(2, "room", "alice");
  auto out = drain();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].first, 2u);
  EXPECT_EQ(out[0].second.at("data").at("code").as_string(), "id-taken");
  // The first socket still owns the id and its session.
  coord.handle_close(2);
  EXPECT_EQ(coord.room_members("room"), std::vector<std::string>{"alice"});
  EXPECT_TRUE(drain().empty());
}

TEST_F(Fixture, OfferBeforeJoinIsRejected) {
  coord.handle_open(1);
  coord.handle_text(1, offer_text());
  auto out = drain();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].second.at("data").at("code").as_string(), "not-joined");
  EXPECT_EQ(out[0].second.at("data").at("event").as_string(), "offer");
  EXPECT_TRUE(media.calls.empty());
}

TEST_F(Fixture, SecondRoomOnSameSocketIsRejected) {
  join(1, "a", "alice");
  drain();
  coord.handle_text(1, R"({"event":"joinRoom","data":{"room_id":"b","self_id":"alice"}})");
  auto out = drain();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].second.at("data").at("code").as_string(), "already-joined");
  EXPECT_EQ(coord.room_count(), 1u);
}

TEST_F(Fixture, EarlyCandidatesAreKeptUntilTheOffer) {
  join(1, "room", "alice");
  coord.handle_text(1, cand_text("candidate:1"));
  coord.handle_text(1, cand_text("candidate:2"));
  EXPECT_EQ(media.calls, std::vector<std::string>{"join alice"});
  coord.handle_text(1, offer_text());
  coord.handle_text(1, cand_text("candidate:3"));
  EXPECT_EQ(media.calls, (std::vector<std::string>{"join alice", "offer alice", "candidate alice candidate:1",
                                                   "candidate alice candidate:2", "candidate alice candidate:3"}));
}

TEST_F(Fixture, PendingCandidatesAreBounded) {
  join(1, "room", "alice");
  drain();
  for (size_t i = 0; i < kMaxPendingCandidates; ++i) coord.handle_text(1, cand_text("c"));
  EXPECT_TRUE(drain().empty());
  coord.handle_text(1, cand_text("c"));
  auto out = drain();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].second.at("data").at("code").as_string(), "bad-candidate");
}

TEST_F(Fixture, BadInputDoesNotDisturbOthers) {
  join(1, "room", "alice");
  join(2, "room", "bob");
  drain();
  coord.handle_text(1, "garbage");
  coord.handle_binary(1, 10);
  coord.handle_text(1, R"({"event":"nope","data":{}})");
  auto out = drain();
  ASSERT_EQ(out.size(), 3u);
  for (auto& [conn, v] : out) {
    EXPECT_EQ(conn, 1u);
    EXPECT_EQ(v.at("event").as_string(), "error");
  }
  EXPECT_EQ(coord.room_members("room").size(), 2u);
}

TEST_F(Fixture, MediaClosedRemovesTheParticipant) {
  join(1, "room", "alice");
  join(2, "room", "bob");
  drain();
  coord.on_media_closed(1, "ice-timeout");
  auto out = drain();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].first, 2u);
  EXPECT_EQ(out[0].second.at("data").at("reason").as_string(), "ice-timeout");
  EXPECT_EQ(coord.room_members("room"), std::vector<std::string>{"bob"});
  // Results for connections that are gone are dropped quietly.
  coord.on_media_answer(99, "v=0");
  EXPECT_TRUE(drain().empty());
}

TEST_F(Fixture, NoMediaBackendSaysWhy) {
  NoMediaBackend none;
  Coordinator c(none);
  c.handle_open(1);
  c.handle_text(1, R"({"event":"joinRoom","data":{"room_id":"r","self_id":"s"}})");
  c.handle_text(1, offer_text());
  std::vector<json::value> out;
  while (auto o = c.poll_output()) out.push_back(json::parse(o->text));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].at("data").at("code").as_string(), "media-unavailable");
}
