// Message parsing and building beyond the RFC vectors: malformed input, builder rules.
#include <gtest/gtest.h>

#include "stun/Crc32.hpp"
#include "stun/Integrity.hpp"
#include "stun/Message.hpp"
#include "stun/MessageBuilder.hpp"
#include "util/Hex.hpp"
#include "util/Random.hpp"

namespace sb::stun {
namespace {

using util::Bytes;
using util::ByteView;
using util::SocketAddr;

Bytes build_request(std::string_view pwd = "password-password-pass") {
  auto rng = util::make_seeded_random(7);
  std::array<uint8_t, 256> buf{};
  MessageBuilder b(buf, MessageClass::kRequest, Method::kBinding, TransactionId::random(*rng));
  b.add_username("abcd:efgh")
      .add_priority(1853824767)
      .add_ice_controlling(0x0102030405060708ull)
      .add_use_candidate()
      .add_message_integrity(pwd)
      .add_fingerprint();
  auto n = b.finish();
  EXPECT_TRUE(n);
  return Bytes(buf.begin(), buf.begin() + std::ptrdiff_t(n.value_or(0)));
}

ParseError parse_error(ByteView b) {
  ParseError e = ParseError::kNone;
  EXPECT_FALSE(Message::parse(b, &e));
  return e;
}

TEST(StunCrc32, KnownValue) {
  // The standard CRC-32 check value.
  EXPECT_EQ(crc32(util::as_bytes("123456789")), 0xCBF43926u);
  EXPECT_EQ(crc32({}), 0u);
  EXPECT_EQ(crc32_update(crc32(util::as_bytes("1234")), util::as_bytes("56789")), 0xCBF43926u);
}

TEST(StunMessage, TypeEncoding) {
  EXPECT_EQ(message_type(MessageClass::kRequest, Method::kBinding), 0x0001);
  EXPECT_EQ(message_type(MessageClass::kIndication, Method::kBinding), 0x0011);
  EXPECT_EQ(message_type(MessageClass::kSuccessResponse, Method::kBinding), 0x0101);
  EXPECT_EQ(message_type(MessageClass::kErrorResponse, Method::kBinding), 0x0111);
  EXPECT_EQ(message_type(MessageClass::kErrorResponse, Method(0xFFF)), 0x3FFF);
  for (uint16_t m : {0x001, 0x003, 0x00A, 0x0FF, 0xFFF})
    for (auto c : {MessageClass::kRequest, MessageClass::kIndication, MessageClass::kSuccessResponse,
                   MessageClass::kErrorResponse}) {
      const uint16_t t = message_type(c, Method(m));
      EXPECT_EQ(class_of(t), c);
      EXPECT_EQ(uint16_t(method_of(t)), m);
    }
}

TEST(StunMessage, RoundTripIceRequest) {
  Bytes b = build_request();
  auto m = Message::parse(b);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->is(MessageClass::kRequest, Method::kBinding));
  EXPECT_EQ(m->username(), "abcd:efgh");
  EXPECT_EQ(m->priority(), 1853824767u);
  EXPECT_EQ(m->ice_controlling(), 0x0102030405060708ull);
  EXPECT_TRUE(m->use_candidate());
  EXPECT_TRUE(verify_message_integrity(*m, std::string_view("password-password-pass")));
  EXPECT_FALSE(verify_message_integrity(*m, std::string_view("password-password-pasS")));
  EXPECT_FALSE(verify_message_integrity(*m, ByteView{}));
  EXPECT_TRUE(verify_fingerprint(*m));
  size_t count = 0;
  for (const Attribute& a : m->attributes()) {
    (void)a;
    ++count;
  }
  EXPECT_EQ(count, 5u);  // FINGERPRINT is reached through fingerprint()
}

TEST(StunMessage, ErrorResponseRoundTrip) {
  std::array<uint8_t, 128> buf{};
  const uint16_t unknown[] = {0x0033, 0x0044};
  MessageBuilder b(buf, MessageClass::kErrorResponse, Method::kBinding, TransactionId{});
  b.add_error_code(420, "Unknown Attribute").add_unknown_attributes(unknown).add_fingerprint();
  auto n = b.finish();
  ASSERT_TRUE(n);
  auto m = Message::parse(ByteView(buf).first(*n));
  ASSERT_TRUE(m);
  auto ec = m->error_code();
  ASSERT_TRUE(ec);
  EXPECT_EQ(ec->code, 420);
  EXPECT_EQ(ec->reason, "Unknown Attribute");
  EXPECT_EQ(util::to_hex(*m->find(attr::kUnknownAttributes)), "00330044");
  EXPECT_TRUE(verify_fingerprint(*m));
  EXPECT_FALSE(m->message_integrity());
  EXPECT_FALSE(verify_message_integrity(*m, std::string_view("x")));
}

TEST(StunMessage, MappedAddressAndIpv6Xor) {
  std::array<uint8_t, 128> buf{};
  const auto v4 = *SocketAddr::parse("10.1.2.3:4000");
  const auto v6 = *SocketAddr::parse("[fe80::1:2]:65535");
  auto rng = util::make_seeded_random(3);
  MessageBuilder b(buf, MessageClass::kSuccessResponse, Method::kBinding, TransactionId::random(*rng));
  b.add_mapped_address(v4).add_xor_mapped_address(v6);
  auto n = b.finish();
  ASSERT_TRUE(n);
  auto m = Message::parse(ByteView(buf).first(*n));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->mapped_address(), v4);
  EXPECT_EQ(m->xor_mapped_address(), v6);
}

