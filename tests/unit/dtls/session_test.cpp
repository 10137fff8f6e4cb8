#include <gtest/gtest.h>

#include "dtls/DtlsPair.hpp"
#include "util/Random.hpp"

using namespace sb;
using namespace sb::dtls;
using namespace std::chrono_literals;
using sb::dtls::test::DtlsPair;

namespace {

const Connected* connected(const std::vector<Event>& events) {
  for (const Event& e : events) {
    if (auto* c = std::get_if<Connected>(&e)) return c;
  }
  return nullptr;
}

const Failed* failed(const std::vector<Event>& events) {
  for (const Event& e : events) {
    if (auto* f = std::get_if<Failed>(&e)) return f;
  }
  return nullptr;
}

void expect_mirrored(const Connected& client, const Connected& server, srtp::Profile profile) {
  EXPECT_EQ(client.profile, profile);
  EXPECT_EQ(server.profile, profile);
  EXPECT_EQ(client.local, server.remote);
  EXPECT_EQ(client.remote, server.local);
  EXPECT_NE(client.local, client.remote);
  EXPECT_TRUE(srtp::keys_fit(profile, client.local));
  EXPECT_TRUE(srtp::keys_fit(profile, client.remote));
}

/// The client closes; its close_notify ends the server's session, once.
void expect_close_reaches_the_server(DtlsPair& p) {
  p.client.close(p.now);
  EXPECT_EQ(p.client.state(), Session::State::kClosed);
  p.exchange();
  EXPECT_EQ(p.server.state(), Session::State::kClosed);
  auto se = DtlsPair::events(p.server);
  ASSERT_EQ(se.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<Closed>(se[0]));
}

}  // namespace

TEST(DtlsSession, HandshakeServerStartedFirst) {
  DtlsPair p;
  p.server.start(p.now);
  p.client.start(p.now);
  p.run();
  ASSERT_EQ(p.client.state(), Session::State::kConnected);
  ASSERT_EQ(p.server.state(), Session::State::kConnected);
  auto ce = DtlsPair::events(p.client);
  auto se = DtlsPair::events(p.server);
  ASSERT_TRUE(connected(ce) && connected(se));
  expect_mirrored(*connected(ce), *connected(se), srtp::Profile::AeadAes128Gcm);
  EXPECT_EQ(p.client.poll_timeout(), util::kNever);
  EXPECT_EQ(p.server.poll_timeout(), util::kNever);
  EXPECT_EQ(p.client.stats().retransmitted_flights, 0u);
  EXPECT_EQ(p.server.stats().retransmitted_flights, 0u);
}

TEST(DtlsSession, HandshakeClientStartedFirstServerNeverStarted) {
  DtlsPair p;
  p.client.start(p.now);
  p.run();  // the server answers a ClientHello without start()
  ASSERT_EQ(p.client.state(), Session::State::kConnected);
  ASSERT_EQ(p.server.state(), Session::State::kConnected);
  auto ce = DtlsPair::events(p.client);
  auto se = DtlsPair::events(p.server);
  ASSERT_TRUE(connected(ce) && connected(se));
  expect_mirrored(*connected(ce), *connected(se), srtp::Profile::AeadAes128Gcm);
}

TEST(DtlsSession, ClientOfferingOnlyCmGetsCm) {
  SessionConfig cm;
  cm.srtp_profiles = {srtp::Profile::AesCm128HmacSha1_80};
  DtlsPair p(cm, {});
  p.start();
  p.run();
  auto ce = DtlsPair::events(p.client);
  auto se = DtlsPair::events(p.server);
  ASSERT_TRUE(connected(ce) && connected(se));
  expect_mirrored(*connected(ce), *connected(se), srtp::Profile::AesCm128HmacSha1_80);
  EXPECT_EQ(connected(ce)->local.salt.size(), 14u);
}

TEST(DtlsSession, ServerPrefersGcmWhateverTheClientOrder) {
  SessionConfig client_cfg;
  client_cfg.srtp_profiles = {srtp::Profile::AesCm128HmacSha1_80, srtp::Profile::AeadAes128Gcm};
  DtlsPair p(client_cfg, {});
  p.start();
  p.run();
  auto ce = DtlsPair::events(p.client);
  ASSERT_TRUE(connected(ce));
  EXPECT_EQ(connected(ce)->profile, srtp::Profile::AeadAes128Gcm);
  EXPECT_EQ(connected(ce)->local.salt.size(), 12u);
  EXPECT_EQ(p.server.srtp_profile(), srtp::Profile::AeadAes128Gcm);
}

