#pragma once
// The cryptographic transform of one direction of an SRTP session: encryption and
// authentication of single RTP and RTCP packets, given their SSRC and packet index.
// Knows nothing of streams, replay or ROC estimation (that is Session's job).
//
//   AES_CM_128_HMAC_SHA1_80 (RFC 3711 §4.1.1, §4.2.1):
//     SRTP   header | encrypted payload | tag(10) over header|payload|ROC
//     SRTCP  header(8) | encrypted rest | E|index(4) | tag(10) over everything before it
//   AEAD_AES_128_GCM (RFC 7714 §8, §9):
//     SRTP   header | encrypted payload | tag(16), AAD = header (CSRCs, extension)
//     SRTCP  header(8) | encrypted rest | tag(16) | E|index(4), AAD = header | E|index
//
// Cipher contexts are keyed once; each packet only sets a new IV, so the packet path
// does not allocate. Not thread-safe (the contexts hold per-packet state).
#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "srtp/HmacSha1.hpp"
#include "srtp/KeyDerivation.hpp"
#include "srtp/Profile.hpp"
#include "util/Bytes.hpp"
#include "util/Result.hpp"

namespace sb::srtp {

/// How a Transform reaches OpenSSL's AES: kDirect through its built-in cipher
/// tables, without OpenSSL 3's per-call parameter lookups (see Transform.cpp);
/// kProvider through the default provider, the documented path. Both give the
/// same bytes; kDirect falls back to kProvider if it cannot be set up.
enum class CipherPath { kDirect, kProvider };

class alignas(64) Transform {
 public:
  /// E flag plus 31-bit SRTCP index (RFC 3711 §3.4).
  static constexpr size_t kRtcpIndexSize = 4;
  static constexpr size_t kRtcpHeaderSize = 8;
  static constexpr uint32_t kEncryptedFlag = 0x80000000u;
  static constexpr uint32_t kMaxRtcpIndex = 0x7fffffffu;

  /// Keys the contexts with session keys (see derive_session_keys()).
  static util::Result<std::unique_ptr<Transform>> create(Profile profile, const DirectionKeys& keys,
                                                         CipherPath path = CipherPath::kDirect);
  /// Whether CipherPath::kDirect is available in this process's OpenSSL.
  static bool direct_path_available();
  ~Transform();
  Transform(const Transform&) = delete;
  Transform& operator=(const Transform&) = delete;

  Profile profile() const { return profile_; }
  size_t tag_size() const { return tag_size_; }
  CipherPath cipher_path() const { return path_; }

  // The caller has validated the packet: header_len <= len, and buf has room for
  // what protect appends (tag, plus the SRTCP index). `index` is the 48-bit SRTP
  // packet index 2^16 * ROC + SEQ.

  /// Encrypts buf[header_len, len) and appends the tag; false on a cipher error.
  /// With `payload` (len - header_len bytes, not overlapping buf), the plaintext
  /// is read from there instead and the ciphertext written into buf: a forwarded
  /// copy is encrypted straight from the publisher's packet, not copied first.
  bool protect_rtp(util::MutableBytes buf, size_t len, size_t header_len, uint32_t ssrc, uint64_t index,
                   const uint8_t* payload = nullptr);
  /// Authenticates buf[0, len) (tag included) and decrypts it in place; false if the
  /// tag does not match. With GCM the payload is already decrypted when the check
  /// fails: callers drop the buffer then.
  bool unprotect_rtp(util::MutableBytes buf, size_t len, size_t header_len, uint32_t ssrc, uint64_t index);

  /// Encrypts buf[8, len) and appends the E flag with `index` and the tag.
  bool protect_rtcp(util::MutableBytes buf, size_t len, uint32_t ssrc, uint32_t index);
  /// Where the E|index word of the SRTCP packet buf[0, len) starts.
  size_t rtcp_index_offset(size_t len) const {
    return profile_ == Profile::AeadAes128Gcm ? len - kRtcpIndexSize : len - tag_size_ - kRtcpIndexSize;
  }
  /// Authenticates and, if its E flag is set, decrypts the SRTCP packet buf[0, len).
  /// Unencrypted SRTCP (E = 0) is accepted when authentic (RFC 3711 §3.4, RFC 7714 §9.2).
  bool unprotect_rtcp(util::MutableBytes buf, size_t len, uint32_t ssrc);

  /// Starts loading what protect_rtp() reads first (the EVP context), for a
  /// caller that knows it will protect with this transform soon.
  void prefetch_rtp() const {
    __builtin_prefetch(rtp_cipher_.get());
    __builtin_prefetch(reinterpret_cast<const char*>(rtp_cipher_.get()) + 64);
  }

 private:
  struct CipherCtxFree {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
  };
  using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;
  using Iv = std::array<uint8_t, 16>;

  explicit Transform(Profile profile);
  Iv rtp_iv(uint32_t ssrc, uint64_t index) const;
  Iv rtcp_iv(uint32_t ssrc, uint32_t index) const;
  /// AES-CM: writes in[0, len) XOR the keystream for `iv` to out (in == out: in place).
  static bool ctr_apply(EVP_CIPHER_CTX* ctx, const Iv& iv, uint8_t* out, const uint8_t* in, size_t len);
  /// AES-GCM: encrypts in[0, len) to out (in == out: in place) under `iv` and two
  /// AAD pieces, writes the tag.
  static bool gcm_seal(EVP_CIPHER_CTX* ctx, const Iv& iv, util::ByteView aad1, util::ByteView aad2, uint8_t* out,
                       const uint8_t* in, size_t len, uint8_t* tag);
  /// AES-GCM: decrypts data[0, len) in place and checks the tag.
  static bool gcm_open(EVP_CIPHER_CTX* ctx, const Iv& iv, util::ByteView aad1, util::ByteView aad2, uint8_t* data,
                       size_t len, const uint8_t* tag);

  // What protecting an RTP packet reads first shares the object's first cache
  // line (the class is line-aligned): a fan-out finds it cold for every subscriber.
  Profile profile_;
  size_t tag_size_;
  CipherCtx rtp_cipher_;
  std::array<uint8_t, SessionKeys::kSaltSize> rtp_salt_{};
  std::array<uint8_t, SessionKeys::kSaltSize> rtcp_salt_{};
  CipherCtx rtcp_cipher_;
  HmacSha1 rtp_auth_;   ///< AES-CM only
  HmacSha1 rtcp_auth_;  ///< AES-CM only
  CipherPath path_ = CipherPath::kProvider;
};

}  // namespace sb::srtp
