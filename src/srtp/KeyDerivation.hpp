#pragma once
// SRTP key derivation (RFC 3711 §4.3) with the AES-CM PRF (§4.3.3) and a key
// derivation rate of zero, as DTLS-SRTP uses it (RFC 5764 §4.2). AEAD-AES-GCM derives
// its session keys the same way from a 12-octet master salt (RFC 7714 §11).
#include <array>
#include <cstddef>
#include <cstdint>

#include "srtp/Profile.hpp"
#include "util/Bytes.hpp"
#include "util/Result.hpp"

namespace sb::srtp {

/// Key derivation labels (RFC 3711 §4.3.1, §4.3.2).
enum class KeyLabel : uint8_t {
  kRtpEncryption = 0x00,
  kRtpAuthentication = 0x01,
  kRtpSalt = 0x02,
  kRtcpEncryption = 0x03,
  kRtcpAuthentication = 0x04,
  kRtcpSalt = 0x05,
};

/// Session keys for SRTP or SRTCP in one direction.
struct SessionKeys {
  static constexpr size_t kKeySize = 16;   ///< AES-128
  static constexpr size_t kSaltSize = 14;  ///< 112 bits (AES-CM); GCM uses the first 12
  static constexpr size_t kAuthKeySize = 20;  ///< HMAC-SHA1 (RFC 3711 §8.2); unused by GCM

  std::array<uint8_t, kKeySize> key{};
  std::array<uint8_t, kSaltSize> salt{};
  std::array<uint8_t, kAuthKeySize> auth_key{};

  /// Overwrites the key material (OPENSSL_cleanse: not optimised away).
  void wipe();
};

/// Both halves one direction needs: SRTP and SRTCP session keys.
struct DirectionKeys {
  SessionKeys rtp;
  SessionKeys rtcp;
  void wipe() {
    rtp.wipe();
    rtcp.wipe();
  }
};

/// AES-CM PRF (RFC 3711 §4.3.3): fills `out` with the keystream of AES-128 in counter
/// mode under `master_key`, starting from IV = (master_salt XOR label << 48) * 2^16.
/// A 12-octet salt (GCM) is padded with zero octets on the right to 14 (RFC 7714 §11).
/// Fails only on a bad key/salt length or an OpenSSL error.
util::Result<void> aes_cm_prf(util::ByteView master_key, util::ByteView master_salt, KeyLabel label,
                              util::MutableBytes out);

/// Derives all session keys of one direction from its master key and salt.
util::Result<DirectionKeys> derive_session_keys(Profile profile, const SrtpKeys& master);

}  // namespace sb::srtp
