// DESIGN.md principle 4: the packet path allocates nothing in steady state.
// One publisher, five subscribers, 1000 forwarded packets after warm-up: the
// core's handle_datagram() for RTP, and flush(), must not touch the heap.
//
// Counting interposes malloc/calloc/realloc for this binary (glibc exports the
// real ones as __libc_*), so operator new, libsrtp and OpenSSL are all seen.
// It is off unless a test turns it on for the current thread.
#include <gtest/gtest.h>

#include <execinfo.h>
#include <link.h>

#include <cstdlib>
#include <cstring>

#include "sfu/SfuHarness.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SB_ALLOC_INTERPOSE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define SB_ALLOC_INTERPOSE 0
#endif
#endif
#ifndef SB_ALLOC_INTERPOSE
#define SB_ALLOC_INTERPOSE 1
#endif

namespace sb::sfu::test::alloc {

bool available() { return SB_ALLOC_INTERPOSE != 0; }

__attribute__((noinline)) void counted_allocation() { asm volatile(""); }

namespace {
/// Executable segments of libsrtp2, found once by init().
struct Range {
  uintptr_t lo = 0, hi = 0;
};
Range g_srtp[4];
int g_srtp_count = 0;

int find_srtp(dl_phdr_info* info, size_t, void*) {
  if (info->dlpi_name == nullptr || std::strstr(info->dlpi_name, "libsrtp2") == nullptr) return 0;
  for (int i = 0; i < info->dlpi_phnum && g_srtp_count < 4; ++i) {
    const auto& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X)) continue;
    uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
    g_srtp[g_srtp_count++] = {lo, lo + ph.p_memsz};
  }
  return 0;
}

bool in_srtp(void* pc) {
  auto a = reinterpret_cast<uintptr_t>(pc);
  for (int i = 0; i < g_srtp_count; ++i)
    if (a >= g_srtp[i].lo && a < g_srtp[i].hi) return true;
  return false;
}
}  // namespace

void init() {
  if (g_srtp_count == 0) dl_iterate_phdr(find_srtp, nullptr);
  void* frames[4];
  (void)backtrace(frames, 4);  // loads the unwinder now, not inside malloc
}

}  // namespace sb::sfu::test::alloc

#if SB_ALLOC_INTERPOSE
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);

static void note_allocation() {
  namespace a = sb::sfu::test::alloc;
  if (!a::counting) return;
  a::counting = false;  // unwinding may allocate
  void* frames[64];
  int n = backtrace(frames, 64);
  bool srtp = false;
  for (int i = 0; i < n && !srtp; ++i) srtp = a::in_srtp(frames[i]);
  if (srtp) {
    ++a::count.srtp;
  } else {
    ++a::count.ours;
    a::counted_allocation();
  }
  a::counting = true;
}

void* malloc(size_t n) {
  note_allocation();
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t size) {
  note_allocation();
  return __libc_calloc(n, size);
}
void* realloc(void* p, size_t n) {
  note_allocation();
  return __libc_realloc(p, n);
}
}
#endif

