#include "load/JanusSignaling.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include "load/WsClient.hpp"
#include "util/Log.hpp"

namespace sb::load {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::string_view kSubprotocol = "janus-protocol";
constexpr std::string_view kPlugin = "janus.plugin.videoroom";
/// Janus ends sessions idle for 60 s (session_timeout); keep well inside that.
constexpr auto kKeepaliveInterval = std::chrono::seconds(25);
/// A subscriber polls the room this often until its publishers publish …
constexpr auto kParticipantsPoll = std::chrono::milliseconds(200);
/// … for at most this long.
constexpr auto kPublishersWait = std::chrono::seconds(30);
/// VideoRoom error codes (janus_videoroom.c): the room exists already.
constexpr int64_t kErrorRoomExists = 427;
/// Requests in flight per session (one step of the join at a time, plus
/// keepalives and trickles); more means Janus stopped answering.
constexpr size_t kMaxPendingTransactions = 64;

enum class Step { kCreate, kAttach, kCreateRoom, kJoin, kPublish, kListParticipants, kSubscribe, kStart, kOther };

const char* step_name(Step s) {
  switch (s) {
    case Step::kCreate: return "create";
    case Step::kAttach: return "attach";
    case Step::kCreateRoom: return "create room";
    case Step::kJoin: return "join";
    case Step::kPublish: return "publish";
    case Step::kListParticipants: return "listparticipants";
    case Step::kSubscribe: return "subscribe";
    case Step::kStart: return "start";
    case Step::kOther: return "request";
  }
  return "request";
}

const json::value* field(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() ? nullptr : &it->value();
}
const json::object* object_field(const json::object& o, std::string_view key) {
  auto* v = field(o, key);
  return v != nullptr && v->is_object() ? &v->as_object() : nullptr;
}
std::string string_field(const json::object& o, std::string_view key) {
  auto* v = field(o, key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}
/// Janus ids are positive integers (jansson json_int_t).
std::optional<uint64_t> id_field(const json::object& o, std::string_view key) {
  auto* v = field(o, key);
  if (v == nullptr) return std::nullopt;
  if (v->is_uint64()) return v->as_uint64();
  if (v->is_int64() && v->as_int64() >= 0) return uint64_t(v->as_int64());
  return std::nullopt;
}
std::optional<int64_t> int_field(const json::object& o, std::string_view key) {
  auto* v = field(o, key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return int64_t(v->as_uint64());
  return std::nullopt;
}

}  // namespace

uint64_t JanusSignaling::room_number(std::string_view room_id) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64
  for (unsigned char c : room_id) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return (h & ((uint64_t(1) << 52) - 1)) + 1;
}

/// One participant: its WebSocket, Janus session and VideoRoom handle, and where
/// it is in the join. Lives on the signaling thread.
class JanusSignaling::Session {
 public:
  Session(SignalingLoop& loop, const std::string& target, size_t peer, JoinRequest request)
      : loop_(loop), peer_(peer), request_(std::move(request)), room_(room_number(request_.room_id)),
        ws_(std::make_shared<WsClient>(loop.ioc(), loop.host() + ":" + loop.port(), target,
                                       std::string(kSubprotocol))),
        keepalive_(loop.ioc()), poll_(loop.ioc()) {}

  void start() {
    loop_.opened();
    // The socket finishes before the loop stops, or never runs again: `this`
    // outlives it in the session table either way.
    ws_->connect(loop_.endpoints(), {[this] { on_open(); }, [this](std::string_view m) { on_message(m); },
                                     [this](std::optional<std::string> error) { on_finished(std::move(error)); }});
  }

  void send_answer(std::string sdp) {
    if (!handle_) return;
    request(Step::kStart, json::object{{"request", "start"}}, json::object{{"type", "answer"}, {"sdp", std::move(sdp)}});
    trickle_completed();
  }

  void close() {
    closing_ = true;
    keepalive_.cancel();
    poll_.cancel();
    if (session_ && ws_->is_open()) send(json::object{{"janus", "destroy"}, {"session_id", *session_}}, Step::kOther);
    ws_->close();
  }

 private:
  // ---- requests
  void send(json::object msg, Step step) {
    if (pending_.size() >= kMaxPendingTransactions) return fail("Janus stopped answering");
    std::string t = std::to_string(++transaction_);
    msg["transaction"] = t;
    pending_.emplace(std::move(t), step);
    std::string text = json::serialize(msg);
    log_->trace("peer {} → {}", peer_, text);
    ws_->send(std::move(text));
  }
  void request(Step step, json::object body, json::object jsep = {}) {
    json::object msg{{"janus", "message"}, {"session_id", *session_}, {"handle_id", *handle_}, {"body", std::move(body)}};
    if (!jsep.empty()) msg["jsep"] = std::move(jsep);
    send(std::move(msg), step);
  }
  void trickle_completed() {
    send(json::object{{"janus", "trickle"},
                      {"session_id", *session_},
                      {"handle_id", *handle_},
                      {"candidate", {{"completed", true}}}},
         Step::kOther);
  }

