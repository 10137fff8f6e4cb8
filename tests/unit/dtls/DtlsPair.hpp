#pragma once
// Two dtls::Sessions wired back to back in virtual time, with a hook to drop datagrams.
#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "dtls/Certificate.hpp"
#include "dtls/Session.hpp"

namespace sb::dtls::test {

inline std::shared_ptr<const Certificate> make_cert() {
  auto c = Certificate::generate(std::chrono::system_clock::now());
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error());
  return *c;
}

struct DtlsPair {
  /// Decides per datagram whether it is delivered: (from_client, index of that side's datagram).
  using Filter = std::function<bool(bool from_client, int index, const util::Bytes&)>;

  DtlsPair(SessionConfig client_cfg = {}, SessionConfig server_cfg = {})
      : client_cert(make_cert()),
        server_cert(make_cert()),
        client(client_cert, Role::kClient, server_cert->sha256(), std::move(client_cfg)),
        server(server_cert, Role::kServer, client_cert->sha256(), std::move(server_cfg)) {}

  /// Moves datagrams both ways until nothing is left in flight. Returns how many moved.
  int exchange() {
    int moved = 0;
    for (bool progress = true; progress;) {
      progress = false;
      while (auto d = client.poll_transmit()) {
        progress = true;
        ++moved;
        EXPECT_LE(d->size(), 1200u);
        if (!filter || filter(true, client_sent++, *d)) server.handle_datagram(now, *d);
      }
      while (auto d = server.poll_transmit()) {
        progress = true;
        ++moved;
        EXPECT_LE(d->size(), 1200u);
        if (!filter || filter(false, server_sent++, *d)) client.handle_datagram(now, *d);
      }
    }
    return moved;
  }

  /// Runs the handshake in virtual time, firing timers, for at most `limit`.
  void run(util::Duration limit = std::chrono::seconds(200)) {
    util::Timestamp end = now + limit;
    exchange();
    while (now < end) {
      util::Timestamp next = std::min(client.poll_timeout(), server.poll_timeout());
      if (next == util::kNever || next > end) break;
      now = std::max(now, next);
      client.handle_timeout(now);
      server.handle_timeout(now);
      exchange();
    }
  }

  void start() {
    server.start(now);
    client.start(now);
  }

  static std::vector<Event> events(Session& s) {
    std::vector<Event> out;
    while (auto e = s.poll_event()) out.push_back(std::move(*e));
    return out;
  }

  std::shared_ptr<const Certificate> client_cert;
  std::shared_ptr<const Certificate> server_cert;
  Session client;
  Session server;
  util::Timestamp now{std::chrono::seconds(1000)};
  Filter filter;
  int client_sent = 0;
  int server_sent = 0;
};

}  // namespace sb::dtls::test
