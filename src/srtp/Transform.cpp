// The ENGINE calls below are deprecated in OpenSSL 3 but present in Debian 12's
// build; they are used only to reach the built-in ciphers directly (see
// direct_ciphers()).
#define OPENSSL_SUPPRESS_DEPRECATED
#include "srtp/Transform.hpp"

#include <openssl/crypto.h>
#include <openssl/engine.h>

namespace sb::srtp {

namespace {

constexpr size_t kGcmTagSize = 16;
constexpr size_t kCmTagSize = 10;  // HMAC-SHA1 truncated to 80 bits (RFC 3711 §5.2)
/// OpenSSL's update calls take int lengths.
constexpr size_t kMaxLength = size_t(1) << 30;

/// XORs the low 48 bits of `v` into p[0, 6), big-endian.
void xor_be48(uint8_t* p, uint64_t v) {
  for (int i = 5; i >= 0; --i, v >>= 8) p[i] ^= uint8_t(v);
}
void xor_be32(uint8_t* p, uint32_t v) {
  for (int i = 3; i >= 0; --i, v >>= 8) p[i] ^= uint8_t(v);
}

const EVP_CIPHER* cipher_for(Profile profile) {
  return profile == Profile::AeadAes128Gcm ? EVP_aes_128_gcm() : EVP_aes_128_ctr();
}

int direct_cipher_table(ENGINE*, const EVP_CIPHER** cipher, const int** nids, int nid) {
  static const int kNids[] = {NID_aes_128_gcm, NID_aes_128_ctr};
  if (cipher == nullptr) {
    *nids = kNids;
    return int(std::size(kNids));
  }
  *cipher = nid == NID_aes_128_gcm ? EVP_aes_128_gcm() : nid == NID_aes_128_ctr ? EVP_aes_128_ctr() : nullptr;
  return *cipher != nullptr ? 1 : 0;
}

/// OpenSSL 3.0 sends EVP calls on its built-in ciphers through the default
/// provider, which on every packet asks for the IV length (to set the IV) and
/// for the GCM tag through string-keyed parameter lists (OSSL_PARAM): strcmp
/// loops that took about 70 ns of a 360 ns AES-GCM seal of an 1100-byte
/// packet. OpenSSL's own built-in AES-GCM and AES-CTR (the same assembly) are
/// still reachable without that layer through its legacy cipher tables, which
/// it uses when an ENGINE supplies the cipher. This engine supplies exactly
/// those built-ins; nothing else changes (the unit tests cross-check every
/// packet against libsrtp). Null if it cannot be set up: the provider path is
/// used then.
ENGINE* direct_ciphers() {
  static ENGINE* const engine = []() -> ENGINE* {
    ENGINE* e = ENGINE_new();
    if (e == nullptr) return nullptr;
    if (ENGINE_set_id(e, "switchboard-direct") != 1 || ENGINE_set_name(e, "OpenSSL built-in AES, direct") != 1 ||
        ENGINE_set_ciphers(e, direct_cipher_table) != 1 || ENGINE_init(e) != 1) {
      ENGINE_free(e);
      return nullptr;
    }
    return e;  // kept for the life of the process; every context holds a reference
  }();
  return engine;
}

/// Keys `ctx` for `profile` through `engine` (null: the default provider).
bool init_cipher(EVP_CIPHER_CTX* ctx, Profile profile, ENGINE* engine, const uint8_t* key) {
  return EVP_EncryptInit_ex(ctx, cipher_for(profile), engine, key, nullptr) == 1;
}

}  // namespace

Transform::Transform(Profile profile)
    : profile_(profile), tag_size_(profile == Profile::AeadAes128Gcm ? kGcmTagSize : kCmTagSize) {}

Transform::~Transform() {
  OPENSSL_cleanse(rtp_salt_.data(), rtp_salt_.size());
  OPENSSL_cleanse(rtcp_salt_.data(), rtcp_salt_.size());
}

bool Transform::direct_path_available() { return direct_ciphers() != nullptr; }

util::Result<std::unique_ptr<Transform>> Transform::create(Profile profile, const DirectionKeys& keys,
                                                           CipherPath path) {
  std::unique_ptr<Transform> t(new Transform(profile));
  auto setup = [&](ENGINE* engine) {
    t->rtp_cipher_.reset(EVP_CIPHER_CTX_new());
    t->rtcp_cipher_.reset(EVP_CIPHER_CTX_new());
    return t->rtp_cipher_ && t->rtcp_cipher_ && init_cipher(t->rtp_cipher_.get(), profile, engine, keys.rtp.key.data()) &&
           init_cipher(t->rtcp_cipher_.get(), profile, engine, keys.rtcp.key.data());
  };
  ENGINE* direct = path == CipherPath::kDirect ? direct_ciphers() : nullptr;
  if (direct != nullptr && setup(direct)) {
    t->path_ = CipherPath::kDirect;
  } else if (setup(nullptr)) {
    t->path_ = CipherPath::kProvider;
  } else {
    return util::make_error("SRTP cipher setup failed");
  }
  t->rtp_salt_ = keys.rtp.salt;
  t->rtcp_salt_ = keys.rtcp.salt;
  if (profile == Profile::AesCm128HmacSha1_80) {
    t->rtp_auth_.set_key(keys.rtp.auth_key);
    t->rtcp_auth_.set_key(keys.rtcp.auth_key);
  }
  return t;
}

Transform::Iv Transform::rtp_iv(uint32_t ssrc, uint64_t index) const {
  Iv iv{};
  std::copy(rtp_salt_.begin(), rtp_salt_.end(), iv.begin());
  if (profile_ == Profile::AeadAes128Gcm) {
    // RFC 7714 §8.1: IV = (0^16 || SSRC || ROC || SEQ) XOR salt, 12 octets.
    iv[12] = iv[13] = 0;
    xor_be32(&iv[2], ssrc);
    xor_be48(&iv[6], index);
  } else {
    // RFC 3711 §4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16).
    xor_be32(&iv[4], ssrc);
    xor_be48(&iv[8], index);
  }
  return iv;
}

Transform::Iv Transform::rtcp_iv(uint32_t ssrc, uint32_t index) const {
  Iv iv{};
  std::copy(rtcp_salt_.begin(), rtcp_salt_.end(), iv.begin());
  if (profile_ == Profile::AeadAes128Gcm) {
    // RFC 7714 §9.1: IV = (0^16 || SSRC || 0^16 || 0 || SRTCP index) XOR salt.
    iv[12] = iv[13] = 0;
    xor_be32(&iv[2], ssrc);
    xor_be32(&iv[8], index);
  } else {
    // RFC 3711 §4.1.1 with the SRTCP index as i (§3.4).
    xor_be32(&iv[4], ssrc);
    xor_be48(&iv[8], index);
  }
  return iv;
}

bool Transform::ctr_apply(EVP_CIPHER_CTX* ctx, const Iv& iv, uint8_t* out, const uint8_t* in, size_t len) {
  // Re-initialising with only an IV keeps the key schedule: no allocation.
  if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv.data()) != 1) return false;
  if (len == 0) return true;
  int n = 0;
  return EVP_EncryptUpdate(ctx, out, &n, in, int(len)) == 1 && size_t(n) == len;
}

