#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "signal/Protocol.hpp"

using namespace sb::signal;
namespace json = boost::json;

namespace {
ProtocolError expect_error(std::string_view text) {
  auto d = decode_client_message(text);
  EXPECT_TRUE(std::holds_alternative<ProtocolError>(d)) << text;
  if (auto* e = std::get_if<ProtocolError>(&d)) return *e;
  return {};
}
ClientMessage expect_ok(std::string_view text) {
  auto d = decode_client_message(text);
  if (auto* e = std::get_if<ProtocolError>(&d)) ADD_FAILURE() << text << " -> " << e->message;
  return std::get<ClientMessage>(d);
}
}  // namespace

TEST(Protocol, DecodesSeedJoinRoom) {
  auto m = expect_ok(R"({"event":"joinRoom","data":{"room_id":"r1","self_id":"abcdefghij"}})");
  auto& j = std::get<JoinRoom>(m);
  EXPECT_EQ(j.room_id, "r1");
  EXPECT_EQ(j.self_id, "abcdefghij");
}

TEST(Protocol, DecodesSeedAnswerWithoutIds) {
  // The seed client sends its answer with no room_id/self_id.
  auto m = expect_ok(R"({"event":"answer","data":{"answer":{"type":"answer","sdp":"v=0\r\n"}}})");
  EXPECT_EQ(std::get<Answer>(m).sdp, "v=0\r\n");
}

TEST(Protocol, DecodesCandidateWithNullUfrag) {
  auto m = expect_ok(R"({"event":"ice-candidate","data":{"room_id":"r","self_id":"s","candidate":
      {"candidate":"candidate:1 1 udp 1 1.2.3.4 5 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":null}}})");
  auto& c = std::get<IceCandidate>(m);
  EXPECT_EQ(c.sdp_mid, "0");
  EXPECT_EQ(c.sdp_mline_index, 0);
  EXPECT_FALSE(c.username_fragment);
}

TEST(Protocol, RejectsMalformedInputWithReasons) {
  EXPECT_EQ(expect_error("{not json").code, errc::kBadJson);
  EXPECT_EQ(expect_error("[1,2]").code, errc::kBadJson);
  EXPECT_EQ(expect_error(R"({"data":{}})").code, errc::kBadMessage);
  EXPECT_EQ(expect_error(R"({"event":5})").code, errc::kBadMessage);
  auto unk = expect_error(R"({"event":"dance","data":{}})");
  EXPECT_EQ(unk.code, errc::kUnknownEvent);
  EXPECT_EQ(unk.event, "dance");
  auto missing = expect_error(R"({"event":"joinRoom","data":{"self_id":"x"}})");
  EXPECT_EQ(missing.code, errc::kBadRoomId);
  EXPECT_NE(missing.message.find("room_id is missing"), std::string::npos);
  auto wrong_type = expect_error(R"({"event":"joinRoom","data":{"room_id":5,"self_id":"x"}})");
  EXPECT_NE(wrong_type.message.find("room_id must be a string"), std::string::npos);
  EXPECT_EQ(expect_error(R"({"event":"joinRoom","data":{"room_id":"","self_id":"x"}})").code, errc::kBadRoomId);
  std::string long_room(10 * 1024, 'r');
  auto too_long = expect_error(R"({"event":"joinRoom","data":{"room_id":")" + long_room + R"(","self_id":"x"}})");
  EXPECT_EQ(too_long.code, errc::kBadRoomId);
  EXPECT_NE(too_long.message.find("limit"), std::string::npos);
  EXPECT_EQ(expect_error(R"({"event":"offer","data":{"offer":{"type":"offer"}}})").code, errc::kBadSdp);
  EXPECT_EQ(expect_error(R"({"event":"offer","data":{"offer":{"type":"answer","sdp":"v=0"}}})").code,
            errc::kBadMessage);
  EXPECT_EQ(expect_error(R"({"event":"offer","data":{"offer":"v=0"}})").code, errc::kBadMessage);
  EXPECT_EQ(expect_error(R"({"event":"ice-candidate","data":{"candidate":{"candidate":7}}})").code,
            errc::kBadCandidate);
  EXPECT_EQ(expect_error(R"({"event":"ice-candidate","data":{"candidate":{"candidate":"c","sdpMLineIndex":"0"}}})").code,
            errc::kBadCandidate);
  EXPECT_EQ(expect_error(R"({"event":"offer","data":[]})").code, errc::kBadMessage);
  EXPECT_EQ(expect_error(R"({"event":"offer"})").code, errc::kBadMessage);
}

TEST(Protocol, LeaveRoomNeedsNoData) {
  EXPECT_TRUE(std::holds_alternative<LeaveRoom>(expect_ok(R"({"event":"leaveRoom"})")));
}

TEST(Protocol, SeedEventsAreDoubleEncoded) {
  auto v = json::parse(encode_answer("v=0\r\n"));
  EXPECT_EQ(v.at("event").as_string(), "answer");
  ASSERT_TRUE(v.at("data").is_string());
  auto inner = json::parse(v.at("data").as_string());
  EXPECT_EQ(inner.at("type").as_string(), "answer");
  EXPECT_EQ(inner.at("sdp").as_string(), "v=0\r\n");

  IceCandidate c{"candidate:1 1 udp 2130706431 127.0.0.1 4000 typ host", "0", 0, "abcd"};
  auto cv = json::parse(encode_candidate(c));
  auto ci = json::parse(cv.at("data").as_string());
  EXPECT_EQ(ci.at("candidate").as_string(), c.candidate);
  EXPECT_EQ(ci.at("sdpMid").as_string(), "0");
  EXPECT_EQ(ci.at("sdpMLineIndex").as_int64(), 0);
}

TEST(Protocol, ErrorEventNamesCodeMessageAndEvent) {
  auto v = json::parse(encode_error(errc::kNotJoined, "join first", "offer"));
  EXPECT_EQ(v.at("event").as_string(), "error");
  EXPECT_EQ(v.at("data").at("code").as_string(), "not-joined");
  EXPECT_EQ(v.at("data").at("message").as_string(), "join first");
  EXPECT_EQ(v.at("data").at("event").as_string(), "offer");
}
