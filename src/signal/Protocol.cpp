#include "signal/Protocol.hpp"

#include <boost/json.hpp>

namespace sb::signal {

namespace json = boost::json;

namespace {

struct FieldError {
  std::string message;
};

// Reads data.<name> as a string; missing or wrong-typed fields are errors that
// name the field, so a developer knows exactly what to fix.
std::variant<std::string, FieldError> get_string(const json::object& o, std::string_view name,
                                                 std::string_view where) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) return FieldError{std::string(where) + "." + std::string(name) + " is missing"};
  if (!v->is_string())
    return FieldError{std::string(where) + "." + std::string(name) + " must be a string"};
  return std::string(v->get_string());
}

ProtocolError bad(std::string_view event, std::string msg, std::string_view code = errc::kBadMessage) {
  return ProtocolError{code, std::move(msg), std::string(event)};
}

bool has_control_chars(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

Decoded decode_join(const json::object& data, std::string_view ev) {
  auto room = get_string(data, "room_id", "data");
  if (auto* e = std::get_if<FieldError>(&room)) return bad(ev, e->message, errc::kBadRoomId);
  auto self = get_string(data, "self_id", "data");
  if (auto* e = std::get_if<FieldError>(&self)) return bad(ev, e->message, errc::kBadSelfId);
  auto& room_id = std::get<std::string>(room);
  auto& self_id = std::get<std::string>(self);
  if (room_id.empty()) return bad(ev, "data.room_id must not be empty", errc::kBadRoomId);
  if (room_id.size() > kMaxRoomIdLength)
    return bad(ev, "data.room_id is " + std::to_string(room_id.size()) + " bytes; the limit is " +
                       std::to_string(kMaxRoomIdLength),
               errc::kBadRoomId);
  if (has_control_chars(room_id)) return bad(ev, "data.room_id contains control characters", errc::kBadRoomId);
  if (self_id.empty()) return bad(ev, "data.self_id must not be empty", errc::kBadSelfId);
  if (self_id.size() > kMaxSelfIdLength)
    return bad(ev, "data.self_id is " + std::to_string(self_id.size()) + " bytes; the limit is " +
                       std::to_string(kMaxSelfIdLength),
               errc::kBadSelfId);
  if (has_control_chars(self_id)) return bad(ev, "data.self_id contains control characters", errc::kBadSelfId);
  return ClientMessage{JoinRoom{std::move(room_id), std::move(self_id)}};
}

// offer/answer: data.<kind> = {"type": kind, "sdp": "..."}.
std::variant<std::string, ProtocolError> decode_description(const json::object& data, std::string_view ev,
                                                            std::string_view kind) {
  const json::value* d = data.if_contains(kind);
  std::string where = "data." + std::string(kind);
  if (d == nullptr) return bad(ev, where + " is missing");
  if (!d->is_object()) return bad(ev, where + " must be an object {type, sdp}");
  const auto& desc = d->get_object();
  auto sdp = get_string(desc, "sdp", where);
  if (auto* e = std::get_if<FieldError>(&sdp)) return bad(ev, e->message, errc::kBadSdp);
  if (const json::value* t = desc.if_contains("type")) {
    if (!t->is_string() || t->get_string() != kind)
      return bad(ev, where + ".type must be \"" + std::string(kind) + "\"");
  }
  auto& s = std::get<std::string>(sdp);
  if (s.empty()) return bad(ev, where + ".sdp is empty", errc::kBadSdp);
  if (s.size() > kMaxSdpLength)
    return bad(ev, where + ".sdp is " + std::to_string(s.size()) + " bytes; the limit is " +
                       std::to_string(kMaxSdpLength),
               errc::kBadSdp);
  return std::move(s);
}

Decoded decode_candidate(const json::object& data, std::string_view ev) {
  const json::value* c = data.if_contains("candidate");
  if (c == nullptr) return bad(ev, "data.candidate is missing", errc::kBadCandidate);
  if (!c->is_object()) return bad(ev, "data.candidate must be an object {candidate, sdpMid, sdpMLineIndex}", errc::kBadCandidate);
  const auto& o = c->get_object();
  IceCandidate out;
  auto cand = get_string(o, "candidate", "data.candidate");
  if (auto* e = std::get_if<FieldError>(&cand)) return bad(ev, e->message, errc::kBadCandidate);
  out.candidate = std::move(std::get<std::string>(cand));
  if (out.candidate.size() > kMaxCandidateLength)
    return bad(ev, "data.candidate.candidate is longer than " + std::to_string(kMaxCandidateLength) + " bytes",
               errc::kBadCandidate);
  if (has_control_chars(out.candidate))
    return bad(ev, "data.candidate.candidate contains control characters", errc::kBadCandidate);
  if (const json::value* m = o.if_contains("sdpMid"); m && !m->is_null()) {
    if (!m->is_string()) return bad(ev, "data.candidate.sdpMid must be a string or null", errc::kBadCandidate);
    out.sdp_mid = std::string(m->get_string());
  }
  if (const json::value* i = o.if_contains("sdpMLineIndex"); i && !i->is_null()) {
    if (!i->is_int64() && !i->is_uint64())
      return bad(ev, "data.candidate.sdpMLineIndex must be an integer or null", errc::kBadCandidate);
    auto idx = i->is_int64() ? i->get_int64() : int64_t(i->get_uint64());
    if (idx < 0 || idx > 1024) return bad(ev, "data.candidate.sdpMLineIndex is out of range", errc::kBadCandidate);
    out.sdp_mline_index = int(idx);
  }
  if (const json::value* u = o.if_contains("usernameFragment"); u && !u->is_null()) {
    if (!u->is_string())
      return bad(ev, "data.candidate.usernameFragment must be a string or null", errc::kBadCandidate);
    out.username_fragment = std::string(u->get_string());
  }
  return ClientMessage{std::move(out)};
}

std::string serialize_event(std::string_view event, json::value data) {
  json::object o;
  o["event"] = event;
  o["data"] = std::move(data);
  return json::serialize(o);
}

// Seed events: data is a JSON string holding a JSON object.
std::string serialize_double_encoded(std::string_view event, const json::object& inner) {
  return serialize_event(event, json::string(json::serialize(inner)));
}

}  // namespace

