#include <gtest/gtest.h>

#include <thread>

#include "srtp/Session.hpp"
#include "util/Hex.hpp"

using namespace sb;
using namespace sb::srtp;

namespace {

SrtpKeys keys(Profile p, uint8_t seed) {
  SrtpKeys k;
  k.key.resize(master_key_length(p));
  k.salt.resize(master_salt_length(p));
  for (size_t i = 0; i < k.key.size(); ++i) k.key[i] = uint8_t(seed + i);
  for (size_t i = 0; i < k.salt.size(); ++i) k.salt[i] = uint8_t(seed * 7 + i);
  return k;
}

/// A session pair as the two ends of one transport would hold it: mirrored keys.
struct Pair {
  explicit Pair(Profile p) : a(p, keys(p, 1), keys(p, 100)), b(p, keys(p, 100), keys(p, 1)) {}
  Session a;
  Session b;
};

util::Bytes rtp(uint32_t ssrc, uint16_t seq, size_t payload = 160) {
  util::Bytes p(12 + payload + Session::kMaxTrailer);
  p[0] = 0x80;
  p[1] = 111;
  util::store_be16(&p[2], seq);
  util::store_be32(&p[4], seq * 960u);
  util::store_be32(&p[8], ssrc);
  for (size_t i = 0; i < payload; ++i) p[12 + i] = uint8_t(i * 13);
  return p;
}

size_t rtp_len(size_t payload = 160) { return 12 + payload; }

util::Bytes rtcp(uint32_t ssrc) {
  // PLI (RFC 4585 §6.3.1): sender SSRC, media SSRC.
  util::Bytes p(12 + Session::kMaxTrailer);
  p[0] = 0x81;
  p[1] = 206;
  util::store_be16(&p[2], 2);
  util::store_be32(&p[4], ssrc);
  util::store_be32(&p[8], 0xabcdef01);
  return p;
}

class SrtpSession : public ::testing::TestWithParam<Profile> {};

}  // namespace

TEST(Srtp, InitIsIdempotentAndThreadSafe) {
  std::thread t1([] { init(); });
  std::thread t2([] { init(); });
  t1.join();
  t2.join();
  init();
}

TEST(Srtp, ProfileFacts) {
  EXPECT_EQ(master_salt_length(Profile::AesCm128HmacSha1_80), 14u);
  EXPECT_EQ(master_salt_length(Profile::AeadAes128Gcm), 12u);
  EXPECT_EQ(auth_tag_length(Profile::AesCm128HmacSha1_80), 10u);
  EXPECT_EQ(auth_tag_length(Profile::AeadAes128Gcm), 16u);
  EXPECT_EQ(profile_from_id(0x0007), Profile::AeadAes128Gcm);
  EXPECT_EQ(profile_from_id(0x0001), Profile::AesCm128HmacSha1_80);
  EXPECT_FALSE(profile_from_id(0x0002));
  EXPECT_EQ(profile_id(Profile::AeadAes128Gcm), 0x0007);
}

TEST(Srtp, BadKeyLengthsAreRejected) {
  SrtpKeys short_salt = keys(Profile::AesCm128HmacSha1_80, 1);
  short_salt.salt.pop_back();
  EXPECT_THROW(Session(Profile::AesCm128HmacSha1_80, short_salt, short_salt), std::invalid_argument);
  auto r = Session::create(Profile::AeadAes128Gcm, keys(Profile::AesCm128HmacSha1_80, 1),
                           keys(Profile::AeadAes128Gcm, 2));
  EXPECT_FALSE(r.ok());
  auto ok = Session::create(Profile::AeadAes128Gcm, keys(Profile::AeadAes128Gcm, 1), keys(Profile::AeadAes128Gcm, 2));
  EXPECT_TRUE(ok.ok());
}

TEST_P(SrtpSession, RtpRoundTripBothDirections) {
  Pair p(GetParam());
  for (auto [from, to] : {std::pair{&p.a, &p.b}, std::pair{&p.b, &p.a}}) {
    for (uint16_t seq = 65500; seq != 40; ++seq) {  // across the 16-bit wrap (ROC, RFC 3711 §3.3.1)
      util::Bytes pkt = rtp(0x11223344, seq);
      util::Bytes plain(pkt.begin(), pkt.begin() + ptrdiff_t(rtp_len()));
      auto n = from->protect_rtp(pkt, rtp_len());
      ASSERT_TRUE(n);
      EXPECT_EQ(*n, rtp_len() + auth_tag_length(GetParam()));
      EXPECT_NE(util::Bytes(pkt.begin() + 12, pkt.begin() + 40), util::Bytes(plain.begin() + 12, plain.begin() + 40));
      auto m = to->unprotect_rtp(pkt, *n);
      ASSERT_TRUE(m) << "seq " << seq << " status " << to->last_error();
      ASSERT_EQ(*m, rtp_len());
      EXPECT_EQ(util::Bytes(pkt.begin(), pkt.begin() + ptrdiff_t(*m)), plain);
    }
  }
  EXPECT_EQ(p.a.stats().protected_rtp, 76u);
  EXPECT_EQ(p.b.stats().unprotected_rtp, 76u);
}

