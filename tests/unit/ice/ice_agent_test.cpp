// LiteAgent and ClientAgent talking to each other through a hand-driven network in
// virtual time.
#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "ice/Candidate.hpp"
#include "ice/ClientAgent.hpp"
#include "ice/LiteAgent.hpp"
#include "stun/Integrity.hpp"
#include "stun/Message.hpp"
#include "stun/MessageBuilder.hpp"

namespace sb::ice {
namespace {

using namespace std::chrono_literals;
using util::Bytes;
using util::ByteView;
using util::SocketAddr;
using util::Timestamp;

const SocketAddr kClientAddr = *SocketAddr::parse("192.0.2.10:50000");
const SocketAddr kClientAddr2 = *SocketAddr::parse("192.0.2.99:50001");
const SocketAddr kServerAddr = *SocketAddr::parse("198.51.100.1:3478");

template <typename T>
bool has_event(const std::vector<Event>& ev) {
  for (const Event& e : ev)
    if (std::holds_alternative<T>(e)) return true;
  return false;
}

/// Both agents plus a network the test controls: `drop_up` / `drop_down` decide the
/// fate of each client->server / server->client datagram.
struct Call {
  explicit Call(uint64_t seed = 1) : rng(util::make_seeded_random(seed)) {
    server_creds = Credentials::generate(*rng);
    client_creds = Credentials::generate(*rng);
    lite = std::make_unique<LiteAgent>(server_creds);
    lite->set_remote_credentials(client_creds.ufrag, client_creds.pwd);
    config.local = client_creds;
    config.remote = server_creds;
    config.tie_breaker = rng->u64();
  }
  void make_client() {
    client = std::make_unique<ClientAgent>(config, *rng);
    client->add_remote_candidate(kServerAddr, candidate_priority(CandidateType::kHost, 65535));
  }

  void pump() {
    for (int guard = 0; guard < 1000; ++guard) {
      bool moved = false;
      while (auto t = client->poll_transmit()) {
        moved = true;
        ++sent_up;
        if (t->to != kServerAddr || (drop_up && drop_up(*t))) continue;
        lite->handle_stun(now, client_from, t->data);
      }
      while (auto t = lite->poll_transmit()) {
        moved = true;
        ++sent_down;
        last_down = t->data;
        if (t->to != kClientAddr || (drop_down && drop_down(*t))) continue;
        client->handle_stun(now, kServerAddr, t->data);
      }
      while (auto e = lite->poll_event()) lite_events.push_back(*e);
      while (auto e = client->poll_event()) client_events.push_back(*e);
      if (!moved) return;
    }
    FAIL() << "network did not settle";
  }

  /// Runs every timer due up to `until`, in order, then sets the clock there.
  void advance_to(Timestamp until) {
    pump();
    for (int guard = 0; guard < 100000; ++guard) {
      const Timestamp next = util::earliest(lite->poll_timeout(), client->poll_timeout());
      if (next > until) break;
      if (next > now) now = next;
      if (lite->poll_timeout() <= now) lite->handle_timeout(now);
      if (client->poll_timeout() <= now) client->handle_timeout(now);
      pump();
    }
    now = until;
  }
  void run_for(util::Duration d) { advance_to(now + d); }

