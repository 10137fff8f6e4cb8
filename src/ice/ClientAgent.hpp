#pragma once
// A full, controlling ICE agent for the client side (RFC 8445): what our tests and
// the load generator use to connect to the ICE-lite server. It checks every remote
// candidate from one local socket, nominates aggressively (USE-CANDIDATE on every
// check), selects the first pair that succeeds, then keeps consent alive (RFC 7675).
//
// Sans-IO like LiteAgent: handle_stun / handle_timeout in, poll_* out.
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "ice/Constants.hpp"
#include "ice/Credentials.hpp"
#include "ice/Output.hpp"
#include "stun/Message.hpp"
#include "stun/TransactionId.hpp"
#include "util/Bytes.hpp"
#include "util/Random.hpp"
#include "util/SocketAddr.hpp"
#include "util/Time.hpp"

namespace sb::ice {

struct ClientAgentConfig {
  Credentials local;
  Credentials remote;
  /// ICE-CONTROLLING value (RFC 8445 §7.1.3); draw it from util::Random.
  uint64_t tie_breaker = 0;
  /// PRIORITY sent in checks: that of the peer-reflexive candidate the check may
  /// create (RFC 8445 §7.1.1).
  uint32_t priority = (kPeerReflexiveTypePreference << 24) + (65535u << 8) + 255;
};

class ClientAgent {
 public:
  struct Stats {
    uint64_t checks_sent = 0;       ///< first transmissions of connectivity checks
    uint64_t retransmissions = 0;
    uint64_t checks_succeeded = 0;
    uint64_t checks_failed = 0;     ///< timed out or answered with an error
    uint64_t consent_sent = 0;
    uint64_t consent_ok = 0;
    uint64_t error_responses = 0;
    uint64_t bad_integrity = 0;     ///< responses dropped for MESSAGE-INTEGRITY
    uint64_t bad_fingerprint = 0;
    uint64_t unmatched = 0;         ///< unknown transaction or wrong source address
    uint64_t malformed = 0;
    uint64_t ignored = 0;           ///< requests/indications (a lite peer sends none)
    uint64_t transmits_dropped = 0;
    uint64_t events_dropped = 0;
  };

  /// `rng` (transaction ids, consent jitter) must outlive the agent.
  ClientAgent(ClientAgentConfig config, util::Random& rng);

  // ---- getters
  State state() const { return state_; }
  std::optional<util::SocketAddr> selected_remote() const;
  /// Our address as the server saw it (XOR-MAPPED-ADDRESS of the selected check).
  std::optional<util::SocketAddr> mapped_address() const { return mapped_; }
  const std::string& local_ufrag() const { return config_.local.ufrag; }
  const std::string& local_pwd() const { return config_.local.pwd; }
  const Stats& stats() const { return stats_; }

  // ---- mutators
  /// Queues a check to this candidate (sent on the next handle_timeout). False if
  /// already known, the table is full, or the agent already connected or failed
  /// for good.
  bool add_remote_candidate(const util::SocketAddr& addr, uint32_t priority);

  // ---- input
  void handle_stun(util::Timestamp now, const util::SocketAddr& from, util::ByteView packet);
  void handle_timeout(util::Timestamp now);

  // ---- output
  std::optional<Transmit> poll_transmit();
  std::optional<Event> poll_event();
  /// Next deadline; a time in the past (possibly the clock's epoch) means "now".
  util::Timestamp poll_timeout() const;

 private:
  enum class CheckStatus : uint8_t { kWaiting, kInProgress, kSucceeded, kFailed, kCancelled };
  struct Check {
    util::SocketAddr remote;
    uint32_t priority = 0;
    CheckStatus status = CheckStatus::kWaiting;
    stun::TransactionId tid;
    int attempts = 0;
    util::Duration rto = kInitialRto;
    util::Timestamp next = util::kNever;  // retransmission or give-up time
  };
  struct ConsentRequest {
    stun::TransactionId tid;
    util::SocketAddr remote;
  };

  void start_check(util::Timestamp now, Check& c);
  void transmit_check(util::Timestamp now, Check& c);
  void fail_check(Check& c);
  void on_check_success(util::Timestamp now, Check& c, const stun::Message& resp);
  void send_consent(util::Timestamp now);
  void send_request(const util::SocketAddr& to, const stun::TransactionId& tid, bool nominate);
  void maybe_all_failed();
  util::Duration jittered_consent_interval();
  void queue_transmit(const util::SocketAddr& to, util::ByteView data);
  void emit(Event e);

  ClientAgentConfig config_;
  util::Random& rng_;
  State state_ = State::kNew;
  std::vector<Check> checks_;  // at most kMaxRemoteCandidates, highest priority first
  util::Timestamp next_pacing_{};  // epoch: the first check goes out at once
  std::optional<util::SocketAddr> selected_;
  std::optional<util::SocketAddr> mapped_;
  util::Timestamp next_consent_ = util::kNever;
  util::Timestamp consent_expires_ = util::kNever;
  std::deque<ConsentRequest> consent_pending_;  // at most kMaxOutstandingConsent
  std::deque<Transmit> transmits_;
  std::deque<Event> events_;
  Stats stats_;
};

}  // namespace sb::ice