TEST_P(SrtpSession, RtcpRoundTrip) {
  Pair p(GetParam());
  for (int i = 0; i < 5; ++i) {
    util::Bytes pkt = rtcp(0x01020304);
    util::Bytes plain(pkt.begin(), pkt.begin() + 12);
    auto n = p.a.protect_rtcp(pkt, 12);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 12 + 4 + auth_tag_length(GetParam()));  // SRTCP index + tag (RFC 3711 §3.4)
    // E flag (encrypted): before the tag for AES-CM (RFC 3711 §3.4), after it for GCM (RFC 7714 §17).
    size_t index_at = GetParam() == Profile::AeadAes128Gcm ? *n - 4 : 12;
    EXPECT_EQ(pkt[index_at] & 0x80, 0x80);
    auto m = p.b.unprotect_rtcp(pkt, *n);
    ASSERT_TRUE(m);
    EXPECT_EQ(util::Bytes(pkt.begin(), pkt.begin() + ptrdiff_t(*m)), plain);
  }
  EXPECT_EQ(p.b.stats().unprotected_rtcp, 5u);
}

TEST_P(SrtpSession, TamperedPacketIsRejectedAndCounted) {
  Pair p(GetParam());
  util::Bytes pkt = rtp(7, 1);
  auto n = p.a.protect_rtp(pkt, rtp_len());
  ASSERT_TRUE(n);
  util::Bytes good = pkt;
  pkt[20] ^= 0x01;
  EXPECT_FALSE(p.b.unprotect_rtp(pkt, *n));
  EXPECT_EQ(p.b.stats().auth_failures, 1u);
  EXPECT_EQ(p.b.last_error(), srtp_err_status_auth_fail);
  // The untouched packet still passes: a failed check does not poison the stream.
  EXPECT_TRUE(p.b.unprotect_rtp(good, *n));

  util::Bytes r = rtcp(9);
  auto rn = p.a.protect_rtcp(r, 12);
  ASSERT_TRUE(rn);
  r[9] ^= 0x40;
  EXPECT_FALSE(p.b.unprotect_rtcp(r, *rn));
  EXPECT_EQ(p.b.stats().auth_failures, 2u);
}

TEST_P(SrtpSession, ReplayedPacketIsRejectedAndCounted) {
  Pair p(GetParam());
  util::Bytes pkt = rtp(7, 1000);
  auto n = p.a.protect_rtp(pkt, rtp_len());
  ASSERT_TRUE(n);
  util::Bytes copy = pkt;
  ASSERT_TRUE(p.b.unprotect_rtp(pkt, *n));
  EXPECT_FALSE(p.b.unprotect_rtp(copy, *n));
  EXPECT_EQ(p.b.stats().replays, 1u);
  EXPECT_EQ(p.b.last_error(), srtp_err_status_replay_fail);

  util::Bytes r = rtcp(9);
  auto rn = p.a.protect_rtcp(r, 12);
  ASSERT_TRUE(rn);
  util::Bytes rcopy = r;
  ASSERT_TRUE(p.b.unprotect_rtcp(r, *rn));
  EXPECT_FALSE(p.b.unprotect_rtcp(rcopy, *rn));
  EXPECT_EQ(p.b.stats().replays, 2u);
}

TEST_P(SrtpSession, ReorderingWithinTheWindowIsAccepted) {
  Pair p(GetParam());
  std::vector<std::pair<util::Bytes, size_t>> sent;
  for (uint16_t seq = 0; seq < 600; ++seq) {
    util::Bytes pkt = rtp(42, seq);
    auto n = p.a.protect_rtp(pkt, rtp_len());
    ASSERT_TRUE(n);
    sent.emplace_back(std::move(pkt), *n);
  }
  // Newest first: every older packet is still inside a 1024-packet window.
  for (auto it = sent.rbegin(); it != sent.rend(); ++it) ASSERT_TRUE(p.b.unprotect_rtp(it->first, it->second));
  EXPECT_EQ(p.b.stats().replays, 0u);
}

