// rtc::Transport on a clean simulated link: ICE → DTLS → SRTP, media both ways,
// and the adversarial cases (tampering, replay, unvalidated sources, wrong
// fingerprints, ICE restarts, consent expiry).
#include <gtest/gtest.h>

#include "rtc/TransportCall.hpp"

using namespace sb;
using namespace sb::rtc;
using namespace sb::rtc::test;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& s, std::string_view what) { return s.find(what) != std::string::npos; }

/// The one datagram `from` would send for `packet`, protected but not sent.
util::Bytes protect_rtp(Peer& from, const util::Bytes& packet) {
  CaptureSink capture;
  EXPECT_TRUE(from->send_rtp(capture, packet));
  EXPECT_EQ(capture.sent.size(), 1u);
  return capture.sent.empty() ? util::Bytes{} : capture.sent.front().second;
}

util::Bytes protect_rtcp(Peer& from, const util::Bytes& packet) {
  CaptureSink capture;
  EXPECT_TRUE(from->send_rtcp(capture, packet));
  EXPECT_EQ(capture.sent.size(), 1u);
  return capture.sent.empty() ? util::Bytes{} : capture.sent.front().second;
}

/// Hands `datagram` to `to` directly, bypassing the network.
Transport::Received inject(TransportCall& call, Peer& to, const util::SocketAddr& from, util::Bytes& datagram) {
  return to->handle_datagram(call.net.now(), from, datagram);
}

}  // namespace

TEST(Transport, ConnectsWithAeadGcmByDefault) {
  TransportCall call;
  ASSERT_TRUE(call.connect());
  EXPECT_EQ(call.server->state(), Transport::State::kConnected);
  EXPECT_EQ(call.client->state(), Transport::State::kConnected);

  // ICE first, then DTLS: each side reports both, in that order.
  for (Peer* p : {&call.server, &call.client}) {
    ASSERT_EQ(p->events.size(), 2u);
    ASSERT_TRUE(std::holds_alternative<IceConnected>(p->events[0]));
    ASSERT_TRUE(std::holds_alternative<TransportConnected>(p->events[1]));
    EXPECT_EQ(std::get<TransportConnected>(p->events[1]).profile, srtp::Profile::AeadAes128Gcm);
    ASSERT_NE((*p)->srtp(), nullptr);
    EXPECT_EQ((*p)->srtp()->profile(), srtp::Profile::AeadAes128Gcm);
    EXPECT_TRUE((*p)->failure().empty());
  }
  EXPECT_EQ(std::get<IceConnected>(call.server.events[0]).remote, kClientAddr);
  EXPECT_EQ(std::get<IceConnected>(call.client.events[0]).remote, kServerAddr);
  EXPECT_EQ(call.server->remote_address(), kClientAddr);
  EXPECT_EQ(call.client->remote_address(), kServerAddr);
  ASSERT_NE(call.client->client_agent(), nullptr);
  EXPECT_EQ(call.client->client_agent()->mapped_address(), kClientAddr);
  ASSERT_NE(call.server->lite_agent(), nullptr);
  EXPECT_TRUE(call.server->lite_agent()->is_from_selected(kClientAddr));
}

TEST(Transport, ConnectsWithSha1WhenTheClientOffersOnlyThat) {
  CallOptions opt;
  opt.client_dtls.srtp_profiles = {srtp::Profile::AesCm128HmacSha1_80};
  TransportCall call(opt);
  ASSERT_TRUE(call.connect());
  for (Peer* p : {&call.server, &call.client}) {
    auto c = p->events_of<TransportConnected>();
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].profile, srtp::Profile::AesCm128HmacSha1_80);
  }
}

TEST(Transport, NothingIsSentBeforeConnection) {
  TransportCall call;
  EXPECT_FALSE(call.send_rtp(call.client, make_rtp(1, 1)));
  EXPECT_FALSE(call.send_rtcp(call.server, make_rtcp_rr(2)));
  EXPECT_EQ(call.client->stats().dropped_send, 1u);
  EXPECT_EQ(call.server->stats().dropped_send, 1u);
  EXPECT_EQ(call.net.stats().sent, 0u);
}

