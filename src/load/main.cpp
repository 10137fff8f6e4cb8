// switchboard-load: drives a Switchboard server with many virtual WebRTC
// participants (see bench/README.md).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "load/LoadGenerator.hpp"
#include "util/Log.hpp"

namespace {

/// Every packet goes to a different participant, whose state (ours, its
/// transport's, OpenSSL's) lies scattered over the heap: on 4 KiB pages that is
/// a TLB miss per object and packet (a page walk, dearer still in a virtual
/// machine), about a tenth of the media thread at 1000 subscribers. glibc backs
/// its heap with transparent huge pages when GLIBC_TUNABLES asks for it
/// (glibc.malloc.hugetlb=1, glibc 2.35+), which it reads before main(): so the
/// process starts itself again, once, with that set. A GLIBC_TUNABLES that
/// already mentions it is left alone (glibc.malloc.hugetlb=0 opts out), and so
/// is a run under Valgrind, which would not follow the exec (it preloads its
/// vgpreload_*.so; debuggers, perf and LD_PRELOAD tools carry on through it).
void restart_with_huge_pages(char** argv) {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::strstr(tunables, "glibc.malloc.hugetlb") != nullptr) return;
  const char* preload = std::getenv("LD_PRELOAD");
  if (preload != nullptr && std::strstr(preload, "vgpreload") != nullptr) return;
  std::string value = "glibc.malloc.hugetlb=1";
  if (tunables != nullptr && *tunables != '\0') value = std::string(tunables) + ":" + value;
  // The binary's own path, not /proc/self/exe: the process keeps its name.
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return;
  self[n] = '\0';
  if (::setenv("GLIBC_TUNABLES", value.c_str(), 1) != 0) return;
  ::execv(self, argv);
  // Could not: go on with ordinary pages.
}

}  // namespace