TEST(DtlsSession, NoCommonProfileFails) {
  SessionConfig gcm, cm;
  gcm.srtp_profiles = {srtp::Profile::AeadAes128Gcm};
  cm.srtp_profiles = {srtp::Profile::AesCm128HmacSha1_80};
  DtlsPair p(gcm, cm);
  p.start();
  p.run();
  // The server decides (RFC 5764 §4.1.1) and withholds its final flight; the client
  // never connects and gives up when its retransmissions run out.
  EXPECT_EQ(p.server.state(), Session::State::kFailed);
  auto events = DtlsPair::events(p.server);
  auto f = failed(events);
  ASSERT_TRUE(f);
  EXPECT_NE(f->reason.find("SRTP"), std::string::npos) << f->reason;
  EXPECT_EQ(p.client.state(), Session::State::kFailed);
}

TEST(DtlsSession, FingerprintMismatchFailsOnTheCheckingClient) {
  DtlsPair p;
  auto other = test::make_cert();
  p.client.set_remote_fingerprint(other->sha256());
  p.start();
  p.run();
  EXPECT_EQ(p.client.state(), Session::State::kFailed);
  auto events = DtlsPair::events(p.client);
  auto f = failed(events);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->reason, "DTLS fingerprint mismatch: expected " + other->fingerprint() + ", got " +
                           p.server_cert->fingerprint());
  // The client's alert stops the server too.
  EXPECT_EQ(p.server.state(), Session::State::kFailed);
  auto server_events = DtlsPair::events(p.server);
  EXPECT_FALSE(connected(server_events));
}

TEST(DtlsSession, FingerprintMismatchFailsOnTheCheckingServer) {
  DtlsPair p;
  auto other = test::make_cert();
  p.server.set_remote_fingerprint(other->sha256());
  p.start();
  p.run();
  EXPECT_EQ(p.server.state(), Session::State::kFailed);
  auto events = DtlsPair::events(p.server);
  auto f = failed(events);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->reason, "DTLS fingerprint mismatch: expected " + other->fingerprint() + ", got " +
                           p.client_cert->fingerprint());
  EXPECT_NE(p.client.state(), Session::State::kConnected);
}

TEST(DtlsSession, FingerprintLearnedDuringHandshakeIsEnough) {
  auto client_cert = test::make_cert();
  auto server_cert = test::make_cert();
  Session client(client_cert, Role::kClient);
  Session server(server_cert, Role::kServer);
  util::Timestamp now{};
  client.start(now);
  auto ch = client.poll_transmit();
  ASSERT_TRUE(ch);
  server.handle_datagram(now, *ch);
  // The answer (with its fingerprint) arrives while the handshake runs.
  client.set_remote_fingerprint(server_cert->sha256());
  server.set_remote_fingerprint(client_cert->sha256());
  for (int i = 0; i < 10; ++i) {
    while (auto d = server.poll_transmit()) client.handle_datagram(now, *d);
    while (auto d = client.poll_transmit()) server.handle_datagram(now, *d);
  }
  EXPECT_EQ(client.state(), Session::State::kConnected);
  EXPECT_EQ(server.state(), Session::State::kConnected);
}

TEST(DtlsSession, UnknownFingerprintAtCompletionFails) {
  auto client_cert = test::make_cert();
  auto server_cert = test::make_cert();
  Session client(client_cert, Role::kClient, server_cert->sha256());
  Session server(server_cert, Role::kServer);  // never told the client's fingerprint
  util::Timestamp now{};
  client.start(now);
  for (int i = 0; i < 10; ++i) {
    while (auto d = client.poll_transmit()) server.handle_datagram(now, *d);
    while (auto d = server.poll_transmit()) client.handle_datagram(now, *d);
  }
  EXPECT_EQ(server.state(), Session::State::kFailed);
  auto events = DtlsPair::events(server);
  auto f = failed(events);
  ASSERT_TRUE(f);
  EXPECT_NE(f->reason.find("remote fingerprint was known"), std::string::npos) << f->reason;
  EXPECT_NE(client.state(), Session::State::kConnected);  // the final flight was withheld
}