class TransportMedia : public ::testing::TestWithParam<srtp::Profile> {};

TEST_P(TransportMedia, RtpArrivesDecryptedByteIdenticalBothWays) {
  CallOptions opt;
  opt.client_dtls.srtp_profiles = {GetParam()};
  TransportCall call(opt);
  ASSERT_TRUE(call.connect());
  ASSERT_EQ(call.server->srtp()->profile(), GetParam());

  std::vector<util::Bytes> up, down;
  for (uint16_t seq = 100; seq < 120; ++seq) {
    up.push_back(make_rtp(0x1111, seq, 50 + seq));
    down.push_back(make_rtp(0x2222, uint16_t(seq * 3), 1000));
    ASSERT_TRUE(call.send_rtp(call.client, up.back()));
    ASSERT_TRUE(call.send_rtp(call.server, down.back()));
    call.net.run_for(10ms);
  }
  call.net.run_for(100ms);
  EXPECT_EQ(call.server.rtp, up);
  EXPECT_EQ(call.client.rtp, down);
  EXPECT_EQ(call.server->stats().rtp_in, up.size());
  EXPECT_EQ(call.client->stats().rtp_out, up.size());
  EXPECT_EQ(call.server->stats().dropped_srtp, 0u);
  EXPECT_EQ(call.client->stats().dropped_srtp, 0u);
}

TEST_P(TransportMedia, RtcpArrivesDecryptedByteIdenticalBothWays) {
  CallOptions opt;
  opt.client_dtls.srtp_profiles = {GetParam()};
  TransportCall call(opt);
  ASSERT_TRUE(call.connect());
  util::Bytes rr_up = make_rtcp_rr(0xAAAA);
  util::Bytes rr_down = make_rtcp_rr(0xBBBB);
  ASSERT_TRUE(call.send_rtcp(call.client, rr_up));
  ASSERT_TRUE(call.send_rtcp(call.server, rr_down));
  call.net.run_for(50ms);
  ASSERT_EQ(call.server.rtcp.size(), 1u);
  ASSERT_EQ(call.client.rtcp.size(), 1u);
  EXPECT_EQ(call.server.rtcp[0], rr_up);
  EXPECT_EQ(call.client.rtcp[0], rr_down);
  EXPECT_TRUE(call.server.rtp.empty());
  EXPECT_EQ(call.server->stats().rtcp_in, 1u);
  EXPECT_EQ(call.client->stats().rtcp_out, 1u);
}

INSTANTIATE_TEST_SUITE_P(Profiles, TransportMedia,
                         ::testing::Values(srtp::Profile::AeadAes128Gcm, srtp::Profile::AesCm128HmacSha1_80),
                         [](const ::testing::TestParamInfo<srtp::Profile>& p) {
                           return p.param == srtp::Profile::AeadAes128Gcm ? std::string("Gcm") : std::string("Sha1_80");
                         });

TEST(Transport, TamperedSrtpIsDroppedAndTheNextGoodPacketArrives) {
  TransportCall call;
  ASSERT_TRUE(call.connect());
  util::Bytes first = make_rtp(0x1234, 1);
  util::Bytes second = make_rtp(0x1234, 2);
  util::Bytes wire1 = protect_rtp(call.client, first);
  util::Bytes wire2 = protect_rtp(call.client, second);

  util::Bytes tampered = wire1;
  tampered[20] ^= 0x01;  // one payload bit
  EXPECT_EQ(inject(call, call.server, kClientAddr, tampered).kind, Transport::Received::Kind::kNone);
  EXPECT_EQ(call.server->stats().dropped_srtp, 1u);

  util::Bytes bad_tag = wire1;
  bad_tag.back() ^= 0x80;  // the authentication tag
  EXPECT_EQ(inject(call, call.server, kClientAddr, bad_tag).kind, Transport::Received::Kind::kNone);
  EXPECT_EQ(call.server->stats().dropped_srtp, 2u);

  // A failed authentication must not advance the replay window: the genuine
  // packet with the same index is still accepted.
  auto r1 = inject(call, call.server, kClientAddr, wire1);
  ASSERT_EQ(r1.kind, Transport::Received::Kind::kRtp);
  EXPECT_EQ(util::Bytes(r1.packet.begin(), r1.packet.end()), first);
  auto r2 = inject(call, call.server, kClientAddr, wire2);
  ASSERT_EQ(r2.kind, Transport::Received::Kind::kRtp);
  EXPECT_EQ(util::Bytes(r2.packet.begin(), r2.packet.end()), second);
  EXPECT_EQ(call.server->stats().rtp_in, 2u);
}

