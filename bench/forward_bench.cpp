// The user-space side of forwarding: what the media worker's own code costs
// per forwarded packet, without the kernel. A WorkerCore with one publisher
// and S receive-only subscribers is connected over the simulated network (real
// ICE, DTLS and SRTP, as in the unit tests). Then the publisher's next RTP
// packets (1100-byte VP8 payloads and Opus-sized audio) are recorded and fed
// straight into WorkerCore::handle_datagram + flush, with the core's timers
// run when due, into a sink that keeps the last 64 datagrams and sends
// nothing. Per publisher packet this is: SRTP unprotect, routing, the shared
// retransmission cache, keyframe detection, and for each subscriber the
// rewrite (SSRC, sequence, timestamp, payload type, extensions) and SRTP
// protect.
//
// Compare `per_forwarded` with floor_bench's BM_Protect (protection alone):
// the difference is everything Switchboard adds in user space. The "cold"
// runs evict the caches between publisher packets (outside the timing), which
// is closer to a worker that shares its core with the kernel's send path.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <vector>

#include "sfu/AllocationCounter.hpp"
#include "sfu/SfuHarness.hpp"

// The harness can count allocations when the test binary interposes malloc;
// this binary does not.
namespace sb::sfu::test::alloc {
bool available() { return false; }
void init() {}
void counted_allocation() {}
}  // namespace sb::sfu::test::alloc

namespace {

using namespace sb;
using namespace sb::sfu::test;

constexpr size_t kRecorded = 4000;  ///< publisher packets per benchmark run

/// Keeps the last 64 datagrams, as the worker's send queue would, and counts.
struct RingSink : util::DatagramSink {
  util::MutableBytes reserve() override { return slots[next]; }
  void commit(const util::SocketAddr&, size_t len) override {
    bytes += len;
    next = (next + 1) % slots.size();
    ++count;
  }
  std::array<std::array<uint8_t, util::kMaxDatagram>, 64> slots{};
  size_t next = 0;
  uint64_t count = 0;
  uint64_t bytes = 0;
};

struct Recorded {
  util::Timestamp at;
  util::Bytes data;
};

/// Touched between two publisher packets in the "cold" runs: more than this
/// machine's per-core L2, as the kernel's work for a batch of sends would.
constexpr size_t kEvictBytes = 8 << 20;

void BM_Forward(benchmark::State& state) {
  const int subscribers = int(state.range(0));
  const auto profile = state.range(1) == 0 ? srtp::Profile::AeadAes128Gcm : srtp::Profile::AesCm128HmacSha1_80;
  const bool cold = state.range(2) != 0;
  Harness h(7);
  Client& pub = h.add_client({.name = "pub", .srtp_profiles = {profile}});
  pub.video_payload_size = 1100;
  pub.video_packets_per_delta = 3;  // about 1 Mbit/s at the harness's 25 frames/s
  pub.video_packets_per_keyframe = 10;
  std::vector<Client*> subs;
  for (int i = 0; i < subscribers; ++i)
    subs.push_back(&h.add_client({.name = "sub" + std::to_string(i), .publish = false, .srtp_profiles = {profile}}));
  h.join(pub);
  for (auto* s : subs) h.join(*s);
  if (!h.connect_all()) {
    state.SkipWithError("participants did not connect");
    return;
  }
  pub.start_media(h.now());
  h.run_for(std::chrono::seconds(2));  // every subscriber has had its keyframe
  for (auto* s : subs) {
    auto video = s->stream_for("pub-video");
    if (!video || s->rtp_from(video->ssrc).empty()) {
      state.SkipWithError("a subscriber receives no video");
      return;
    }
  }
  // Record the publisher's next packets instead of delivering them.
  std::vector<Recorded> packets;
  packets.reserve(kRecorded);
  const auto core_addr = kCoreAddr;
  const auto pub_addr = pub.addr;
  h.net.set_filter([&](const sim::SimDatagram& d) {
    if (d.from == pub_addr && d.to == core_addr && !d.data.empty() && d.data[0] >= 128 && d.data[0] <= 191 &&
        !rtp::is_rtcp(d.data)) {
      if (packets.size() < kRecorded) packets.push_back({d.sent_at, d.data});
      return false;
    }
    return true;
  });
  h.net.run_until([&] { return packets.size() >= kRecorded; }, std::chrono::seconds(120));
  h.net.set_filter(nullptr);
  if (packets.size() < kRecorded) {
    state.SkipWithError("the publisher sent too few packets");
    return;
  }

  RingSink sink;
  std::array<uint8_t, util::kMaxDatagram> buf;
  std::vector<uint8_t> evict(cold ? kEvictBytes : 0);
  size_t i = 0;
  for (auto _ : state) {
    if (cold) {
      // Caches as a real worker finds them after the kernel sent a batch.
      state.PauseTiming();
      for (size_t k = 0; k < evict.size(); k += 64) evict[k] = uint8_t(evict[k] + 1);
      benchmark::ClobberMemory();
      state.ResumeTiming();
    }
    const Recorded& r = packets[i++];
    std::copy(r.data.begin(), r.data.end(), buf.begin());
    if (h.core.poll_timeout() <= r.at) h.core.handle_timeout(r.at, sink);
    h.core.handle_datagram(r.at, pub_addr, {buf.data(), r.data.size()}, sink);
    h.core.flush(r.at, sink);
  }
  state.counters["fanout"] = double(subscribers);
  // Datagrams the core produced in all: every publisher packet to every
  // subscriber, and their RTCP.
  state.counters["datagrams"] = double(sink.count);
  // CPU time per datagram the core produced (forwarded media, plus its RTCP).
  state.counters["per_forwarded"] =
      benchmark::Counter(double(sink.count), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetItemsProcessed(int64_t(sink.count));
}

// Each run replays the kRecorded packets once (SRTP replay protection forbids
// feeding a packet twice).
BENCHMARK(BM_Forward)
    ->ArgsProduct({{1, 20, 200}, {0, 1}, {0, 1}})
    ->ArgNames({"subscribers", "cm", "cold"})
    ->Iterations(kRecorded)
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
