#include "signal/Coordinator.hpp"

#include <algorithm>

#include "util/Log.hpp"

namespace sb::signal {

namespace {
const auto& log() {
  static auto l = util::logger("signal");
  return l;
}
}  // namespace

void Coordinator::handle_open(ConnId conn) { conns_.try_emplace(conn); }

void Coordinator::handle_text(ConnId conn, std::string_view text) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  Decoded d = decode_client_message(text);
  if (auto* err = std::get_if<ProtocolError>(&d)) {
    log()->info("conn {}: rejected message: {} ({})", conn, err->message, err->code);
    send_error(conn, *err);
    return;
  }
  auto& msg = std::get<ClientMessage>(d);
  Connection& c = it->second;
  if (!std::holds_alternative<JoinRoom>(msg) && !c.joined) {
    send_error(conn, {errc::kNotJoined,
                      std::string(event_name(msg)) + " before joinRoom: join a room first",
                      std::string(event_name(msg))});
    return;
  }
  std::visit(
      [&](auto&& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, JoinRoom>) on_join(conn, c, std::move(m));
        else if constexpr (std::is_same_v<T, LeaveRoom>) on_leave(conn, c, "left", true);
        else if constexpr (std::is_same_v<T, Offer>) on_offer(conn, c, std::move(m));
        else if constexpr (std::is_same_v<T, Answer>) on_answer(conn, c, std::move(m));
        else on_candidate(conn, c, std::move(m));
      },
      std::move(msg));
}

void Coordinator::handle_binary(ConnId conn, size_t size) {
  if (!conns_.contains(conn)) return;
  send_error(conn, {errc::kBinaryFrame,
                    "binary frames are not supported (got " + std::to_string(size) +
                        " bytes); send JSON text frames",
                    ""});
}

void Coordinator::handle_close(ConnId conn) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  if (it->second.joined) on_leave(conn, it->second, "disconnected", false);
  conns_.erase(conn);
}

void Coordinator::shutdown(std::string_view reason) {
  for (auto& [conn, c] : conns_) {
    send(conn, encode_shutdown(reason));
    if (c.joined) media_.leave(*c.joined);
    c.joined.reset();
  }
  rooms_.clear();
  pending_rooms_.clear();
}

void Coordinator::on_join(ConnId conn, Connection& c, JoinRoom m) {
  if (c.joined) {
    send_error(conn, {errc::kAlreadyJoined,
                      "this connection is already in room \"" + c.joined->room_id +
                          "\"; send leaveRoom first or open another connection",
                      "joinRoom"});
    return;
  }
  auto rit = rooms_.find(m.room_id);
  if (rit == rooms_.end() && rooms_.size() >= kMaxRooms) {
    send_error(conn, {errc::kOverloaded, "the server hosts too many rooms", "joinRoom"});
    return;
  }
  if (rit != rooms_.end()) {
    if (rit->second.members.contains(m.self_id)) {
      // Another socket holds this id: it keeps its session (the id is the
      // client's choice, the socket is the identity).
      send_error(conn, {errc::kIdTaken,
                        "self_id \"" + m.self_id + "\" is already in room \"" + m.room_id +
                            "\" on another connection",
                        "joinRoom"});
      return;
    }
    if (rit->second.members.size() >= kMaxParticipantsPerRoom) {
      send_error(conn, {errc::kOverloaded, "room \"" + m.room_id + "\" is full", "joinRoom"});
      return;
    }
  }
  ParticipantKey key{conn, m.room_id, m.self_id};
  if (auto err = media_.join(key)) {
    send_error(conn, *err);
    return;
  }
  Room& room = rooms_[m.room_id];
  std::vector<std::string> others;
  others.reserve(room.members.size());
  for (const auto& [id, other] : room.members) others.push_back(id);
  announce(m.room_id, room, m.self_id, true, {});
  room.members.emplace(m.self_id, Member{conn, room.changes});
  c.joined = std::move(key);
  c.offered = false;
  c.pending_candidates.clear();
  send(conn, encode_room_joined(m.room_id, m.self_id, others));
  log()->info("conn {}: \"{}\" joined room \"{}\" ({} in room)", conn, m.self_id, m.room_id,
              room.members.size());
}

void Coordinator::on_leave(ConnId conn, Connection& c, std::string_view reason, bool tell_self) {
  ParticipantKey key = std::move(*c.joined);
  c.joined.reset();
  c.offered = false;
  c.pending_candidates.clear();
  media_.leave(key);
  if (auto rit = rooms_.find(key.room_id); rit != rooms_.end()) {
    rit->second.members.erase(key.self_id);
    announce(key.room_id, rit->second, key.self_id, false, reason);
    if (rit->second.members.empty()) rooms_.erase(rit);
  }
  if (tell_self) send(conn, encode_room_left(key.room_id));
  log()->info("conn {}: \"{}\" left room \"{}\" ({})", conn, key.self_id, key.room_id, reason);
}

