// Known-answer tests from the RFCs: AES-CM keystream and key derivation (RFC 3711
// Appendix B.2, B.3), GCM key derivation with a 12-octet salt (RFC 9335 Appendix A.2),
// AEAD_AES_128_GCM SRTP/SRTCP packets (RFC 7714 §16.1, §17.1, §17.3), and HMAC-SHA1
// (RFC 2202 §3).
#include <gtest/gtest.h>

#include "srtp/HmacSha1.hpp"
#include "srtp/KeyDerivation.hpp"
#include "srtp/Transform.hpp"
#include "srtp/SrtpTestPackets.hpp"

using namespace sb;
using namespace sb::srtp;
using sb::srtp::test::hex;

namespace {

util::Bytes prf(std::string_view key, std::string_view salt, KeyLabel label, size_t n) {
  util::Bytes out(n);
  EXPECT_TRUE(aes_cm_prf(hex(key), hex(salt), label, out).ok());
  return out;
}

template <size_t N>
void assign(std::array<uint8_t, N>& to, std::string_view h) {
  util::Bytes b = hex(h);
  ASSERT_LE(b.size(), N);
  std::copy(b.begin(), b.end(), to.begin());
}

/// A Transform keyed directly with session keys (both SRTP and SRTCP), as the RFC
/// packet vectors give them.
std::unique_ptr<Transform> with_session_keys(CipherPath path, Profile p, std::string_view key, std::string_view salt,
                                             std::string_view auth = "") {
  DirectionKeys k;
  assign(k.rtp.key, key);
  assign(k.rtp.salt, salt);
  assign(k.rtcp.key, key);
  assign(k.rtcp.salt, salt);
  if (!auth.empty()) {
    assign(k.rtp.auth_key, auth);
    assign(k.rtcp.auth_key, auth);
  }
  auto t = Transform::create(p, k, path).value();
  EXPECT_EQ(t->cipher_path(), path);  // no silent fallback: each path is the one tested
  return t;
}

/// The packet vectors run through both ways of reaching OpenSSL's AES.
class SrtpPacketVectors : public ::testing::TestWithParam<CipherPath> {};

std::string path_name(const ::testing::TestParamInfo<CipherPath>& info) {
  return info.param == CipherPath::kDirect ? "Direct" : "Provider";
}

// RFC 7714 §16 and §17 use these session keys directly.
constexpr std::string_view kGcmKey = "000102030405060708090a0b0c0d0e0f";
constexpr std::string_view kGcmSalt = "517569642070726f2071756f";  // "Quid pro quo"

// §16.1: ROC 0, SEQ 0xf17b, SSRC 0x5501a0b2, "Gallia est omnis divisa in partes tres".
constexpr std::string_view kRtpPlain =
    "8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976"
    "69736120 696e2070 61727465 73207472 6573";
constexpr std::string_view kRtpProtected =
    "8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5"
    "0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439"
    "0cce";

// §17: an SR from SSRC "Mars", SRTCP index 0x5d4. (The packet the §17 preamble prints
// differs from the one its subsections protect; this is the latter.)
constexpr std::string_view kRtcpPlain =
    "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61"
    "deadbeef deadbeef deadbeef deadbeef deadbeef";
constexpr std::string_view kRtcpProtected =  // §17.1, E = 1
    "81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d"
    "c676a5f1 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872"
    "45d9eade 800005d4";
constexpr std::string_view kRtcpTagOnly =  // §17.3, E = 0
    "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61"
    "deadbeef deadbeef deadbeef deadbeef deadbeef 841dd968 3dd78ec9 2ae58790"
    "125f62b3 000005d4";
constexpr uint32_t kMars = 0x4d617273;

}  // namespace