Decoded decode_client_message(std::string_view text) {
  boost::system::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec) return ProtocolError{errc::kBadJson, "message is not valid JSON: " + ec.message(), ""};
  if (!root.is_object()) return ProtocolError{errc::kBadJson, "message must be a JSON object {event, data}", ""};
  const auto& obj = root.get_object();
  const json::value* ev_v = obj.if_contains("event");
  if (ev_v == nullptr) return ProtocolError{errc::kBadMessage, "message has no \"event\" field", ""};
  if (!ev_v->is_string()) return ProtocolError{errc::kBadMessage, "\"event\" must be a string", ""};
  std::string_view ev = ev_v->get_string();
  static constexpr std::string_view kKnown[] = {"joinRoom", "leaveRoom", "offer", "answer", "ice-candidate"};
  bool known = false;
  for (auto k : kKnown) known |= (k == ev);
  if (!known) {
    std::string shown(ev.substr(0, 64));
    return ProtocolError{errc::kUnknownEvent,
                         "unknown event \"" + shown + "\"; expected one of joinRoom, leaveRoom, offer, answer, ice-candidate",
                         shown};
  }

  const json::value* data_v = obj.if_contains("data");
  static const json::object kEmpty;
  const json::object* data = &kEmpty;
  json::value inner;
  if (data_v != nullptr && data_v->is_string()) {
    // Some clients double-encode their own data too; accept that symmetrically.
    boost::system::error_code ec2;
    inner = json::parse(data_v->get_string(), ec2);
    if (ec2 || !inner.is_object()) return bad(ev, "\"data\" must be an object");
    data = &inner.get_object();
  } else if (data_v != nullptr && data_v->is_object()) {
    data = &data_v->get_object();
  } else if (data_v != nullptr && !data_v->is_null()) {
    return bad(ev, "\"data\" must be an object");
  } else if (ev != "leaveRoom") {
    return bad(ev, "\"data\" is missing");
  }

  if (ev == "joinRoom") return decode_join(*data, ev);
  if (ev == "leaveRoom") return ClientMessage{LeaveRoom{}};
  if (ev == "offer") {
    auto r = decode_description(*data, ev, "offer");
    if (auto* e = std::get_if<ProtocolError>(&r)) return *e;
    return ClientMessage{Offer{std::move(std::get<std::string>(r))}};
  }
  if (ev == "answer") {
    auto r = decode_description(*data, ev, "answer");
    if (auto* e = std::get_if<ProtocolError>(&r)) return *e;
    return ClientMessage{Answer{std::move(std::get<std::string>(r))}};
  }
  return decode_candidate(*data, ev);
}