int main(int argc, char** argv) {
  restart_with_huge_pages(argv);
  sb::load::LoadConfig cfg;
  CLI::App app{"switchboard-load: virtual publishers and subscribers against a Switchboard (or Janus) server"};
  std::string profile = "both";
  std::string log_level = "warn";
  bool json = false, quiet = false;
  int server_pid = 0;
  std::string host;
  int port = 0;
  std::string target = "switchboard";
  app.add_option("--target", target, "server kind: switchboard, or janus (VideoRoom over the Janus WebSocket API)")
      ->capture_default_str()->check(CLI::IsMember({"switchboard", "janus"}));
  app.add_option("--url", cfg.url, "signaling WebSocket URL")->capture_default_str();
  app.add_option("--host", host, "server host (with --port, instead of --url)");
  app.add_option("--port", port, "server HTTP/WebSocket port (with --host, instead of --url)")->check(CLI::Range(1, 65535));
  app.add_option("--rooms", cfg.rooms, "rooms")->capture_default_str()->check(CLI::Range(1, 100000));
  app.add_option("--publishers", cfg.publishers, "publishers per room")->capture_default_str()->check(CLI::Range(0, 10000));
  app.add_option("--subscribers", cfg.subscribers, "subscribers per room")->capture_default_str()->check(CLI::Range(0, 100000));
  app.add_option("--duration", cfg.duration_s, "seconds of media after the last participant started")
      ->capture_default_str()->check(CLI::Range(0.0, 86400.0));
  app.add_option("--warmup", cfg.warmup_s, "seconds after the last start before the steady window may begin")
      ->capture_default_str()->check(CLI::Range(0.0, 3600.0));
  app.add_option("--bitrate", cfg.video_bitrate, "video bits per second per publisher")
      ->capture_default_str()->check(CLI::Range(8'000u, 100'000'000u));
  app.add_option("--fps", cfg.fps, "video frames per second")->capture_default_str()->check(CLI::Range(1, 240));
  app.add_flag("--audio", cfg.audio, "publishers also send 20 ms Opus-sized audio packets");
  app.add_option("--keyframe-interval", cfg.keyframe_interval_s, "seconds between periodic keyframes (0: only on PLI/FIR)")
      ->capture_default_str()->check(CLI::Range(0.0, 3600.0));
  app.add_option("--srtp-profile", profile, "SRTP profiles offered in DTLS: gcm, cm or both")
      ->capture_default_str()->check(CLI::IsMember({"gcm", "cm", "both"}));
  app.add_option("--ramp", cfg.ramp_per_s, "participants started per second")->capture_default_str()
      ->check(CLI::Range(0.01, 100000.0));
  app.add_option("--subscriber-delay", cfg.subscriber_delay_s, "seconds subscribers start after publishers")
      ->capture_default_str()->check(CLI::Range(0.0, 3600.0));
  app.add_option("--bind", cfg.bind_ip, "local IP for the participants' UDP sockets (default: from the URL host)");
  std::string sockets = "auto";
  app.add_option("--sockets", sockets,
                 "per-peer: a UDP socket per participant; shared: participant i uses --bind address + i "
                 "(each must be local), all through a few sockets; auto: shared on IPv4 loopback, else per-peer")
      ->capture_default_str()->check(CLI::IsMember({"auto", "per-peer", "shared"}));
  app.add_option("--connect-timeout", cfg.connect_timeout_s, "seconds from start to a connected transport")
      ->capture_default_str();
  app.add_option("--rx-moderation", cfg.rx_moderation_us,
                 "µs between reads of the sockets while datagrams keep arriving (0: wake on each)")
      ->capture_default_str()
      ->check(CLI::Range(0, 10000));
  app.add_option("--server-pid", server_pid, "report this process's CPU time over the run (the server's)");
  app.add_option("--server-stats", cfg.server_stats_url,
                 "Switchboard's stats URL (http://host:port/stats): report the time packets spent in the server "
                 "over the steady window, from its own histogram");
  bool no_twcc = false;
  app.add_flag("--no-twcc", no_twcc, "receivers send no transport-wide CC feedback (RR and NACK only)");
  app.add_option("--rr-interval", cfg.receiver_report_interval_s,
                 "seconds between a receiver's RTCP receiver reports (browsers: about 1)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_flag("--json", json, "print the summary as one JSON object on stdout");
  app.add_flag("-q,--quiet", quiet, "no progress line on stderr");
  app.add_option("--log-level", log_level, "trace … off")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  sb::util::LogConfig log;
  if (!sb::util::parse_log_level(log_level, log.level)) {
    std::cerr << "unknown log level " << log_level << "\n";
    return 2;
  }
  sb::util::configure_logging(log);
  cfg.progress = !quiet;
  cfg.twcc_feedback = !no_twcc;
  if (target == "janus") cfg.target = sb::load::Target::kJanus;
  if (sockets == "per-peer") cfg.sockets = sb::load::SocketMode::kPerPeer;
  else if (sockets == "shared") cfg.sockets = sb::load::SocketMode::kShared;
  if (port != 0) {
    if (host.empty()) host = "127.0.0.1";
    if (host.find(':') != std::string::npos) host = "[" + host + "]";  // an IPv6 literal
    cfg.url = "ws://" + host + ":" + std::to_string(port) + "/";
  }
  using sb::srtp::Profile;
  if (profile == "gcm") cfg.srtp_profiles = {Profile::AeadAes128Gcm};
  else if (profile == "cm") cfg.srtp_profiles = {Profile::AesCm128HmacSha1_80};

  // Ctrl-C ends the run early and still prints the summary.
  std::signal(SIGINT, [](int) { sb::load::LoadGenerator::interrupt(); });
  std::signal(SIGTERM, [](int) { sb::load::LoadGenerator::interrupt(); });
  sb::load::LoadGenerator gen(cfg, server_pid > 0 ? std::optional<int>(server_pid) : std::nullopt);
  auto summary = gen.run();
  if (!summary) {
    std::cerr << "switchboard-load: " << summary.error() << "\n";
    return 2;
  }
  if (json) std::cout << summary->to_json() << std::endl;
  else std::cout << summary->to_text() << std::flush;
  // Non-zero when something went wrong, so scripts can tell.
  bool ok = summary->errors == 0 && summary->connected == summary->publishers + summary->subscribers;
  return ok ? 0 : 1;
}
