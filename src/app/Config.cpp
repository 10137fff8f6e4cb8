#include "app/Config.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

namespace sb::app {

std::optional<int> parse_config(int argc, char** argv, Config& cfg) {
  CLI::App app{
      "Switchboard: a WebRTC Selective Forwarding Unit.\n"
      "Serves the web client and the signaling WebSocket on one HTTP port and\n"
      "forwards media over UDP. Every flag can also be set by the environment\n"
      "variable shown in brackets.",
      "switchboard"};
  app.option_defaults()->always_capture_default();
  std::string log_level = "info";
  std::string log_format = "text";
  std::string web_root;
  app.add_option("--listen", cfg.listen_host, "Address for HTTP and WebSocket (:: = every interface)")
      ->envname("SWITCHBOARD_LISTEN");
  app.add_option("-p,--port", cfg.port, "TCP port for HTTP and WebSocket")->envname("SWITCHBOARD_PORT");
  app.add_option("--announce", cfg.announce,
                 "IP address announced in ICE candidates (repeatable, or comma-separated). "
                 "Default: every local interface address, loopback included")
      ->envname("SWITCHBOARD_ANNOUNCE")
      ->delimiter(',');
  app.add_option("--udp-port", cfg.udp_port,
                 "First UDP media port; media worker i uses this + i. 0 picks free ports")
      ->envname("SWITCHBOARD_UDP_PORT");
  app.add_option("--workers", cfg.workers, "Media worker threads (0 = one per core)")
      ->envname("SWITCHBOARD_WORKERS");
  std::string gso = "on";
  app.add_option("--udp-gso", gso,
                 "Send a subscriber's copies of a video frame as one UDP GSO send (UDP_SEGMENT): on or off")
      ->envname("SWITCHBOARD_UDP_GSO")
      ->check(CLI::IsMember({"on", "off"}));
  std::string defer_reports = "on";
  app.add_option("--defer-reports", defer_reports,
                 "Read periodic RTCP reports (SR, RR) only when media or a timer wakes a worker, at most 100 ms "
                 "later, instead of waking for each: on or off")
      ->envname("SWITCHBOARD_DEFER_REPORTS")
      ->check(CLI::IsMember({"on", "off"}));
  app.add_option("--web-root", web_root, "Directory of the web client")
      ->envname("SWITCHBOARD_WEB_ROOT")
      ->default_str(SB_SOURCE_WEB_ROOT);
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->envname("SWITCHBOARD_LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.add_option("--log-format", log_format, "text or json (one object per line)")
      ->envname("SWITCHBOARD_LOG_FORMAT")
      ->check(CLI::IsMember({"text", "json"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  util::parse_log_level(log_level, cfg.log.level);
  cfg.log.json = log_format == "json";
  cfg.udp_gso = gso == "on";
  cfg.defer_reports = defer_reports == "on";
  cfg.web_root = web_root.empty() ? std::filesystem::path(SB_SOURCE_WEB_ROOT) : std::filesystem::path(web_root);
  return std::nullopt;
}

}  // namespace sb::app