TEST(Transport, TamperedSrtcpIsDropped) {
  TransportCall call;
  ASSERT_TRUE(call.connect());
  util::Bytes wire = protect_rtcp(call.server, make_rtcp_rr(9));
  wire[6] ^= 0x40;
  EXPECT_EQ(inject(call, call.client, kServerAddr, wire).kind, Transport::Received::Kind::kNone);
  EXPECT_EQ(call.client->stats().dropped_srtp, 1u);
}

TEST(Transport, ReplayedSrtpAndSrtcpAreDropped) {
  TransportCall call;
  ASSERT_TRUE(call.connect());
  util::Bytes wire = protect_rtp(call.client, make_rtp(0x77, 5));
  util::Bytes replay = wire;
  EXPECT_EQ(inject(call, call.server, kClientAddr, wire).kind, Transport::Received::Kind::kRtp);
  EXPECT_EQ(inject(call, call.server, kClientAddr, replay).kind, Transport::Received::Kind::kNone);
  EXPECT_EQ(call.server->stats().dropped_srtp, 1u);
  EXPECT_EQ(call.server->stats().rtp_in, 1u);

  util::Bytes rtcp = protect_rtcp(call.client, make_rtcp_rr(0x77));
  util::Bytes rtcp_replay = rtcp;
  EXPECT_EQ(inject(call, call.server, kClientAddr, rtcp).kind, Transport::Received::Kind::kRtcp);
  EXPECT_EQ(inject(call, call.server, kClientAddr, rtcp_replay).kind, Transport::Received::Kind::kNone);
  EXPECT_EQ(call.server->stats().dropped_srtp, 2u);
}

TEST(Transport, DtlsAndSrtpFromAnUnvalidatedAddressAreDropped) {
  TransportCall call;
  ASSERT_TRUE(call.connect());
  const auto stranger = util::SocketAddr::v4({203, 0, 113, 9}, 40000);
  util::Bytes srtp = protect_rtp(call.client, make_rtp(0x42, 1));
  util::Bytes srtp_copy = srtp;
  // A DTLS record header (content type 22, DTLS 1.2) with nothing behind it.
  util::Bytes dtls = {22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0};
  const auto dtls_before = call.server->stats().dtls_in;

  EXPECT_EQ(inject(call, call.server, stranger, srtp).kind, Transport::Received::Kind::kNone);
  EXPECT_EQ(inject(call, call.server, stranger, dtls).kind, Transport::Received::Kind::kNone);
  EXPECT_EQ(call.server->stats().dropped_unverified_source, 2u);

  // The client, whose only validated peer is the server, refuses strangers too.
  util::Bytes down = protect_rtp(call.server, make_rtp(0x43, 1));
  util::Bytes down_copy = down;
  EXPECT_EQ(inject(call, call.client, stranger, down).kind, Transport::Received::Kind::kNone);
  EXPECT_EQ(call.client->stats().dropped_unverified_source, 1u);

  // Nothing was consumed: the same packets from the right addresses still count.
  EXPECT_EQ(inject(call, call.server, kClientAddr, srtp_copy).kind, Transport::Received::Kind::kRtp);
  EXPECT_EQ(inject(call, call.client, kServerAddr, down_copy).kind, Transport::Received::Kind::kRtp);
  EXPECT_EQ(call.server->stats().dtls_in, dtls_before);
  EXPECT_EQ(call.server->stats().dropped_srtp, 0u);
}

TEST(Transport, DtlsBeforeIceValidationIsDropped) {
  TransportCall call;
  // Before any check, not even the client's real address is validated.
  util::Bytes dtls = {22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0};
  EXPECT_EQ(inject(call, call.server, kClientAddr, dtls).kind, Transport::Received::Kind::kNone);
  EXPECT_EQ(call.server->stats().dropped_unverified_source, 1u);
  EXPECT_EQ(call.server->stats().dtls_in, 0u);
}