TEST_P(SrtpSession, ManySsrcsOnOneSession) {
  Pair p(GetParam());
  for (uint32_t ssrc = 1; ssrc <= 200; ++ssrc) {
    for (uint16_t seq = 10; seq < 13; ++seq) {
      util::Bytes pkt = rtp(ssrc * 7919, seq);
      auto n = p.a.protect_rtp(pkt, rtp_len());
      ASSERT_TRUE(n);
      ASSERT_TRUE(p.b.unprotect_rtp(pkt, *n)) << ssrc;
    }
  }
  EXPECT_EQ(p.a.outbound_streams(), 200u);
  EXPECT_EQ(p.b.inbound_streams(), 200u);
  p.a.remove_ssrc(7919);
  p.b.remove_ssrc(7919);
  EXPECT_EQ(p.a.outbound_streams(), 199u);
}

TEST_P(SrtpSession, StreamCountIsBounded) {
  Pair p(GetParam());
  for (uint32_t ssrc = 1; ssrc <= Session::kMaxStreams; ++ssrc) {
    util::Bytes pkt = rtp(ssrc, 1);
    ASSERT_TRUE(p.a.protect_rtp(pkt, rtp_len()));
  }
  util::Bytes extra = rtp(0xfffffff0, 1);
  EXPECT_FALSE(p.a.protect_rtp(extra, rtp_len()));
  EXPECT_EQ(p.a.stats().stream_limit, 1u);
  util::Bytes known = rtp(5, 2);
  EXPECT_TRUE(p.a.protect_rtp(known, rtp_len()));
  p.a.remove_ssrc(5);
  EXPECT_TRUE(p.a.protect_rtp(extra, rtp_len()));
}

TEST_P(SrtpSession, WrongKeyIsRejected) {
  Profile prof = GetParam();
  Session sender(prof, keys(prof, 1), keys(prof, 2));
  Session wrong(prof, keys(prof, 3), keys(prof, 4));
  util::Bytes pkt = rtp(1, 1);
  auto n = sender.protect_rtp(pkt, rtp_len());
  ASSERT_TRUE(n);
  EXPECT_FALSE(wrong.unprotect_rtp(pkt, *n));
  EXPECT_EQ(wrong.stats().auth_failures, 1u);
  EXPECT_EQ(wrong.inbound_streams(), 0u);  // an unauthenticated SSRC takes no slot
}

TEST_P(SrtpSession, IndependentSessionsInteroperate) {
  // Protect with one session, unprotect with another built separately from the same
  // key material: key derivation (RFC 3711 §4.3) agrees on both ends.
  Profile prof = GetParam();
  auto k = keys(prof, 55);
  Session sender(prof, k, keys(prof, 56));
  util::Bytes pkt = rtp(0xdeadbeef, 4242, 900);
  util::Bytes plain(pkt.begin(), pkt.begin() + ptrdiff_t(rtp_len(900)));
  auto n = sender.protect_rtp(pkt, rtp_len(900));
  ASSERT_TRUE(n);
  Session receiver = Session::create(prof, keys(prof, 56), k).value();
  auto m = receiver.unprotect_rtp(pkt, *n);
  ASSERT_TRUE(m);
  EXPECT_EQ(util::Bytes(pkt.begin(), pkt.begin() + ptrdiff_t(*m)), plain);
}

// A forwarded copy is protected from two pieces: the header written into the
// send slot, the payload still in the publisher's packet. The bytes on the wire
// are exactly those of copying first and protecting in place.
TEST_P(SrtpSession, PayloadFromElsewhereGivesTheSameBytesAsInPlace) {
  Pair in_place(GetParam());
  Pair two_pieces(GetParam());
  for (uint16_t seq = 65530; seq != 6; ++seq) {
    for (size_t payload : {size_t(0), size_t(1), size_t(160), size_t(1100)}) {
      uint32_t ssrc = 0x5000 + uint32_t(payload);
      util::Bytes whole = rtp(ssrc, seq, payload);
      util::Bytes source(whole.begin() + 12, whole.begin() + 12 + ptrdiff_t(payload));  // the publisher's payload
      util::Bytes slot(2048, 0xee);
      std::copy(whole.begin(), whole.begin() + 12, slot.begin());  // header only

      auto a = in_place.a.protect_rtp(whole, rtp_len(payload));
      auto b = two_pieces.a.protect_rtp(slot, 12, source);
      ASSERT_TRUE(a);
      ASSERT_TRUE(b) << two_pieces.a.last_error();
      ASSERT_EQ(*a, *b);
      EXPECT_EQ(util::Bytes(whole.begin(), whole.begin() + ptrdiff_t(*a)),
                util::Bytes(slot.begin(), slot.begin() + ptrdiff_t(*b)))
          << "seq " << seq << " payload " << payload;
      auto m = two_pieces.b.unprotect_rtp(slot, *b);
      ASSERT_TRUE(m);
      EXPECT_EQ(util::Bytes(slot.begin() + 12, slot.begin() + ptrdiff_t(*m)), source);
    }
  }
}