bool Transform::gcm_seal(EVP_CIPHER_CTX* ctx, const Iv& iv, util::ByteView aad1, util::ByteView aad2,
                         uint8_t* out, const uint8_t* in, size_t len, uint8_t* tag) {
  int n = 0;
  if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv.data()) != 1) return false;
  if (!aad1.empty() && EVP_EncryptUpdate(ctx, nullptr, &n, aad1.data(), int(aad1.size())) != 1) return false;
  if (!aad2.empty() && EVP_EncryptUpdate(ctx, nullptr, &n, aad2.data(), int(aad2.size())) != 1) return false;
  if (len > 0 && (EVP_EncryptUpdate(ctx, out, &n, in, int(len)) != 1 || size_t(n) != len)) return false;
  uint8_t none[16];
  if (EVP_EncryptFinal_ex(ctx, none, &n) != 1) return false;
  return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, int(kGcmTagSize), tag) == 1;
}

bool Transform::gcm_open(EVP_CIPHER_CTX* ctx, const Iv& iv, util::ByteView aad1, util::ByteView aad2,
                         uint8_t* data, size_t len, const uint8_t* tag) {
  int n = 0;
  if (EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, iv.data()) != 1) return false;
  // OpenSSL copies the expected tag into the context; it does not write through it.
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, int(kGcmTagSize), const_cast<uint8_t*>(tag)) != 1) return false;
  if (!aad1.empty() && EVP_DecryptUpdate(ctx, nullptr, &n, aad1.data(), int(aad1.size())) != 1) return false;
  if (!aad2.empty() && EVP_DecryptUpdate(ctx, nullptr, &n, aad2.data(), int(aad2.size())) != 1) return false;
  if (len > 0 && (EVP_DecryptUpdate(ctx, data, &n, data, int(len)) != 1 || size_t(n) != len)) return false;
  uint8_t none[16];
  return EVP_DecryptFinal_ex(ctx, none, &n) == 1;  // 0: tag mismatch
}

bool Transform::protect_rtp(util::MutableBytes buf, size_t len, size_t header_len, uint32_t ssrc, uint64_t index,
                            const uint8_t* payload) {
  if (header_len > len || len > kMaxLength || buf.size() < len || buf.size() - len < tag_size_) return false;
  uint8_t* p = buf.data();
  const uint8_t* in = payload != nullptr ? payload : p + header_len;
  Iv iv = rtp_iv(ssrc, index);
  if (profile_ == Profile::AeadAes128Gcm) {
    return gcm_seal(rtp_cipher_.get(), iv, util::ByteView(p, header_len), {}, p + header_len, in, len - header_len,
                    p + len);
  }
  if (!ctr_apply(rtp_cipher_.get(), iv, p + header_len, in, len - header_len)) return false;
  // RFC 3711 §4.2: the authenticated portion is header | payload, then the ROC.
  uint8_t roc[4];
  util::store_be32(roc, uint32_t(index >> 16));
  uint8_t mac[HmacSha1::kDigestSize];
  rtp_auth_.begin();
  rtp_auth_.update(p, len);
  rtp_auth_.update(roc, sizeof roc);
  rtp_auth_.finish(mac);
  std::copy(mac, mac + kCmTagSize, p + len);
  return true;
}