TEST_P(SrtpPacketVectors, Rfc3711B2AesCmKeystream) {
  // Session key and salt given; SSRC 0 and index 0, so the IV is the salt * 2^16 and
  // the encryption of a zero payload is the keystream itself. 1044512 octets make the
  // counter run to ...FF01 (the last blocks coincide with NIST SP 800-38A F.5.1).
  auto t = with_session_keys(GetParam(), Profile::AesCm128HmacSha1_80, "2B7E151628AED2A6ABF7158809CF4F3C",
                             "F0F1F2F3F4F5F6F7F8F9FAFBFCFD");
  constexpr size_t kSegment = 1044512;
  util::Bytes pkt(12 + kSegment + 10, 0);
  pkt[0] = 0x80;
  ASSERT_TRUE(t->protect_rtp(pkt, 12 + kSegment, 12, 0, 0));
  auto block = [&](size_t i) { return util::Bytes(pkt.begin() + 12 + 16 * i, pkt.begin() + 12 + 16 * (i + 1)); };
  EXPECT_EQ(block(0), hex("E03EAD0935C95E80E166B16DD92B4EB4"));
  EXPECT_EQ(block(1), hex("D23513162B02D0F72A43A2FE4A5F97AB"));
  EXPECT_EQ(block(2), hex("41E95B3BB0A2E8DD477901E4FCA894C0"));
  EXPECT_EQ(block(0xfeff), hex("EC8CDF7398607CB0F2D21675EA9EA1E4"));
  EXPECT_EQ(block(0xff00), hex("362B7C3C6773516318A077D7FC5073AE"));
  EXPECT_EQ(block(0xff01), hex("6A2CC3787889374FBEB4C81B17BA6C44"));
}