  void on_open() {
    join_sent_ = util::Clock::now();
    loop_.push({peer_, SignalEvent::Kind::kJoined, {}, join_sent_});
    send(json::object{{"janus", "create"}}, Step::kCreate);
  }

  void schedule_keepalive() {
    keepalive_.expires_after(kKeepaliveInterval);
    keepalive_.async_wait([this](boost::system::error_code ec) {
      if (ec || closing_ || !ws_->is_open()) return;
      send(json::object{{"janus", "keepalive"}, {"session_id", *session_}}, Step::kOther);
      schedule_keepalive();
    });
  }

  void list_participants() {
    request(Step::kListParticipants, json::object{{"request", "listparticipants"}, {"room", room_}});
  }

  // ---- replies and events
  void on_message(std::string_view text) {
    log_->trace("peer {} ← {}", peer_, text);
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_object()) return;
    const auto& o = v.as_object();
    std::string kind = string_field(o, "janus");
    if (kind == "ack") return;  // an asynchronous request was received; its event follows
    if (kind == "trickle") return on_trickle(o);
    if (kind == "hangup" || kind == "detached" || kind == "timeout") {
      if (!closing_) fail("Janus " + kind + (o.contains("reason") ? ": " + string_field(o, "reason") : ""));
      return;
    }
    std::string transaction = string_field(o, "transaction");
    auto it = pending_.find(transaction);
    if (it == pending_.end()) return;  // webrtcup, media, slowlink, events of others
    Step step = it->second;
    pending_.erase(it);
    if (kind == "error") {
      const json::object* err = object_field(o, "error");
      std::string why = err ? std::to_string(int_field(*err, "code").value_or(0)) + " " + string_field(*err, "reason")
                            : std::string(text);
      return fail(std::string("Janus ") + step_name(step) + ": " + why);
    }
    if (kind != "success" && kind != "event") return;
    const json::object* data = nullptr;
    if (const json::object* pd = object_field(o, "plugindata")) data = object_field(*pd, "data");
    if (data != nullptr && data->contains("error_code")) {
      auto code = int_field(*data, "error_code").value_or(0);
      if (!(step == Step::kCreateRoom && code == kErrorRoomExists))
        return fail(std::string("VideoRoom ") + step_name(step) + ": " + std::to_string(code) + " " +
                    string_field(*data, "error"));
    }
    const json::object* jsep = object_field(o, "jsep");
    on_reply(step, o, data, jsep);
  }

  void on_reply(Step step, const json::object& o, const json::object* data, const json::object* jsep) {
    switch (step) {
      case Step::kCreate: {
        const json::object* d = object_field(o, "data");
        if (!d || !(session_ = id_field(*d, "id"))) return fail("Janus create: no session id");
        schedule_keepalive();
        send(json::object{{"janus", "attach"}, {"session_id", *session_}, {"plugin", kPlugin}}, Step::kAttach);
        return;
      }
      case Step::kAttach: {
        const json::object* d = object_field(o, "data");
        if (!d || !(handle_ = id_field(*d, "id"))) return fail("Janus attach: no handle id");
        if (!request_.publisher) {
          publishers_deadline_ = util::Clock::now() + kPublishersWait;
          return list_participants();
        }
        // Unlimited bitrate (no REMB cap), no periodic keyframe requests, no recording:
        // the room forwards what it gets, as Switchboard does.
        request(Step::kCreateRoom, json::object{{"request", "create"},
                                                {"room", room_},
                                                {"publishers", std::max(1, request_.room_publishers)},
                                                {"bitrate", 0},
                                                {"fir_freq", 0},
                                                {"audiocodec", "opus"},
                                                {"videocodec", "vp8"},
                                                {"notify_joining", false},
                                                {"record", false},
                                                {"permanent", false}});
        return;
      }
      case Step::kCreateRoom:
        request(Step::kJoin,
                json::object{{"request", "join"}, {"ptype", "publisher"}, {"room", room_}, {"display", request_.self_id}});
        return;
      case Step::kJoin:
        request(Step::kPublish, json::object{{"request", "publish"}},
                json::object{{"type", "offer"}, {"sdp", std::move(request_.offer_sdp)}});
        return;
      case Step::kPublish:
        if (!jsep) return fail("Janus publish: no answer");
        loop_.push({peer_, SignalEvent::Kind::kAnswer, string_field(*jsep, "sdp"), util::Clock::now()});
        trickle_completed();
        return;
      case Step::kListParticipants: return on_participants(data);
      case Step::kSubscribe:
        if (!jsep) return fail("Janus subscribe: no offer");
        loop_.push({peer_, SignalEvent::Kind::kOffer, string_field(*jsep, "sdp"), util::Clock::now()});
        return;
      case Step::kStart:
      case Step::kOther: return;
    }
  }

