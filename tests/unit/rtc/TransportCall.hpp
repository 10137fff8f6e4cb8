#pragma once
// A server Transport (ICE-lite, DTLS passive) and a client Transport (controlling
// ICE, DTLS active) attached to a SimNetwork, with everything they hand back
// (events, decrypted media) recorded for assertions.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dtls/Certificate.hpp"
#include "ice/Candidate.hpp"
#include "rtc/Transport.hpp"
#include "sim/SimNetwork.hpp"
#include "util/Random.hpp"

namespace sb::rtc::test {

using namespace std::chrono_literals;

inline const util::SocketAddr kServerAddr = util::SocketAddr::v4({10, 0, 0, 1}, 3478);
inline const util::SocketAddr kClientAddr = util::SocketAddr::v4({192, 168, 1, 20}, 50000);

/// Certificates are costly to make and immutable: one pair per test binary.
inline std::shared_ptr<const dtls::Certificate> test_certificate(int which) {
  static std::shared_ptr<const dtls::Certificate> certs[3];
  auto& c = certs[which];
  if (!c) {
    auto made = dtls::Certificate::generate(std::chrono::system_clock::now());
    EXPECT_TRUE(made.ok()) << (made.ok() ? "" : made.error());
    if (made.ok()) c = *made;
  }
  return c;
}
inline std::shared_ptr<const dtls::Certificate> server_certificate() { return test_certificate(0); }
inline std::shared_ptr<const dtls::Certificate> client_certificate() { return test_certificate(1); }
/// A third party's certificate: its fingerprint is the "wrong" one.
inline std::shared_ptr<const dtls::Certificate> stranger_certificate() { return test_certificate(2); }

/// An RTP packet (RFC 3550 §5.1) with a recognisable payload.
inline util::Bytes make_rtp(uint32_t ssrc, uint16_t seq, size_t payload_size = 160) {
  util::Bytes p(12 + payload_size);
  p[0] = 0x80;
  p[1] = 96;
  util::store_be16(&p[2], seq);
  util::store_be32(&p[4], uint32_t(seq) * 960u);
  util::store_be32(&p[8], ssrc);
  for (size_t i = 0; i < payload_size; ++i) p[12 + i] = uint8_t(seq * 7 + i);
  return p;
}

/// An empty receiver report (RFC 3550 §6.4.2).
inline util::Bytes make_rtcp_rr(uint32_t ssrc) {
  util::Bytes p(8);
  p[0] = 0x80;
  p[1] = 201;
  util::store_be16(&p[2], 1);
  util::store_be32(&p[4], ssrc);
  return p;
}

/// RTP sequence number of a (decrypted) packet.
inline uint16_t rtp_seq(const util::Bytes& p) { return p.size() >= 4 ? util::load_be16(&p[2]) : 0; }

/// Collects what a DatagramSink is given, instead of sending it.
struct CaptureSink : util::DatagramSink {
  std::array<uint8_t, util::kMaxDatagram> slot{};
  std::vector<std::pair<util::SocketAddr, util::Bytes>> sent;
  util::MutableBytes reserve() override { return slot; }
  void commit(const util::SocketAddr& to, size_t len) override {
    sent.emplace_back(to, util::Bytes(slot.begin(), slot.begin() + ptrdiff_t(len)));
  }
};

/// One side of the call and what it received.
struct Peer {
  std::unique_ptr<Transport> transport;
  std::unique_ptr<sim::DrivenNode<Transport>> node;
  sim::SimNetwork::EndpointId endpoint = 0;
  std::vector<TransportEvent> events;
  std::vector<util::Bytes> rtp;
  std::vector<util::Bytes> rtcp;

  Transport& operator*() { return *transport; }
  Transport* operator->() { return transport.get(); }

  void attach(sim::SimNetwork& net, const util::SocketAddr& addr) {
    node = std::make_unique<sim::DrivenNode<Transport>>(*transport);
    node->on_result = [this](util::Timestamp, Transport::Received& r) {
      if (r.kind == Transport::Received::Kind::kRtp) rtp.emplace_back(r.packet.begin(), r.packet.end());
      if (r.kind == Transport::Received::Kind::kRtcp) rtcp.emplace_back(r.packet.begin(), r.packet.end());
    };
    node->after_step = [this](util::Timestamp) {
      while (auto e = transport->poll_event()) events.push_back(std::move(*e));
    };
    endpoint = net.add_node(addr, *node);
  }

  template <typename E>
  std::vector<E> events_of() const {
    std::vector<E> out;
    for (const auto& e : events)
      if (auto* x = std::get_if<E>(&e)) out.push_back(*x);
    return out;
  }
  /// The reason of the first TransportFailed, or nullopt.
  std::optional<std::string> failure_reason() const {
    auto f = events_of<TransportFailed>();
    if (f.empty()) return std::nullopt;
    return f.front().reason;
  }
};

struct CallOptions {
  uint64_t seed = 1;
  sim::LinkConfig link;
  dtls::SessionConfig server_dtls;
  dtls::SessionConfig client_dtls;
  /// Overrides of the fingerprint each side expects of the other.
  std::optional<dtls::Fingerprint> client_fingerprint_at_server;
  std::optional<dtls::Fingerprint> server_fingerprint_at_client;
};

/// Both transports set up as signaling would (remote parameters exchanged, the
/// server's candidate given to the client), not yet started: run the network.
struct TransportCall {
  explicit TransportCall(CallOptions opt = {})
      : rng(util::make_seeded_random(opt.seed * 7919 + 1)), net(opt.seed) {
    net.set_default_link(opt.link);
    server.transport = Transport::make_server(ice::Credentials::generate(*rng), server_certificate(), opt.server_dtls);

    ice::ClientAgentConfig ice_cfg;
    ice_cfg.local = ice::Credentials::generate(*rng);
    ice_cfg.tie_breaker = rng->u64();
    RemoteParameters at_client{server->local_ufrag(), server->local_pwd(),
                               opt.server_fingerprint_at_client.value_or(server_certificate()->sha256()),
                               dtls::Role::kClient};
    client.transport = Transport::make_client(std::move(ice_cfg), *rng, client_certificate(), at_client,
                                              opt.client_dtls);
    client->add_remote_candidate(kServerAddr, ice::candidate_priority(ice::CandidateType::kHost, 65535));

    server_view = RemoteParameters{client->local_ufrag(), client->local_pwd(),
                                   opt.client_fingerprint_at_server.value_or(client_certificate()->sha256()),
                                   dtls::Role::kServer};
    auto r = server->set_remote_parameters(server_view);
    EXPECT_TRUE(r.ok()) << r.error();

    server.attach(net, kServerAddr);
    client.attach(net, kClientAddr);
  }

  bool both_connected() const { return server.transport->connected() && client.transport->connected(); }
  bool connect(util::Duration limit = 5s) {
    return net.run_until([&] { return both_connected(); }, limit);
  }

  bool send_rtp(Peer& from, const util::Bytes& packet) { return from->send_rtp(net.sink(from.endpoint), packet); }
  bool send_rtcp(Peer& from, const util::Bytes& packet) { return from->send_rtcp(net.sink(from.endpoint), packet); }

  std::unique_ptr<util::Random> rng;  // outlives the client's ICE agent, which borrows it
  sim::SimNetwork net;
  Peer server;
  Peer client;
  RemoteParameters server_view;  // what the server was told about the client
};

}  // namespace sb::rtc::test