std::string_view event_name(const ClientMessage& m) {
  struct V {
    std::string_view operator()(const JoinRoom&) const { return "joinRoom"; }
    std::string_view operator()(const LeaveRoom&) const { return "leaveRoom"; }
    std::string_view operator()(const Offer&) const { return "offer"; }
    std::string_view operator()(const Answer&) const { return "answer"; }
    std::string_view operator()(const IceCandidate&) const { return "ice-candidate"; }
  };
  return std::visit(V{}, m);
}

std::string encode_answer(std::string_view sdp) {
  json::object o;
  o["type"] = "answer";
  o["sdp"] = sdp;
  return serialize_double_encoded("answer", o);
}

std::string encode_offer(std::string_view sdp) {
  json::object o;
  o["type"] = "offer";
  o["sdp"] = sdp;
  return serialize_double_encoded("offer", o);
}

std::string encode_candidate(const IceCandidate& c) {
  json::object o;
  o["candidate"] = c.candidate;
  o["sdpMid"] = c.sdp_mid ? json::value(*c.sdp_mid) : json::value(nullptr);
  o["sdpMLineIndex"] = c.sdp_mline_index ? json::value(*c.sdp_mline_index) : json::value(nullptr);
  o["usernameFragment"] = c.username_fragment ? json::value(*c.username_fragment) : json::value(nullptr);
  return serialize_double_encoded("candidate", o);
}

std::string encode_error(std::string_view code, std::string_view message, std::string_view event) {
  json::object d;
  d["code"] = code;
  d["message"] = message;
  d["event"] = event.empty() ? json::value(nullptr) : json::value(event);
  return serialize_event("error", std::move(d));
}

std::string encode_room_joined(std::string_view room_id, std::string_view self_id,
                               const std::vector<std::string>& others) {
  json::object d;
  d["room_id"] = room_id;
  d["self_id"] = self_id;
  json::array a;
  for (const auto& o : others) a.emplace_back(o);
  d["participants"] = std::move(a);
  return serialize_event("roomJoined", std::move(d));
}

std::string encode_participant_joined(std::string_view room_id, std::string_view self_id) {
  json::object d;
  d["room_id"] = room_id;
  d["self_id"] = self_id;
  return serialize_event("participantJoined", std::move(d));
}

std::string encode_participant_left(std::string_view room_id, std::string_view self_id, std::string_view reason) {
  json::object d;
  d["room_id"] = room_id;
  d["self_id"] = self_id;
  d["reason"] = reason;
  return serialize_event("participantLeft", std::move(d));
}

std::string encode_participants_changed(std::string_view room_id, const std::vector<std::string>& joined,
                                        const std::vector<Departure>& left) {
  json::object d;
  d["room_id"] = room_id;
  json::array j;
  for (const auto& id : joined) j.emplace_back(id);
  d["joined"] = std::move(j);
  json::array l;
  for (const auto& x : left) l.emplace_back(json::object{{"self_id", x.self_id}, {"reason", x.reason}});
  d["left"] = std::move(l);
  return serialize_event("participantsChanged", std::move(d));
}

std::string encode_room_left(std::string_view room_id) {
  json::object d;
  d["room_id"] = room_id;
  return serialize_event("roomLeft", std::move(d));
}

std::string encode_shutdown(std::string_view reason) {
  json::object d;
  d["reason"] = reason;
  return serialize_event("shutdown", std::move(d));
}

}  // namespace sb::signal