  void on_participants(const json::object* data) {
    json::array streams;
    if (data != nullptr)
      if (auto* list = field(*data, "participants"); list && list->is_array())
        for (const auto& p : list->as_array()) {
          if (!p.is_object()) continue;
          auto* pub = field(p.as_object(), "publisher");
          auto id = id_field(p.as_object(), "id");
          if (pub && pub->is_bool() && pub->as_bool() && id) streams.push_back(json::object{{"feed", *id}});
        }
    if (streams.size() >= size_t(std::max(1, request_.room_publishers))) {
      request(Step::kSubscribe, json::object{{"request", "join"},
                                             {"ptype", "subscriber"},
                                             {"room", room_},
                                             {"streams", std::move(streams)}});
      return;
    }
    if (util::Clock::now() > publishers_deadline_) return fail("no publisher in the Janus room");
    poll_.expires_after(kParticipantsPoll);
    poll_.async_wait([this](boost::system::error_code ec) {
      if (!ec && !closing_ && ws_->is_open()) list_participants();
    });
  }

  void on_trickle(const json::object& o) {
    const json::object* c = object_field(o, "candidate");
    if (c == nullptr) return;
    if (auto* done = field(*c, "completed"); done && done->is_bool() && done->as_bool()) return;
    std::string line = string_field(*c, "candidate");
    if (!line.empty()) loop_.push({peer_, SignalEvent::Kind::kCandidate, std::move(line), util::Clock::now()});
  }

  void fail(std::string why) {
    if (closing_) return;
    loop_.push({peer_, SignalEvent::Kind::kClosed, std::move(why), util::Clock::now()});
    closing_ = true;
    keepalive_.cancel();
    poll_.cancel();
    ws_->close();
  }

  void on_finished(std::optional<std::string> error) {
    keepalive_.cancel();
    poll_.cancel();
    if (error && !closing_) loop_.push({peer_, SignalEvent::Kind::kClosed, std::move(*error), util::Clock::now()});
    closing_ = true;
    loop_.finished();
  }

  std::shared_ptr<spdlog::logger> log_ = util::logger("load");
  SignalingLoop& loop_;
  size_t peer_;
  JoinRequest request_;
  uint64_t room_;
  std::shared_ptr<WsClient> ws_;
  asio::steady_timer keepalive_;
  asio::steady_timer poll_;
  std::optional<uint64_t> session_;
  std::optional<uint64_t> handle_;
  std::unordered_map<std::string, Step> pending_;  // at most kMaxPendingTransactions
  uint64_t transaction_ = 0;
  util::Timestamp join_sent_{};
  util::Timestamp publishers_deadline_{};
  bool closing_ = false;
};

JanusSignaling::JanusSignaling(std::string host, std::string port, std::string target, int wake_fd)
    : target_(std::move(target)), loop_(std::move(host), std::move(port), wake_fd) {}

JanusSignaling::~JanusSignaling() { stop(); }

util::Result<void> JanusSignaling::start() { return loop_.start(); }

void JanusSignaling::join(size_t peer, JoinRequest request) {
  asio::post(loop_.ioc(), [this, peer, request = std::move(request)]() mutable {
    auto s = std::make_shared<Session>(loop_, target_, peer, std::move(request));
    sessions_[peer] = s;
    s->start();
  });
}

void JanusSignaling::send_answer(size_t peer, std::string sdp) {
  asio::post(loop_.ioc(), [this, peer, sdp = std::move(sdp)]() mutable {
    if (auto it = sessions_.find(peer); it != sessions_.end()) it->second->send_answer(std::move(sdp));
  });
}

void JanusSignaling::close_all(util::Duration limit) {
  if (!loop_.running()) return;
  asio::post(loop_.ioc(), [this] {
    for (auto& [peer, s] : sessions_) s->close();
  });
  loop_.wait_closed(limit);
}

void JanusSignaling::stop() {
  loop_.stop();
  sessions_.clear();
}

}  // namespace sb::load
