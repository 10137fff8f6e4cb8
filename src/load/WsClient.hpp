#pragma once
// One client WebSocket of text messages on the signaling thread (Beast): connect
// with a deadline, handshake (optionally asking for a subprotocol, RFC 6455
// §4.1), a read loop handing every message to its owner, a queue of outgoing
// messages written one at a time, and a close. Used only on the signaling thread.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace sb::load {

class WsClient : public std::enable_shared_from_this<WsClient> {
 public:
  /// Outgoing messages queued before the socket is given up as stuck (a
  /// participant sends a handful: a join, an offer, an answer, keepalives).
  static constexpr size_t kMaxQueuedMessages = 256;
  static constexpr size_t kMaxMessageSize = 4 << 20;

  struct Callbacks {
    std::function<void()> on_open;                      ///< handshake done
    std::function<void(std::string_view)> on_message;   ///< one text message
    /// Exactly once, at the end: `error` when it failed or the server closed
    /// it before we asked to.
    std::function<void(std::optional<std::string> error)> on_finished;
  };

  WsClient(boost::asio::io_context& ioc, std::string host_header, std::string target, std::string subprotocol = {});

  void connect(const boost::asio::ip::tcp::resolver::results_type& endpoints, Callbacks callbacks);
  void send(std::string text);
  /// Sends what is queued, then a close frame.
  void close();
  bool is_open() const { return connected_ && !closing_ && !finished_; }

 private:
  void on_handshake(boost::beast::error_code ec);
  void do_read();
  void do_write();
  void do_close();
  void fail(std::string why);
  void finish(std::optional<std::string> error);

  std::string host_header_, target_, subprotocol_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  boost::beast::flat_buffer buffer_;
  std::deque<std::string> out_;  // at most kMaxQueuedMessages
  Callbacks callbacks_;
  bool writing_ = false;
  bool connected_ = false;
  bool closing_ = false;
  bool finished_ = false;
};

}  // namespace sb::load
