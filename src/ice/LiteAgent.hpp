#pragma once
// ICE-lite agent: the server side of ICE (RFC 8445 §2.5, §7.3) with consent
// freshness (RFC 7675). It never sends checks; it answers valid Binding requests,
// remembers which remote addresses proved they know our password, follows the
// controlling peer's nomination (USE-CANDIDATE), and declares the peer gone when
// the selected pair sees no valid request for kConsentTimeout.
//
// Sans-IO: feed handle_stun(now, from, bytes) and handle_timeout(now); pull
// poll_transmit() / poll_event(); sleep until poll_timeout().
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ice/Constants.hpp"
#include "ice/Credentials.hpp"
#include "ice/Output.hpp"
#include "stun/Message.hpp"
#include "util/Bytes.hpp"
#include "util/SocketAddr.hpp"
#include "util/Time.hpp"

namespace sb::ice {

class LiteAgent {
 public:
  struct Stats {
    uint64_t requests_ok = 0;         ///< valid Binding requests answered with success
    uint64_t nominations = 0;         ///< valid requests carrying USE-CANDIDATE
    uint64_t indications = 0;         ///< Binding indications (keep-alives), no answer
    uint64_t malformed = 0;           ///< not a STUN message we can parse
    uint64_t bad_fingerprint = 0;     ///< dropped
    uint64_t bad_username = 0;        ///< USERNAME not `<local ufrag>:<remote ufrag>`: dropped
    uint64_t bad_integrity = 0;       ///< answered 401
    uint64_t bad_request = 0;         ///< no USERNAME or MESSAGE-INTEGRITY: answered 400
    uint64_t unknown_attributes = 0;  ///< answered 420
    uint64_t role_conflicts = 0;      ///< peer also controlled: answered 487
    uint64_t ignored = 0;             ///< responses, other methods, traffic after failure
    uint64_t transmits_dropped = 0;   ///< output queue full
    uint64_t events_dropped = 0;
  };

  /// `local` must be valid(); generate it with Credentials::generate().
  explicit LiteAgent(Credentials local);

  // ---- getters
  const std::string& local_ufrag() const { return local_.ufrag; }
  const std::string& local_pwd() const { return local_.pwd; }
  State state() const { return state_; }
  /// Remote address of the nominated pair while connected.
  std::optional<util::SocketAddr> selected_remote() const;
  /// True if `addr` is the selected pair's remote address (and consent holds).
  bool is_from_selected(const util::SocketAddr& addr) const;
  /// True if `addr` sent a valid check recently (one of the remembered pairs). Use
  /// this to accept DTLS/SRTP from a pair that is validated but not yet nominated.
  bool is_validated(const util::SocketAddr& addr) const;
  size_t pair_count() const { return pairs_.size(); }
  const Stats& stats() const { return stats_; }

  // ---- mutators
  /// May arrive after the first checks: until then the remote half of USERNAME is
  /// not checked (integrity with our password still is).
  void set_remote_credentials(std::string ufrag, std::string pwd);

  // ---- input
  /// One datagram that the demuxer classified as STUN (RFC 7983), received from `from`.
  void handle_stun(util::Timestamp now, const util::SocketAddr& from, util::ByteView packet);
  void handle_timeout(util::Timestamp now);

  // ---- output
  std::optional<Transmit> poll_transmit();
  std::optional<Event> poll_event();
  /// Next time handle_timeout() must be called (kNever if none).
  util::Timestamp poll_timeout() const;

 private:
  struct Pair {
    util::SocketAddr remote;
    util::Timestamp last_valid_check;
    uint32_t remote_priority = 0;
  };

  void handle_request(util::Timestamp now, const util::SocketAddr& from, const stun::Message& req);
  bool username_matches(std::string_view username) const;
  Pair& remember_pair(util::Timestamp now, const util::SocketAddr& from, uint32_t priority);
  void nominate(util::Timestamp now, const util::SocketAddr& from);
  void send_success(const util::SocketAddr& to, const stun::Message& req);
  void send_error(const util::SocketAddr& to, const stun::Message& req, uint16_t code, std::string_view reason,
                  bool authenticated, std::optional<uint16_t> unknown_attribute = std::nullopt);
  void queue_transmit(const util::SocketAddr& to, util::ByteView data);
  void emit(Event e);

  Credentials local_;
  std::string remote_ufrag_;  // empty until known
  std::string remote_pwd_;    // kept for completeness: a lite agent never signs with it
  State state_ = State::kNew;
  std::vector<Pair> pairs_;   // at most kMaxPairs, one per remote address
  std::optional<util::SocketAddr> selected_;
  util::Timestamp consent_expires_ = util::kNever;
  std::deque<Transmit> transmits_;
  std::deque<Event> events_;
  Stats stats_;
};

}  // namespace sb::ice