void Coordinator::announce(const std::string& room_id, Room& room, const std::string& self_id, bool joined,
                           std::string_view reason) {
  ++room.changes;
  if (room.members.size() <= kAnnounceEachUpTo && room.pending.empty()) {
    std::string text = joined ? encode_participant_joined(room_id, self_id)
                              : encode_participant_left(room_id, self_id, reason);
    for (const auto& [id, other] : room.members) send(other.conn, text);
    return;
  }
  // Once a batch is open it stays the only channel until flushed, so that
  // every member sees the changes in the order they happened.
  if (room.pending.empty()) pending_rooms_.push_back(room_id);
  room.pending.push_back({room.changes, joined, {self_id, std::string(reason)}});
}

void Coordinator::flush_membership() {
  auto rooms = std::move(pending_rooms_);
  pending_rooms_.clear();
  for (const auto& room_id : rooms) {
    auto rit = rooms_.find(room_id);
    if (rit == rooms_.end()) continue;
    Room& room = rit->second;
    auto changes = std::move(room.pending);
    room.pending.clear();
    if (changes.empty()) continue;
    // What a member hears: the net effect of the changes after its own join
    // (someone who left and came back is in "joined" only), itself excluded.
    auto encode_after = [&](uint64_t since, std::string_view self) {
      std::map<std::string_view, const Change*> last;
      for (const auto& ch : changes)
        if (ch.seq > since && ch.who.self_id != self) last[ch.who.self_id] = &ch;
      std::vector<const Change*> net;
      net.reserve(last.size());
      for (const auto& [id, ch] : last) net.push_back(ch);
      std::sort(net.begin(), net.end(), [](const Change* a, const Change* b) { return a->seq < b->seq; });
      std::vector<std::string> joined;
      std::vector<Departure> left;
      for (const Change* ch : net) {
        if (ch->joined) joined.push_back(ch->who.self_id);
        else left.push_back(ch->who);
      }
      if (joined.empty() && left.empty()) return std::string();
      return encode_participants_changed(room_id, joined, left);
    };
    // Members who were there before the batch began all get the same text.
    const uint64_t first = changes.front().seq;
    std::string common = encode_after(0, {});
    for (const auto& [id, m] : room.members) {
      if (m.joined_at < first) {
        send(m.conn, common);
      } else if (std::string own = encode_after(m.joined_at, id); !own.empty()) {
        send(m.conn, std::move(own));
      }
    }
  }
}

void Coordinator::on_offer(ConnId conn, Connection& c, Offer m) {
  if (auto err = media_.offer(*c.joined, std::move(m.sdp))) {
    send_error(conn, *err);
    return;
  }
  if (!c.offered) {
    c.offered = true;
    // Candidates that raced ahead of the offer belong to it (trickle ICE).
    for (auto& cand : c.pending_candidates)
      if (auto err = media_.candidate(*c.joined, std::move(cand))) send_error(conn, *err);
    c.pending_candidates.clear();
  }
}

void Coordinator::on_answer(ConnId conn, Connection& c, Answer m) {
  if (auto err = media_.answer(*c.joined, std::move(m.sdp))) send_error(conn, *err);
}

void Coordinator::on_candidate(ConnId conn, Connection& c, IceCandidate m) {
  if (!c.offered) {
    if (c.pending_candidates.size() >= kMaxPendingCandidates) {
      send_error(conn, {errc::kBadCandidate,
                        "too many candidates before the offer (limit " +
                            std::to_string(kMaxPendingCandidates) + ")",
                        "ice-candidate"});
      return;
    }
    c.pending_candidates.push_back(std::move(m));
    return;
  }
  if (auto err = media_.candidate(*c.joined, std::move(m))) send_error(conn, *err);
}

void Coordinator::on_media_answer(ConnId conn, std::string sdp) {
  if (conns_.contains(conn)) send(conn, encode_answer(sdp));
}

void Coordinator::on_media_offer(ConnId conn, std::string sdp) {
  if (conns_.contains(conn)) send(conn, encode_offer(sdp));
}

void Coordinator::on_media_candidate(ConnId conn, const IceCandidate& c) {
  if (conns_.contains(conn)) send(conn, encode_candidate(c));
}

void Coordinator::on_media_error(ConnId conn, const ProtocolError& e) {
  if (conns_.contains(conn)) send_error(conn, e);
}

void Coordinator::on_media_closed(ConnId conn, std::string_view reason) {
  auto it = conns_.find(conn);
  if (it == conns_.end() || !it->second.joined) return;
  on_leave(conn, it->second, reason, true);
}

std::optional<Outgoing> Coordinator::poll_output() {
  if (out_.empty()) return std::nullopt;
  Outgoing o = std::move(out_.front());
  out_.pop_front();
  return o;
}

size_t Coordinator::participant_count() const {
  size_t n = 0;
  for (const auto& [id, r] : rooms_) n += r.members.size();
  return n;
}

std::vector<std::string> Coordinator::room_members(std::string_view room_id) const {
  std::vector<std::string> out;
  if (auto it = rooms_.find(std::string(room_id)); it != rooms_.end())
    for (const auto& [id, m] : it->second.members) out.push_back(id);
  return out;
}

void Coordinator::send(ConnId conn, std::string text) { out_.push_back({conn, std::move(text)}); }

void Coordinator::send_error(ConnId conn, const ProtocolError& e) {
  send(conn, encode_error(e.code, e.message, e.event));
}

}  // namespace sb::signal
