#include "rtc/Transport.hpp"

#include "rtp/Types.hpp"
#include "util/Log.hpp"

namespace sb::rtc {

namespace {
const auto& log() {
  static auto l = util::logger("rtc");
  return l;
}
/// Control datagrams queued between flushes (a DTLS flight is a handful).
constexpr size_t kMaxControlQueue = 64;
constexpr size_t kMaxEvents = 16;

// RFC 7983 §7: the first byte tells the protocol apart.
bool is_stun_byte(uint8_t b) { return b <= 3; }
bool is_dtls_byte(uint8_t b) { return b >= 20 && b <= 63; }
bool is_rtp_byte(uint8_t b) { return b >= 128 && b <= 191; }
}  // namespace

const char* to_string(Transport::State s) {
  switch (s) {
    case Transport::State::kNew: return "new";
    case Transport::State::kChecking: return "checking";
    case Transport::State::kHandshaking: return "handshaking";
    case Transport::State::kConnected: return "connected";
    case Transport::State::kFailed: return "failed";
    case Transport::State::kClosed: return "closed";
  }
  return "?";
}

Transport::Transport(std::shared_ptr<const dtls::Certificate> certificate, dtls::SessionConfig dtls_config)
    : certificate_(std::move(certificate)), dtls_config_(std::move(dtls_config)) {}

Transport::~Transport() = default;

std::unique_ptr<Transport> Transport::make_server(ice::Credentials local,
                                                  std::shared_ptr<const dtls::Certificate> certificate,
                                                  dtls::SessionConfig dtls_config) {
  std::unique_ptr<Transport> t(new Transport(std::move(certificate), std::move(dtls_config)));
  t->ice_.emplace<ice::LiteAgent>(std::move(local));
  return t;
}

std::unique_ptr<Transport> Transport::make_client(ice::ClientAgentConfig ice_config, util::Random& rng,
                                                  std::shared_ptr<const dtls::Certificate> certificate,
                                                  RemoteParameters remote, dtls::SessionConfig dtls_config) {
  std::unique_ptr<Transport> t(new Transport(std::move(certificate), std::move(dtls_config)));
  ice_config.remote = {remote.ufrag, remote.pwd};
  t->ice_.emplace<ice::ClientAgent>(std::move(ice_config), rng);
  t->dtls_ = std::make_unique<dtls::Session>(t->certificate_, remote.local_dtls_role, remote.fingerprint,
                                             t->dtls_config_);
  t->remote_ = std::move(remote);
  t->state_ = State::kChecking;
  return t;
}

const std::string& Transport::local_ufrag() const {
  if (auto* c = client_agent()) return c->local_ufrag();
  return lite_agent()->local_ufrag();
}

const std::string& Transport::local_pwd() const {
  if (auto* c = client_agent()) return c->local_pwd();
  return lite_agent()->local_pwd();
}

const ice::LiteAgent* Transport::lite_agent() const { return std::get_if<ice::LiteAgent>(&ice_); }
const ice::ClientAgent* Transport::client_agent() const { return std::get_if<ice::ClientAgent>(&ice_); }

std::optional<util::SocketAddr> Transport::remote_address() const { return selected_; }

util::Result<void> Transport::set_remote_parameters(const RemoteParameters& remote) {
  if (remote_) {
    if (remote.ufrag != remote_->ufrag || remote.pwd != remote_->pwd)
      return util::make_error("ICE restart is not supported: the remote ice-ufrag/ice-pwd changed");
    if (remote.fingerprint != remote_->fingerprint)
      return util::make_error("the remote DTLS fingerprint changed during the session");
    return {};
  }
  if (auto* lite = std::get_if<ice::LiteAgent>(&ice_)) lite->set_remote_credentials(remote.ufrag, remote.pwd);
  dtls_ = std::make_unique<dtls::Session>(certificate_, remote.local_dtls_role, remote.fingerprint, dtls_config_);
  remote_ = remote;
  return {};
}

void Transport::add_remote_candidate(const util::SocketAddr& addr, uint32_t priority) {
  if (auto* c = std::get_if<ice::ClientAgent>(&ice_)) c->add_remote_candidate(addr, priority);
}

void Transport::close(util::Timestamp now) {
  if (dtls_ && state_ == State::kConnected) {
    dtls_->close(now);
    pump_dtls(now);
  }
  if (state_ != State::kFailed) state_ = State::kClosed;
}

bool Transport::source_allowed(const util::SocketAddr& from) const {
  // Only addresses that proved knowledge of the ICE password may speak DTLS or
  // SRTP (RFC 8445 §7.3.1.4; RFC 8826 §4.2 consent).
  // The selected pair (kept inline in the agent) is checked first: it is where
  // nearly every packet comes from, and the list of pairs is another cache miss.
  if (auto* lite = std::get_if<ice::LiteAgent>(&ice_)) return lite->is_from_selected(from) || lite->is_validated(from);
  return selected_ && *selected_ == from;
}

Transport::Received Transport::handle_datagram(util::Timestamp now, const util::SocketAddr& from,
                                               util::MutableBytes data) {
  ++stats_.datagrams_in;
  if (data.empty() || state_ == State::kFailed || state_ == State::kClosed) return {};
  uint8_t b = data[0];
  if (is_stun_byte(b)) {
    ++stats_.stun_in;
    std::visit(
        [&](auto& agent) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(agent)>, std::monostate>)
            agent.handle_stun(now, from, data);
        },
        ice_);
    pump_ice(now);
    return {};
  }
  if (is_dtls_byte(b)) {
    if (!source_allowed(from)) {
      ++stats_.dropped_unverified_source;
      return {};
    }
    if (!dtls_) {
      ++stats_.dropped_not_ready;
      return {};
    }
    ++stats_.dtls_in;
    dtls_from_ = from;
    dtls_->handle_datagram(now, data);
    pump_dtls(now);
    return {};
  }
  if (is_rtp_byte(b)) {
    if (!source_allowed(from)) {
      ++stats_.dropped_unverified_source;
      return {};
    }
    if (!srtp_) {
      ++stats_.dropped_not_ready;
      return {};
    }
    if (rtp::is_rtcp(data)) {
      auto n = srtp_->unprotect_rtcp(data, data.size());
      if (!n) {
        ++stats_.dropped_srtp;
        return {};
      }
      ++stats_.rtcp_in;
      on_peer_finished();
      return {Received::Kind::kRtcp, data.first(*n)};
    }
    auto n = srtp_->unprotect_rtp(data, data.size());
    if (!n) {
      ++stats_.dropped_srtp;
      return {};
    }
    ++stats_.rtp_in;
    stats_.rtp_bytes_in += *n;
    on_peer_finished();
    return {Received::Kind::kRtp, data.first(*n)};
  }
  ++stats_.dropped_unknown_kind;
  return {};
}

