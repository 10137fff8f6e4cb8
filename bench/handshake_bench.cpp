// What a join costs the media worker: the server side of one DTLS-SRTP
// handshake (RFC 5764), which runs on the worker thread between the media of
// everyone else it hosts. Client and server sessions are wired back to back in
// memory; only the server's calls are timed, on the thread's CPU clock, so the
// figure is what the worker spends (ECDHE key generation and an ECDSA
// signature for its flight, an ECDSA verification and the key derivation for
// the client's). Reported: CPU per handshake (the mean as the time, the median
// as `server_cpu_p50`), and the longest single call per handshake, which is
// how long the worker's other media waits at once.
#include <benchmark/benchmark.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <vector>

#include "dtls/Certificate.hpp"
#include "dtls/Session.hpp"

namespace {

using namespace sb;

double thread_cpu_s() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

void BM_DtlsServerHandshake(benchmark::State& state) {
  auto client_cert = dtls::Certificate::generate(std::chrono::system_clock::now());
  auto server_cert = dtls::Certificate::generate(std::chrono::system_clock::now());
  if (!client_cert.ok() || !server_cert.ok()) {
    state.SkipWithError("certificate generation failed");
    return;
  }
  std::vector<double> longest, total;
  util::Timestamp now{std::chrono::seconds(1000)};
  for (auto _ : state) {
    double server_cpu = 0, longest_call = 0;
    // Times one server call and keeps its share.
    auto timed = [&](auto&& call) {
      const double t0 = thread_cpu_s();
      call();
      const double dt = thread_cpu_s() - t0;
      server_cpu += dt;
      longest_call = std::max(longest_call, dt);
    };
    std::optional<dtls::Session> server;
    timed([&] { server.emplace(*server_cert, dtls::Role::kServer, (*client_cert)->sha256()); });
    dtls::Session client(*client_cert, dtls::Role::kClient, (*server_cert)->sha256());
    timed([&] { server->start(now); });
    client.start(now);
    for (bool progress = true; progress;) {
      progress = false;
      while (auto d = client.poll_transmit()) {
        progress = true;
        timed([&] { server->handle_datagram(now, *d); });
      }
      for (;;) {
        std::optional<util::Bytes> d;
        timed([&] { d = server->poll_transmit(); });
        if (!d) break;
        progress = true;
        client.handle_datagram(now, *d);
      }
    }
    if (server->state() != dtls::Session::State::kConnected) {
      state.SkipWithError("the handshake did not complete");
      return;
    }
    state.SetIterationTime(server_cpu);
    longest.push_back(longest_call);
    total.push_back(server_cpu);
    now += std::chrono::seconds(1);
  }
  if (longest.empty()) return;
  std::sort(longest.begin(), longest.end());
  std::sort(total.begin(), total.end());
  // Seconds ("400u" is 400 µs).
  state.counters["server_cpu_p50"] = total[total.size() / 2];
  state.counters["longest_call_p50"] = longest[longest.size() / 2];
  state.counters["longest_call_max"] = longest.back();
}

}  // namespace

BENCHMARK(BM_DtlsServerHandshake)->UseManualTime()->Unit(benchmark::kMicrosecond)->Iterations(200);

BENCHMARK_MAIN();
