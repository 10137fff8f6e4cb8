#pragma once
// Runs one load test: starts the virtual participants at the ramp rate, drives
// all their sockets and timers from one epoll loop on the calling thread (the
// media thread), prints a progress line every second and returns the summary.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "load/LoadConfig.hpp"
#include "load/Summary.hpp"
#include "util/Result.hpp"

namespace sb::load {

/// "ws://host:port/path" split up; port defaults to 80, path to "/".
struct WsUrl {
  std::string host;
  std::string port;
  std::string target;
};
util::Result<WsUrl> parse_ws_url(const std::string& url);

class LoadGenerator {
 public:
  /// `server_pid` (optional): the server's CPU time during the run goes into the summary.
  explicit LoadGenerator(LoadConfig config, std::optional<int> server_pid = std::nullopt);
  ~LoadGenerator();

  /// Blocks for the whole run. Fails only when the run cannot start at all.
  util::Result<Summary> run();
  /// Ends a running run early (publishers stop, the summary follows). Safe in a
  /// signal handler.
  static void interrupt();

 private:
  struct State;
  LoadConfig config_;
  std::optional<int> server_pid_;
};

}  // namespace sb::load
