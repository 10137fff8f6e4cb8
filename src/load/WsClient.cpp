#include "load/WsClient.hpp"

#include <boost/asio/connect.hpp>

namespace sb::load {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {
constexpr auto kConnectTimeout = std::chrono::seconds(10);
}  // namespace

WsClient::WsClient(asio::io_context& ioc, std::string host_header, std::string target, std::string subprotocol)
    : host_header_(std::move(host_header)), target_(std::move(target)), subprotocol_(std::move(subprotocol)),
      ws_(ioc) {}

void WsClient::connect(const tcp::resolver::results_type& endpoints, Callbacks callbacks) {
  callbacks_ = std::move(callbacks);
  beast::get_lowest_layer(ws_).expires_after(kConnectTimeout);
  beast::get_lowest_layer(ws_).async_connect(
      endpoints, [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
        if (ec) return self->fail("connect: " + ec.message());
        beast::get_lowest_layer(self->ws_).socket().set_option(tcp::no_delay(true));
        if (!self->subprotocol_.empty()) {
          self->ws_.set_option(websocket::stream_base::decorator([p = self->subprotocol_](websocket::request_type& req) {
            req.set(beast::http::field::sec_websocket_protocol, p);
          }));
        }
        self->ws_.async_handshake(self->host_header_, self->target_,
                                  [self](beast::error_code ec2) { self->on_handshake(ec2); });
      });
}

void WsClient::on_handshake(beast::error_code ec) {
  if (ec) return fail("websocket handshake: " + ec.message());
  connected_ = true;
  beast::get_lowest_layer(ws_).expires_never();
  ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
  ws_.read_message_max(kMaxMessageSize);
  if (closing_) return do_close();
  do_read();
  if (callbacks_.on_open) callbacks_.on_open();
  if (!out_.empty() && !writing_ && !finished_) do_write();
}

void WsClient::send(std::string text) {
  if (finished_ || closing_) return;
  if (out_.size() >= kMaxQueuedMessages) return fail("send queue full");
  out_.push_back(std::move(text));
  if (!writing_ && connected_) do_write();
}

void WsClient::close() {
  if (finished_ || closing_) return;
  closing_ = true;
  if (!connected_) {
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
    return;
  }
  if (!writing_) do_close();
}

void WsClient::do_read() {
  ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
    if (ec) {
      if (self->closing_) return self->finish(std::nullopt);
      return self->fail("read: " + ec.message());
    }
    auto data = self->buffer_.cdata();
    if (self->callbacks_.on_message)
      self->callbacks_.on_message(std::string_view(static_cast<const char*>(data.data()), data.size()));
    self->buffer_.consume(self->buffer_.size());
    if (!self->finished_) self->do_read();
  });
}

void WsClient::do_write() {
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

void WsClient::do_close() {
  ws_.async_close(websocket::close_code::normal, [self = shared_from_this()](beast::error_code) {
    self->finish(std::nullopt);
  });
}

void WsClient::fail(std::string why) {
  if (finished_) return;
  finish(closing_ ? std::nullopt : std::optional<std::string>(std::move(why)));
}

void WsClient::finish(std::optional<std::string> error) {
  if (finished_) return;
  finished_ = true;
  beast::error_code ec;
  beast::get_lowest_layer(ws_).socket().close(ec);
  auto done = std::move(callbacks_.on_finished);
  callbacks_ = {};
  if (done) done(std::move(error));
}

}  // namespace sb::load
