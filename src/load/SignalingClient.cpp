#include "load/SignalingClient.hpp"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include "load/WsClient.hpp"

namespace sb::load {

namespace asio = boost::asio;
namespace json = boost::json;

/// One participant's WebSocket and where it is in the join.
class SignalingClient::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(SignalingLoop& loop, const std::string& target, size_t peer, JoinRequest request)
      : loop_(loop), peer_(peer), request_(std::move(request)),
        ws_(std::make_shared<WsClient>(loop.ioc(), loop.host() + ":" + loop.port(), target)) {}

  void start() {
    loop_.opened();
    // The socket finishes before the loop stops, or never runs again: `this` outlives it
    // in the session table either way.
    ws_->connect(loop_.endpoints(), {[this] { on_open(); }, [this](std::string_view m) { on_message(m); },
                                     [this](std::optional<std::string> error) { on_finished(std::move(error)); }});
  }
  void send(std::string text) { ws_->send(std::move(text)); }
  void close() { ws_->close(); }

 private:
  void on_open() {
    joined_at_ = util::Clock::now();
    send(json::serialize(json::object{
        {"event", "joinRoom"}, {"data", {{"room_id", request_.room_id}, {"self_id", request_.self_id}}}}));
  }

  /// The `data` of a seed event is a JSON string holding an object (docs/protocol.md).
  static json::object data_object(const json::value& data) {
    if (data.is_object()) return data.as_object();
    if (data.is_string()) {
      boost::system::error_code ec;
      auto inner = json::parse(std::string_view(data.as_string()), ec);
      if (!ec && inner.is_object()) return inner.as_object();
    }
    return {};
  }
  static std::string string_field(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
  }

  void on_message(std::string_view text) {
    // Membership events (participantJoined/Left, and participantsChanged in
    // large rooms) are many and unused here: skip them before parsing. They are
    // recognised by how the server starts them; anything written differently
    // is parsed.
    if (text.starts_with(R"({"event":"participant)")) return;
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_object()) return;
    const auto& o = v.as_object();
    std::string event = string_field(o, "event");
    auto it = o.find("data");
    json::object data = it != o.end() ? data_object(it->value()) : json::object{};
    auto now = util::Clock::now();
    if (event == "roomJoined") {
      loop_.push({peer_, SignalEvent::Kind::kJoined, {}, joined_at_});
      send(json::serialize(json::object{{"event", "offer"},
                                        {"data",
                                         {{"room_id", request_.room_id},
                                          {"self_id", request_.self_id},
                                          {"offer", {{"type", "offer"}, {"sdp", request_.offer_sdp}}}}}}));
      request_.offer_sdp.clear();
      request_.offer_sdp.shrink_to_fit();
    } else if (event == "answer") {
      loop_.push({peer_, SignalEvent::Kind::kAnswer, string_field(data, "sdp"), now});
    } else if (event == "offer") {
      loop_.push({peer_, SignalEvent::Kind::kOffer, string_field(data, "sdp"), now});
    } else if (event == "candidate") {
      loop_.push({peer_, SignalEvent::Kind::kCandidate, string_field(data, "candidate"), now});
    } else if (event == "error") {
      loop_.push({peer_, SignalEvent::Kind::kError, string_field(data, "code") + ": " + string_field(data, "message"),
                  now});
    } else if (event == "roomLeft" || event == "shutdown") {
      loop_.push({peer_, SignalEvent::Kind::kClosed, "server: " + event, now});
    }
  }

  void on_finished(std::optional<std::string> error) {
    if (error) loop_.push({peer_, SignalEvent::Kind::kClosed, std::move(*error), util::Clock::now()});
    loop_.finished();
  }

  SignalingLoop& loop_;
  size_t peer_;
  JoinRequest request_;
  std::shared_ptr<WsClient> ws_;
  util::Timestamp joined_at_{};
};

SignalingClient::SignalingClient(std::string host, std::string port, std::string target, int wake_fd)
    : target_(std::move(target)), loop_(std::move(host), std::move(port), wake_fd) {}

SignalingClient::~SignalingClient() { stop(); }

util::Result<void> SignalingClient::start() { return loop_.start(); }

void SignalingClient::join(size_t peer, JoinRequest request) {
  asio::post(loop_.ioc(), [this, peer, request = std::move(request)]() mutable {
    auto s = std::make_shared<Session>(loop_, target_, peer, std::move(request));
    sessions_[peer] = s;
    s->start();
  });
}

void SignalingClient::send_answer(size_t peer, std::string sdp) {
  asio::post(loop_.ioc(), [this, peer, sdp = std::move(sdp)] {
    auto it = sessions_.find(peer);
    if (it == sessions_.end()) return;
    it->second->send(json::serialize(
        json::object{{"event", "answer"}, {"data", {{"answer", {{"type", "answer"}, {"sdp", sdp}}}}}}));
  });
}

void SignalingClient::close_all(util::Duration limit) {
  if (!loop_.running()) return;
  asio::post(loop_.ioc(), [this] {
    for (auto& [peer, s] : sessions_) s->close();
  });
  loop_.wait_closed(limit);
}

void SignalingClient::stop() {
  loop_.stop();
  sessions_.clear();
}

}  // namespace sb::load