TEST(Transport, UnknownFirstBytesAreCounted) {
  TransportCall call;
  ASSERT_TRUE(call.connect());
  const auto before = call.server->stats();
  // RFC 7983 §7: 4..19 (ZRTP is 16..19, not ours), 64..79 (TURN channels), 80..127, 192..255.
  for (uint8_t first : {uint8_t(4), uint8_t(17), uint8_t(64), uint8_t(100), uint8_t(192), uint8_t(255)}) {
    util::Bytes garbage(40, 0x5A);
    garbage[0] = first;
    EXPECT_EQ(inject(call, call.server, kClientAddr, garbage).kind, Transport::Received::Kind::kNone);
  }
  util::Bytes empty;
  EXPECT_EQ(inject(call, call.server, kClientAddr, empty).kind, Transport::Received::Kind::kNone);
  const auto& after = call.server->stats();
  EXPECT_EQ(after.dropped_unknown_kind - before.dropped_unknown_kind, 6u);
  EXPECT_EQ(after.datagrams_in - before.datagrams_in, 7u);
  EXPECT_EQ(after.dropped_srtp, before.dropped_srtp);
  EXPECT_TRUE(call.server->connected());
}

TEST(Transport, TruncatedMediaIsDroppedAsSrtp) {
  TransportCall call;
  ASSERT_TRUE(call.connect());
  util::Bytes wire = protect_rtp(call.client, make_rtp(0x99, 1));
  for (size_t len : {size_t(1), size_t(2), size_t(11), size_t(12), size_t(20), wire.size() - 1}) {
    util::Bytes cut(wire.begin(), wire.begin() + ptrdiff_t(len));
    EXPECT_EQ(inject(call, call.server, kClientAddr, cut).kind, Transport::Received::Kind::kNone) << len;
  }
  EXPECT_EQ(call.server->stats().dropped_srtp, 6u);
  EXPECT_EQ(inject(call, call.server, kClientAddr, wire).kind, Transport::Received::Kind::kRtp);
}

// Anyone who can spoof the peer's source address can send these: random
// datagrams of every kind must neither crash nor tear the transport down.
TEST(Transport, RandomDatagramsFromThePeerAddressAreSurvived) {
  TransportCall call;
  ASSERT_TRUE(call.connect());
  auto rng = util::make_seeded_random(99);
  for (int i = 0; i < 20000; ++i) {
    util::Bytes junk(1 + rng->u32() % 300);
    rng->fill(junk);
    if (i % 4 == 0) junk[0] = uint8_t(20 + rng->u32() % 44);  // more DTLS-looking ones
    if (i % 8 == 1) {                                         // valid record headers
      junk.resize(std::max<size_t>(junk.size(), 13));
      junk[0] = uint8_t(20 + rng->u32() % 4);
      junk[1] = 0xFE;
      junk[2] = 0xFD;
      util::store_be16(&junk[11], uint16_t(junk.size() - 13));
    }
    Peer& to = i % 2 ? call.server : call.client;
    (void)inject(call, to, i % 2 ? kClientAddr : kServerAddr, junk);
  }
  call.net.run_for(1s);
  EXPECT_TRUE(call.server->connected()) << call.server->failure();
  EXPECT_TRUE(call.client->connected()) << call.client->failure();
  EXPECT_TRUE(call.server.rtp.empty());
  ASSERT_TRUE(call.send_rtp(call.client, make_rtp(1, 1)));
  ASSERT_TRUE(call.send_rtp(call.server, make_rtp(2, 1)));
  call.net.run_for(100ms);
  EXPECT_EQ(call.server.rtp.size(), 1u);
  EXPECT_EQ(call.client.rtp.size(), 1u);
}