TEST(SrtpVectors, Rfc3711B3KeyDerivation) {
  constexpr std::string_view kKey = "E1F97A0D3E018BE0D64FA32C06DE4139";
  constexpr std::string_view kSalt = "0EC675AD498AFEEBB6960B3AABE6";
  EXPECT_EQ(prf(kKey, kSalt, KeyLabel::kRtpEncryption, 16), hex("C61E7A93744F39EE10734AFE3FF7A087"));
  EXPECT_EQ(prf(kKey, kSalt, KeyLabel::kRtpSalt, 14), hex("30CBBC08863D8C85D49DB34A9AE1"));
  // The RFC derives a 94-octet auth key to show the counter running over six blocks.
  EXPECT_EQ(prf(kKey, kSalt, KeyLabel::kRtpAuthentication, 94),
            hex("CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE"
                "E049646C43D9327AD175578EF7227098 6371C10C9A369AC2F94A8C5FBCDDDC25"
                "6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2"));

  // The same through derive_session_keys: HMAC-SHA1 takes the first 160 bits.
  SrtpKeys master{hex(kKey), hex(kSalt)};
  auto k = derive_session_keys(Profile::AesCm128HmacSha1_80, master);
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(util::Bytes(k->rtp.key.begin(), k->rtp.key.end()), hex("C61E7A93744F39EE10734AFE3FF7A087"));
  EXPECT_EQ(util::Bytes(k->rtp.salt.begin(), k->rtp.salt.end()), hex("30CBBC08863D8C85D49DB34A9AE1"));
  EXPECT_EQ(util::Bytes(k->rtp.auth_key.begin(), k->rtp.auth_key.end()),
            hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"));
  // SRTCP uses labels 3..5 (§4.3.2): different keys.
  EXPECT_NE(k->rtcp.key, k->rtp.key);
  EXPECT_EQ(util::Bytes(k->rtcp.key.begin(), k->rtcp.key.end()),
            prf(kKey, kSalt, KeyLabel::kRtcpEncryption, 16));
}

TEST(SrtpVectors, GcmKeyDerivationWithTwelveOctetSalt) {
  // RFC 9335 Appendix A.2 lists the AEAD_AES_128_GCM session key and salt of this
  // master key and salt (the RFC 7714 §11 KDF: the salt padded on the right).
  SrtpKeys master{hex("000102030405060708090a0b0c0d0e0f"), hex("a0a1a2a3a4a5a6a7a8a9aaab")};
  auto k = derive_session_keys(Profile::AeadAes128Gcm, master);
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(util::Bytes(k->rtp.key.begin(), k->rtp.key.end()), hex("077c6143cb221bc355ff23d5f984a16e"));
  EXPECT_EQ(util::Bytes(k->rtp.salt.begin(), k->rtp.salt.begin() + 12), hex("9af3e95364ebac9c99c5a7c4"));
}

TEST(SrtpVectors, KeyDerivationRejectsBadLengths) {
  util::Bytes out(16);
  EXPECT_FALSE(aes_cm_prf(util::Bytes(15), util::Bytes(14), KeyLabel::kRtpEncryption, out).ok());
  EXPECT_FALSE(aes_cm_prf(util::Bytes(16), util::Bytes(15), KeyLabel::kRtpEncryption, out).ok());
  EXPECT_FALSE(derive_session_keys(Profile::AeadAes128Gcm, SrtpKeys{util::Bytes(16), util::Bytes(14)}).ok());
}

TEST_P(SrtpPacketVectors, Rfc7714Section16RtpGcm) {
  auto t = with_session_keys(GetParam(), Profile::AeadAes128Gcm, kGcmKey, kGcmSalt);
  util::Bytes plain = hex(kRtpPlain);
  util::Bytes want = hex(kRtpProtected);

  // §16.1.1 encryption: header as AAD, payload encrypted, 16-octet tag appended.
  util::Bytes buf = plain;
  buf.resize(plain.size() + 16);
  ASSERT_TRUE(t->protect_rtp(buf, plain.size(), 12, 0x5501a0b2, 0xf17b));
  EXPECT_EQ(util::to_hex(buf), util::to_hex(want));

  // §16.1.2 verification and decryption.
  util::Bytes wire = want;
  ASSERT_TRUE(t->unprotect_rtp(wire, wire.size(), 12, 0x5501a0b2, 0xf17b));
  EXPECT_EQ(util::Bytes(wire.begin(), wire.begin() + ptrdiff_t(plain.size())), plain);

  // Any flipped bit in header (AAD), ciphertext or tag fails; so does a wrong ROC.
  for (size_t i : {size_t(1), size_t(11), size_t(12), size_t(40), want.size() - 1}) {
    util::Bytes bad = want;
    bad[i] ^= 0x01;
    EXPECT_FALSE(t->unprotect_rtp(bad, bad.size(), 12, 0x5501a0b2, 0xf17b)) << i;
  }
  wire = want;
  EXPECT_FALSE(t->unprotect_rtp(wire, wire.size(), 12, 0x5501a0b2, (uint64_t(1) << 16) | 0xf17b));
}

TEST_P(SrtpPacketVectors, Rfc7714Section17RtcpGcm) {
  auto t = with_session_keys(GetParam(), Profile::AeadAes128Gcm, kGcmKey, kGcmSalt);
  util::Bytes plain = hex(kRtcpPlain);

  // §17.1 encryption: header | ciphertext | tag | E=1 | index.
  util::Bytes buf = plain;
  buf.resize(plain.size() + 20);
  ASSERT_TRUE(t->protect_rtcp(buf, plain.size(), kMars, 0x5d4));
  EXPECT_EQ(util::to_hex(buf), util::to_hex(hex(kRtcpProtected)));
  EXPECT_EQ(t->rtcp_index_offset(buf.size()), buf.size() - 4);

  // §17.1 verification and decryption.
  util::Bytes wire = hex(kRtcpProtected);
  ASSERT_TRUE(t->unprotect_rtcp(wire, wire.size(), kMars));
  EXPECT_EQ(util::Bytes(wire.begin(), wire.begin() + ptrdiff_t(plain.size())), plain);

  // §17.3: authenticated only (E = 0): the whole packet is AAD, nothing decrypted.
  util::Bytes tag_only = hex(kRtcpTagOnly);
  ASSERT_TRUE(t->unprotect_rtcp(tag_only, tag_only.size(), kMars));
  EXPECT_EQ(util::Bytes(tag_only.begin(), tag_only.begin() + ptrdiff_t(plain.size())), plain);

  // Flipping the E flag or the index breaks authentication (both are AAD).
  for (size_t from_end : {size_t(4), size_t(1), size_t(5)}) {
    util::Bytes bad = hex(kRtcpProtected);
    bad[bad.size() - from_end] ^= 0x80;
    EXPECT_FALSE(t->unprotect_rtcp(bad, bad.size(), kMars)) << from_end;
  }
}

TEST_P(SrtpPacketVectors, AesCmHmacRoundTripAndTamper) {
  // No packet vector exists for HMAC-SHA1-80 in RFC 3711; the tag is checked against
  // libsrtp in srtp_interop_test.cpp. Here: authentication covers header, payload
  // and the ROC, and the tag is 10 octets.
  auto t = with_session_keys(GetParam(), Profile::AesCm128HmacSha1_80, "C61E7A93744F39EE10734AFE3FF7A087",
                             "30CBBC08863D8C85D49DB34A9AE1", "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4");
  util::Bytes plain = hex(kRtpPlain);
  util::Bytes buf = plain;
  buf.resize(plain.size() + 10);
  ASSERT_TRUE(t->protect_rtp(buf, plain.size(), 12, 0x5501a0b2, 0x3f17b));
  util::Bytes wire = buf;
  ASSERT_TRUE(t->unprotect_rtp(wire, wire.size(), 12, 0x5501a0b2, 0x3f17b));
  EXPECT_EQ(util::Bytes(wire.begin(), wire.begin() + ptrdiff_t(plain.size())), plain);
  wire = buf;
  EXPECT_FALSE(t->unprotect_rtp(wire, wire.size(), 12, 0x5501a0b2, 0x2f17b));  // other ROC
  for (size_t i : {size_t(0), size_t(2), size_t(20), buf.size() - 1}) {
    util::Bytes bad = buf;
    bad[i] ^= 0x20;
    EXPECT_FALSE(t->unprotect_rtp(bad, bad.size(), 12, 0x5501a0b2, 0x3f17b)) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(CipherPaths, SrtpPacketVectors, ::testing::Values(CipherPath::kDirect, CipherPath::kProvider),
                         path_name);

// Debian 12's OpenSSL 3.0 has the direct path; without it every SRTP packet
// would pay the provider's parameter lookups (floor_bench BM_Protect_Evp shows it).
TEST(SrtpVectors, DirectCipherPathIsUsedByDefault) {
  ASSERT_TRUE(Transform::direct_path_available());
  DirectionKeys k;
  auto t = Transform::create(Profile::AeadAes128Gcm, k).value();
  EXPECT_EQ(t->cipher_path(), CipherPath::kDirect);
}

TEST(SrtpVectors, Rfc2202HmacSha1) {
  auto mac = [](util::ByteView key, std::string_view data) {
    HmacSha1 h;
    h.set_key(key);
    util::Bytes out(HmacSha1::kDigestSize);
    // Twice: a second MAC with the same key starts from the saved pad states.
    for (int i = 0; i < 2; ++i) {
      h.begin();
      h.update(reinterpret_cast<const uint8_t*>(data.data()), data.size());
      h.finish(out.data());
    }
    return util::to_hex(out);
  };
  EXPECT_EQ(mac(util::Bytes(20, 0x0b), "Hi There"), "b617318655057264e28bc0b6fb378c8ef146be00");
  EXPECT_EQ(mac(util::as_bytes("Jefe"), "what do ya want for nothing?"), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  // A key longer than the block is hashed first.
  EXPECT_EQ(mac(util::Bytes(80, 0xaa), "Test Using Larger Than Block-Size Key - Hash Key First"),
            "aa4ae5e15272d00e95705637ce8a3b55ed402112");
}
