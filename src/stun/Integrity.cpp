#include "stun/Integrity.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <string>

#include "stun/Crc32.hpp"

namespace sb::stun {

namespace {

// One HMAC context per thread, re-keyed for each message: no allocation per call on
// the packet path. The fetched algorithm lives for the whole process.
class HmacContext {
 public:
  HmacContext() {
    static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (mac) ctx_ = EVP_MAC_CTX_new(mac);
  }
  ~HmacContext() { EVP_MAC_CTX_free(ctx_); }
  HmacContext(const HmacContext&) = delete;
  HmacContext& operator=(const HmacContext&) = delete;
  EVP_MAC_CTX* get() const { return ctx_; }

 private:
  EVP_MAC_CTX* ctx_ = nullptr;
};

}  // namespace

std::optional<IntegrityTag> hmac_sha1(util::ByteView key, std::initializer_list<util::ByteView> parts) {
  // An empty key would make OpenSSL reuse the previous one: refuse it instead.
  if (key.empty()) return std::nullopt;
  thread_local HmacContext hmac;
  EVP_MAC_CTX* ctx = hmac.get();
  if (!ctx) return std::nullopt;
  char digest[] = "SHA1";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(ctx, key.data(), key.size(), params) != 1) return std::nullopt;
  for (util::ByteView p : parts)
    if (!p.empty() && EVP_MAC_update(ctx, p.data(), p.size()) != 1) return std::nullopt;
  IntegrityTag out{};
  size_t out_len = 0;
  if (EVP_MAC_final(ctx, out.data(), &out_len, out.size()) != 1 || out_len != out.size()) return std::nullopt;
  return out;
}

bool verify_message_integrity(const Message& msg, util::ByteView key) {
  auto off = msg.message_integrity_offset();
  auto tag = msg.message_integrity();
  if (!off || !tag) return false;
  const util::ByteView data = msg.data();
  // RFC 8489 §14.5: the length field must count up to the end of MESSAGE-INTEGRITY.
  std::array<uint8_t, kHeaderSize> header{};
  std::memcpy(header.data(), data.data(), kHeaderSize);
  util::store_be16(&header[2], uint16_t(*off + kAttributeHeaderSize + kMessageIntegritySize - kHeaderSize));
  auto mac = hmac_sha1(key, {header, data.subspan(kHeaderSize, *off - kHeaderSize)});
  if (!mac) return false;
  return CRYPTO_memcmp(mac->data(), tag->data(), kMessageIntegritySize) == 0;
}

uint32_t compute_fingerprint(util::ByteView bytes_before) { return crc32(bytes_before) ^ kFingerprintXor; }

bool verify_fingerprint(const Message& msg) {
  auto off = msg.fingerprint_offset();
  auto value = msg.fingerprint();
  if (!off || !value) return false;
  // FINGERPRINT is last (enforced by parse), so the header length already covers it.
  return compute_fingerprint(msg.data().first(*off)) == *value;
}

std::array<uint8_t, 16> long_term_key(std::string_view username, std::string_view realm, std::string_view password) {
  std::string input;
  input.reserve(username.size() + realm.size() + password.size() + 2);
  input.append(username).append(":").append(realm).append(":").append(password);
  std::array<uint8_t, 16> out{};
  unsigned len = 0;
  EVP_Digest(input.data(), input.size(), out.data(), &len, EVP_md5(), nullptr);
  return out;
}

}  // namespace sb::stun