bool Transform::unprotect_rtp(util::MutableBytes buf, size_t len, size_t header_len, uint32_t ssrc,
                              uint64_t index) {
  if (len > buf.size() || len > kMaxLength || len < header_len || len - header_len < tag_size_) return false;
  uint8_t* p = buf.data();
  size_t body_end = len - tag_size_;
  Iv iv = rtp_iv(ssrc, index);
  if (profile_ == Profile::AeadAes128Gcm) {
    return gcm_open(rtp_cipher_.get(), iv, util::ByteView(p, header_len), {}, p + header_len, body_end - header_len,
                    p + body_end);
  }
  uint8_t roc[4];
  util::store_be32(roc, uint32_t(index >> 16));
  uint8_t mac[HmacSha1::kDigestSize];
  rtp_auth_.begin();
  rtp_auth_.update(p, body_end);
  rtp_auth_.update(roc, sizeof roc);
  rtp_auth_.finish(mac);
  if (CRYPTO_memcmp(mac, p + body_end, kCmTagSize) != 0) return false;
  return ctr_apply(rtp_cipher_.get(), iv, p + header_len, p + header_len, body_end - header_len);
}

bool Transform::protect_rtcp(util::MutableBytes buf, size_t len, uint32_t ssrc, uint32_t index) {
  if (len < kRtcpHeaderSize || len > kMaxLength || buf.size() < len || buf.size() - len < tag_size_ + kRtcpIndexSize ||
      index > kMaxRtcpIndex) {
    return false;
  }
  uint8_t* p = buf.data();
  uint8_t word[kRtcpIndexSize];
  util::store_be32(word, kEncryptedFlag | index);
  Iv iv = rtcp_iv(ssrc, index);
  if (profile_ == Profile::AeadAes128Gcm) {
    // RFC 7714 §9.1: AAD = header | E|index; the index word follows the tag.
    if (!gcm_seal(rtcp_cipher_.get(), iv, util::ByteView(p, kRtcpHeaderSize), util::ByteView(word, sizeof word),
                  p + kRtcpHeaderSize, p + kRtcpHeaderSize, len - kRtcpHeaderSize, p + len)) {
      return false;
    }
    std::copy(word, word + sizeof word, p + len + tag_size_);
    return true;
  }
  if (!ctr_apply(rtcp_cipher_.get(), iv, p + kRtcpHeaderSize, p + kRtcpHeaderSize, len - kRtcpHeaderSize)) return false;
  std::copy(word, word + sizeof word, p + len);
  uint8_t mac[HmacSha1::kDigestSize];
  rtcp_auth_.begin();
  rtcp_auth_.update(p, len + kRtcpIndexSize);
  rtcp_auth_.finish(mac);
  std::copy(mac, mac + kCmTagSize, p + len + kRtcpIndexSize);
  return true;
}

bool Transform::unprotect_rtcp(util::MutableBytes buf, size_t len, uint32_t ssrc) {
  if (len > buf.size() || len > kMaxLength || len < kRtcpHeaderSize + kRtcpIndexSize + tag_size_) return false;
  uint8_t* p = buf.data();
  size_t word_at = rtcp_index_offset(len);
  uint32_t word = util::load_be32(p + word_at);
  bool encrypted = (word & kEncryptedFlag) != 0;
  Iv iv = rtcp_iv(ssrc, word & kMaxRtcpIndex);
  if (profile_ == Profile::AeadAes128Gcm) {
    size_t tag_at = len - kRtcpIndexSize - tag_size_;
    util::ByteView index_word(p + word_at, kRtcpIndexSize);
    if (encrypted) {
      return gcm_open(rtcp_cipher_.get(), iv, util::ByteView(p, kRtcpHeaderSize), index_word, p + kRtcpHeaderSize,
                      tag_at - kRtcpHeaderSize, p + tag_at);
    }
    // RFC 7714 §9.2: without encryption the whole packet is AAD and the plaintext empty.
    return gcm_open(rtcp_cipher_.get(), iv, util::ByteView(p, tag_at), index_word, nullptr, 0, p + tag_at);
  }
  size_t tag_at = len - tag_size_;
  uint8_t mac[HmacSha1::kDigestSize];
  rtcp_auth_.begin();
  rtcp_auth_.update(p, tag_at);
  rtcp_auth_.finish(mac);
  if (CRYPTO_memcmp(mac, p + tag_at, kCmTagSize) != 0) return false;
  return !encrypted ||
         ctr_apply(rtcp_cipher_.get(), iv, p + kRtcpHeaderSize, p + kRtcpHeaderSize, word_at - kRtcpHeaderSize);
}

}  // namespace sb::srtp
