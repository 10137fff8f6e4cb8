// RFC 5769 test vectors: parse, MESSAGE-INTEGRITY, FINGERPRINT, XOR-MAPPED-ADDRESS.
#include <gtest/gtest.h>

#include "stun/Integrity.hpp"
#include "stun/Message.hpp"
#include "stun/MessageBuilder.hpp"
#include "util/Hex.hpp"

namespace sb::stun {
namespace {

using util::Bytes;
using util::ByteView;
using util::SocketAddr;

Bytes hex(std::string_view s) {
  auto b = util::from_hex(s);
  EXPECT_TRUE(b.has_value());
  return b.value_or(Bytes{});
}

constexpr std::string_view kPassword = "VOkJxbRl1RmTxUk/WvJxBt";

// RFC 5769 §2.1 Sample Request (USERNAME padded with spaces on purpose).
const Bytes kRequest = hex(
    "00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
    "80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74"
    "00 24 00 04 6e 00 01 ff"
    "80 29 00 08 93 2f f9 b1 51 26 3b 36"
    "00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20"
    "00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2"
    "80 28 00 04 e5 7a 3b cf");

// RFC 5769 §2.2 Sample IPv4 Response.
const Bytes kIpv4Response = hex(
    "01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
    "80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20"
    "00 20 00 08 00 01 a1 47 e1 12 a6 43"
    "00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7"
    "80 28 00 04 c0 7d 4c 96");

// RFC 5769 §2.3 Sample IPv6 Response.
const Bytes kIpv6Response = hex(
    "01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
    "80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20"
    "00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9"
    "00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41"
    "80 28 00 04 c8 fb 0b 4c");

// RFC 5769 §2.4 Sample Request with Long-Term Authentication.
const Bytes kLongTermRequest = hex(
    "00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e"
    "00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 00"
    "00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 46 53 54 76 79 36 34 73 41"
    "00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00"
    "00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66");

const TransactionId kTid = TransactionId::from(hex("b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"));

TEST(StunVectors, SampleRequest) {
  ASSERT_TRUE(is_stun(kRequest));
  auto m = Message::parse(kRequest);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->message_class(), MessageClass::kRequest);
  EXPECT_EQ(m->method(), Method::kBinding);
  EXPECT_EQ(m->transaction_id(), kTid);
  EXPECT_EQ(m->software(), "STUN test client");
  EXPECT_EQ(m->username(), "evtj:h6vY");
  EXPECT_EQ(m->priority(), 0x6e0001ffu);
  EXPECT_EQ(m->ice_controlled(), 0x932ff9b151263b36ull);
  EXPECT_FALSE(m->ice_controlling());
  EXPECT_FALSE(m->use_candidate());
  EXPECT_TRUE(verify_message_integrity(*m, kPassword));
  EXPECT_FALSE(verify_message_integrity(*m, std::string_view("VOkJxbRl1RmTxUk/WvJxBu")));
  EXPECT_TRUE(verify_fingerprint(*m));
  EXPECT_EQ(m->fingerprint(), 0xe57a3bcfu);
  EXPECT_FALSE(m->unknown_comprehension_required());
}

TEST(StunVectors, Ipv4Response) {
  auto m = Message::parse(kIpv4Response);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->message_class(), MessageClass::kSuccessResponse);
  EXPECT_EQ(m->method(), Method::kBinding);
  EXPECT_EQ(m->software(), "test vector");
  EXPECT_EQ(m->xor_mapped_address(), SocketAddr::parse("192.0.2.1:32853"));
  EXPECT_TRUE(verify_message_integrity(*m, kPassword));
  EXPECT_TRUE(verify_fingerprint(*m));
}

TEST(StunVectors, Ipv6Response) {
  auto m = Message::parse(kIpv6Response);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->xor_mapped_address(), SocketAddr::parse("[2001:db8:1234:5678:11:2233:4455:6677]:32853"));
  EXPECT_TRUE(verify_message_integrity(*m, kPassword));
  EXPECT_TRUE(verify_fingerprint(*m));
}