TEST(DtlsSession, LostClientHelloIsRetransmittedAfterVirtualTimeout) {
  DtlsPair p;
  p.filter = [](bool from_client, int index, const util::Bytes&) { return !(from_client && index == 0); };
  p.start();
  p.exchange();
  EXPECT_EQ(p.client.state(), Session::State::kConnecting);
  EXPECT_EQ(p.client.poll_timeout(), p.now + 1s);  // RFC 6347 §4.2.4.1 initial timer
  EXPECT_EQ(p.server.poll_timeout(), util::kNever);
  p.client.handle_timeout(p.now + 999ms);  // not yet
  EXPECT_FALSE(p.client.poll_transmit());
  p.run();
  EXPECT_EQ(p.client.state(), Session::State::kConnected);
  EXPECT_EQ(p.server.state(), Session::State::kConnected);
  EXPECT_EQ(p.client.stats().retransmitted_flights, 1u);
  EXPECT_EQ(p.now, util::Timestamp{std::chrono::seconds(1001)});
}

TEST(DtlsSession, LostServerFlightIsRetransmitted) {
  DtlsPair p;
  // Drop every datagram of the server's first flight (ServerHello .. ServerHelloDone).
  p.filter = [&](bool from_client, int, const util::Bytes&) { return from_client || p.server.stats().retransmitted_flights > 0; };
  p.start();
  p.run();
  EXPECT_EQ(p.client.state(), Session::State::kConnected);
  EXPECT_EQ(p.server.state(), Session::State::kConnected);
  EXPECT_GE(p.server.stats().retransmitted_flights, 1u);
}

/// Drops the server's final flight (ChangeCipherSpec + Finished, which goes out
/// once it is connected) the first time; with `release`, the server frees its
/// OpenSSL association as soon as it is connected, as the SFU does.
void lose_final_server_flight(DtlsPair& p, bool release) {
  bool dropped = false;
  p.filter = [&](bool from_client, int, const util::Bytes&) {
    if (release && p.server.state() == Session::State::kConnected && !p.server.released())
      p.server.release_association();
    if (!from_client && p.server.state() == Session::State::kConnected && !dropped) {
      dropped = true;
      return false;
    }
    return true;
  };
  p.start();
  p.run();
  EXPECT_TRUE(dropped);
  EXPECT_EQ(p.server.released(), release);
  EXPECT_EQ(p.client.state(), Session::State::kConnected);
  EXPECT_EQ(p.server.state(), Session::State::kConnected);
  EXPECT_EQ(p.client.stats().retransmitted_flights, 1u);
  EXPECT_EQ(p.server.stats().retransmitted_flights, 1u);
}

TEST(DtlsSession, LostFinalServerFlightIsResentWhenTheClientRetransmits) {
  DtlsPair p;
  lose_final_server_flight(p, false);
}

// The SFU frees a participant's OpenSSL association as soon as the keys are
// out; a client that missed the final flight still gets the kept copy.
TEST(DtlsSession, ReleasedServerStillResendsItsLostFinalFlight) {
  DtlsPair p;
  lose_final_server_flight(p, true);
  // Once the client proved it finished, the copy goes and nothing is resent.
  p.server.forget_final_flight();
  util::Bytes handshake{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0};
  p.server.handle_datagram(p.now, handshake);
  EXPECT_FALSE(p.server.poll_transmit().has_value());
}