namespace sb::sfu::test {
namespace {

TEST(AllocationCounter, SeesOperatorNewAndMalloc) {
  if (!alloc::available()) GTEST_SKIP() << "sanitizer build: malloc belongs to the sanitizer runtime";
  alloc::init();
  alloc::Totals n;
  {
    alloc::Counter c(n);
    auto p = std::make_unique<std::array<char, 100>>();
    void* q = std::malloc(10);
    asm volatile("" : : "r"(p.get()), "r"(q) : "memory");  // keep both allocations
    std::free(q);
    {
      alloc::Pause pause;
      auto not_counted = std::make_unique<int>(1);
      asm volatile("" : : "r"(not_counted.get()) : "memory");
    }
  }
  EXPECT_EQ(n.ours, 2u);
  EXPECT_EQ(n.srtp, 0u);
}

struct SteadyState {
  Harness::Allocations allocations;
  size_t forwarded = 0;  ///< packets one subscriber received while measuring
};

/// One publisher (audio + video), five receive-only subscribers; measures the
/// core while the publisher sends 1000 packets after a warm-up.
SteadyState measure(std::vector<srtp::Profile> profiles) {
  SteadyState out;
  alloc::init();
  Harness h(11);
  Client& pub = h.add_client({.name = "pub", .srtp_profiles = profiles});
  std::vector<Client*> subs;
  for (int i = 0; i < 5; ++i)
    subs.push_back(&h.add_client({.name = "sub" + std::to_string(i), .publish = false, .srtp_profiles = profiles}));
  h.join(pub);
  for (auto* s : subs) h.join(*s);
  EXPECT_TRUE(h.connect_all());
  pub.start_media(h.now());
  // Warm-up: every SSRC seen once by SRTP, every route learnt, reports, NACK
  // timers and TWCC feedback run a few times.
  h.run_for(3s);
  for (auto* s : subs) {
    auto video = s->stream_for("pub-video");
    EXPECT_TRUE(video.has_value());
    if (video) {
      EXPECT_FALSE(s->rtp_from(video->ssrc).empty()) << s->spec.name;
    }
  }
  size_t sent_before = pub.sent.size();
  size_t received_before = subs[0]->rtp.size();
  h.allocations = {};
  h.measure_allocations = true;
  h.net.run_until([&] { return pub.sent.size() - sent_before >= 1000; }, 60s);
  h.run_for(50ms);  // the last packets reach the core and the subscribers
  h.measure_allocations = false;
  out.allocations = h.allocations;
  out.forwarded = subs[0]->rtp.size() - received_before;
  return out;
}

void print(const char* name, const SteadyState& r) {
  const auto& a = r.allocations;
  auto per = [&](const alloc::Totals& t) { return double(t.srtp) / double(std::max<uint64_t>(a.rtp_calls, 1)); };
  std::printf("[%s] %llu RTP packets in, %zu forwarded to one subscriber\n"
              "  ours : rtp %llu rtcp %llu stun %llu flush %llu timeout %llu\n"
              "  srtp : rtp %llu (%.1f per packet in) rtcp %llu stun %llu flush %llu timeout %llu\n",
              name, (unsigned long long)a.rtp_calls, r.forwarded, (unsigned long long)a.rtp.ours,
              (unsigned long long)a.rtcp.ours, (unsigned long long)a.stun.ours, (unsigned long long)a.flush.ours,
              (unsigned long long)a.timeout.ours, (unsigned long long)a.rtp.srtp, per(a.rtp),
              (unsigned long long)a.rtcp.srtp, (unsigned long long)a.stun.srtp, (unsigned long long)a.flush.srtp,
              (unsigned long long)a.timeout.srtp);
}

void expect_no_allocations_of_ours(const SteadyState& r) {
  const auto& a = r.allocations;
  EXPECT_GE(a.rtp_calls, 1000u);
  EXPECT_GE(r.forwarded, 990u);
  // The packet path proper: RTP in, fan-out to five subscribers, flush.
  EXPECT_EQ(a.rtp.ours, 0u) << "allocations in handle_datagram(RTP) over " << a.rtp_calls << " packets";
  EXPECT_EQ(a.flush.ours, 0u) << "allocations in flush()";
  // Steady state but not per packet: the publisher's SRs, and the timers
  // (RR/SR, NACK rounds, TWCC feedback).
  EXPECT_EQ(a.rtcp.ours, 0u) << "allocations in handle_datagram(RTCP)";
  EXPECT_EQ(a.timeout.ours, 0u) << "allocations in handle_timeout()";
  // SRTP runs on OpenSSL EVP with contexts kept per session: nothing inside
  // libsrtp2 is on the path any more, so the whole packet path allocates nothing.
  EXPECT_EQ(a.rtp.srtp + a.rtcp.srtp + a.flush.srtp + a.timeout.srtp, 0u);
}

TEST(Allocation, SteadyStateForwardingAllocatesNothingAesGcm) {
  if (!alloc::available()) GTEST_SKIP() << "sanitizer build: malloc belongs to the sanitizer runtime";
  auto r = measure({srtp::Profile::AeadAes128Gcm});
  print("AEAD_AES_128_GCM", r);
  expect_no_allocations_of_ours(r);
}

TEST(Allocation, SteadyStateForwardingAllocatesNothingAesCm) {
  if (!alloc::available()) GTEST_SKIP() << "sanitizer build: malloc belongs to the sanitizer runtime";
  auto r = measure({srtp::Profile::AesCm128HmacSha1_80});
  print("AES_CM_128_HMAC_SHA1_80", r);
  expect_no_allocations_of_ours(r);
}

}  // namespace
}  // namespace sb::sfu::test
