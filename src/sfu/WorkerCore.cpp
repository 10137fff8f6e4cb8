#include "sfu/WorkerCore.hpp"

#include "ice/Candidate.hpp"
#include "ice/Credentials.hpp"
#include "rtp/PacketView.hpp"
#include "stun/Message.hpp"
#include "util/Log.hpp"

namespace sb::sfu {

namespace {
const auto& log() {
  static auto l = util::logger("sfu");
  return l;
}
/// Source addresses remembered per worker; a bound on what ICE checks can make us keep.
constexpr size_t kMaxRoutes = 1 << 20;
}  // namespace

WorkerCore::WorkerCore(WorkerConfig config, std::unique_ptr<util::Random> rng)
    : config_(std::move(config)), rng_(std::move(rng)) {
  uint16_t pref = 65535;
  int foundation = 1;
  for (auto addr : config_.announce) {
    addr.set_port(config_.udp_port);
    auto prio = ice::candidate_priority(ice::CandidateType::kHost, pref--);
    candidates_.push_back(ice::format_host_candidate(std::to_string(foundation++), prio, addr));
    if (default_address_.empty()) default_address_ = addr;
  }
}

WorkerCore::~WorkerCore() = default;

Participant* WorkerCore::find(ConnId conn) {
  auto it = by_conn_.find(conn);
  return it == by_conn_.end() ? nullptr : it->second.participant;
}

void WorkerCore::emit(ConnId conn, decltype(SignalOut::message) m) { signals_.push_back({conn, std::move(m)}); }

void WorkerCore::emit_error(ConnId conn, std::string code, std::string message, std::string event) {
  emit(conn, ErrorOut{std::move(code), std::move(message), std::move(event)});
}

std::optional<SignalOut> WorkerCore::poll_signal() {
  if (signals_.empty()) return std::nullopt;
  auto s = std::move(signals_.front());
  signals_.pop_front();
  return s;
}

void WorkerCore::join(util::Timestamp, ConnId conn, const std::string& room_id, const std::string& self_id) {
  if (by_conn_.contains(conn)) return;
  auto creds = ice::Credentials::generate(*rng_);
  while (by_ufrag_.contains(creds.ufrag)) creds = ice::Credentials::generate(*rng_);
  auto transport = rtc::Transport::make_server(creds, config_.certificate);
  rtc::LocalTransportInfo info{creds.ufrag, creds.pwd, config_.certificate->fingerprint(), candidates_,
                               default_address_};
  auto negotiator = std::make_unique<rtc::Negotiator>(std::move(info), *rng_);
  auto& room = rooms_[room_id];
  if (!room) {
    room = std::make_unique<Room>();
    room->id = room_id;
  }
  auto p = std::make_unique<Participant>(conn, self_id, std::move(transport), std::move(negotiator));
  Participant* raw = p.get();
  room->participants.emplace(conn, std::move(p));
  by_conn_[conn] = {room.get(), raw};
  by_ufrag_[creds.ufrag] = raw;
  log()->debug("conn {}: \"{}\" joined room \"{}\" on this worker (ufrag {})", conn, self_id, room_id, creds.ufrag);
}

void WorkerCore::offer(util::Timestamp, ConnId conn, const std::string& sdp) {
  Participant* p = find(conn);
  if (p == nullptr) return;
  bool first = !p->negotiator().remote_parameters().has_value();
  auto answer = p->negotiator().handle_offer(sdp);
  if (!answer) {
    log()->info("conn {}: offer rejected: {}", conn, answer.error());
    emit_error(conn, "bad-sdp", answer.error(), "offer");
    return;
  }
  if (auto r = p->transport().set_remote_parameters(*p->negotiator().remote_parameters()); !r) {
    emit_error(conn, "negotiation-failed", r.error(), "offer");
    return;
  }
  emit(conn, AnswerOut{std::move(answer.value())});
  if (first) {
    // Trickle our candidates too, as the seed's clients expect (they are also in
    // the SDP). They belong to the BUNDLE transport: the first accepted m-section.
    std::string mid;
    int index = 0;
    const auto& lines = p->negotiator().lines();
    for (size_t i = 0; i < lines.size(); ++i)
      if (!lines[i].rejected) {
        mid = lines[i].mid;
        index = int(i);
        break;
      }
    for (const auto& c : candidates_) emit(conn, CandidateOut{c, mid, index, p->transport().local_ufrag()});
  }
}

void WorkerCore::answer(util::Timestamp, ConnId conn, const std::string&) {
  if (find(conn) == nullptr) return;
  emit_error(conn, "negotiation-failed", "there is no offer from the server to answer", "answer");
}

void WorkerCore::candidate(util::Timestamp, ConnId conn, const std::string& candidate) {
  if (find(conn) == nullptr || candidate.empty()) return;  // empty: end-of-candidates
  // An ICE-lite agent learns addresses from the checks themselves (RFC 8445
  // §2.5); remote candidates are validated for the client's benefit and ignored.
  if (auto c = ice::parse_candidate(candidate); !c)
    emit_error(conn, "bad-candidate", "candidate is malformed: " + c.error(), "ice-candidate");
}

void WorkerCore::leave(util::Timestamp now, ConnId conn) {
  Participant* p = find(conn);
  if (p == nullptr || p->closing) return;
  p->transport().close(now);  // close_notify tells the browser at once
  p->closing = true;
  dead_.push_back(conn);
}

void WorkerCore::remove(ConnId conn) {
  auto it = by_conn_.find(conn);
  if (it == by_conn_.end()) return;
  Room* room = it->second.room;
  Participant* p = it->second.participant;
  by_ufrag_.erase(p->transport().local_ufrag());
  std::erase_if(by_addr_, [p](const auto& kv) { return kv.second == p; });
  by_conn_.erase(it);
  room->participants.erase(conn);
  if (room->participants.empty()) rooms_.erase(room->id);
}

void WorkerCore::learn_address(Participant& p, const util::SocketAddr& from) {
  auto it = by_addr_.find(from);
  if (it != by_addr_.end()) {
    it->second = &p;  // an address now validated by another participant moves to it
    return;
  }
  if (by_addr_.size() < kMaxRoutes) by_addr_.emplace(from, &p);
}

void WorkerCore::handle_datagram(util::Timestamp now, const util::SocketAddr& from, util::MutableBytes data,
                                 util::DatagramSink&) {
  ++stats_.datagrams;
  if (data.empty()) return;
  if (data[0] <= 3) {  // STUN (RFC 7983 §7)
    auto msg = stun::Message::parse(data);
    auto username = msg ? msg->username() : std::nullopt;
    if (!username) {
      ++stats_.dropped_malformed_stun;
      return;
    }
    auto colon = username->find(':');
    auto it = by_ufrag_.find(std::string(username->substr(0, colon)));
    if (it == by_ufrag_.end()) {
      ++stats_.dropped_unknown_ufrag;
      return;
    }
    Participant& p = *it->second;
    p.transport().handle_datagram(now, from, data);
    if (const auto* lite = p.transport().lite_agent(); lite && lite->is_validated(from)) learn_address(p, from);
    drain_events(now, p);
    return;
  }
  auto it = by_addr_.find(from);
  if (it == by_addr_.end()) {
    ++stats_.dropped_unknown_source;
    return;
  }
  Participant& p = *it->second;
  auto rx = p.transport().handle_datagram(now, from, data);
  if (rx.kind != rtc::Transport::Received::Kind::kNone) on_media(now, p, rx);
  drain_events(now, p);
}

void WorkerCore::on_media(util::Timestamp, Participant& p, rtc::Transport::Received rx) {
  if (rx.kind == rtc::Transport::Received::Kind::kRtcp) {
    ++p.stats().rtcp_packets;
    return;
  }
  auto pkt = rtp::PacketView::parse(rx.packet);
  if (!pkt) return;
  ++p.stats().rtp_packets;
}

void WorkerCore::drain_events(util::Timestamp, Participant& p) {
  while (auto ev = p.transport().poll_event()) {
    if (auto* f = std::get_if<rtc::TransportFailed>(&*ev)) {
      if (p.closing) continue;
      bool consent = f->reason.find("consent") != std::string::npos;
      log()->info("conn {}: \"{}\" transport failed: {}", p.conn(), p.self_id(), f->reason);
      emit(p.conn(), ClosedOut{consent ? "ice-timeout" : "transport-failed"});
      p.closing = true;
      dead_.push_back(p.conn());
    } else if (std::holds_alternative<rtc::TransportClosed>(*ev)) {
      if (p.closing) continue;
      emit(p.conn(), ClosedOut{"closed"});
      p.closing = true;
      dead_.push_back(p.conn());
    }
  }
}

void WorkerCore::handle_timeout(util::Timestamp now, util::DatagramSink&) {
  for (auto& [conn, e] : by_conn_) {
    Participant& p = *e.participant;
    if (p.transport().poll_timeout() <= now) {
      p.transport().handle_timeout(now);
      drain_events(now, p);
    }
  }
}

util::Timestamp WorkerCore::poll_timeout() const {
  util::Timestamp t = util::kNever;
  for (const auto& [conn, e] : by_conn_) t = util::earliest(t, e.participant->transport().poll_timeout());
  return t;
}

void WorkerCore::flush(util::Timestamp, util::DatagramSink& out) {
  for (auto& [conn, e] : by_conn_) e.participant->transport().flush(out);
  for (ConnId c : dead_) remove(c);
  dead_.clear();
}

std::vector<ParticipantSnapshot> WorkerCore::snapshot() const {
  std::vector<ParticipantSnapshot> out;
  for (const auto& [conn, e] : by_conn_) {
    const Participant& p = *e.participant;
    ParticipantSnapshot s;
    s.room_id = e.room->id;
    s.self_id = p.self_id();
    s.transport_state = rtc::to_string(p.transport().state());
    if (const auto* srtp = p.transport().srtp()) {
      s.srtp_profile = std::string(srtp::to_string(srtp->profile()));
      s.srtp_auth_failures = srtp->stats().auth_failures;
      s.srtp_replays = srtp->stats().replays;
    }
    if (auto r = p.transport().remote_address()) s.remote = r->to_string();
    s.transport = p.transport().stats();
    s.media = p.stats();
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace sb::sfu