// Released on both sides: close() still sends a close_notify (made at release)
// that ends the peer's session, while alert-typed junk from the peer's address
// does not.
TEST(DtlsSession, ReleasedSessionsStillCloseCleanly) {
  DtlsPair p;
  p.start();
  p.run();
  ASSERT_EQ(p.server.state(), Session::State::kConnected);
  ASSERT_EQ(p.client.state(), Session::State::kConnected);
  p.server.release_association();
  p.client.release_association();
  DtlsPair::events(p.server);
  auto rng = util::make_seeded_random(5);
  for (int i = 0; i < 2000; ++i) {
    util::Bytes junk(13 + rng->u32() % 60);
    rng->fill(junk);
    junk[0] = 21;  // alert
    if (i % 2) {   // well-formed header, wrong epoch or record number
      junk[1] = 0xfe;
      junk[2] = 0xfd;
      util::store_be16(&junk[3], uint16_t(i % 4 == 1 ? 0 : 2 + rng->u32() % 100));
      util::store_be16(&junk[11], uint16_t(junk.size() - 13));
    }
    p.server.handle_datagram(p.now, junk);
  }
  EXPECT_EQ(p.server.state(), Session::State::kConnected);
  EXPECT_TRUE(DtlsPair::events(p.server).empty());
  expect_close_reaches_the_server(p);
}

TEST(DtlsSession, RetransmissionBacksOffThenGivesUp) {
  DtlsPair p;
  p.filter = [](bool from_client, int, const util::Bytes&) { return !from_client; };  // client is cut off
  p.start();
  p.exchange();
  std::vector<util::Duration> gaps;
  util::Timestamp last = p.now;
  while (p.client.poll_timeout() != util::kNever) {
    util::Timestamp t = p.client.poll_timeout();
    gaps.push_back(t - last);
    last = t;
    p.now = t;
    p.client.handle_timeout(t);
    p.exchange();
  }
  ASSERT_EQ(gaps.size(), 7u);  // 6 retransmissions, then failure
  EXPECT_EQ(gaps[0], 1s);
  EXPECT_EQ(gaps[1], 2s);
  EXPECT_EQ(gaps[5], 32s);
  EXPECT_EQ(gaps[6], 60s);
  EXPECT_EQ(p.client.state(), Session::State::kFailed);
  auto events = DtlsPair::events(p.client);
  auto f = failed(events);
  ASSERT_TRUE(f);
  EXPECT_NE(f->reason.find("timed out"), std::string::npos);
}

TEST(DtlsSession, GarbageDatagramsAreDroppedWithoutStateLoss) {
  DtlsPair p;
  auto rnd = util::make_seeded_random(7);
  auto garbage = [&] {
    util::Bytes g(1 + rnd->u32() % 300);
    rnd->fill(g);
    return g;
  };
  p.filter = [&](bool from_client, int, const util::Bytes&) {
    for (int i = 0; i < 3; ++i) {
      util::Bytes g = garbage();
      if (i == 1) g[0] = uint8_t(20 + rnd->u32() % 44);  // looks like DTLS by its first byte
      if (i == 2 && g.size() >= 13) {
        g[0] = 22;  // a well-formed-looking handshake record header with junk inside
        g[1] = 0xfe;
        g[2] = 0xfd;
      }
      (from_client ? p.server : p.client).handle_datagram(p.now, g);
    }
    return true;
  };
  p.start();
  p.run();
  EXPECT_EQ(p.client.state(), Session::State::kConnected);
  EXPECT_EQ(p.server.state(), Session::State::kConnected);
  p.filter = nullptr;
  for (int i = 0; i < 50; ++i) {
    p.client.handle_datagram(p.now, garbage());
    p.server.handle_datagram(p.now, garbage());
  }
  p.client.handle_datagram(p.now, util::Bytes{});
  p.exchange();
  EXPECT_EQ(p.client.state(), Session::State::kConnected);
  EXPECT_EQ(p.server.state(), Session::State::kConnected);
  EXPECT_GT(p.client.stats().dropped_not_dtls, 0u);
}

TEST(DtlsSession, CloseNotifyReachesThePeer) {
  DtlsPair p;
  p.start();
  p.run();
  ASSERT_EQ(p.server.state(), Session::State::kConnected);
  DtlsPair::events(p.server);
  expect_close_reaches_the_server(p);
}

TEST(DtlsSession, DatagramsRespectTheMtu) {
  SessionConfig small;
  small.mtu = 400;
  DtlsPair p(small, small);
  int biggest = 0;
  p.filter = [&](bool, int, const util::Bytes& d) {
    biggest = std::max(biggest, int(d.size()));
    return true;
  };
  p.start();
  p.run();
  EXPECT_EQ(p.client.state(), Session::State::kConnected);
  EXPECT_LE(biggest, 400);
  EXPECT_GT(biggest, 0);
}
