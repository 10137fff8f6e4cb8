#include "http/Server.hpp"

#include <boost/asio/ip/v6_only.hpp>

#include "http/HttpSession.hpp"
#include "http/WebSocketSession.hpp"
#include "util/Log.hpp"

namespace sb::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
const auto& log() {
  static auto l = util::logger("http");
  return l;
}
/// How long shutdown waits for close handshakes before giving up on them.
constexpr auto kShutdownGrace = std::chrono::seconds(2);
}  // namespace

Server::Server(asio::io_context& ioc, ServerConfig cfg, signal::Coordinator& coordinator)
    : ioc_(ioc), cfg_(std::move(cfg)), coordinator_(coordinator), acceptor_(ioc), grace_timer_(ioc), membership_timer_(ioc) {}

Server::~Server() = default;

util::Result<void> Server::start() {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(cfg_.host, ec);
  if (ec) return util::make_error("invalid listen address \"" + cfg_.host + "\"");
  tcp::endpoint ep(addr, cfg_.port);
  acceptor_.open(ep.protocol(), ec);
  if (ec && addr.is_v6() && addr.to_v6().is_unspecified()) {
    // No IPv6 in this network namespace: every IPv4 interface is the next best.
    addr = asio::ip::address_v4::any();
    ep = tcp::endpoint(addr, cfg_.port);
    ec.clear();
    acceptor_.open(ep.protocol(), ec);
  }
  if (ec) return util::make_error("cannot open listening socket: " + ec.message());
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (addr.is_v6()) acceptor_.set_option(asio::ip::v6_only(false), ec);  // dual stack
  acceptor_.bind(ep, ec);
  if (ec) return util::make_error("cannot listen on " + cfg_.host + " port " + std::to_string(cfg_.port) + ": " + ec.message());
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return util::make_error("listen failed: " + ec.message());
  bound_port_ = acceptor_.local_endpoint().port();
  log()->info("listening on http://{}:{}/ (web root {})", addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string(),
              bound_port_, cfg_.web_root.string());
  do_accept();
  return {};
}

void Server::do_accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec != asio::error::operation_aborted) log()->warn("accept failed: {}", ec.message());
      if (!acceptor_.is_open() || shutting_down_) return;
    } else if (!shutting_down_) {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<HttpSession>(*this, std::move(socket))->start();
    }
    if (!shutting_down_) do_accept();
  });
}

signal::ConnId Server::attach(std::shared_ptr<WebSocketSession> s) {
  signal::ConnId id = next_id_++;
  sessions_.emplace(id, s);
  coordinator_.handle_open(id);
  return id;
}

void Server::detach(signal::ConnId id) {
  if (sessions_.erase(id) == 0) return;
  coordinator_.handle_close(id);
  flush();
  maybe_done();
}

void Server::flush() {
  while (auto out = coordinator_.poll_output()) {
    auto it = sessions_.find(out->conn);
    if (it == sessions_.end()) continue;
    if (auto s = it->second.lock()) s->send(std::move(out->text));
  }
  if (membership_armed_ || shutting_down_ || !coordinator_.membership_pending()) return;
  membership_armed_ = true;
  membership_timer_.expires_after(signal::kMembershipBatchInterval);
  membership_timer_.async_wait([this](boost::system::error_code ec) {
    membership_armed_ = false;
    if (ec || shutting_down_) return;
    coordinator_.flush_membership();
    flush();
  });
}

void Server::shutdown(std::string reason, std::function<void()> done) {
  if (shutting_down_) return;
  shutting_down_ = true;
  on_done_ = std::move(done);
  boost::system::error_code ec;
  acceptor_.close(ec);
  membership_timer_.cancel();
  log()->info("shutting down: {} ({} connections)", reason, sessions_.size());
  coordinator_.shutdown(reason);
  flush();
  for (auto& [id, weak] : sessions_)
    if (auto s = weak.lock()) s->close_going_away();
  grace_timer_.expires_after(kShutdownGrace);
  grace_timer_.async_wait([this](boost::system::error_code e) {
    if (e) return;
    sessions_.clear();
    maybe_done();
  });
  maybe_done();
}

void Server::maybe_done() {
  if (!shutting_down_ || !sessions_.empty() || !on_done_) return;
  grace_timer_.cancel();
  auto done = std::move(on_done_);
  on_done_ = nullptr;
  done();
}

}  // namespace sb::http