void Transport::handle_timeout(util::Timestamp now) {
  if (state_ == State::kFailed || state_ == State::kClosed) return;
  std::visit(
      [&](auto& agent) {
        if constexpr (!std::is_same_v<std::decay_t<decltype(agent)>, std::monostate>) agent.handle_timeout(now);
      },
      ice_);
  pump_ice(now);
  if (dtls_ && state_ != State::kFailed) {
    dtls_->handle_timeout(now);
    pump_dtls(now);
  }
  if (state_ == State::kHandshaking && now >= handshake_deadline_)
    fail("DTLS handshake did not complete within " + std::to_string(util::to_millis(kHandshakeTimeout) / 1000) +
         " s of ICE connecting");
}

util::Timestamp Transport::poll_timeout() const {
  if (state_ == State::kFailed || state_ == State::kClosed) return util::kNever;
  util::Timestamp t = std::visit(
      [](const auto& agent) -> util::Timestamp {
        if constexpr (std::is_same_v<std::decay_t<decltype(agent)>, std::monostate>) return util::kNever;
        else return agent.poll_timeout();
      },
      ice_);
  // A finished handshake has no timer left: skip the call on the hot path.
  if (dtls_ && state_ != State::kConnected) t = util::earliest(t, dtls_->poll_timeout());
  if (state_ == State::kHandshaking) t = util::earliest(t, handshake_deadline_);
  return t;
}

void Transport::pump_ice(util::Timestamp now) {
  auto drain = [&](auto& agent) {
    while (auto tx = agent.poll_transmit()) {
      if (control_out_.size() < kMaxControlQueue) control_out_.emplace_back(tx->to, std::move(tx->data));
    }
    while (auto ev = agent.poll_event()) {
      if (auto* c = std::get_if<ice::Connected>(&*ev)) {
        selected_ = c->remote;
        log()->debug("ICE {} connected via {}", local_ufrag(), c->remote.to_string());
        emit(IceConnected{c->remote});
        if (state_ == State::kNew || state_ == State::kChecking) {
          state_ = State::kHandshaking;
          handshake_deadline_ = now + kHandshakeTimeout;
        }
        start_dtls(now);
      } else if (auto* s = std::get_if<ice::SelectedPairChanged>(&*ev)) {
        if (selected_ && *selected_ != s->remote)
          log()->info("ICE {} follows the peer to {}", local_ufrag(), s->remote.to_string());
        selected_ = s->remote;
      } else if (std::holds_alternative<ice::ConsentExpired>(*ev)) {
        fail("ICE consent expired (no valid check for 30 s)");
      } else if (std::holds_alternative<ice::ChecksFailed>(*ev)) {
        fail("ICE connectivity checks failed");
      }
    }
  };
  std::visit(
      [&](auto& agent) {
        if constexpr (!std::is_same_v<std::decay_t<decltype(agent)>, std::monostate>) drain(agent);
      },
      ice_);
  if (state_ == State::kNew && std::visit(
                                   [](const auto& agent) {
                                     if constexpr (std::is_same_v<std::decay_t<decltype(agent)>, std::monostate>)
                                       return false;
                                     else return agent.state() == ice::State::kChecking;
                                   },
                                   ice_))
    state_ = State::kChecking;
}