TEST(Transport, WrongClientFingerprintAtServerFailsTheServer) {
  CallOptions opt;
  opt.client_fingerprint_at_server = stranger_certificate()->sha256();
  TransportCall call(opt);
  ASSERT_TRUE(call.net.run_until([&] { return call.server->state() == Transport::State::kFailed; }, 10s));
  auto reason = call.server.failure_reason();
  ASSERT_TRUE(reason);
  EXPECT_TRUE(contains(*reason, "fingerprint")) << *reason;
  EXPECT_EQ(call.server->failure(), *reason);
  EXPECT_TRUE(call.server.events_of<TransportConnected>().empty());

  // The server withholds its final flight, so the client never gets keys either.
  call.net.run_for(20s);
  EXPECT_FALSE(call.client->connected());
  EXPECT_TRUE(call.client.events_of<TransportConnected>().empty());
  EXPECT_FALSE(call.send_rtp(call.client, make_rtp(1, 1)));
  EXPECT_FALSE(call.send_rtp(call.server, make_rtp(2, 1)));
  call.net.run_for(1s);
  EXPECT_TRUE(call.server.rtp.empty());
  EXPECT_TRUE(call.client.rtp.empty());
}

TEST(Transport, WrongServerFingerprintAtClientFailsTheClient) {
  CallOptions opt;
  opt.server_fingerprint_at_client = stranger_certificate()->sha256();
  TransportCall call(opt);
  ASSERT_TRUE(call.net.run_until([&] { return call.client->state() == Transport::State::kFailed; }, 10s));
  auto reason = call.client.failure_reason();
  ASSERT_TRUE(reason);
  EXPECT_TRUE(contains(*reason, "fingerprint")) << *reason;
  EXPECT_TRUE(call.client.events_of<TransportConnected>().empty());

  call.net.run_for(2s);
  EXPECT_FALSE(call.client->connected());
  // Whatever the server believes, nothing it sends reaches the client's application.
  (void)call.send_rtp(call.server, make_rtp(2, 1));
  EXPECT_FALSE(call.send_rtp(call.client, make_rtp(1, 1)));
  call.net.run_for(1s);
  EXPECT_TRUE(call.client.rtp.empty());
  EXPECT_TRUE(call.server.rtp.empty());
}

TEST(Transport, ClientFailsWhenNoCandidateAnswers) {
  TransportCall call;
  call.net.remove_node(call.server.endpoint);
  ASSERT_TRUE(call.net.run_until([&] { return call.client->state() == Transport::State::kFailed; }, 20s));
  auto reason = call.client.failure_reason();
  ASSERT_TRUE(reason);
  EXPECT_TRUE(contains(*reason, "checks failed")) << *reason;
  EXPECT_TRUE(call.client.events_of<IceConnected>().empty());
  EXPECT_EQ(call.client->client_agent()->stats().checks_failed, 1u);
}

TEST(Transport, ClientWithTheWrongIcePasswordNeverConnects) {
  TransportCall call;
  // Rebuild the client with a password the server does not have: the server
  // answers 401 (RFC 8489 §9.1.3) and validates nothing.
  ice::ClientAgentConfig cfg;
  cfg.local = {call.client->local_ufrag(), call.client->local_pwd()};
  RemoteParameters wrong{call.server->local_ufrag(), "wrongPasswordWrongPassword", server_certificate()->sha256(),
                         dtls::Role::kClient};
  auto client = Transport::make_client(cfg, *call.rng, client_certificate(), wrong);
  client->add_remote_candidate(kServerAddr, 1000);
  sim::DrivenNode<Transport> node(*client);
  call.net.remove_node(call.client.endpoint);
  call.net.add_node(kClientAddr, node);
  ASSERT_TRUE(call.net.run_until([&] { return client->state() == Transport::State::kFailed; }, 20s));
  EXPECT_EQ(client->failure(), "ICE connectivity checks failed");
  EXPECT_GE(call.server->lite_agent()->stats().bad_integrity, 1u);
  EXPECT_FALSE(call.server->lite_agent()->is_validated(kClientAddr));
  EXPECT_NE(call.server->state(), Transport::State::kConnected);
}

