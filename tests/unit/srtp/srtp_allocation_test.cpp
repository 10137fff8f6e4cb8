// The packet path allocates nothing (DESIGN.md principle 4): after warm-up, 10,000
// protect + unprotect calls per profile, RTP and RTCP, touch the heap zero times;
// rejected packets (forged, replayed) neither.
//
// Counting interposes malloc/calloc/realloc for this test binary (glibc exports the
// real ones as __libc_*), so operator new and OpenSSL are both seen. It is off unless
// a test turns it on for the current thread.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "srtp/LibSrtpSession.hpp"
#include "srtp/Session.hpp"
#include "srtp/SrtpTestPackets.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SB_SRTP_ALLOC_INTERPOSE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define SB_SRTP_ALLOC_INTERPOSE 0
#endif
#endif
#ifndef SB_SRTP_ALLOC_INTERPOSE
#define SB_SRTP_ALLOC_INTERPOSE 1
#endif

namespace {
thread_local bool g_counting = false;
thread_local uint64_t g_allocations = 0;

/// Counts allocations made by this thread during its lifetime.
class AllocationCount {
 public:
  AllocationCount() : start_(g_allocations) { g_counting = true; }
  ~AllocationCount() { g_counting = false; }
  uint64_t so_far() const { return g_allocations - start_; }

 private:
  uint64_t start_;
};
}  // namespace

#if SB_SRTP_ALLOC_INTERPOSE
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* malloc(size_t n) {
  if (g_counting) ++g_allocations;
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t size) {
  if (g_counting) ++g_allocations;
  return __libc_calloc(n, size);
}
void* realloc(void* p, size_t n) {
  if (g_counting) ++g_allocations;
  return __libc_realloc(p, n);
}
}
#endif

using namespace sb;
using namespace sb::srtp;
using namespace sb::srtp::test;

namespace {

constexpr int kCalls = 10000;

struct Counts {
  uint64_t rtp = 0;
  uint64_t rtcp = 0;
  uint64_t rejected = 0;
};

/// Protects with `tx` and unprotects with `rx`, RTP and RTCP, over 4 SSRCs; counts
/// allocations after a warm-up that creates the streams.
template <typename S>
Counts count_allocations(Profile p) {
  S tx(p, make_keys(p, 1), make_keys(p, 2));
  S rx(p, make_keys(p, 2), make_keys(p, 1));
  // Buffers are prepared outside the counted region; each call works in place.
  util::Bytes rtp_buf = make_rtp({.payload = 1100});
  util::Bytes rtcp_buf = make_rtcp(0);
  const util::Bytes rtp_plain = rtp_buf, rtcp_plain = rtcp_buf;
  uint16_t seq = 65000;  // runs through the wrap
  auto rtp_round = [&](uint32_t ssrc) {
    std::copy(rtp_plain.begin(), rtp_plain.end(), rtp_buf.begin());
    util::store_be16(&rtp_buf[2], seq++);
    util::store_be32(&rtp_buf[8], ssrc);
    auto n = tx.protect_rtp(rtp_buf, rtp_size({.payload = 1100}));
    return n && rx.unprotect_rtp(rtp_buf, *n);
  };
  auto rtcp_round = [&](uint32_t ssrc) {
    std::copy(rtcp_plain.begin(), rtcp_plain.end(), rtcp_buf.begin());
    util::store_be32(&rtcp_buf[4], ssrc);
    auto n = tx.protect_rtcp(rtcp_buf, kRtcpSize);
    return n && rx.unprotect_rtcp(rtcp_buf, *n);
  };
  for (uint32_t ssrc = 1; ssrc <= 4; ++ssrc) {
    EXPECT_TRUE(rtp_round(ssrc));
    EXPECT_TRUE(rtcp_round(ssrc));
  }
  Counts c;
  {
    AllocationCount count;
    for (int i = 0; i < kCalls; ++i) {
      if (!rtp_round(1 + uint32_t(i % 4))) ADD_FAILURE() << "rtp " << i;
    }
    c.rtp = count.so_far();
  }
  {
    AllocationCount count;
    for (int i = 0; i < kCalls; ++i) {
      if (!rtcp_round(1 + uint32_t(i % 4))) ADD_FAILURE() << "rtcp " << i;
    }
    c.rtcp = count.so_far();
  }
  // Forged and replayed packets.
  std::copy(rtp_plain.begin(), rtp_plain.end(), rtp_buf.begin());
  util::store_be16(&rtp_buf[2], seq++);
  util::store_be32(&rtp_buf[8], 1);
  size_t n = tx.protect_rtp(rtp_buf, rtp_size({.payload = 1100})).value_or(0);
  util::Bytes good = rtp_buf, forged = rtp_buf;
  forged[100] ^= 1;
  EXPECT_TRUE(rx.unprotect_rtp(good, n));
  util::Bytes work = good;
  {
    AllocationCount count;
    for (int i = 0; i < 1000; ++i) {
      std::copy(good.begin(), good.end(), work.begin());
      if (rx.unprotect_rtp(work, n)) ADD_FAILURE() << "replay accepted";
      std::copy(forged.begin(), forged.end(), work.begin());
      util::store_be16(&work[2], uint16_t(seq + i));  // fresh index, so it reaches the tag check
      if (rx.unprotect_rtp(work, n)) ADD_FAILURE() << "forgery accepted";
      util::store_be32(&work[8], 0x99990000u + uint32_t(i));  // unknown SSRC: no stream made
      if (rx.unprotect_rtp(work, n)) ADD_FAILURE() << "forgery accepted";
    }
    c.rejected = count.so_far();
  }
  EXPECT_EQ(rx.inbound_streams(), 4u);
  return c;
}

class SrtpAllocation : public ::testing::TestWithParam<Profile> {};

}  // namespace

TEST(SrtpAllocationCounter, SeesMallocAndNew) {
  if (!SB_SRTP_ALLOC_INTERPOSE) GTEST_SKIP() << "sanitizer build: malloc belongs to the sanitizer runtime";
  AllocationCount count;
  auto p = std::make_unique<std::array<char, 100>>();
  void* q = std::malloc(10);
  asm volatile("" : : "r"(p.get()), "r"(q) : "memory");
  std::free(q);
  EXPECT_EQ(count.so_far(), 2u);
}

TEST_P(SrtpAllocation, PacketPathDoesNotAllocate) {
  if (!SB_SRTP_ALLOC_INTERPOSE) GTEST_SKIP() << "sanitizer build: malloc belongs to the sanitizer runtime";
  Counts ours = count_allocations<Session>(GetParam());
  EXPECT_EQ(ours.rtp, 0u);
  EXPECT_EQ(ours.rtcp, 0u);
  EXPECT_EQ(ours.rejected, 0u);
  // For the record: the libsrtp-based implementation (NSS backend on Debian).
  Counts theirs = count_allocations<LibSrtpSession>(GetParam());
  std::printf("  %s allocations per %d calls: Session rtp %llu rtcp %llu | LibSrtpSession rtp %llu rtcp %llu\n",
              std::string(to_string(GetParam())).c_str(), kCalls, (unsigned long long)ours.rtp,
              (unsigned long long)ours.rtcp, (unsigned long long)theirs.rtp, (unsigned long long)theirs.rtcp);
}

INSTANTIATE_TEST_SUITE_P(Profiles, SrtpAllocation,
                         ::testing::Values(Profile::AesCm128HmacSha1_80, Profile::AeadAes128Gcm),
                         [](const auto& param_info) {
                           return param_info.param == Profile::AeadAes128Gcm ? std::string("Gcm") : std::string("CmSha1");
                         });
