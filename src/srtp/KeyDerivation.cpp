#include "srtp/KeyDerivation.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <memory>

namespace sb::srtp {

namespace {
constexpr size_t kBlock = 16;
constexpr size_t kLabelOctet = 7;  // key_id = label || r (48 bits) ends the 14-octet salt
}  // namespace

void SessionKeys::wipe() {
  OPENSSL_cleanse(key.data(), key.size());
  OPENSSL_cleanse(salt.data(), salt.size());
  OPENSSL_cleanse(auth_key.data(), auth_key.size());
}

util::Result<void> aes_cm_prf(util::ByteView master_key, util::ByteView master_salt, KeyLabel label,
                              util::MutableBytes out) {
  if (master_key.size() != 16 || master_salt.size() > SessionKeys::kSaltSize || master_salt.size() < 12) {
    return util::make_error("AES-CM PRF: bad master key or salt length");
  }
  // x = key_id XOR master_salt, with key_id = label || (index DIV kdr) and kdr = 0
  // (§4.3.1); the counter block is x * 2^16.
  std::array<uint8_t, kBlock> iv{};
  std::copy(master_salt.begin(), master_salt.end(), iv.begin());
  iv[kLabelOctet] ^= uint8_t(label);

  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_ctr(), nullptr, master_key.data(), iv.data()) != 1) {
    return util::make_error("AES-CM PRF: cipher setup failed");
  }
  // The keystream is the encryption of zeros.
  std::fill(out.begin(), out.end(), uint8_t(0));
  int n = 0;
  if (EVP_EncryptUpdate(ctx.get(), out.data(), &n, out.data(), int(out.size())) != 1 || size_t(n) != out.size()) {
    return util::make_error("AES-CM PRF: encryption failed");
  }
  return {};
}

util::Result<DirectionKeys> derive_session_keys(Profile profile, const SrtpKeys& master) {
  if (!keys_fit(profile, master)) return util::make_error("master key/salt length does not fit the profile");
  DirectionKeys k;
  // GCM needs a 12-octet session salt (RFC 7714 §12); deriving 14 and using the first
  // 12 gives the same octets, since the PRF output is a keystream.
  struct Part {
    KeyLabel label;
    util::MutableBytes out;
  };
  const Part parts[] = {
      {KeyLabel::kRtpEncryption, k.rtp.key},       {KeyLabel::kRtpSalt, k.rtp.salt},
      {KeyLabel::kRtpAuthentication, k.rtp.auth_key}, {KeyLabel::kRtcpEncryption, k.rtcp.key},
      {KeyLabel::kRtcpSalt, k.rtcp.salt},          {KeyLabel::kRtcpAuthentication, k.rtcp.auth_key},
  };
  for (const Part& p : parts) {
    if (profile == Profile::AeadAes128Gcm &&
        (p.label == KeyLabel::kRtpAuthentication || p.label == KeyLabel::kRtcpAuthentication)) {
      continue;  // GCM authenticates with the cipher key (RFC 7714 §11: no auth key)
    }
    auto r = aes_cm_prf(master.key, master.salt, p.label, p.out);
    if (!r) {
      k.wipe();
      return util::make_error(r.error());
    }
  }
  if (profile == Profile::AeadAes128Gcm) {
    // Keep only the 12 octets GCM uses so nothing depends on the unused tail.
    k.rtp.salt[12] = k.rtp.salt[13] = 0;
    k.rtcp.salt[12] = k.rtcp.salt[13] = 0;
  }
  util::Result<DirectionKeys> result(k);
  k.wipe();
  return result;
}

}  // namespace sb::srtp
