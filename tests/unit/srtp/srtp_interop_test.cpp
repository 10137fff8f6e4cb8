// Session (OpenSSL) against LibSrtpSession (libsrtp2), an independent implementation:
// packets protected by one must unprotect with the other, for both profiles, RTP and
// RTCP, across the 16-bit sequence wrap (ROC increment) and with reordering; and with
// the same keys both must produce the same bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "srtp/LibSrtpSession.hpp"
#include "srtp/Session.hpp"
#include "srtp/SrtpTestPackets.hpp"

using namespace sb;
using namespace sb::srtp;
using namespace sb::srtp::test;

namespace {

/// Protect with `From`, unprotect with `To`.
template <typename From, typename To>
struct Link {
  Link(Profile p, uint8_t seed = 1) : tx(p, make_keys(p, seed), make_keys(p, seed + 1)), rx(p, make_keys(p, seed + 1), make_keys(p, seed)) {}
  From tx;
  To rx;
};

struct Sent {
  util::Bytes wire;
  size_t len;
  util::Bytes plain;
};

template <typename From>
Sent protect_rtp(From& tx, const RtpSpec& spec) {
  util::Bytes pkt = make_rtp(spec);
  size_t n = rtp_size(spec);
  util::Bytes plain(pkt.begin(), pkt.begin() + ptrdiff_t(n));
  auto len = tx.protect_rtp(pkt, n);
  EXPECT_TRUE(len) << "seq " << spec.seq;
  return {pkt, len.value_or(0), plain};
}

template <typename To>
void expect_unprotects(To& rx, Sent s, const char* what) {
  auto m = rx.unprotect_rtp(s.wire, s.len);
  ASSERT_TRUE(m) << what << " status " << rx.last_error();
  ASSERT_EQ(*m, s.plain.size());
  EXPECT_EQ(util::Bytes(s.wire.begin(), s.wire.begin() + ptrdiff_t(*m)), s.plain) << what;
}

/// 1500 packets from seq 64800 (through the wrap into ROC 1), delivered in shuffled
/// blocks of 40: reordering well inside the replay window, across the wrap too.
template <typename From, typename To>
void run_rtp(Profile p) {
  Link<From, To> link(p);
  std::mt19937 rng(7);
  std::vector<Sent> block;
  size_t delivered = 0;
  for (int i = 0; i < 1500; ++i) {
    RtpSpec spec{.ssrc = 0xfeed0001, .seq = uint16_t(64800 + i), .payload = size_t(20 + (i * 37) % 1000)};
    if (i % 3 == 1) spec.csrcs = 2;            // CSRCs and extensions are authenticated,
    if (i % 4 == 2) spec.extension_words = 3;  // never encrypted (RFC 7714 §8.2)
    block.push_back(protect_rtp(link.tx, spec));
    if (block.size() == 40 || i == 1499) {
      std::shuffle(block.begin(), block.end(), rng);
      for (auto& s : block) expect_unprotects(link.rx, s, "rtp");
      delivered += block.size();
      block.clear();
    }
  }
  EXPECT_EQ(link.rx.stats().unprotected_rtp, delivered);
  EXPECT_EQ(link.rx.stats().replays + link.rx.stats().auth_failures, 0u);
}

template <typename From, typename To>
void run_rtcp(Profile p) {
  Link<From, To> link(p);
  std::vector<std::pair<util::Bytes, size_t>> sent;
  for (int i = 0; i < 300; ++i) {
    util::Bytes pkt = make_rtcp(0xabc00000 + uint32_t(i % 3), uint8_t(i));
    auto n = link.tx.protect_rtcp(pkt, kRtcpSize);
    ASSERT_TRUE(n);
    sent.emplace_back(pkt, *n);
  }
  // Reverse order within each SSRC's history: all inside the window.
  std::reverse(sent.begin(), sent.end());
  for (size_t i = 0; i < sent.size(); ++i) {
    auto& [pkt, n] = sent[i];
    auto m = link.rx.unprotect_rtcp(pkt, n);
    ASSERT_TRUE(m) << i << " status " << link.rx.last_error();
    EXPECT_EQ(*m, kRtcpSize);
    util::Bytes want = make_rtcp(util::load_be32(&pkt[4]), uint8_t(sent.size() - 1 - i));
    EXPECT_EQ(util::Bytes(pkt.begin(), pkt.begin() + ptrdiff_t(kRtcpSize)),
              util::Bytes(want.begin(), want.begin() + ptrdiff_t(kRtcpSize)));
  }
  // A replay of each is refused by the receiver.
  auto& [pkt, n] = sent.front();
  EXPECT_FALSE(link.rx.unprotect_rtcp(pkt, n));
}

class SrtpInterop : public ::testing::TestWithParam<Profile> {};

}  // namespace

TEST_P(SrtpInterop, RtpFromSessionToLibsrtp) { run_rtp<Session, LibSrtpSession>(GetParam()); }
TEST_P(SrtpInterop, RtpFromLibsrtpToSession) { run_rtp<LibSrtpSession, Session>(GetParam()); }
TEST_P(SrtpInterop, RtcpFromSessionToLibsrtp) { run_rtcp<Session, LibSrtpSession>(GetParam()); }
TEST_P(SrtpInterop, RtcpFromLibsrtpToSession) { run_rtcp<LibSrtpSession, Session>(GetParam()); }

