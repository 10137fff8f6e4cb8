#include "load/SignalingClient.hpp"

#include <unistd.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace sb::load {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {
/// Events queued for the media thread before the oldest are dropped (it drains
/// them every loop round; this only bounds a stalled consumer).
constexpr size_t kMaxQueuedEvents = 1 << 16;
constexpr auto kConnectTimeout = std::chrono::seconds(10);
}  // namespace

struct SignalingClient::Impl {
  std::string host, port, target;
  int wake_fd = -1;
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(ioc);
  tcp::resolver::results_type endpoints;
  std::thread thread;
  std::unordered_map<size_t, std::shared_ptr<Session>> sessions;  // io thread only

  std::mutex mu;
  std::vector<SignalEvent> events;
  std::condition_variable closed_cv;
  size_t open = 0;  // sessions not yet finished (guarded by mu)

  void push(SignalEvent e) {
    {
      std::lock_guard lock(mu);
      if (events.size() < kMaxQueuedEvents) events.push_back(std::move(e));
    }
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd, &one, sizeof one);
  }
};

class SignalingClient::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Impl& impl, size_t peer, std::string room, std::string self_id, std::string offer)
      : impl_(impl), peer_(peer), room_(std::move(room)), self_id_(std::move(self_id)), offer_(std::move(offer)),
        ws_(impl.ioc) {}

  void start() {
    {
      std::lock_guard lock(impl_.mu);
      ++impl_.open;
    }
    beast::get_lowest_layer(ws_).expires_after(kConnectTimeout);
    beast::get_lowest_layer(ws_).async_connect(
        impl_.endpoints, [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
          if (ec) return self->fail("connect: " + ec.message());
          beast::get_lowest_layer(self->ws_).socket().set_option(tcp::no_delay(true));
          self->ws_.async_handshake(self->impl_.host + ":" + self->impl_.port, self->impl_.target,
                                    [self](beast::error_code ec2) { self->on_handshake(ec2); });
        });
  }

  void send(std::string text) {
    if (finished_ || closing_) return;
    out_.push_back(std::move(text));
    if (!writing_) do_write();
  }

  void close() {
    if (finished_ || closing_) return;
    closing_ = true;
    if (!writing_ && connected_) do_close();
    if (!connected_) {
      beast::error_code ec;
      beast::get_lowest_layer(ws_).socket().close(ec);
    }
  }

 private:
  void on_handshake(beast::error_code ec) {
    if (ec) return fail("websocket handshake: " + ec.message());
    connected_ = true;
    beast::get_lowest_layer(ws_).expires_never();
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    ws_.read_message_max(4 << 20);
    if (closing_) return do_close();
    joined_at_ = util::Clock::now();
    send(json::serialize(json::object{{"event", "joinRoom"}, {"data", {{"room_id", room_}, {"self_id", self_id_}}}}));
    do_read();
  }

  void do_read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) {
        if (self->closing_) return self->finish();
        return self->fail("read: " + ec.message());
      }
      auto data = self->buffer_.cdata();
      self->on_message(std::string_view(static_cast<const char*>(data.data()), data.size()));
      self->buffer_.consume(self->buffer_.size());
      self->do_read();
    });
  }

  void do_write() {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(out_.front()), [self = shared_from_this()](beast::error_code ec, size_t) {
      self->writing_ = false;
      if (ec) return self->fail("write: " + ec.message());
      self->out_.pop_front();
      if (!self->out_.empty()) self->do_write();
      else if (self->closing_) self->do_close();
    });
  }

  void do_close() {
    ws_.async_close(websocket::close_code::normal, [self = shared_from_this()](beast::error_code) {
      // The read loop ends with `closed` and calls finish().
      self->finish();
    });
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
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_object()) return;
    const auto& o = v.as_object();
    std::string event = string_field(o, "event");
    auto it = o.find("data");
    json::object data = it != o.end() ? data_object(it->value()) : json::object{};
    auto now = util::Clock::now();
    if (event == "roomJoined") {
      impl_.push({peer_, SignalEvent::Kind::kJoined, {}, joined_at_});
      send(json::serialize(json::object{
          {"event", "offer"},
          {"data", {{"room_id", room_}, {"self_id", self_id_}, {"offer", {{"type", "offer"}, {"sdp", offer_}}}}}}));
      offer_.clear();
      offer_.shrink_to_fit();
    } else if (event == "answer") {
      impl_.push({peer_, SignalEvent::Kind::kAnswer, string_field(data, "sdp"), now});
    } else if (event == "offer") {
      impl_.push({peer_, SignalEvent::Kind::kOffer, string_field(data, "sdp"), now});
    } else if (event == "candidate") {
      impl_.push({peer_, SignalEvent::Kind::kCandidate, string_field(data, "candidate"), now});
    } else if (event == "error") {
      impl_.push({peer_, SignalEvent::Kind::kError,
                  string_field(data, "code") + ": " + string_field(data, "message"), now});
    } else if (event == "roomLeft" || event == "shutdown") {
      impl_.push({peer_, SignalEvent::Kind::kClosed, "server: " + event, now});
    }
  }

  void fail(std::string why) {
    if (finished_) return;
    if (!closing_) impl_.push({peer_, SignalEvent::Kind::kClosed, std::move(why), util::Clock::now()});
    finish();
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
    std::lock_guard lock(impl_.mu);
    --impl_.open;
    impl_.closed_cv.notify_all();
  }

  Impl& impl_;
  size_t peer_;
  std::string room_, self_id_, offer_;
  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  std::deque<std::string> out_;  // bounded by the protocol: a join, an offer, one answer per server offer
  util::Timestamp joined_at_{};
  bool writing_ = false;
  bool connected_ = false;
  bool closing_ = false;
  bool finished_ = false;
};

