#pragma once
// SRTP protection profiles negotiated through DTLS-SRTP (RFC 5764 §4.1.2, RFC 7714 §14.2)
// and the master key material each direction uses. Shared by dtls (which exports the
// keys) and srtp (which uses them).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "util/Bytes.hpp"

namespace sb::srtp {

enum class Profile : uint8_t {
  AesCm128HmacSha1_80,  ///< SRTP_AES128_CM_HMAC_SHA1_80 (RFC 5764 §4.1.2), id 0x0001
  AeadAes128Gcm,        ///< SRTP_AEAD_AES_128_GCM (RFC 7714 §14.2), id 0x0007
};

/// Master key and master salt for one direction (RFC 3711 §3.2.1).
struct SrtpKeys {
  util::Bytes key;
  util::Bytes salt;

  friend bool operator==(const SrtpKeys&, const SrtpKeys&) = default;
};

/// 16 for both profiles.
size_t master_key_length(Profile p);
/// 14 for AES-CM (RFC 3711 §8.2), 12 for AEAD-GCM (RFC 7714 §12).
size_t master_salt_length(Profile p);
/// Authentication tag appended to each packet: 10 (HMAC-SHA1-80) or 16 (GCM).
size_t auth_tag_length(Profile p);
/// "SRTP_AES128_CM_SHA1_80" / "SRTP_AEAD_AES_128_GCM": the names OpenSSL's use_srtp takes.
std::string_view to_string(Profile p);
/// The DTLS-SRTP protection profile id on the wire (RFC 5764 §4.1.2).
uint16_t profile_id(Profile p);
std::optional<Profile> profile_from_id(uint16_t id);
/// True if `keys` has the lengths `p` needs.
bool keys_fit(Profile p, const SrtpKeys& keys);

}  // namespace sb::srtp
