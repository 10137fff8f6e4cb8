#pragma once
// HMAC-SHA1 (RFC 2104) for SRTP authentication (RFC 3711 §4.2.1), keyed once and
// then computed per packet without touching the heap.
//
// The key's inner and outer pad blocks are hashed once at set-up; each MAC starts
// from a copy of those states, so a packet costs its own bytes plus one block for the
// outer hash. OpenSSL 3's EVP_MAC and EVP_MD_CTX_copy_ex duplicate the provider's
// digest context on every (re)initialisation, which allocates (measured: 2 and 1
// allocations per MAC); the plain SHA_CTX structure copies by value.
#include <openssl/sha.h>

#include <cstddef>
#include <cstdint>

#include "util/Bytes.hpp"

namespace sb::srtp {

class HmacSha1 {
 public:
  static constexpr size_t kDigestSize = 20;

  HmacSha1() = default;
  ~HmacSha1();
  HmacSha1(const HmacSha1&) = delete;
  HmacSha1& operator=(const HmacSha1&) = delete;

  /// Keys the MAC; keys longer than a SHA-1 block are hashed first (RFC 2104 §2).
  void set_key(util::ByteView key);

  /// Starts a new MAC with the current key.
  void begin();
  void update(const uint8_t* data, size_t len);
  /// Finishes the MAC started by begin() into out[0, kDigestSize).
  void finish(uint8_t* out);

 private:
  SHA_CTX inner_{};  ///< after hashing key XOR ipad
  SHA_CTX outer_{};  ///< after hashing key XOR opad
  SHA_CTX work_{};
};

}  // namespace sb::srtp
