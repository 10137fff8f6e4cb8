// Per-stream state: packet index estimation (RFC 3711 §3.3.1, Appendix A), the replay
// window (§3.3.2), the bounded stream table; and Session's handling of hostile input.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "srtp/HmacSha1.hpp"
#include "srtp/KeyDerivation.hpp"
#include "srtp/ReplayWindow.hpp"
#include "srtp/Session.hpp"
#include "srtp/SrtpTestPackets.hpp"
#include "srtp/StreamTable.hpp"
#include "srtp/Transform.hpp"

using namespace sb;
using namespace sb::srtp;
using namespace sb::srtp::test;

namespace {
ReplayWindow window_at(uint64_t highest) {
  ReplayWindow w;
  w.accept(highest);
  return w;
}
}  // namespace

TEST(SrtpIndex, FirstPacketTakesRocZero) {
  ReplayWindow w;
  EXPECT_EQ(estimate_packet_index(w, 0), 0u);
  EXPECT_EQ(estimate_packet_index(w, 65535), 65535u);
}

TEST(SrtpIndex, FollowsTheWrapBothWays) {
  // Highest 65530 (ROC 0): 3 is after the wrap (ROC 1), 65000 before it.
  ReplayWindow w = window_at(65530);
  EXPECT_EQ(estimate_packet_index(w, 3), 0x10003u);
  EXPECT_EQ(estimate_packet_index(w, 65000), 65000u);
  // Highest just past the wrap (ROC 1, SEQ 2): 65534 is late from ROC 0.
  w = window_at(0x10002);
  EXPECT_EQ(estimate_packet_index(w, 65534), 0xfffeu);
  EXPECT_EQ(estimate_packet_index(w, 5), 0x10005u);
  // ROC 0 with a low highest: a "late" packet from ROC -1 cannot exist; ROC 0 is kept.
  w = window_at(100);
  EXPECT_EQ(estimate_packet_index(w, 60000), 60000u);
  // Large ROC.
  w = window_at((uint64_t(0xfffe) << 16) | 0xfff0);
  EXPECT_EQ(estimate_packet_index(w, 0x0010), (uint64_t(0xffff) << 16) | 0x10);
}

TEST(SrtpReplayWindow, AcceptsEachIndexOnceInsideTheWindow) {
  ReplayWindow w;
  EXPECT_TRUE(w.empty());
  EXPECT_EQ(w.check(500), ReplayWindow::Verdict::kFresh);
  w.accept(500);
  EXPECT_EQ(w.check(500), ReplayWindow::Verdict::kDuplicate);
  EXPECT_EQ(w.check(499), ReplayWindow::Verdict::kFresh);
  EXPECT_EQ(w.check(0), ReplayWindow::Verdict::kFresh);  // 500 back: inside 1024
  w.accept(2000);
  EXPECT_EQ(w.check(500), ReplayWindow::Verdict::kTooOld);
  EXPECT_EQ(w.check(2000 - 1023), ReplayWindow::Verdict::kFresh);
  EXPECT_EQ(w.check(2000 - 1024), ReplayWindow::Verdict::kTooOld);
  w.accept(1500);
  EXPECT_EQ(w.check(1500), ReplayWindow::Verdict::kDuplicate);
  EXPECT_EQ(w.highest(), 2000u);
}

TEST(SrtpReplayWindow, SlidingForgetsOnlyWhatLeftTheWindow) {
  // Against a plain set of seen indices, with random jumps and reordering.
  ReplayWindow w;
  std::set<uint64_t> seen;
  std::mt19937 rng(3);
  uint64_t top = 10;
  for (int i = 0; i < 20000; ++i) {
    uint64_t idx;
    int r = int(rng() % 10);
    if (r < 6) idx = top + 1 + rng() % 3;
    else if (r < 9) idx = top > 1100 ? top - rng() % 1100 : top;
    else idx = top + rng() % 3000;
    ReplayWindow::Verdict want;
    if (!seen.empty() && idx + ReplayWindow::kSize <= *seen.rbegin()) want = ReplayWindow::Verdict::kTooOld;
    else if (seen.count(idx)) want = ReplayWindow::Verdict::kDuplicate;
    else want = ReplayWindow::Verdict::kFresh;
    ASSERT_EQ(w.check(idx), want) << i << " idx " << idx;
    if (want == ReplayWindow::Verdict::kFresh) {
      w.accept(idx);
      seen.insert(idx);
      top = std::max(top, idx);
    }
  }
}

