// A rough speed comparison of Session and LibSrtpSession, not a benchmark (bench/
// has those) and not asserted. Disabled by default; run with
//   test_srtp --gtest_also_run_disabled_tests --gtest_filter='*Timing*'
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "srtp/LibSrtpSession.hpp"
#include "srtp/Session.hpp"
#include "srtp/SrtpTestPackets.hpp"

using namespace sb;
using namespace sb::srtp;
using namespace sb::srtp::test;

namespace {

constexpr int kBatches = 100;
constexpr int kBatch = 1000;  // kBatches * kBatch = 1e5 packets
constexpr size_t kPayload = 1100;

struct Timing {
  double best = 0;    ///< ns per packet in the fastest batch (least disturbed by other load)
  double median = 0;  ///< ns per packet in the median batch
};

Timing summarise(std::vector<double>& per_batch) {
  std::sort(per_batch.begin(), per_batch.end());
  return {per_batch.front(), per_batch[per_batch.size() / 2]};
}

/// Protect then unprotect 1e5 RTP packets with a 1100-byte payload (in place, seq
/// advancing through the wrap), timed per batch of 1000.
template <typename S>
std::pair<Timing, Timing> time_rtp(Profile p) {
  S tx(p, make_keys(p, 1), make_keys(p, 2));
  S rx(p, make_keys(p, 2), make_keys(p, 1));
  RtpSpec spec{.payload = kPayload};
  util::Bytes buf = make_rtp(spec);
  size_t len = rtp_size(spec);
  std::vector<size_t> protected_len(kBatch);
  std::vector<util::Bytes> wire(kBatch, buf);
  std::vector<double> protect_ns, unprotect_ns;
  using Clock = std::chrono::steady_clock;
  uint16_t seq = 0;
  for (int b = 0; b < kBatches; ++b) {
    for (auto& w : wire) util::store_be16(&w[2], seq++);
    auto t0 = Clock::now();
    for (int i = 0; i < kBatch; ++i) protected_len[size_t(i)] = tx.protect_rtp(wire[size_t(i)], len).value_or(0);
    auto t1 = Clock::now();
    for (int i = 0; i < kBatch; ++i) {
      if (!rx.unprotect_rtp(wire[size_t(i)], protected_len[size_t(i)])) ADD_FAILURE() << b << " " << i;
    }
    auto t2 = Clock::now();
    protect_ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / kBatch);
    unprotect_ns.push_back(std::chrono::duration<double, std::nano>(t2 - t1).count() / kBatch);
  }
  return {summarise(protect_ns), summarise(unprotect_ns)};
}

}  // namespace

TEST(SrtpTiming, DISABLED_ProtectSessionVersusLibsrtp) {
  for (Profile p : {Profile::AesCm128HmacSha1_80, Profile::AeadAes128Gcm}) {
    auto ours = time_rtp<Session>(p);
    auto theirs = time_rtp<LibSrtpSession>(p);
    std::printf("%-24s ns/packet best|median  protect: Session %5.0f|%5.0f libsrtp %5.0f|%5.0f"
                "  unprotect: Session %5.0f|%5.0f libsrtp %5.0f|%5.0f\n",
                std::string(to_string(p)).c_str(), ours.first.best, ours.first.median, theirs.first.best,
                theirs.first.median, ours.second.best, ours.second.median, theirs.second.best, theirs.second.median);
  }
}