TEST(StunMessage, IsStunDemux) {
  Bytes b = build_request();
  EXPECT_TRUE(is_stun(b));
  Bytes dtls = b;
  dtls[0] = 22;  // DTLS handshake record
  EXPECT_FALSE(is_stun(dtls));
  Bytes rtp = b;
  rtp[0] = 0x80;
  EXPECT_FALSE(is_stun(rtp));
  Bytes cookie = b;
  cookie[5] ^= 1;
  EXPECT_FALSE(is_stun(cookie));
  EXPECT_FALSE(is_stun(ByteView(b).first(19)));
}

TEST(StunMalformed, Truncated) {
  Bytes b = build_request();
  for (size_t n = 0; n < b.size(); ++n) EXPECT_FALSE(Message::parse(ByteView(b).first(n))) << n;
  EXPECT_EQ(parse_error(ByteView(b).first(10)), ParseError::kTooShort);
  EXPECT_EQ(parse_error(ByteView(b).first(b.size() - 4)), ParseError::kBadLength);
}

TEST(StunMalformed, BadLengthField) {
  Bytes b = build_request();
  Bytes odd = b;
  util::store_be16(&odd[2], uint16_t(util::load_be16(&odd[2]) + 2));
  EXPECT_EQ(parse_error(odd), ParseError::kBadLength);
  Bytes longer = b;
  util::store_be16(&longer[2], uint16_t(util::load_be16(&longer[2]) + 4));
  EXPECT_EQ(parse_error(longer), ParseError::kBadLength);
  Bytes trailing = b;
  trailing.insert(trailing.end(), {0, 0, 0, 0});
  EXPECT_EQ(parse_error(trailing), ParseError::kBadLength);
}

TEST(StunMalformed, AttributeOverrun) {
  Bytes b = build_request();
  // The first attribute (USERNAME) claims more than the message holds.
  util::store_be16(&b[22], 0xFFF0);
  EXPECT_EQ(parse_error(b), ParseError::kAttributeOverrun);
  // A header that ends inside the attribute list.
  Bytes cut = build_request();
  util::store_be16(&cut[22], 9);  // 9 bytes + 3 padding = 12, fine; shift by claiming 13
  EXPECT_TRUE(Message::parse(cut));
  util::store_be16(&cut[22], 13);
  EXPECT_FALSE(Message::parse(cut));
}

TEST(StunMalformed, WrongCookieAndTopBits) {
  Bytes b = build_request();
  Bytes cookie = b;
  cookie[4] = 0;
  EXPECT_EQ(parse_error(cookie), ParseError::kBadCookie);
  Bytes top = b;
  top[0] |= 0x40;
  EXPECT_EQ(parse_error(top), ParseError::kNotStun);
}

TEST(StunMalformed, WrongIntegrityAndFingerprint) {
  Bytes b = build_request();
  auto good = Message::parse(b);
  ASSERT_TRUE(good);
  const size_t mi = *good->message_integrity_offset();
  const size_t fp = *good->fingerprint_offset();

  Bytes bad_mi = b;
  bad_mi[mi + 4] ^= 0x01;
  auto m1 = Message::parse(bad_mi);
  ASSERT_TRUE(m1);
  EXPECT_FALSE(verify_message_integrity(*m1, std::string_view("password-password-pass")));
  EXPECT_FALSE(verify_fingerprint(*m1));  // the fingerprint covers the tag as well

  Bytes bad_body = b;
  bad_body[24] ^= 0x20;  // a letter of USERNAME
  auto m2 = Message::parse(bad_body);
  ASSERT_TRUE(m2);
  EXPECT_FALSE(verify_message_integrity(*m2, std::string_view("password-password-pass")));

  Bytes bad_fp = b;
  bad_fp[fp + 7] ^= 0x80;
  auto m3 = Message::parse(bad_fp);
  ASSERT_TRUE(m3);
  EXPECT_TRUE(verify_message_integrity(*m3, std::string_view("password-password-pass")));
  EXPECT_FALSE(verify_fingerprint(*m3));
}