TEST(SrtpStreamTable, InsertFindEraseUpToTheBound) {
  StreamTable t(300);
  for (uint32_t i = 0; i < 300; ++i) {
    Stream* s = t.insert(i * 0x10000u);  // SSRCs that differ only in high bits
    ASSERT_NE(s, nullptr);
    s->next_rtcp_index = i;
  }
  EXPECT_TRUE(t.full());
  EXPECT_EQ(t.insert(7), nullptr);
  for (uint32_t i = 0; i < 300; ++i) ASSERT_EQ(t.find(i * 0x10000u)->next_rtcp_index, i);
  EXPECT_EQ(t.find(1), nullptr);
  // Erase every other one, then re-insert others: tombstones are reused or rebuilt away.
  for (uint32_t i = 0; i < 300; i += 2) ASSERT_TRUE(t.erase(i * 0x10000u));
  EXPECT_FALSE(t.erase(0));
  EXPECT_EQ(t.size(), 150u);
  for (uint32_t i = 1; i < 300; i += 2) ASSERT_EQ(t.find(i * 0x10000u)->next_rtcp_index, i);
  for (int round = 0; round < 50; ++round) {
    for (uint32_t i = 0; i < 150; ++i) ASSERT_NE(t.insert(0xf0000000u + i), nullptr);
    EXPECT_TRUE(t.full());
    for (uint32_t i = 0; i < 150; ++i) ASSERT_TRUE(t.erase(0xf0000000u + i));
  }
  for (uint32_t i = 1; i < 300; i += 2) ASSERT_EQ(t.find(i * 0x10000u)->next_rtcp_index, i);
}

TEST(SrtpSessionInput, ForgedPacketsWithManySsrcsTakeNoSlots) {
  Profile p = Profile::AeadAes128Gcm;
  Session rx(p, make_keys(p, 2), make_keys(p, 1));
  Session wrong(p, make_keys(p, 9), make_keys(p, 8));
  for (uint32_t ssrc = 1; ssrc <= 3 * Session::kMaxStreams; ++ssrc) {
    util::Bytes pkt = make_rtp({.ssrc = ssrc});
    auto n = wrong.protect_rtp(pkt, rtp_size({}));
    ASSERT_TRUE(n || ssrc > Session::kMaxStreams);  // the forger's own table fills up
    if (!n) continue;
    EXPECT_FALSE(rx.unprotect_rtp(pkt, *n));
  }
  EXPECT_EQ(rx.inbound_streams(), 0u);
  EXPECT_EQ(rx.stats().auth_failures, Session::kMaxStreams);
  EXPECT_EQ(rx.stats().stream_limit, 0u);
}

TEST(SrtpSessionInput, InboundStreamLimitIsCountedBeforeCrypto) {
  Profile p = Profile::AesCm128HmacSha1_80;
  Session tx(p, make_keys(p, 1), make_keys(p, 2));
  Session rx(p, make_keys(p, 2), make_keys(p, 1));
  for (uint32_t ssrc = 1; ssrc <= Session::kMaxStreams + 1; ++ssrc) {
    if (ssrc == Session::kMaxStreams + 1) tx.remove_ssrc(1);  // keep tx below its own bound
    util::Bytes pkt = make_rtp({.ssrc = ssrc});
    auto n = tx.protect_rtp(pkt, rtp_size({}));
    ASSERT_TRUE(n);
    auto m = rx.unprotect_rtp(pkt, *n);
    EXPECT_EQ(bool(m), ssrc <= Session::kMaxStreams);
  }
  EXPECT_EQ(rx.stats().stream_limit, 1u);
  EXPECT_EQ(rx.last_error(), srtp_err_status_alloc_fail);
}

