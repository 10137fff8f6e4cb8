#include "ice/LiteAgent.hpp"

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

LiteAgent::LiteAgent(Credentials local) : local_(std::move(local)) { pairs_.reserve(kMaxPairs); }

void LiteAgent::set_remote_credentials(std::string ufrag, std::string pwd) {
  remote_ufrag_ = std::move(ufrag);
  remote_pwd_ = std::move(pwd);
}

std::optional<util::SocketAddr> LiteAgent::selected_remote() const {
  if (state_ != State::kConnected) return std::nullopt;
  return selected_;
}

bool LiteAgent::is_from_selected(const util::SocketAddr& addr) const {
  return state_ == State::kConnected && selected_ && *selected_ == addr;
}

bool LiteAgent::is_validated(const util::SocketAddr& addr) const {
  if (state_ == State::kFailed) return false;
  return std::any_of(pairs_.begin(), pairs_.end(), [&](const Pair& p) { return p.remote == addr; });
}

void LiteAgent::handle_stun(util::Timestamp now, const util::SocketAddr& from, util::ByteView packet) {
  auto msg = stun::Message::parse(packet);
  if (!msg) {
    ++stats_.malformed;
    return;
  }
  if (state_ == State::kFailed || msg->method() != stun::Method::kBinding) {
    ++stats_.ignored;
    return;
  }
  // RFC 8445 §7.3 / RFC 8489 §14.7: a wrong FINGERPRINT means it is not ours to read.
  if (msg->fingerprint() && !stun::verify_fingerprint(*msg)) {
    ++stats_.bad_fingerprint;
    return;
  }
  switch (msg->message_class()) {
    case stun::MessageClass::kRequest:
      handle_request(now, from, *msg);
      return;
    case stun::MessageClass::kIndication:
      // Keep-alives (RFC 8445 §11). Unauthenticated, so they refresh nothing.
      ++stats_.indications;
      return;
    default:
      // A lite agent sends no requests, so no response can be for us.
      ++stats_.ignored;
      return;
  }
}

bool LiteAgent::username_matches(std::string_view username) const {
  // RFC 8445 §7.2.2: "<receiver's ufrag>:<sender's ufrag>".
  const size_t colon = username.find(':');
  if (colon == std::string_view::npos) return false;
  if (username.substr(0, colon) != local_.ufrag) return false;
  return remote_ufrag_.empty() || username.substr(colon + 1) == remote_ufrag_;
}

void LiteAgent::handle_request(util::Timestamp now, const util::SocketAddr& from, const stun::Message& req) {
  // Authentication first (RFC 8489 §9.1.3), then unknown attributes (§6.3.1), then
  // roles (RFC 8445 §7.3.1.1).
  auto username = req.username();
  if (!username || !req.message_integrity()) {
    ++stats_.bad_request;
    send_error(from, req, stun::error::kBadRequest, "Bad Request", false);
    return;
  }
  if (!username_matches(*username)) {
    // Not meant for this agent (stale ufrag after a restart, or a scan): drop rather
    // than answer an unauthenticated sender.
    ++stats_.bad_username;
    if (ice_log()->should_log(spdlog::level::debug))
      ice_log()->debug("drop check from {}: unknown USERNAME", from.to_string());
    return;
  }
  if (!stun::verify_message_integrity(req, local_.pwd)) {
    ++stats_.bad_integrity;
    if (ice_log()->should_log(spdlog::level::debug))
      ice_log()->debug("check from {} failed MESSAGE-INTEGRITY", from.to_string());
    send_error(from, req, stun::error::kUnauthorized, "Unauthorized", false);
    return;
  }
  if (auto unknown = req.unknown_comprehension_required()) {
    ++stats_.unknown_attributes;
    send_error(from, req, stun::error::kUnknownAttribute, "Unknown Attribute", true, unknown);
    return;
  }
  // A lite agent is always controlled (RFC 8445 §6.1.1). A peer that also thinks
  // it is controlled must switch: tell it so with 487 (§7.3.1.1).
  if (req.ice_controlled() && !req.ice_controlling()) {
    ++stats_.role_conflicts;
    send_error(from, req, stun::error::kRoleConflict, "Role Conflict", true);
    return;
  }

  ++stats_.requests_ok;
  if (state_ == State::kNew) state_ = State::kChecking;
  remember_pair(now, from, req.priority().value_or(0));
  send_success(from, req);
  if (req.use_candidate()) {
    ++stats_.nominations;
    nominate(now, from);
  } else if (state_ == State::kConnected && selected_ && *selected_ == from) {
    // Consent freshness: a valid check on the selected pair (RFC 7675 §5.1).
    consent_expires_ = now + kConsentTimeout;
  }
}