TEST(StunMalformed, FingerprintMustBeLastAndIntegritySized) {
  std::array<uint8_t, 128> buf{};
  // Write FINGERPRINT followed by another attribute by hand.
  MessageBuilder b(buf, MessageClass::kRequest, Method::kBinding, TransactionId{});
  b.add_priority(1).add_fingerprint();
  auto n = b.finish();
  ASSERT_TRUE(n);
  Bytes msg(buf.begin(), buf.begin() + std::ptrdiff_t(*n));
  msg.insert(msg.end(), {0x00, 0x24, 0x00, 0x04, 0, 0, 0, 1});
  util::store_be16(&msg[2], uint16_t(msg.size() - kHeaderSize));
  EXPECT_EQ(parse_error(msg), ParseError::kBadFingerprint);

  Bytes short_mi = {0x00, 0x01, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                    0x00, 0x08, 0x00, 0x04, 0, 0, 0, 0};
  EXPECT_EQ(parse_error(short_mi), ParseError::kBadIntegrityLength);
}

TEST(StunMessage, AttributesAfterIntegrityAreIgnored) {
  Bytes b = build_request();
  auto m0 = Message::parse(b);
  ASSERT_TRUE(m0);
  // Drop FINGERPRINT and append SOFTWARE after MESSAGE-INTEGRITY.
  b.resize(*m0->fingerprint_offset());
  b.insert(b.end(), {0x80, 0x22, 0x00, 0x01, 'x', 0, 0, 0});
  util::store_be16(&b[2], uint16_t(b.size() - kHeaderSize));
  auto m = Message::parse(b);
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->software());
  EXPECT_TRUE(verify_message_integrity(*m, std::string_view("password-password-pass")));
}

TEST(StunMessage, UnknownComprehensionRequired) {
  std::array<uint8_t, 64> buf{};
  MessageBuilder b(buf, MessageClass::kRequest, Method::kBinding, TransactionId{});
  b.add_attribute(0x8055, util::as_bytes("opt")).add_attribute(0x0031, util::as_bytes("req"));
  auto n = b.finish();
  ASSERT_TRUE(n);
  auto m = Message::parse(ByteView(buf).first(*n));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->unknown_comprehension_required(), 0x0031);
}

TEST(StunBuilder, Rules) {
  std::array<uint8_t, 128> buf{};
  {
    MessageBuilder b(buf, MessageClass::kRequest, Method::kBinding, TransactionId{});
    b.add_message_integrity(std::string_view("k")).add_priority(1);
    EXPECT_FALSE(b.finish());  // nothing but FINGERPRINT after MESSAGE-INTEGRITY
  }
  {
    MessageBuilder b(buf, MessageClass::kRequest, Method::kBinding, TransactionId{});
    b.add_fingerprint().add_fingerprint();
    EXPECT_FALSE(b.finish());
  }
  {
    MessageBuilder b(buf, MessageClass::kRequest, Method::kBinding, TransactionId{});
    b.add_error_code(200, "no");
    EXPECT_FALSE(b.finish());
  }
  {
    MessageBuilder b(buf, MessageClass::kRequest, Method::kBinding, TransactionId{});
    b.add_xor_mapped_address(SocketAddr{});
    EXPECT_FALSE(b.finish());
  }
  {
    std::array<uint8_t, 30> small{};
    MessageBuilder b(small, MessageClass::kRequest, Method::kBinding, TransactionId{});
    b.add_username("a-rather-long-username:with-more");
    EXPECT_FALSE(b.finish());
  }
  {
    std::array<uint8_t, 10> tiny{};
    MessageBuilder b(tiny, MessageClass::kRequest, Method::kBinding, TransactionId{});
    EXPECT_FALSE(b.finish());
  }
  {
    MessageBuilder b(buf, MessageClass::kIndication, Method::kBinding, TransactionId{});
    b.add_fingerprint();
    auto n = b.finish();
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 28u);
    auto m = Message::parse(ByteView(buf).first(*n));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->message_class(), MessageClass::kIndication);
    EXPECT_TRUE(verify_fingerprint(*m));
  }
}

}  // namespace
}  // namespace sb::stun