TEST_P(SrtpSession, PayloadFromElsewhereRejectsBadPieces) {
  Pair p(GetParam());
  util::Bytes payload(200, 0x42);
  util::Bytes slot = rtp(7, 7, 300);
  // A header_len that is not what the header says (it has no CSRCs or extension).
  EXPECT_FALSE(p.a.protect_rtp(slot, 16, payload));
  EXPECT_FALSE(p.a.protect_rtp(slot, 8, payload));
  // Header and payload do not fit with the tag.
  EXPECT_FALSE(p.a.protect_rtp(util::MutableBytes(slot.data(), 12 + 200), 12, payload));
  // A payload that overlaps the slot elsewhere than right behind the header
  // would be overwritten while it is read.
  EXPECT_FALSE(p.a.protect_rtp(slot, 12, util::ByteView(slot.data() + 20, 100)));
  EXPECT_FALSE(p.a.protect_rtp(slot, 12, util::ByteView(slot.data() + 4, 100)));
  EXPECT_EQ(p.a.stats().protected_rtp, 0u);
  EXPECT_EQ(p.a.stats().malformed, 5u);
  // Right behind the header it is the in-place case.
  EXPECT_TRUE(p.a.protect_rtp(slot, 12, util::ByteView(slot.data() + 12, 100)));
}

TEST_P(SrtpSession, MalformedInputIsRejectedWithoutTouchingLibsrtp) {
  Pair p(GetParam());
  util::Bytes tiny(8, 0x80);
  EXPECT_FALSE(p.a.protect_rtp(tiny, tiny.size()));
  EXPECT_FALSE(p.b.unprotect_rtp(tiny, tiny.size()));
  util::Bytes pkt = rtp(1, 1);
  EXPECT_FALSE(p.a.protect_rtp(pkt, pkt.size() + 1));                     // len beyond buffer
  EXPECT_FALSE(p.a.protect_rtp(util::MutableBytes(pkt.data(), rtp_len()), rtp_len()));  // no room for the tag
  pkt[0] = 0x40;                                                            // version 1
  EXPECT_FALSE(p.a.protect_rtp(pkt, rtp_len()));
  pkt[0] = 0x8f;  // 15 CSRCs: header longer than the packet
  EXPECT_FALSE(p.a.protect_rtp(util::MutableBytes(pkt.data(), 40), 40));
  util::Bytes ext = rtp(1, 1);
  ext[0] = 0x90;  // extension bit, extension length far too large
  util::store_be16(&ext[14], 0xffff);
  EXPECT_FALSE(p.b.unprotect_rtp(ext, rtp_len()));
  util::Bytes r(8, 0);
  EXPECT_FALSE(p.b.unprotect_rtcp(r, r.size()));
  EXPECT_GE(p.a.stats().malformed + p.b.stats().malformed, 7u);
  EXPECT_EQ(p.a.stats().other, 0u);
}

TEST_P(SrtpSession, MoveKeepsTheContexts) {
  Pair p(GetParam());
  Session moved = std::move(p.a);
  util::Bytes pkt = rtp(1, 1);
  auto n = moved.protect_rtp(pkt, rtp_len());
  ASSERT_TRUE(n);
  EXPECT_TRUE(p.b.unprotect_rtp(pkt, *n));
  EXPECT_FALSE(p.a.protect_rtp(pkt, rtp_len()));  // moved-from: refuses, does not crash
}

INSTANTIATE_TEST_SUITE_P(Profiles, SrtpSession,
                         ::testing::Values(Profile::AesCm128HmacSha1_80, Profile::AeadAes128Gcm),
                         [](const auto& param_info) {
                           return param_info.param == Profile::AeadAes128Gcm ? std::string("Gcm") : std::string("CmSha1");
                         });
