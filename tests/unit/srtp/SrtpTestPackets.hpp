#pragma once
// Test helpers shared by the srtp tests: master keys and plain RTP/RTCP packets with
// room for the SRTP trailer.
#include <string_view>

#include "srtp/Profile.hpp"
#include "srtp/Session.hpp"
#include "util/Bytes.hpp"
#include "util/Hex.hpp"

namespace sb::srtp::test {

inline SrtpKeys make_keys(Profile p, uint8_t seed) {
  SrtpKeys k;
  k.key.resize(master_key_length(p));
  k.salt.resize(master_salt_length(p));
  for (size_t i = 0; i < k.key.size(); ++i) k.key[i] = uint8_t(seed + 3 * i);
  for (size_t i = 0; i < k.salt.size(); ++i) k.salt[i] = uint8_t(seed * 5 + i);
  return k;
}

inline util::Bytes hex(std::string_view s) { return util::from_hex(s).value(); }

/// An RTP packet (RFC 3550 §5.1) of `payload` bytes after a header with `csrcs` CSRCs
/// and, if `extension_words` > 0, a one-byte-header extension block (RFC 8285 §4.2).
/// The buffer is kMaxTrailer longer than rtp_size().
struct RtpSpec {
  uint32_t ssrc = 0x11223344;
  uint16_t seq = 1;
  size_t payload = 160;
  uint8_t csrcs = 0;
  uint16_t extension_words = 0;
};

inline size_t rtp_size(const RtpSpec& s) {
  return 12 + 4u * s.csrcs + (s.extension_words > 0 ? 4u + 4u * s.extension_words : 0u) + s.payload;
}

inline util::Bytes make_rtp(const RtpSpec& s) {
  util::Bytes p(rtp_size(s) + Session::kMaxTrailer, 0);
  p[0] = uint8_t(0x80 | (s.extension_words > 0 ? 0x10 : 0) | s.csrcs);
  p[1] = 96;
  util::store_be16(&p[2], s.seq);
  util::store_be32(&p[4], s.seq * 3000u);
  util::store_be32(&p[8], s.ssrc);
  size_t at = 12;
  for (uint8_t i = 0; i < s.csrcs; ++i, at += 4) util::store_be32(&p[at], 0xc0000000u + i);
  if (s.extension_words > 0) {
    util::store_be16(&p[at], 0xbede);
    util::store_be16(&p[at + 2], s.extension_words);
    at += 4;
    for (size_t i = 0; i < 4u * s.extension_words; ++i) p[at + i] = uint8_t(0x10 + i);
    at += 4u * s.extension_words;
  }
  for (size_t i = 0; i < s.payload; ++i) p[at + i] = uint8_t(s.seq + i * 7);
  return p;
}

/// A receiver report with one report block (RFC 3550 §6.4.2), 32 bytes, plus room.
inline util::Bytes make_rtcp(uint32_t ssrc, uint8_t fill = 0x5a) {
  util::Bytes p(32 + Session::kMaxTrailer, fill);
  p[0] = 0x81;
  p[1] = 201;
  util::store_be16(&p[2], 7);
  util::store_be32(&p[4], ssrc);
  return p;
}
constexpr size_t kRtcpSize = 32;

}  // namespace sb::srtp::test