LiteAgent::Pair& LiteAgent::remember_pair(util::Timestamp now, const util::SocketAddr& from, uint32_t priority) {
  auto it = std::find_if(pairs_.begin(), pairs_.end(), [&](const Pair& p) { return p.remote == from; });
  if (it == pairs_.end()) {
    if (pairs_.size() >= kMaxPairs) {
      // Forget the least recently checked pair that is not the selected one.
      auto victim = pairs_.end();
      for (auto p = pairs_.begin(); p != pairs_.end(); ++p) {
        if (selected_ && p->remote == *selected_) continue;
        if (victim == pairs_.end() || p->last_valid_check < victim->last_valid_check) victim = p;
      }
      pairs_.erase(victim);
    }
    pairs_.push_back(Pair{from, now, priority});
    return pairs_.back();
  }
  it->last_valid_check = now;
  if (priority != 0) it->remote_priority = priority;
  return *it;
}

void LiteAgent::nominate(util::Timestamp now, const util::SocketAddr& from) {
  consent_expires_ = now + kConsentTimeout;
  if (selected_ && *selected_ == from && state_ == State::kConnected) return;
  // The controlling agent decides; the latest nomination wins (RFC 8445 §8.1.1).
  // A peer that moved is followed only here, after a fresh authenticated check.
  selected_ = from;
  ice_log()->info("selected pair -> {}", from.to_string());
  emit(SelectedPairChanged{from});
  if (state_ != State::kConnected) {
    state_ = State::kConnected;
    emit(Connected{from});
  }
}

void LiteAgent::handle_timeout(util::Timestamp now) {
  if (state_ == State::kConnected && now >= consent_expires_) {
    ice_log()->info("consent expired for {}", selected_ ? selected_->to_string() : "-");
    state_ = State::kFailed;
    consent_expires_ = util::kNever;
    pairs_.clear();
    emit(ConsentExpired{});
  }
}

util::Timestamp LiteAgent::poll_timeout() const {
  return state_ == State::kConnected ? consent_expires_ : util::kNever;
}

void LiteAgent::send_success(const util::SocketAddr& to, const stun::Message& req) {
  // RFC 8445 §7.3.1.1 / RFC 8489 §9.1.3: XOR-MAPPED-ADDRESS is the source we saw;
  // signed with the same key as the request; FINGERPRINT last (RFC 8445 §7.1).
  std::array<uint8_t, stun::kMaxMessageSize> buf{};
  stun::MessageBuilder b(buf, stun::MessageClass::kSuccessResponse, stun::Method::kBinding, req.transaction_id());
  b.add_xor_mapped_address(to).add_message_integrity(local_.pwd).add_fingerprint();
  if (auto n = b.finish()) queue_transmit(to, util::ByteView(buf).first(*n));
}

void LiteAgent::send_error(const util::SocketAddr& to, const stun::Message& req, uint16_t code,
                           std::string_view reason, bool authenticated, std::optional<uint16_t> unknown_attribute) {
  std::array<uint8_t, stun::kMaxMessageSize> buf{};
  stun::MessageBuilder b(buf, stun::MessageClass::kErrorResponse, stun::Method::kBinding, req.transaction_id());
  b.add_error_code(code, reason);
  if (unknown_attribute) {
    const uint16_t types[] = {*unknown_attribute};
    b.add_unknown_attributes(types);
  }
  // Errors to requests that failed authentication carry no MESSAGE-INTEGRITY
  // (RFC 8489 §9.1.3): we have no key the sender proved to know.
  if (authenticated) b.add_message_integrity(local_.pwd);
  b.add_fingerprint();
  if (auto n = b.finish()) queue_transmit(to, util::ByteView(buf).first(*n));
}

void LiteAgent::queue_transmit(const util::SocketAddr& to, util::ByteView data) {
  if (transmits_.size() >= kMaxQueuedTransmits) {
    ++stats_.transmits_dropped;
    return;
  }
  transmits_.push_back(Transmit{to, util::Bytes(data.begin(), data.end())});
}

void LiteAgent::emit(Event e) {
  if (events_.size() >= kMaxQueuedEvents) {
    ++stats_.events_dropped;
    return;
  }
  events_.push_back(std::move(e));
}

std::optional<Transmit> LiteAgent::poll_transmit() {
  if (transmits_.empty()) return std::nullopt;
  Transmit t = std::move(transmits_.front());
  transmits_.pop_front();
  return t;
}

std::optional<Event> LiteAgent::poll_event() {
  if (events_.empty()) return std::nullopt;
  Event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

}  // namespace sb::ice
