#pragma once
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <memory>
#include <optional>

namespace sb::http {

class Server;

/// A plain HTTP/1.1 connection: static files, /healthz, /metrics, and the
/// WebSocket upgrade on "/" and "/ws".
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(Server& server, boost::asio::ip::tcp::socket socket);
  void start();

 private:
  void do_read();
  void on_read(boost::beast::error_code ec);
  void respond(boost::beast::http::message_generator msg, bool keep_alive);

  Server& server_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
};

}  // namespace sb::http
