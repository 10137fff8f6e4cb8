#pragma once
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <deque>
#include <memory>
#include <string>

#include "signal/MediaBackend.hpp"

namespace sb::http {

class Server;

/// One signaling connection: reads JSON text frames into the Coordinator and
/// writes what it queues for this connection, in order.
class WebSocketSession : public std::enable_shared_from_this<WebSocketSession> {
 public:
  WebSocketSession(Server& server, boost::beast::tcp_stream stream);
  void start(boost::beast::http::request<boost::beast::http::string_body> upgrade);
  void send(std::string text);
  /// Sends what is queued, then closes with 1001 (going away).
  void close_going_away();
  signal::ConnId id() const { return id_; }

 private:
  void do_read();
  void on_read(boost::beast::error_code ec, size_t bytes);
  void do_write();
  void finish();

  Server& server_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  boost::beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  signal::ConnId id_ = 0;
  bool writing_ = false;
  bool closing_ = false;
  bool finished_ = false;
};

}  // namespace sb::http
