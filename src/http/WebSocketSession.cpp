#include "http/WebSocketSession.hpp"

#include "http/Server.hpp"
#include "signal/Protocol.hpp"
#include "util/Log.hpp"

namespace sb::http {

namespace beast = boost::beast;
namespace websocket = beast::websocket;

namespace {
const auto& log() {
  static auto l = util::logger("ws");
  return l;
}
/// Bound on messages queued for one slow client before it is disconnected.
constexpr size_t kMaxQueuedMessages = 4096;
}  // namespace

WebSocketSession::WebSocketSession(Server& server, beast::tcp_stream stream)
    : server_(server), ws_(std::move(stream)) {}

void WebSocketSession::start(beast::http::request<beast::http::string_body> upgrade) {
  beast::get_lowest_layer(ws_).expires_never();
  ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  ws_.read_message_max(signal::kMaxMessageBytes);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(beast::http::field::server, "switchboard"); }));
  ws_.async_accept(upgrade, [self = shared_from_this()](beast::error_code ec) {
    if (ec) {
      log()->info("websocket handshake failed: {}", ec.message());
      return;
    }
    self->id_ = self->server_.attach(self);
    self->do_read();
  });
}

void WebSocketSession::do_read() {
  ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t n) { self->on_read(ec, n); });
}

void WebSocketSession::on_read(beast::error_code ec, size_t bytes) {
  if (ec) {
    if (ec == websocket::error::message_too_big)
      log()->info("conn {}: message over {} bytes, closing with 1009", id_, signal::kMaxMessageBytes);
    else if (ec != websocket::error::closed && ec != boost::asio::error::operation_aborted)
      log()->debug("conn {}: read ended: {}", id_, ec.message());
    finish();
    return;
  }
  auto data = buffer_.cdata();
  std::string_view text(static_cast<const char*>(data.data()), data.size());
  if (ws_.got_text()) server_.coordinator().handle_text(id_, text);
  else server_.coordinator().handle_binary(id_, bytes);
  buffer_.consume(buffer_.size());
  server_.flush();
  if (!closing_) do_read();
}

void WebSocketSession::send(std::string text) {
  if (finished_ || closing_) return;
  if (queue_.size() >= kMaxQueuedMessages) {
    log()->warn("conn {}: client is not reading ({} messages queued), disconnecting", id_, queue_.size());
    beast::get_lowest_layer(ws_).close();
    return;
  }
  queue_.push_back(std::move(text));
  if (!writing_) do_write();
}

void WebSocketSession::do_write() {
  if (queue_.empty()) {
    writing_ = false;
    if (closing_) {
      ws_.async_close(websocket::close_reason(websocket::close_code::going_away, "server shutting down"),
                      [self = shared_from_this()](beast::error_code) { self->finish(); });
    }
    return;
  }
  writing_ = true;
  ws_.text(true);
  ws_.async_write(boost::asio::buffer(queue_.front()), [self = shared_from_this()](beast::error_code ec, size_t) {
    // The buffer being written stays queued until its write completes: finish()
    // leaves the queue alone while a write is in flight.
    self->writing_ = false;
    if (!self->queue_.empty()) self->queue_.pop_front();
    if (ec || self->finished_) {
      self->queue_.clear();
      self->finish();
      return;
    }
    self->do_write();
  });
}

void WebSocketSession::close_going_away() {
  if (closing_ || finished_) return;
  closing_ = true;
  if (!writing_) do_write();
}

void WebSocketSession::finish() {
  if (finished_) return;
  finished_ = true;
  if (!writing_) queue_.clear();
  server_.detach(id_);
}

}  // namespace sb::http