TEST(SrtpSessionInput, RandomGarbageIsRejectedWithoutCrashing) {
  // A cheap stand-in for a fuzzer: random and mutated datagrams of all sizes.
  for (Profile p : {Profile::AesCm128HmacSha1_80, Profile::AeadAes128Gcm}) {
    Session tx(p, make_keys(p, 1), make_keys(p, 2));
    Session rx(p, make_keys(p, 2), make_keys(p, 1));
    util::Bytes good = make_rtp({.payload = 100});
    size_t good_len = tx.protect_rtp(good, rtp_size({.payload = 100})).value();
    util::Bytes good_rtcp = make_rtcp(5);
    size_t good_rtcp_len = tx.protect_rtcp(good_rtcp, kRtcpSize).value();
    std::mt19937 rng(11);
    util::Bytes buf(1500);
    uint64_t accepted = 0;
    for (int i = 0; i < 20000; ++i) {
      size_t len;
      if (i % 3 == 0) {  // mutate a valid packet: a few random bytes, random length
        const util::Bytes& src = (i % 2) ? good : good_rtcp;
        std::copy(src.begin(), src.end(), buf.begin());
        for (int k = 0; k < 3; ++k) buf[rng() % src.size()] ^= uint8_t(1 + rng() % 255);
        len = rng() % ((i % 2) ? good_len + 1 : good_rtcp_len + 1);
      } else {
        len = rng() % 200;
        for (size_t k = 0; k < len; ++k) buf[k] = uint8_t(rng());
        buf[0] = uint8_t(0x80 | (buf[0] & 0x3f));  // mostly version 2
      }
      util::MutableBytes view(buf.data(), len + rng() % 30);
      accepted += bool(rx.unprotect_rtp(view, len)) + bool(rx.unprotect_rtcp(view, len));
    }
    EXPECT_EQ(accepted, 0u);
    EXPECT_EQ(rx.inbound_streams(), 0u);
  }
}

TEST(SrtpSessionInput, UnencryptedSrtcpIsAcceptedWhenAuthentic) {
  // RFC 3711 §3.4: E = 0 means the payload was not encrypted; the tag still covers
  // header | payload | E | index. Built by hand with the derived SRTCP auth key.
  Profile p = Profile::AesCm128HmacSha1_80;
  SrtpKeys master = make_keys(p, 1);
  Session rx(p, make_keys(p, 2), master);
  auto keys = derive_session_keys(p, master).value();
  HmacSha1 mac;
  mac.set_key(keys.rtcp.auth_key);
  util::Bytes pkt = make_rtcp(42);
  const util::Bytes plain(pkt.begin(), pkt.begin() + ptrdiff_t(kRtcpSize));
  util::store_be32(&pkt[kRtcpSize], 7);  // E = 0, index 7
  uint8_t tag[HmacSha1::kDigestSize];
  mac.begin();
  mac.update(pkt.data(), kRtcpSize + 4);
  mac.finish(tag);
  std::copy(tag, tag + 10, pkt.begin() + ptrdiff_t(kRtcpSize) + 4);
  util::Bytes copy = pkt;
  auto n = rx.unprotect_rtcp(pkt, kRtcpSize + 14);
  ASSERT_TRUE(n);
  EXPECT_EQ(util::Bytes(pkt.begin(), pkt.begin() + ptrdiff_t(*n)), plain);
  // Setting E on the same packet breaks the tag.
  copy[kRtcpSize] |= 0x80;
  util::store_be32(&copy[kRtcpSize], 0x80000008u);
  EXPECT_FALSE(rx.unprotect_rtcp(copy, kRtcpSize + 14));
  EXPECT_EQ(rx.stats().auth_failures, 1u);
}
