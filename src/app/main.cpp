// Switchboard entry point: configuration, logging, the signaling thread and
// clean shutdown on SIGINT/SIGTERM.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdlib>

#include "app/Config.hpp"
#include "http/Server.hpp"
#include "signal/Coordinator.hpp"
#include "util/Log.hpp"

int main(int argc, char** argv) {
  using namespace sb;
  app::Config cfg;
  if (auto code = app::parse_config(argc, argv, cfg)) return *code;
  util::configure_logging(cfg.log);
  auto log = util::logger("app");

  boost::asio::io_context ioc(1);
  signal::NoMediaBackend media;
  signal::Coordinator coordinator(media);
  http::Server server(ioc, {cfg.listen_host, cfg.port, cfg.web_root}, coordinator);
  server.health_json = [&] {
    return "\"rooms\":" + std::to_string(coordinator.room_count()) +
           ",\"participants\":" + std::to_string(coordinator.participant_count()) +
           ",\"connections\":" + std::to_string(coordinator.connection_count());
  };
  if (auto r = server.start(); !r) {
    log->error("{}", r.error());
    return 1;
  }

  boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    log->info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    server.shutdown("server shutting down", [&] { ioc.stop(); });
  });
  std::signal(SIGPIPE, SIG_IGN);
  ioc.run();
  log->info("stopped");
  return EXIT_SUCCESS;
}
