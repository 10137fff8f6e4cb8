#include "ice/ClientAgent.hpp"

#include <algorithm>
#include <array>

#include "stun/Integrity.hpp"
#include "stun/MessageBuilder.hpp"
#include "util/Log.hpp"

namespace sb::ice {

namespace {

const std::shared_ptr<spdlog::logger>& ice_log() {
  static const auto l = util::logger("ice");
  return l;
}

}  // namespace

ClientAgent::ClientAgent(ClientAgentConfig config, util::Random& rng) : config_(std::move(config)), rng_(rng) {
  checks_.reserve(kMaxRemoteCandidates);
}

std::optional<util::SocketAddr> ClientAgent::selected_remote() const {
  if (state_ != State::kConnected) return std::nullopt;
  return selected_;
}

bool ClientAgent::add_remote_candidate(const util::SocketAddr& addr, uint32_t priority) {
  if (addr.empty() || selected_ || checks_.size() >= kMaxRemoteCandidates) return false;
  if (std::any_of(checks_.begin(), checks_.end(), [&](const Check& c) { return c.remote == addr; })) return false;
  // Keep the list ordered by priority so checks go out best first (RFC 8445 §6.1.2.6).
  auto pos = std::find_if(checks_.begin(), checks_.end(), [&](const Check& c) { return c.priority < priority; });
  Check c;
  c.remote = addr;
  c.priority = priority;
  checks_.insert(pos, c);
  if (state_ == State::kFailed) state_ = State::kChecking;  // a late trickled candidate revives the checks
  return true;
}

void ClientAgent::send_request(const util::SocketAddr& to, const stun::TransactionId& tid, bool nominate) {
  // RFC 8445 §7.1.1-§7.1.3 and §7.2.2: USERNAME "<remote>:<local>", signed with
  // the remote password, PRIORITY, our role with its tie-breaker, FINGERPRINT.
  std::array<uint8_t, stun::kMaxMessageSize> buf{};
  std::array<char, 2 * 256 + 1> user{};
  const size_t ulen = config_.remote.ufrag.size() + 1 + config_.local.ufrag.size();
  if (ulen > user.size()) return;
  std::copy(config_.remote.ufrag.begin(), config_.remote.ufrag.end(), user.begin());
  user[config_.remote.ufrag.size()] = ':';
  std::copy(config_.local.ufrag.begin(), config_.local.ufrag.end(), user.begin() + ptrdiff_t(config_.remote.ufrag.size() + 1));

  stun::MessageBuilder b(buf, stun::MessageClass::kRequest, stun::Method::kBinding, tid);
  b.add_username(std::string_view(user.data(), ulen)).add_priority(config_.priority).add_ice_controlling(config_.tie_breaker);
  if (nominate) b.add_use_candidate();
  b.add_message_integrity(config_.remote.pwd).add_fingerprint();
  if (auto n = b.finish()) queue_transmit(to, util::ByteView(buf).first(*n));
}

void ClientAgent::start_check(util::Timestamp now, Check& c) {
  c.status = CheckStatus::kInProgress;
  c.tid = stun::TransactionId::random(rng_);
  c.attempts = 0;
  c.rto = kInitialRto;
  state_ = State::kChecking;
  transmit_check(now, c);
}

void ClientAgent::transmit_check(util::Timestamp now, Check& c) {
  if (c.attempts >= kMaxRequestAttempts) {
    if (ice_log()->should_log(spdlog::level::debug)) ice_log()->debug("check to {} timed out", c.remote.to_string());
    fail_check(c);
    return;
  }
  // Retransmissions reuse the transaction id, so the same bytes go out again
  // (RFC 8489 §6.2.1).
  send_request(c.remote, c.tid, true);
  if (c.attempts == 0) ++stats_.checks_sent;
  else ++stats_.retransmissions;
  ++c.attempts;
  if (c.attempts < kMaxRequestAttempts) {
    c.next = now + c.rto;
    c.rto *= 2;
  } else {
    c.next = now + kInitialRto * kLastWaitFactor;  // Rm * RTO, then give up
  }
}

void ClientAgent::fail_check(Check& c) {
  c.status = CheckStatus::kFailed;
  c.next = util::kNever;
  ++stats_.checks_failed;
}

void ClientAgent::maybe_all_failed() {
  if (state_ != State::kChecking || checks_.empty()) return;
  const bool all_failed =
      std::all_of(checks_.begin(), checks_.end(), [](const Check& c) { return c.status == CheckStatus::kFailed; });
  if (!all_failed) return;
  ice_log()->info("all {} connectivity checks failed", checks_.size());
  state_ = State::kFailed;
  emit(ChecksFailed{});
}

util::Duration ClientAgent::jittered_consent_interval() {
  // RFC 7675 §5.1: uniformly between 0.8 and 1.2 times the interval.
  const auto low = kConsentInterval * 4 / 5;
  const auto span = kConsentInterval * 2 / 5;
  const double u = double(rng_.u32()) / 4294967296.0;
  return low + util::Duration(util::Duration::rep(double(span.count()) * u));
}

void ClientAgent::on_check_success(util::Timestamp now, Check& c, const stun::Message& resp) {
  c.status = CheckStatus::kSucceeded;
  c.next = util::kNever;
  ++stats_.checks_succeeded;
  if (selected_) return;
  // Aggressive nomination: the check carried USE-CANDIDATE, so its success both
  // validates and nominates the pair. The first one wins; stop the others so the
  // lite peer is not left with a different nomination.
  selected_ = c.remote;
  mapped_ = resp.xor_mapped_address();
  for (Check& other : checks_)
    if (other.status == CheckStatus::kWaiting || other.status == CheckStatus::kInProgress) {
      other.status = CheckStatus::kCancelled;
      other.next = util::kNever;
    }
  state_ = State::kConnected;
  consent_expires_ = now + kConsentTimeout;
  next_consent_ = now + jittered_consent_interval();
  ice_log()->info("selected pair -> {}", c.remote.to_string());
  emit(SelectedPairChanged{c.remote});
  emit(Connected{c.remote});
}

void ClientAgent::send_consent(util::Timestamp now) {
  if (!selected_) return;
  ConsentRequest r{stun::TransactionId::random(rng_), *selected_};
  if (consent_pending_.size() >= kMaxOutstandingConsent) consent_pending_.pop_front();
  consent_pending_.push_back(r);
  // Consent checks keep nominating the selected pair (USE-CANDIDATE), as
  // browsers do: a lite peer then follows us when our address changes (NAT
  // rebinding) instead of letting consent lapse on the old one.
  send_request(r.remote, r.tid, true);
  ++stats_.consent_sent;
  next_consent_ = now + jittered_consent_interval();
}

void ClientAgent::handle_stun(util::Timestamp now, const util::SocketAddr& from, util::ByteView packet) {
  auto msg = stun::Message::parse(packet);
  if (!msg) {
    ++stats_.malformed;
    return;
  }
  const auto cls = msg->message_class();
  if (msg->method() != stun::Method::kBinding ||
      (cls != stun::MessageClass::kSuccessResponse && cls != stun::MessageClass::kErrorResponse) ||
      state_ == State::kFailed) {
    ++stats_.ignored;
    return;
  }
  if (msg->fingerprint() && !stun::verify_fingerprint(*msg)) {
    ++stats_.bad_fingerprint;
    return;
  }
  const bool success = cls == stun::MessageClass::kSuccessResponse;
  // Success must be signed with the peer's password (RFC 8445 §7.2.5.2.3). Errors
  // to unauthenticated requests (400/401) cannot be, but a forged signature is
  // still a forgery.
  auto authentic = [&] {
    if (stun::verify_message_integrity(*msg, config_.remote.pwd)) return true;
    if (!success && !msg->message_integrity()) return true;
    ++stats_.bad_integrity;
    return false;
  };
  const stun::TransactionId tid = msg->transaction_id();

  for (auto it = consent_pending_.begin(); it != consent_pending_.end(); ++it) {
    if (it->tid != tid) continue;
    if (it->remote != from) break;
    if (!authentic()) return;
    consent_pending_.erase(it);
    if (success) {
      ++stats_.consent_ok;
      consent_expires_ = now + kConsentTimeout;
    } else {
      ++stats_.error_responses;  // an error grants no consent (RFC 7675 §5.1)
    }
    return;
  }

  for (Check& c : checks_) {
    if (c.status != CheckStatus::kInProgress || c.tid != tid) continue;
    // RFC 8445 §7.2.5.2.1: the response must come from where the check went.
    if (c.remote != from) break;
    if (!authentic()) return;
    if (success) {
      on_check_success(now, c, *msg);
    } else {
      ++stats_.error_responses;
      if (auto ec = msg->error_code(); ice_log()->should_log(spdlog::level::debug))
        ice_log()->debug("check to {} answered {}", from.to_string(), ec ? ec->code : 0);
      fail_check(c);
      maybe_all_failed();
    }
    return;
  }
  ++stats_.unmatched;
}

void ClientAgent::handle_timeout(util::Timestamp now) {
  if (state_ == State::kFailed) return;
  if (state_ == State::kConnected) {
    if (now >= consent_expires_) {
      ice_log()->info("consent expired for {}", selected_ ? selected_->to_string() : "-");
      state_ = State::kFailed;
      next_consent_ = consent_expires_ = util::kNever;
      consent_pending_.clear();
      emit(ConsentExpired{});
      return;
    }
    if (now >= next_consent_) send_consent(now);
    return;
  }
  for (Check& c : checks_)
    if (c.status == CheckStatus::kInProgress && now >= c.next) transmit_check(now, c);
  if (now >= next_pacing_) {
    auto waiting = std::find_if(checks_.begin(), checks_.end(), [](const Check& c) { return c.status == CheckStatus::kWaiting; });
    if (waiting != checks_.end()) {
      start_check(now, *waiting);
      next_pacing_ = now + kCheckPacing;
    }
  }
  maybe_all_failed();
}

util::Timestamp ClientAgent::poll_timeout() const {
  if (state_ == State::kFailed) return util::kNever;
  if (state_ == State::kConnected) return util::earliest(next_consent_, consent_expires_);
  util::Timestamp t = util::kNever;
  for (const Check& c : checks_) {
    if (c.status == CheckStatus::kInProgress) t = util::earliest(t, c.next);
    else if (c.status == CheckStatus::kWaiting) t = util::earliest(t, next_pacing_);
  }
  return t;
}

void ClientAgent::queue_transmit(const util::SocketAddr& to, util::ByteView data) {
  if (transmits_.size() >= kMaxQueuedTransmits) {
    ++stats_.transmits_dropped;
    return;
  }
  transmits_.push_back(Transmit{to, util::Bytes(data.begin(), data.end())});
}

void ClientAgent::emit(Event e) {
  if (events_.size() >= kMaxQueuedEvents) {
    ++stats_.events_dropped;
    return;
  }
  events_.push_back(std::move(e));
}

std::optional<Transmit> ClientAgent::poll_transmit() {
  if (transmits_.empty()) return std::nullopt;
  Transmit t = std::move(transmits_.front());
  transmits_.pop_front();
  return t;
}

std::optional<Event> ClientAgent::poll_event() {
  if (events_.empty()) return std::nullopt;
  Event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

}  // namespace sb::ice