void Transport::start_dtls(util::Timestamp now) {
  if (!dtls_ || dtls_->role() != dtls::Role::kClient || dtls_->state() != dtls::Session::State::kNew) return;
  dtls_->start(now);
  pump_dtls(now);
}

void Transport::pump_dtls(util::Timestamp now) {
  (void)now;
  if (!dtls_) return;
  while (auto d = dtls_->poll_transmit()) {
    auto to = selected_ ? selected_ : dtls_from_;
    if (!to) continue;  // nowhere to send yet; DTLS retransmits later
    if (control_out_.size() < kMaxControlQueue) control_out_.emplace_back(*to, std::move(*d));
  }
  while (auto ev = dtls_->poll_event()) {
    if (auto* c = std::get_if<dtls::Connected>(&*ev)) {
      auto s = srtp::Session::create(c->profile, c->local, c->remote);
      if (!s) {
        fail("SRTP setup failed: " + s.error());
        return;
      }
      srtp_.emplace(std::move(s.value()));
      // The keys are out: the OpenSSL association is only memory from here on
      // (tens of KiB, held by every participant joining at once).
      dtls_->release_association();
      state_ = State::kConnected;
      log()->info("transport {} connected ({})", local_ufrag(), srtp::to_string(c->profile));
      emit(TransportConnected{c->profile});
    } else if (auto* f = std::get_if<dtls::Failed>(&*ev)) {
      fail("DTLS failed: " + f->reason);
      return;
    } else if (std::holds_alternative<dtls::Closed>(*ev)) {
      state_ = State::kClosed;
      emit(TransportClosed{});
    }
  }
}

void Transport::on_peer_finished() {
  // Authenticated SRTP from the peer proves it finished the handshake (it only
  // has keys after our Finished), so nothing will need our final flight again.
  if (peer_finished_ || !dtls_) return;
  dtls_->forget_final_flight();
  peer_finished_ = true;
}

void Transport::fail(std::string reason) {
  if (state_ == State::kFailed) return;
  log()->info("transport {} failed: {}", local_ufrag(), reason);
  state_ = State::kFailed;
  failure_ = reason;
  emit(TransportFailed{std::move(reason)});
}

void Transport::emit(TransportEvent e) {
  if (events_.size() < kMaxEvents) events_.push_back(std::move(e));
}

void Transport::flush(util::DatagramSink& out) {
  while (!control_out_.empty()) {
    auto& [to, data] = control_out_.front();
    out.send(to, data);
    control_out_.pop_front();
  }
}

std::optional<TransportEvent> Transport::poll_event() {
  if (events_.empty()) return std::nullopt;
  auto e = std::move(events_.front());
  events_.pop_front();
  return e;
}

bool Transport::send_rtp_in_place(util::DatagramSink& out, util::MutableBytes slot, size_t len) {
  if (state_ != State::kConnected || !selected_) {
    ++stats_.dropped_send;
    return false;
  }
  return commit_rtp(out, srtp_->protect_rtp(slot, len));
}

bool Transport::send_rtp_with_payload(util::DatagramSink& out, util::MutableBytes slot, size_t header_len,
                                      util::ByteView payload) {
  if (state_ != State::kConnected || !selected_) {
    ++stats_.dropped_send;
    return false;
  }
  return commit_rtp(out, srtp_->protect_rtp(slot, header_len, payload));
}

bool Transport::commit_rtp(util::DatagramSink& out, std::optional<size_t> n) {
  if (!n) {
    ++stats_.dropped_send;
    return false;
  }
  ++stats_.rtp_out;
  stats_.rtp_bytes_out += *n;
  out.commit(*selected_, *n);
  return true;
}

bool Transport::send_rtcp_in_place(util::DatagramSink& out, util::MutableBytes slot, size_t len) {
  if (state_ != State::kConnected || !selected_) {
    ++stats_.dropped_send;
    return false;
  }
  auto n = srtp_->protect_rtcp(slot, len);
  if (!n) {
    ++stats_.dropped_send;
    return false;
  }
  ++stats_.rtcp_out;
  out.commit(*selected_, *n);
  return true;
}

bool Transport::send_rtp(util::DatagramSink& out, util::ByteView rtp) {
  if (state_ != State::kConnected || rtp.size() + srtp::Session::kMaxTrailer > util::kMaxDatagram) {
    ++stats_.dropped_send;
    return false;
  }
  auto slot = out.reserve();
  std::copy(rtp.begin(), rtp.end(), slot.begin());
  return send_rtp_in_place(out, slot, rtp.size());
}

bool Transport::send_rtcp(util::DatagramSink& out, util::ByteView rtcp) {
  if (state_ != State::kConnected || rtcp.size() + srtp::Session::kMaxTrailer > util::kMaxDatagram) {
    ++stats_.dropped_send;
    return false;
  }
  auto slot = out.reserve();
  std::copy(rtcp.begin(), rtcp.end(), slot.begin());
  return send_rtcp_in_place(out, slot, rtcp.size());
}

}  // namespace sb::rtc
