#include "http/HttpSession.hpp"

#include <boost/beast/websocket.hpp>

#include <optional>
#include <string_view>

#include "http/Server.hpp"
#include "http/StaticFiles.hpp"
#include "http/WebSocketSession.hpp"
#include "util/Log.hpp"

namespace sb::http {

namespace beast = boost::beast;
namespace bhttp = beast::http;

namespace {
constexpr auto kIdleTimeout = std::chrono::seconds(30);
constexpr size_t kMaxRequestBody = 64 * 1024;

bhttp::response<bhttp::string_body> text_response(unsigned version, bool keep_alive, bhttp::status status,
                                                   std::string_view type, std::string body) {
  bhttp::response<bhttp::string_body> res{status, version};
  res.set(bhttp::field::server, "switchboard");
  res.set(bhttp::field::content_type, type);
  res.set(bhttp::field::cache_control, "no-store");
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

/// The value of `name` in a request target's query ("a=1&b=2"), or nullopt.
std::optional<std::string_view> query_param(std::string_view target, std::string_view name) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}
}  // namespace

HttpSession::HttpSession(Server& server, boost::asio::ip::tcp::socket socket)
    : server_(server), stream_(std::move(socket)) {}

void HttpSession::start() { do_read(); }

void HttpSession::do_read() {
  parser_.emplace();
  parser_->body_limit(kMaxRequestBody);
  stream_.expires_after(kIdleTimeout);
  bhttp::async_read(stream_, buffer_, *parser_,
                    [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
}

void HttpSession::on_read(beast::error_code ec) {
  if (ec) {
    beast::error_code ignored;
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
    return;
  }
  auto req = parser_->release();
  std::string_view target = req.target();
  std::string_view path = target.substr(0, target.find('?'));
  bool keep = req.keep_alive();

  if (beast::websocket::is_upgrade(req)) {
    if (path == "/" || path == "/ws") {
      if (server_.shutting_down()) {
        respond(text_response(req.version(), false, bhttp::status::service_unavailable, "text/plain",
                              "server is shutting down\n"),
                false);
        return;
      }
      std::make_shared<WebSocketSession>(server_, std::move(stream_))->start(std::move(req));
      return;
    }
    respond(text_response(req.version(), false, bhttp::status::not_found, "text/plain",
                          "WebSocket signaling is served on / and /ws\n"),
            false);
    return;
  }

  if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
    auto res = text_response(req.version(), keep, bhttp::status::method_not_allowed, "text/plain",
                             "only GET and HEAD are served\n");
    res.set(bhttp::field::allow, "GET, HEAD");
    respond(std::move(res), keep);
    return;
  }
  if (path == "/healthz") {
    std::string extra = server_.health_json ? server_.health_json() : "";
    std::string body = "{\"status\":\"ok\"" + (extra.empty() ? "" : "," + extra) + "}\n";
    respond(text_response(req.version(), keep, bhttp::status::ok, "application/json", std::move(body)), keep);
    return;
  }
  if (path == "/stats" && server_.stats_json_async) {
    // ?rooms=0: only the workers' counters. A load generator or a monitor that
    // polls often need not have a thousand participants' detail built.
    auto rooms_param = query_param(target, "rooms");
    if (rooms_param && *rooms_param != "0" && *rooms_param != "1") {
      respond(text_response(req.version(), keep, bhttp::status::bad_request, "text/plain",
                            "/stats: rooms must be 0 (worker counters only) or 1 (with every participant)\n"),
              keep);
      return;
    }
    bool rooms = !rooms_param || *rooms_param == "1";
    server_.stats_json_async(rooms, [self = shared_from_this(), version = req.version(), keep](std::string body) {
      self->respond(text_response(version, keep, bhttp::status::ok, "application/json", std::move(body) + "\n"), keep);
    });
    return;
  }
  if (path == "/metrics" && server_.metrics_text) {
    respond(text_response(req.version(), keep, bhttp::status::ok, "text/plain; version=0.0.4", server_.metrics_text()),
            keep);
    return;
  }
  auto file = resolve_static(server_.config().web_root, target);
  if (!file) {
    respond(text_response(req.version(), keep, bhttp::status::not_found, "text/plain", "not found\n"), keep);
    return;
  }
  bhttp::file_body::value_type body;
  beast::error_code fec;
  body.open(file->c_str(), beast::file_mode::scan, fec);
  if (fec) {
    respond(text_response(req.version(), keep, bhttp::status::not_found, "text/plain", "not found\n"), keep);
    return;
  }
  auto size = body.size();
  if (req.method() == bhttp::verb::head) {
    bhttp::response<bhttp::empty_body> res{bhttp::status::ok, req.version()};
    res.set(bhttp::field::content_type, mime_type(*file));
    res.content_length(size);
    res.keep_alive(keep);
    respond(std::move(res), keep);
    return;
  }
  bhttp::response<bhttp::file_body> res{std::piecewise_construct, std::make_tuple(std::move(body)),
                                        std::make_tuple(bhttp::status::ok, req.version())};
  res.set(bhttp::field::server, "switchboard");
  res.set(bhttp::field::content_type, mime_type(*file));
  res.set(bhttp::field::cache_control, "no-cache");
  res.content_length(size);
  res.keep_alive(keep);
  respond(std::move(res), keep);
}

void HttpSession::respond(bhttp::message_generator msg, bool keep_alive) {
  beast::async_write(stream_, std::move(msg), [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
    if (ec) return;
    if (!keep_alive) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
      return;
    }
    self->do_read();
  });
}

}  // namespace sb::http
