// SRTP with keys from a real DTLS handshake (RFC 5764): what one side protects, the
// other unprotects.
#include <gtest/gtest.h>

#include "dtls/DtlsPair.hpp"
#include "srtp/Session.hpp"

using namespace sb;

namespace {

util::Bytes rtp_packet(uint32_t ssrc, uint16_t seq, size_t payload) {
  util::Bytes p(12 + payload + srtp::Session::kMaxTrailer);
  p[0] = 0x80;
  p[1] = 96;
  util::store_be16(&p[2], seq);
  util::store_be32(&p[4], seq * 3000u);
  util::store_be32(&p[8], ssrc);
  for (size_t i = 0; i < payload; ++i) p[12 + i] = uint8_t(i);
  return p;
}

util::Bytes rtcp_packet(uint32_t ssrc) {
  // A receiver report with no report blocks (RFC 3550 §6.4.2).
  util::Bytes p(8 + srtp::Session::kMaxTrailer);
  p[0] = 0x80;
  p[1] = 201;
  util::store_be16(&p[2], 1);
  util::store_be32(&p[4], ssrc);
  return p;
}

class DtlsSrtp : public ::testing::TestWithParam<srtp::Profile> {};

}  // namespace

TEST_P(DtlsSrtp, KeysFromHandshakeProtectBothWays) {
  dtls::SessionConfig cfg;
  cfg.srtp_profiles = {GetParam()};
  dtls::test::DtlsPair pair(cfg, cfg);
  pair.start();
  pair.run();
  auto ce = pair.client.poll_event();
  auto se = pair.server.poll_event();
  ASSERT_TRUE(ce && se);
  auto& c = std::get<dtls::Connected>(*ce);
  auto& s = std::get<dtls::Connected>(*se);
  ASSERT_EQ(c.profile, GetParam());

  srtp::Session client(c.profile, c.local, c.remote);
  srtp::Session server(s.profile, s.local, s.remote);
  for (auto [from, to] : {std::pair{&client, &server}, std::pair{&server, &client}}) {
    for (uint16_t seq = 1; seq < 20; ++seq) {
      util::Bytes pkt = rtp_packet(0x1234, seq, 100);
      util::Bytes plain(pkt.begin(), pkt.begin() + 112);
      auto n = from->protect_rtp(pkt, 112);
      ASSERT_TRUE(n);
      EXPECT_EQ(*n, 112 + srtp::auth_tag_length(GetParam()));
      auto m = to->unprotect_rtp(pkt, *n);
      ASSERT_TRUE(m);
      EXPECT_EQ(util::Bytes(pkt.begin(), pkt.begin() + ptrdiff_t(*m)), plain);
    }
    util::Bytes rr = rtcp_packet(0x5678);
    util::Bytes plain(rr.begin(), rr.begin() + 8);
    auto n = from->protect_rtcp(rr, 8);
    ASSERT_TRUE(n);
    auto m = to->unprotect_rtcp(rr, *n);
    ASSERT_TRUE(m);
    EXPECT_EQ(util::Bytes(rr.begin(), rr.begin() + ptrdiff_t(*m)), plain);
  }
  EXPECT_EQ(client.stats().auth_failures + server.stats().auth_failures, 0u);
}

INSTANTIATE_TEST_SUITE_P(Profiles, DtlsSrtp,
                         ::testing::Values(srtp::Profile::AesCm128HmacSha1_80, srtp::Profile::AeadAes128Gcm),
                         [](const auto& param_info) {
                           return param_info.param == srtp::Profile::AeadAes128Gcm ? std::string("Gcm")
                                                                              : std::string("CmSha1");
                         });