SignalingClient::SignalingClient(std::string host, std::string port, std::string target, int wake_fd)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = std::move(port);
  impl_->target = std::move(target);
  impl_->wake_fd = wake_fd;
}

SignalingClient::~SignalingClient() { stop(); }

util::Result<void> SignalingClient::start() {
  tcp::resolver resolver(impl_->ioc);
  beast::error_code ec;
  impl_->endpoints = resolver.resolve(impl_->host, impl_->port, ec);
  if (ec) return util::make_error("cannot resolve " + impl_->host + ":" + impl_->port + ": " + ec.message());
  impl_->thread = std::thread([this] {
    pthread_setname_np(pthread_self(), "load-signal");
    impl_->ioc.run();
  });
  return {};
}

void SignalingClient::join(size_t peer, std::string room_id, std::string self_id, std::string offer_sdp) {
  asio::post(impl_->ioc, [this, peer, room = std::move(room_id), id = std::move(self_id),
                          offer = std::move(offer_sdp)]() mutable {
    auto s = std::make_shared<Session>(*impl_, peer, std::move(room), std::move(id), std::move(offer));
    impl_->sessions[peer] = s;
    s->start();
  });
}

void SignalingClient::send_answer(size_t peer, std::string sdp) {
  asio::post(impl_->ioc, [this, peer, sdp = std::move(sdp)] {
    auto it = impl_->sessions.find(peer);
    if (it == impl_->sessions.end()) return;
    it->second->send(json::serialize(
        json::object{{"event", "answer"}, {"data", {{"answer", {{"type", "answer"}, {"sdp", sdp}}}}}}));
  });
}

void SignalingClient::close_all(util::Duration limit) {
  if (!impl_->thread.joinable()) return;
  asio::post(impl_->ioc, [this] {
    for (auto& [peer, s] : impl_->sessions) s->close();
  });
  std::unique_lock lock(impl_->mu);
  impl_->closed_cv.wait_for(lock, limit, [this] { return impl_->open == 0; });
}

void SignalingClient::stop() {
  if (!impl_->thread.joinable()) return;
  impl_->work.reset();
  impl_->ioc.stop();
  impl_->thread.join();
  impl_->sessions.clear();
}

std::vector<SignalEvent> SignalingClient::take_events() {
  std::vector<SignalEvent> out;
  std::lock_guard lock(impl_->mu);
  out.swap(impl_->events);
  return out;
}

}  // namespace sb::load