  std::unique_ptr<util::Random> rng;
  Credentials server_creds, client_creds;
  ClientAgentConfig config;
  std::unique_ptr<LiteAgent> lite;
  std::unique_ptr<ClientAgent> client;
  Timestamp now = Timestamp{} + 1000s;
  SocketAddr client_from = kClientAddr;  // the source address the server sees
  std::function<bool(const Transmit&)> drop_up, drop_down;
  std::vector<Event> lite_events, client_events;
  int sent_up = 0, sent_down = 0;
  Bytes last_down;
};

/// A check built by hand, as a (possibly misbehaving) peer would send it.
struct CheckSpec {
  std::string username;
  std::string pwd;
  bool nominate = false;
  bool controlled = false;
  bool fingerprint = true;
  bool integrity = true;
  uint16_t extra_attribute = 0;
};
Bytes make_check(util::Random& rng, const CheckSpec& s) {
  std::array<uint8_t, 512> buf{};
  stun::MessageBuilder b(buf, stun::MessageClass::kRequest, stun::Method::kBinding, stun::TransactionId::random(rng));
  if (!s.username.empty()) b.add_username(s.username);
  b.add_priority(1853824767);
  if (s.controlled) b.add_ice_controlled(1);
  else b.add_ice_controlling(2);
  if (s.nominate) b.add_use_candidate();
  if (s.extra_attribute) b.add_attribute(s.extra_attribute, util::as_bytes("x"));
  if (s.integrity) b.add_message_integrity(s.pwd);
  if (s.fingerprint) b.add_fingerprint();
  auto n = b.finish();
  EXPECT_TRUE(n);
  return Bytes(buf.begin(), buf.begin() + std::ptrdiff_t(n.value_or(0)));
}

std::optional<uint16_t> error_code_of(const Bytes& b) {
  auto m = stun::Message::parse(b);
  if (!m || m->message_class() != stun::MessageClass::kErrorResponse) return std::nullopt;
  auto ec = m->error_code();
  return ec ? std::optional(ec->code) : std::nullopt;
}

TEST(IceAgents, ConnectDespiteLostFirstRequest) {
  Call call;
  call.make_client();
  int up = 0;
  call.drop_up = [&](const Transmit&) { return up++ == 0; };  // lose the first check
  call.run_for(1s);

  EXPECT_EQ(call.client->state(), State::kConnected);
  EXPECT_EQ(call.lite->state(), State::kConnected);
  EXPECT_EQ(call.client->selected_remote(), kServerAddr);
  EXPECT_EQ(call.lite->selected_remote(), kClientAddr);
  EXPECT_EQ(call.client->mapped_address(), kClientAddr);
  EXPECT_EQ(call.client->stats().retransmissions, 1u);
  EXPECT_EQ(call.lite->stats().requests_ok, 1u);
  EXPECT_TRUE(call.lite->is_from_selected(kClientAddr));
  EXPECT_TRUE(call.lite->is_validated(kClientAddr));
  EXPECT_FALSE(call.lite->is_validated(kClientAddr2));
  ASSERT_EQ(call.lite_events.size(), 2u);
  EXPECT_EQ(std::get<SelectedPairChanged>(call.lite_events[0]).remote, kClientAddr);
  EXPECT_EQ(std::get<Connected>(call.lite_events[1]).remote, kClientAddr);
  ASSERT_EQ(call.client_events.size(), 2u);
  EXPECT_EQ(std::get<Connected>(call.client_events[1]).remote, kServerAddr);

  // The server's answer is a proper success response.
  auto resp = stun::Message::parse(call.last_down);
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->message_class(), stun::MessageClass::kSuccessResponse);
  EXPECT_EQ(resp->xor_mapped_address(), kClientAddr);
  EXPECT_TRUE(stun::verify_message_integrity(*resp, call.server_creds.pwd));
  EXPECT_TRUE(stun::verify_fingerprint(*resp));
}

TEST(IceAgents, ConsentKeepsCallAliveThenExpiresOnSilence) {
  Call call;
  call.make_client();
  call.run_for(1s);
  ASSERT_EQ(call.lite->state(), State::kConnected);

  call.run_for(120s);  // consent checks every ~5 s keep both sides up
  EXPECT_EQ(call.lite->state(), State::kConnected);
  EXPECT_EQ(call.client->state(), State::kConnected);
  EXPECT_GE(call.client->stats().consent_ok, 20u);
  EXPECT_LE(call.client->stats().consent_sent, 30u);

  // The client vanishes: nothing reaches the server any more.
  call.drop_up = [](const Transmit&) { return true; };
  const Timestamp silence = call.now;
  // The last refresh was at most ~6 s (one jittered consent interval) before.
  call.run_for(23s);
  EXPECT_EQ(call.lite->state(), State::kConnected);
  call.run_for(8s);
  EXPECT_EQ(call.lite->state(), State::kFailed);
  EXPECT_TRUE(has_event<ConsentExpired>(call.lite_events));
  EXPECT_FALSE(call.lite->selected_remote());
  EXPECT_FALSE(call.lite->is_from_selected(kClientAddr));
  EXPECT_FALSE(call.lite->is_validated(kClientAddr));
  // The client, getting no answers either, gives up too.
  EXPECT_EQ(call.client->state(), State::kFailed);
  EXPECT_TRUE(has_event<ConsentExpired>(call.client_events));
  EXPECT_EQ(call.lite->poll_timeout(), util::kNever);
  EXPECT_GE(call.now - silence, kConsentTimeout);
}

TEST(IceAgents, LiteConsentExpiresAfterThirtySecondsExactly) {
  Call call;
  call.make_client();
  call.run_for(1s);
  ASSERT_EQ(call.lite->state(), State::kConnected);
  const Timestamp deadline = call.lite->poll_timeout();
  // No more traffic at all: drive only the lite agent.
  call.lite->handle_timeout(deadline - 1ms);
  EXPECT_EQ(call.lite->state(), State::kConnected);
  call.lite->handle_timeout(deadline);
  EXPECT_EQ(call.lite->state(), State::kFailed);
  auto e1 = call.lite->poll_event();
  ASSERT_TRUE(e1);
  EXPECT_TRUE(std::holds_alternative<ConsentExpired>(*e1));
  // A failed agent ignores further checks.
  call.lite->handle_stun(deadline, kClientAddr,
                         make_check(*call.rng, {call.server_creds.ufrag + ":" + call.client_creds.ufrag,
                                                call.server_creds.pwd, true}));
  EXPECT_FALSE(call.lite->poll_transmit());
  EXPECT_EQ(call.lite->stats().ignored, 1u);
}

TEST(IceAgents, WrongPasswordNeverSucceeds) {
  Call call;
  call.config.remote.pwd = "this-is-not-the-password";
  call.make_client();
  call.run_for(15s);
  EXPECT_NE(call.client->state(), State::kConnected);
  EXPECT_NE(call.lite->state(), State::kConnected);
  EXPECT_EQ(call.lite->stats().requests_ok, 0u);
  EXPECT_GE(call.lite->stats().bad_integrity, 1u);
  EXPECT_EQ(error_code_of(call.last_down), stun::error::kUnauthorized);
  // The 401 ends the check; with no other candidate the client fails.
  EXPECT_EQ(call.client->state(), State::kFailed);
  EXPECT_TRUE(has_event<ChecksFailed>(call.client_events));
  EXPECT_FALSE(call.lite->is_validated(kClientAddr));
}

TEST(IceAgents, UnknownUfragIsDropped) {
  Call call;
  call.config.remote.ufrag = "nope";
  call.make_client();
  call.run_for(15s);
  EXPECT_EQ(call.sent_down, 0);  // not even an error response
  EXPECT_EQ(call.lite->stats().bad_username, uint64_t(kMaxRequestAttempts));
  EXPECT_EQ(call.lite->state(), State::kNew);
  // Unanswered, the client retransmits Rc times, then gives up.
  EXPECT_EQ(call.client->stats().checks_sent + call.client->stats().retransmissions, uint64_t(kMaxRequestAttempts));
  EXPECT_EQ(call.client->state(), State::kFailed);
}

TEST(IceAgents, RemoteCredentialsMayArriveLate) {
  Call call;
  call.lite = std::make_unique<LiteAgent>(call.server_creds);  // no remote credentials yet
  call.make_client();
  call.run_for(1s);
  EXPECT_EQ(call.lite->state(), State::kConnected);

  // Once known, the remote half of USERNAME is enforced.
  call.lite->set_remote_credentials("someone-else", "pwd-pwd-pwd-pwd-pwd-pwd");
  const auto before = call.lite->stats().bad_username;
  call.lite->handle_stun(call.now, kClientAddr,
                         make_check(*call.rng, {call.server_creds.ufrag + ":" + call.client_creds.ufrag,
                                                call.server_creds.pwd}));
  EXPECT_EQ(call.lite->stats().bad_username, before + 1);
  EXPECT_FALSE(call.lite->poll_transmit());
}

TEST(IceAgents, AddressChangeFollowedOnlyAfterNominatedCheck) {
  Call call;
  call.make_client();
  call.run_for(1s);
  ASSERT_EQ(call.lite->selected_remote(), kClientAddr);
  const std::string user = call.server_creds.ufrag + ":" + call.client_creds.ufrag;

  // Junk and a forged check from the new address change nothing.
  call.lite->handle_stun(call.now, kClientAddr2, make_check(*call.rng, {user, "wrong-password-wrong-pw", true}));
  EXPECT_EQ(call.lite->selected_remote(), kClientAddr);
  EXPECT_FALSE(call.lite->is_validated(kClientAddr2));

  // A valid check without USE-CANDIDATE validates the new pair but does not select it.
  call.lite->handle_stun(call.now, kClientAddr2, make_check(*call.rng, {user, call.server_creds.pwd, false}));
  EXPECT_TRUE(call.lite->is_validated(kClientAddr2));
  EXPECT_FALSE(call.lite->is_from_selected(kClientAddr2));
  EXPECT_EQ(call.lite->selected_remote(), kClientAddr);
  EXPECT_EQ(call.lite->pair_count(), 2u);

  // Nominated: now the server follows the client.
  call.lite->handle_stun(call.now, kClientAddr2, make_check(*call.rng, {user, call.server_creds.pwd, true}));
  EXPECT_EQ(call.lite->selected_remote(), kClientAddr2);
  EXPECT_TRUE(call.lite->is_from_selected(kClientAddr2));
  EXPECT_FALSE(call.lite->is_from_selected(kClientAddr));
  EXPECT_TRUE(call.lite->is_validated(kClientAddr));  // still a remembered pair
  auto ev = call.lite->poll_event();
  ASSERT_TRUE(ev);
  EXPECT_EQ(std::get<SelectedPairChanged>(*ev).remote, kClientAddr2);
  EXPECT_FALSE(call.lite->poll_event());

  // Each answer went back to where its check came from.
  int to_new = 0;
  while (auto t = call.lite->poll_transmit()) {
    if (t->to == kClientAddr2) ++to_new;
    auto m = stun::Message::parse(t->data);
    ASSERT_TRUE(m);
    if (m->message_class() == stun::MessageClass::kSuccessResponse) {
      EXPECT_EQ(m->xor_mapped_address(), t->to);
    }
  }
  EXPECT_EQ(to_new, 3);  // 401 + two successes
}

TEST(IceAgents, PairsAreBounded) {
  Call call;
  call.make_client();
  call.run_for(1s);
  const std::string user = call.server_creds.ufrag + ":" + call.client_creds.ufrag;
  for (uint16_t i = 0; i < 20; ++i) {
    call.now += 1ms;
    call.lite->handle_stun(call.now, SocketAddr::v4({10, 0, 0, 1}, uint16_t(1000 + i)),
                           make_check(*call.rng, {user, call.server_creds.pwd}));
  }
  EXPECT_EQ(call.lite->pair_count(), kMaxPairs);
  EXPECT_TRUE(call.lite->is_validated(kClientAddr));  // the selected pair is never evicted
  EXPECT_TRUE(call.lite->is_validated(SocketAddr::v4({10, 0, 0, 1}, 1019)));
  EXPECT_FALSE(call.lite->is_validated(SocketAddr::v4({10, 0, 0, 1}, 1000)));
  // The output queue is bounded too.
  EXPECT_GT(call.lite->stats().transmits_dropped, 0u);
}

TEST(IceAgents, LiteErrorResponsesAndDrops) {
  Call call;
  LiteAgent& lite = *call.lite;
  const std::string user = call.server_creds.ufrag + ":" + call.client_creds.ufrag;
  const std::string& pwd = call.server_creds.pwd;
  auto next_error = [&]() -> std::optional<uint16_t> {
    auto t = lite.poll_transmit();
    if (!t) return std::nullopt;
    return error_code_of(t->data);
  };

  CheckSpec no_mi{user, pwd};
  no_mi.integrity = false;
  lite.handle_stun(call.now, kClientAddr, make_check(*call.rng, no_mi));
  EXPECT_EQ(next_error(), stun::error::kBadRequest);

  CheckSpec no_user{"", pwd};
  lite.handle_stun(call.now, kClientAddr, make_check(*call.rng, no_user));
  EXPECT_EQ(next_error(), stun::error::kBadRequest);

  CheckSpec controlled{user, pwd};
  controlled.controlled = true;
  lite.handle_stun(call.now, kClientAddr, make_check(*call.rng, controlled));
  auto t = lite.poll_transmit();
  ASSERT_TRUE(t);
  EXPECT_EQ(error_code_of(t->data), stun::error::kRoleConflict);
  auto m = stun::Message::parse(t->data);
  ASSERT_TRUE(m);
  EXPECT_TRUE(stun::verify_message_integrity(*m, pwd));  // authenticated request, signed error

  CheckSpec unknown{user, pwd};
  unknown.extra_attribute = 0x0031;
  lite.handle_stun(call.now, kClientAddr, make_check(*call.rng, unknown));
  auto t420 = lite.poll_transmit();
  ASSERT_TRUE(t420);
  EXPECT_EQ(error_code_of(t420->data), stun::error::kUnknownAttribute);
  auto m420 = stun::Message::parse(t420->data);
  ASSERT_TRUE(m420);
  EXPECT_EQ(util::load_be16(m420->find(stun::attr::kUnknownAttributes)->data()), 0x0031);

  // Dropped silently: bad fingerprint, garbage, responses, indications.
  Bytes bad_fp = make_check(*call.rng, {user, pwd});
  bad_fp.back() ^= 1;
  lite.handle_stun(call.now, kClientAddr, bad_fp);
  lite.handle_stun(call.now, kClientAddr, Bytes{0, 1, 0, 0, 1, 2, 3});
  std::array<uint8_t, 64> buf{};
  stun::MessageBuilder ind(buf, stun::MessageClass::kIndication, stun::Method::kBinding, stun::TransactionId{});
  ind.add_fingerprint();
  lite.handle_stun(call.now, kClientAddr, ByteView(buf).first(*ind.finish()));
  stun::MessageBuilder resp(buf, stun::MessageClass::kSuccessResponse, stun::Method::kBinding, stun::TransactionId{});
  lite.handle_stun(call.now, kClientAddr, ByteView(buf).first(*resp.finish()));
  EXPECT_FALSE(lite.poll_transmit());

  const auto& s = lite.stats();
  EXPECT_EQ(s.bad_request, 2u);
  EXPECT_EQ(s.role_conflicts, 1u);
  EXPECT_EQ(s.unknown_attributes, 1u);
  EXPECT_EQ(s.bad_fingerprint, 1u);
  EXPECT_EQ(s.malformed, 1u);
  EXPECT_EQ(s.indications, 1u);
  EXPECT_EQ(s.ignored, 1u);
  EXPECT_EQ(s.requests_ok, 0u);
  EXPECT_EQ(lite.state(), State::kNew);
  EXPECT_FALSE(lite.is_validated(kClientAddr));
}

TEST(IceAgents, ValidCheckWithoutNominationIsCheckingNotConnected) {
  Call call;
  const std::string user = call.server_creds.ufrag + ":" + call.client_creds.ufrag;
  call.lite->handle_stun(call.now, kClientAddr, make_check(*call.rng, {user, call.server_creds.pwd}));
  EXPECT_EQ(call.lite->state(), State::kChecking);
  EXPECT_TRUE(call.lite->is_validated(kClientAddr));
  EXPECT_FALSE(call.lite->is_from_selected(kClientAddr));
  EXPECT_FALSE(call.lite->poll_event());
  EXPECT_EQ(call.lite->poll_timeout(), util::kNever);
}

TEST(IceAgents, ClientPicksReachableCandidate) {
  Call call;
  call.make_client();
  const SocketAddr dead = *SocketAddr::parse("203.0.113.1:9");
  // Higher priority but unreachable: checked first, then the reachable one.
  ASSERT_TRUE(call.client->add_remote_candidate(dead, candidate_priority(CandidateType::kHost, 65535) + 1));
  EXPECT_FALSE(call.client->add_remote_candidate(dead, 1));  // duplicate
  call.run_for(2s);
  EXPECT_EQ(call.client->selected_remote(), kServerAddr);
  EXPECT_EQ(call.lite->selected_remote(), kClientAddr);
  EXPECT_GE(call.client->stats().checks_sent, 2u);
  EXPECT_FALSE(call.client->add_remote_candidate(*SocketAddr::parse("203.0.113.2:9"), 1));  // already connected
  // The dead candidate's retransmissions stopped once connected.
  const int up = call.sent_up;
  call.run_for(3s);
  EXPECT_EQ(call.sent_up, up);
}

TEST(IceAgents, ClientRejectsForgedAndMisroutedResponses) {
  Call call;
  call.make_client();
  call.client->handle_timeout(call.now);
  auto req = call.client->poll_transmit();
  ASSERT_TRUE(req);
  auto req_msg = stun::Message::parse(req->data);
  ASSERT_TRUE(req_msg);
  EXPECT_EQ(req_msg->username(), call.server_creds.ufrag + ":" + call.client_creds.ufrag);
  EXPECT_TRUE(req_msg->use_candidate());
  EXPECT_EQ(req_msg->ice_controlling(), call.config.tie_breaker);
  EXPECT_TRUE(stun::verify_message_integrity(*req_msg, call.server_creds.pwd));
  EXPECT_TRUE(stun::verify_fingerprint(*req_msg));

  auto response = [&](std::string_view pwd) {
    std::array<uint8_t, 128> buf{};
    stun::MessageBuilder b(buf, stun::MessageClass::kSuccessResponse, stun::Method::kBinding,
                           req_msg->transaction_id());
    b.add_xor_mapped_address(kClientAddr).add_message_integrity(pwd).add_fingerprint();
    return Bytes(buf.begin(), buf.begin() + std::ptrdiff_t(*b.finish()));
  };
  call.client->handle_stun(call.now, kServerAddr, response("forged-forged-forged-forged"));
  EXPECT_EQ(call.client->stats().bad_integrity, 1u);
  call.client->handle_stun(call.now, kClientAddr2, response(call.server_creds.pwd));
  EXPECT_EQ(call.client->stats().unmatched, 1u);
  EXPECT_EQ(call.client->state(), State::kChecking);
  call.client->handle_stun(call.now, kServerAddr, response(call.server_creds.pwd));
  EXPECT_EQ(call.client->state(), State::kConnected);
  // A replay of the same response matches nothing any more.
  call.client->handle_stun(call.now, kServerAddr, response(call.server_creds.pwd));
  EXPECT_EQ(call.client->stats().unmatched, 2u);
}

TEST(IceAgents, RetransmissionScheduleDoubles) {
  Call call;
  call.make_client();
  call.drop_up = [](const Transmit&) { return true; };
  std::vector<Timestamp> sends;
  call.drop_up = [&](const Transmit&) {
    sends.push_back(call.now);
    return true;
  };
  const Timestamp start = call.now;
  call.run_for(20s);
  ASSERT_EQ(sends.size(), size_t(kMaxRequestAttempts));
  EXPECT_EQ(sends[0], start);
  EXPECT_EQ(sends[1] - sends[0], 100ms);
  EXPECT_EQ(sends[2] - sends[1], 200ms);
  EXPECT_EQ(sends[6] - sends[5], 3200ms);
  EXPECT_EQ(call.client->state(), State::kFailed);
  EXPECT_EQ(call.client->poll_timeout(), util::kNever);
}

}  // namespace
}  // namespace sb::ice
