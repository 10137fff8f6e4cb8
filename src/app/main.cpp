// Switchboard entry point: configuration, logging, the signaling thread and
// clean shutdown on SIGINT/SIGTERM.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <pthread.h>

#include <csignal>
#include <cstdlib>

#include "app/Config.hpp"
#include "app/MediaEngine.hpp"
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
  http::Server* server_ptr = nullptr;
  signal::Coordinator* coordinator_ptr = nullptr;
  // Replies from the media workers, delivered on this (the signaling) thread.
  app::MediaEngine media(ioc, cfg, [&](std::vector<sfu::SignalOut> batch) {
    for (auto& s : batch) {
      std::visit(
          [&](auto& m) {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, sfu::AnswerOut>) coordinator_ptr->on_media_answer(s.conn, std::move(m.sdp));
            else if constexpr (std::is_same_v<T, sfu::OfferOut>) coordinator_ptr->on_media_offer(s.conn, std::move(m.sdp));
            else if constexpr (std::is_same_v<T, sfu::CandidateOut>)
              coordinator_ptr->on_media_candidate(s.conn, {m.candidate, m.sdp_mid, m.sdp_mline_index, m.username_fragment});
            else if constexpr (std::is_same_v<T, sfu::ErrorOut>)
              coordinator_ptr->on_media_error(s.conn, {m.code, m.message, m.event});
            else coordinator_ptr->on_media_closed(s.conn, m.reason);
          },
          s.message);
    }
    server_ptr->flush();
  });
  signal::Coordinator coordinator(media);
  coordinator_ptr = &coordinator;
  http::Server server(ioc, {cfg.listen_host, cfg.port, cfg.web_root}, coordinator);
  server_ptr = &server;
  if (auto r = media.start(); !r) {
    log->error("{}", r.error());
    return 1;
  }
  server.stats_json_async = [&](bool rooms, std::function<void(std::string)> done) {
    media.collect_stats(rooms, std::move(done));
  };
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
    server.shutdown("server shutting down", [&] {
      media.stop();
      ioc.stop();
    });
  });
  std::signal(SIGPIPE, SIG_IGN);
  ioc.run();
  // A second SIGTERM while we exit must not turn a clean exit into a kill:
  // keep further signals pending until the process is gone.
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &block, nullptr);
  media.stop();
  log->info("stopped");
  return EXIT_SUCCESS;
}
