#include "srtp/Profile.hpp"

namespace sb::srtp {

size_t master_key_length(Profile) { return 16; }

size_t master_salt_length(Profile p) { return p == Profile::AeadAes128Gcm ? 12 : 14; }

size_t auth_tag_length(Profile p) { return p == Profile::AeadAes128Gcm ? 16 : 10; }

std::string_view to_string(Profile p) {
  return p == Profile::AeadAes128Gcm ? "SRTP_AEAD_AES_128_GCM" : "SRTP_AES128_CM_SHA1_80";
}

uint16_t profile_id(Profile p) { return p == Profile::AeadAes128Gcm ? 0x0007 : 0x0001; }

std::optional<Profile> profile_from_id(uint16_t id) {
  switch (id) {
    case 0x0001: return Profile::AesCm128HmacSha1_80;
    case 0x0007: return Profile::AeadAes128Gcm;
    default: return std::nullopt;
  }
}

bool keys_fit(Profile p, const SrtpKeys& keys) {
  return keys.key.size() == master_key_length(p) && keys.salt.size() == master_salt_length(p);
}

}  // namespace sb::srtp