TEST(StunVectors, LongTermRequest) {
  auto m = Message::parse(kLongTermRequest);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->message_class(), MessageClass::kRequest);
  EXPECT_EQ(m->username(), "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9");
  EXPECT_EQ(util::as_string(*m->find(attr::kNonce)), "f//499k954d6OL34oL9FSTvy64sA");
  EXPECT_EQ(util::as_string(*m->find(attr::kRealm)), "example.org");
  EXPECT_FALSE(m->fingerprint());
  EXPECT_FALSE(verify_fingerprint(*m));
  // The password "The<U+00AD>M<U+00AA>tr<U+2168>" is "TheMatrIX" after SASLprep.
  auto key = long_term_key(*m->username(), "example.org", "TheMatrIX");
  EXPECT_TRUE(verify_message_integrity(*m, ByteView(key)));
  EXPECT_FALSE(verify_message_integrity(*m, ByteView(long_term_key(*m->username(), "example.org", "thematrix"))));
}

// Rebuilding the vectors from their parts must give the same bytes, except the
// padding, which RFC 5769 fills with spaces and we with zeros.
TEST(StunVectors, BuildIpv4ResponseMatchesVector) {
  std::array<uint8_t, 256> buf{};
  MessageBuilder b(buf, MessageClass::kSuccessResponse, Method::kBinding, kTid);
  b.add_software("test vector")
      .add_xor_mapped_address(*SocketAddr::parse("192.0.2.1:32853"))
      .add_message_integrity(kPassword)
      .add_fingerprint();
  auto n = b.finish();
  ASSERT_TRUE(n);
  ASSERT_EQ(*n, kIpv4Response.size());
  // SOFTWARE "test vector" is 11 bytes: one padding byte at offset 20+4+11.
  Bytes expected = kIpv4Response;
  expected[35] = 0;
  Bytes built(buf.begin(), buf.begin() + std::ptrdiff_t(*n));
  auto m = Message::parse(built);
  ASSERT_TRUE(m);
  EXPECT_TRUE(verify_message_integrity(*m, kPassword));
  EXPECT_TRUE(verify_fingerprint(*m));
  EXPECT_EQ(m->xor_mapped_address(), SocketAddr::parse("192.0.2.1:32853"));
  // Same bytes up to MESSAGE-INTEGRITY (the HMAC covers the padding, so it differs).
  EXPECT_EQ(util::to_hex(ByteView(built).first(44)), util::to_hex(ByteView(expected).first(44)));
}

TEST(StunVectors, BuildIpv6ResponseVerifies) {
  std::array<uint8_t, 256> buf{};
  const auto addr = *SocketAddr::parse("[2001:db8:1234:5678:11:2233:4455:6677]:32853");
  MessageBuilder b(buf, MessageClass::kSuccessResponse, Method::kBinding, kTid);
  b.add_xor_mapped_address(addr).add_message_integrity(kPassword).add_fingerprint();
  auto n = b.finish();
  ASSERT_TRUE(n);
  auto m = Message::parse(ByteView(buf).first(*n));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->xor_mapped_address(), addr);
  // The attribute value is byte for byte the one in RFC 5769 §2.3.
  EXPECT_EQ(util::to_hex(*m->find(attr::kXorMappedAddress)), "0002a1470113a9faa5d3f179bc25f4b5bed2b9d9");
  EXPECT_TRUE(verify_message_integrity(*m, kPassword));
  EXPECT_TRUE(verify_fingerprint(*m));
}

TEST(StunVectors, BuildLongTermRequestIsByteExact) {
  // §2.4 pads with zeros, so our builder reproduces it exactly.
  auto parsed = Message::parse(kLongTermRequest);
  ASSERT_TRUE(parsed);
  std::array<uint8_t, 256> buf{};
  MessageBuilder b(buf, MessageClass::kRequest, Method::kBinding, parsed->transaction_id());
  auto key = long_term_key(*parsed->username(), "example.org", "TheMatrIX");
  b.add_username(*parsed->username())
      .add_attribute(attr::kNonce, *parsed->find(attr::kNonce))
      .add_attribute(attr::kRealm, *parsed->find(attr::kRealm))
      .add_message_integrity(ByteView(key));
  auto n = b.finish();
  ASSERT_TRUE(n);
  EXPECT_EQ(util::to_hex(ByteView(buf).first(*n)), util::to_hex(kLongTermRequest));
}

}  // namespace
}  // namespace sb::stun
