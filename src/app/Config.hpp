#pragma once
// Server configuration: command-line flags with SWITCHBOARD_* environment
// variables as fallbacks. No file is needed to run on one machine.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "util/Log.hpp"

namespace sb::app {

struct Config {
  std::string listen_host = "::";  ///< every interface (dual stack; IPv4-only fallback)
  uint16_t port = 8080;
  /// Addresses announced in ICE candidates; empty = every local interface address.
  std::vector<std::string> announce;
  /// First UDP media port; worker i binds udp_port + i. 0 = ephemeral ports.
  uint16_t udp_port = 40000;
  unsigned workers = 0;  ///< media worker threads; 0 = one per core
  /// Send runs of datagrams to one destination as one UDP GSO send (Linux
  /// UDP_SEGMENT). Off: one datagram per sendmmsg entry.
  bool udp_gso = true;
  /// Periodic RTCP reports go to a second socket per worker that is read only
  /// when something else wakes the worker (at most kReportBound later).
  bool defer_reports = true;
  std::filesystem::path web_root;
  util::LogConfig log;
};

/// Parses argv (and the environment). Returns the exit code to use when the
/// program should stop now (--help, bad flags), or nullopt to run.
std::optional<int> parse_config(int argc, char** argv, Config& out);

}  // namespace sb::app
