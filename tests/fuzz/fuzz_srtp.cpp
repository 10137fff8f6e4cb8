// Feeds arbitrary datagrams to SRTP/SRTCP unprotect (the first thing every
// packet from the network meets after the 5-tuple check). Nothing may crash or
// read out of bounds, and no forged packet may authenticate.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "srtp/Session.hpp"

namespace {
sb::srtp::SrtpKeys keys(sb::srtp::Profile p, uint8_t seed) {
  sb::srtp::SrtpKeys k;
  k.key.assign(sb::srtp::master_key_length(p), seed);
  k.salt.assign(sb::srtp::master_salt_length(p), uint8_t(seed + 1));
  return k;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sb::srtp;
  if (size == 0 || size > 2048) return 0;
  static Session gcm(Profile::AeadAes128Gcm, keys(Profile::AeadAes128Gcm, 1), keys(Profile::AeadAes128Gcm, 2));
  static Session cm(Profile::AesCm128HmacSha1_80, keys(Profile::AesCm128HmacSha1_80, 3),
                    keys(Profile::AesCm128HmacSha1_80, 4));
  std::array<uint8_t, 2048 + Session::kMaxTrailer> buf{};
  for (Session* s : {&gcm, &cm}) {
    for (int rtcp = 0; rtcp < 2; ++rtcp) {
      std::memcpy(buf.data(), data, size);
      auto n = rtcp ? s->unprotect_rtcp(buf, size) : s->unprotect_rtp(buf, size);
      // Forging a tag for keys the input cannot know is not a thing a fuzzer does.
      if (n) std::abort();
    }
  }
  return 0;
}