TEST_P(SrtpInterop, SameKeysGiveTheSameBytes) {
  Profile p = GetParam();
  Session ours(p, make_keys(p, 9), make_keys(p, 10));
  LibSrtpSession theirs(p, make_keys(p, 9), make_keys(p, 10));
  for (int i = 0; i < 200; ++i) {
    RtpSpec spec{.ssrc = 77, .seq = uint16_t(65436 + i), .payload = 300, .csrcs = uint8_t(i % 2)};
    Sent a = protect_rtp(ours, spec);
    Sent b = protect_rtp(theirs, spec);
    ASSERT_EQ(a.len, b.len);
    ASSERT_EQ(util::to_hex(util::ByteView(a.wire.data(), a.len)), util::to_hex(util::ByteView(b.wire.data(), b.len)))
        << "seq " << spec.seq;
  }
  // libsrtp numbers SRTCP from 1, RFC 3711 §3.4 from 0: align by one packet first.
  util::Bytes first = make_rtcp(88);
  ASSERT_TRUE(ours.protect_rtcp(first, kRtcpSize));
  for (int i = 0; i < 5; ++i) {
    util::Bytes a = make_rtcp(88, uint8_t(i)), b = a;
    auto na = ours.protect_rtcp(a, kRtcpSize);
    auto nb = theirs.protect_rtcp(b, kRtcpSize);
    ASSERT_TRUE(na && nb);
    ASSERT_EQ(*na, *nb);
    EXPECT_EQ(util::to_hex(util::ByteView(a.data(), *na)), util::to_hex(util::ByteView(b.data(), *nb)));
  }
}

TEST_P(SrtpInterop, RejectionsAgree) {
  Profile p = GetParam();
  Link<LibSrtpSession, Session> to_ours(p);
  Link<Session, LibSrtpSession> to_theirs(p);
  for (int way = 0; way < 2; ++way) {
    auto run = [&](auto& tx, auto& rx) {
      Sent s = protect_rtp(tx, {.ssrc = 5, .seq = 100});
      Sent tampered = s;
      tampered.wire[30] ^= 0x04;
      EXPECT_FALSE(rx.unprotect_rtp(tampered.wire, tampered.len));
      EXPECT_EQ(rx.last_error(), srtp_err_status_auth_fail);
      Sent copy = s;
      expect_unprotects(rx, s, "original");
      EXPECT_FALSE(rx.unprotect_rtp(copy.wire, copy.len));
      EXPECT_EQ(rx.last_error(), srtp_err_status_replay_fail);
      // 1100 packets later, seq 100 is below the window.
      for (int i = 1; i <= 1100; ++i) expect_unprotects(rx, protect_rtp(tx, {.ssrc = 5, .seq = uint16_t(100 + i)}), "fill");
      Sent old = copy;
      EXPECT_FALSE(rx.unprotect_rtp(old.wire, old.len));
      EXPECT_EQ(rx.last_error(), srtp_err_status_replay_old);
      EXPECT_EQ(rx.stats().auth_failures, 1u);
      EXPECT_EQ(rx.stats().replays, 2u);
    };
    if (way == 0) run(to_ours.tx, to_ours.rx);
    else run(to_theirs.tx, to_theirs.rx);
  }
}

TEST_P(SrtpInterop, WrongKeysFailBothWays) {
  Profile p = GetParam();
  Session ours(p, make_keys(p, 1), make_keys(p, 2));
  LibSrtpSession theirs(p, make_keys(p, 3), make_keys(p, 4));  // expects keys 4, we send 1
  Sent s = protect_rtp(ours, {});
  EXPECT_FALSE(theirs.unprotect_rtp(s.wire, s.len));
  EXPECT_EQ(theirs.stats().auth_failures, 1u);
  Sent t = protect_rtp(theirs, {});
  EXPECT_FALSE(ours.unprotect_rtp(t.wire, t.len));
  EXPECT_EQ(ours.stats().auth_failures, 1u);
  EXPECT_EQ(ours.inbound_streams(), 0u);
}

TEST_P(SrtpInterop, UnchangedResendIsAllowedOutboundAndDroppedAsReplayInbound) {
  // An SFU answering a NACK without RTX sends the same packet again (RFC 4585 §6.2.1).
  Profile p = GetParam();
  Link<Session, LibSrtpSession> link(p);
  Sent first = protect_rtp(link.tx, {.seq = 10});
  for (uint16_t seq = 11; seq < 60; ++seq) expect_unprotects(link.rx, protect_rtp(link.tx, {.seq = seq}), "next");
  Sent again = protect_rtp(link.tx, {.seq = 10});
  EXPECT_EQ(util::ByteView(first.wire.data(), first.len).size(), again.len);
  EXPECT_TRUE(std::equal(first.wire.begin(), first.wire.begin() + ptrdiff_t(first.len), again.wire.begin()));
  expect_unprotects(link.rx, again, "late original");  // the first copy was lost
  EXPECT_FALSE(link.rx.unprotect_rtp(first.wire, first.len));
  EXPECT_EQ(link.rx.stats().replays, 1u);
  // Out of the sender's window, a resend is refused rather than reusing a key stream
  // whose earlier use the sender no longer remembers.
  for (uint16_t seq = 60; seq < 1100; ++seq) protect_rtp(link.tx, {.seq = seq});
  util::Bytes stale = make_rtp({.seq = 10});
  EXPECT_FALSE(link.tx.protect_rtp(stale, rtp_size({.seq = 10})));
  EXPECT_EQ(link.tx.last_error(), srtp_err_status_replay_old);
  EXPECT_EQ(link.tx.stats().replays, 1u);
}

INSTANTIATE_TEST_SUITE_P(Profiles, SrtpInterop,
                         ::testing::Values(Profile::AesCm128HmacSha1_80, Profile::AeadAes128Gcm),
                         [](const auto& param_info) {
                           return param_info.param == Profile::AeadAes128Gcm ? std::string("Gcm") : std::string("CmSha1");
                         });
