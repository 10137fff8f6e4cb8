// The SHA1_* functions are deprecated in OpenSSL 3 in favour of EVP, whose contexts
// cannot be copied without allocating (see HmacSha1.hpp). They remain part of the
// library and run the same assembly as the provider's SHA-1.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "srtp/HmacSha1.hpp"

#include <openssl/crypto.h>

#include <array>

namespace sb::srtp {

namespace {
constexpr size_t kBlock = 64;  // SHA-1 block size
}  // namespace

HmacSha1::~HmacSha1() {
  OPENSSL_cleanse(&inner_, sizeof inner_);
  OPENSSL_cleanse(&outer_, sizeof outer_);
  OPENSSL_cleanse(&work_, sizeof work_);
}

void HmacSha1::set_key(util::ByteView key) {
  std::array<uint8_t, kBlock> k{};
  if (key.size() > kBlock) {
    SHA1(key.data(), key.size(), k.data());
  } else {
    std::copy(key.begin(), key.end(), k.begin());
  }
  std::array<uint8_t, kBlock> pad{};
  for (size_t i = 0; i < kBlock; ++i) pad[i] = uint8_t(k[i] ^ 0x36);
  SHA1_Init(&inner_);
  SHA1_Update(&inner_, pad.data(), pad.size());
  for (size_t i = 0; i < kBlock; ++i) pad[i] = uint8_t(k[i] ^ 0x5c);
  SHA1_Init(&outer_);
  SHA1_Update(&outer_, pad.data(), pad.size());
  OPENSSL_cleanse(k.data(), k.size());
  OPENSSL_cleanse(pad.data(), pad.size());
}

void HmacSha1::begin() { work_ = inner_; }

void HmacSha1::update(const uint8_t* data, size_t len) { SHA1_Update(&work_, data, len); }

void HmacSha1::finish(uint8_t* out) {
  std::array<uint8_t, kDigestSize> inner_digest{};
  SHA1_Final(inner_digest.data(), &work_);
  work_ = outer_;
  SHA1_Update(&work_, inner_digest.data(), inner_digest.size());
  SHA1_Final(out, &work_);
}

}  // namespace sb::srtp