TEST(Transport, ChangedRemoteCredentialsAreRefused) {
  TransportCall call;
  ASSERT_TRUE(call.connect());
  // Renegotiation repeats the same parameters: accepted, nothing changes.
  EXPECT_TRUE(call.server->set_remote_parameters(call.server_view).ok());

  RemoteParameters restart = call.server_view;
  restart.ufrag = "newfrag1";
  auto r = call.server->set_remote_parameters(restart);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.error(), "ufrag")) << r.error();

  RemoteParameters new_pwd = call.server_view;
  new_pwd.pwd = "an0therPasswordOf24chars";
  EXPECT_FALSE(call.server->set_remote_parameters(new_pwd).ok());

  RemoteParameters new_cert = call.server_view;
  new_cert.fingerprint = stranger_certificate()->sha256();
  auto f = call.server->set_remote_parameters(new_cert);
  ASSERT_FALSE(f.ok());
  EXPECT_TRUE(contains(f.error(), "fingerprint")) << f.error();

  // Refusals leave the running transport alone.
  EXPECT_TRUE(call.server->connected());
  ASSERT_TRUE(call.send_rtp(call.client, make_rtp(5, 5)));
  call.net.run_for(10ms);
  EXPECT_EQ(call.server.rtp.size(), 1u);
}

TEST(Transport, ServerFailsWhenConsentExpires) {
  TransportCall call;
  ASSERT_TRUE(call.connect());
  // Consent checks keep it alive while they arrive (RFC 7675 §5.1)...
  call.net.run_for(40s);
  ASSERT_TRUE(call.server->connected());
  ASSERT_GT(call.client->client_agent()->stats().consent_ok, 5u);

  // ...and the server gives up within 30 s of the last one.
  call.net.set_filter([](const sim::SimDatagram& d) { return !(d.from == kClientAddr && d.data[0] <= 3); });
  const auto cut = call.net.now();
  ASSERT_TRUE(call.net.run_until([&] { return call.server->state() == Transport::State::kFailed; }, 31s));
  EXPECT_LE(call.net.now() - cut, 30s);
  EXPECT_GT(call.net.now() - cut, 20s);  // the last check was at most ~6 s before the cut
  auto reason = call.server.failure_reason();
  ASSERT_TRUE(reason);
  EXPECT_TRUE(contains(*reason, "consent")) << *reason;
  EXPECT_FALSE(call.send_rtp(call.server, make_rtp(1, 1)));
}

TEST(Transport, CloseNotifiesThePeer) {
  TransportCall call;
  ASSERT_TRUE(call.connect());
  call.client->close(call.net.now());
  EXPECT_EQ(call.client->state(), Transport::State::kClosed);
  ASSERT_TRUE(call.net.run_until([&] { return call.server->state() == Transport::State::kClosed; }, 1s));
  EXPECT_EQ(call.server.events_of<TransportClosed>().size(), 1u);
  EXPECT_FALSE(call.send_rtp(call.server, make_rtp(1, 1)));
}

TEST(Transport, HandshakeThatNeverStartsTimesOut) {
  TransportCall call;
  // Both sides wait for a ClientHello (a=setup:passive on both, a signaling bug):
  // ICE connects and consent keeps it up, but no DTLS ever flows.
  ice::ClientAgentConfig cfg;
  cfg.local = {call.client->local_ufrag(), call.client->local_pwd()};
  RemoteParameters passive{call.server->local_ufrag(), call.server->local_pwd(), server_certificate()->sha256(),
                           dtls::Role::kServer};
  auto client = Transport::make_client(cfg, *call.rng, client_certificate(), passive);
  client->add_remote_candidate(kServerAddr, 1000);
  sim::DrivenNode<Transport> node(*client);
  call.net.remove_node(call.client.endpoint);
  call.net.add_node(kClientAddr, node);

  ASSERT_TRUE(call.net.run_until([&] { return call.server->state() == Transport::State::kHandshaking; }, 1s));
  const auto ice_connected = call.net.now();
  ASSERT_TRUE(call.net.run_until(
      [&] {
        return call.server->state() == Transport::State::kFailed && client->state() == Transport::State::kFailed;
      },
      Transport::kHandshakeTimeout + 1s));
  EXPECT_LE(call.net.now() - ice_connected, Transport::kHandshakeTimeout + 100ms);
  auto reason = call.server.failure_reason();
  ASSERT_TRUE(reason);
  EXPECT_TRUE(contains(*reason, "handshake")) << *reason;
  EXPECT_TRUE(contains(client->failure(), "handshake")) << client->failure();
}
