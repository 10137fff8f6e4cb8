#include "app/MediaEngine.hpp"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include <thread>

#include "net/Interfaces.hpp"
#include "util/Log.hpp"

namespace sb::app {

namespace json = boost::json;

namespace {
const auto& log() {
  static auto l = util::logger("media");
  return l;
}

/// A latency histogram as /stats shows it: quantiles, and the non-empty
/// buckets ([upper bound µs, count]) so that a client can take the difference
/// of two snapshots for a window of its own.
json::object histogram_json(const util::LatencyHistogram& h) {
  json::array buckets;
  for (size_t i = 0; i < util::LatencyHistogram::kBuckets; ++i)
    if (uint64_t c = h.bucket_count(i)) buckets.push_back(json::array{util::LatencyHistogram::upper_bound(i), c});
  return json::object{{"count", h.count()},         {"p50", h.quantile(0.5)},  {"p90", h.quantile(0.9)},
                      {"p99", h.quantile(0.99)},     {"p999", h.quantile(0.999)}, {"max", h.max()},
                      {"buckets", std::move(buckets)}};
}
}  // namespace

/// One worker: its sans-IO core, and the adapter the I/O shell drives.
struct MediaEngine::Slot final : net::PacketProcessor {
  Slot(MediaEngine& e, size_t i, std::unique_ptr<sfu::WorkerCore> c, net::UdpSocket s, net::UdpSocket reports)
      : engine(e), index(i), core(std::move(c)),
        worker(std::make_unique<net::Worker>("sb-media-" + std::to_string(i), std::move(s), std::move(reports))) {
    worker->set_processor(this);
  }

  void handle_datagram(util::Timestamp now, const util::SocketAddr& from, util::MutableBytes data,
                       net::Transmitter& out) override {
    core->handle_datagram(now, from, data, out);
  }
  void handle_timeout(util::Timestamp now, net::Transmitter& out) override { core->handle_timeout(now, out); }
  util::Timestamp poll_timeout() const override { return core->poll_timeout(); }
  util::Timestamp poll_due() const override { return core->poll_due(); }
  void flush(util::Timestamp now, net::Transmitter& out) override {
    core->flush(now, out);
    std::vector<sfu::SignalOut> batch;
    while (auto s = core->poll_signal()) batch.push_back(std::move(*s));
    if (!batch.empty())
      boost::asio::post(engine.signaling_, [&e = engine, b = std::move(batch)]() mutable { e.on_signals_(std::move(b)); });
  }

  MediaEngine& engine;
  size_t index;
  std::unique_ptr<sfu::WorkerCore> core;
  std::unique_ptr<net::Worker> worker;
};

MediaEngine::MediaEngine(boost::asio::io_context& signaling, const Config& config, SignalHandler on_signals)
    : signaling_(signaling), config_(config), on_signals_(std::move(on_signals)) {}

MediaEngine::~MediaEngine() { stop(); }

util::Result<void> MediaEngine::start() {
  auto cert = dtls::Certificate::generate(std::chrono::system_clock::now());
  if (!cert) return util::make_error("cannot create the DTLS certificate: " + cert.error());
  certificate_ = cert.value();

  unsigned n = config_.workers ? config_.workers : std::max(1u, std::thread::hardware_concurrency());
  std::vector<net::UdpSocket> sockets, report_sockets;
  for (unsigned i = 0; i < n; ++i) {
    uint16_t port = config_.udp_port ? uint16_t(config_.udp_port + i) : 0;
    auto s = net::UdpSocket::bind(util::SocketAddr::v6({}, port), config_.defer_reports);
    if (!s) return util::make_error(s.error());
    s.value().set_gso(config_.udp_gso);
    net::UdpSocket reports;
    if (config_.defer_reports) {
      auto r = net::UdpSocket::bind_report_socket(s.value());
      if (r) reports = std::move(r.value());
      else log()->info("media worker {}: RTCP reports wake the worker like media: {}", i, r.error());
    }
    sockets.push_back(std::move(s.value()));
    report_sockets.push_back(std::move(reports));
  }
  bool dual_stack = sockets.front().local_address().is_v6();

  if (!config_.announce.empty()) {
    for (const auto& a : config_.announce) {
      auto addr = util::SocketAddr::parse_ip(a, 0);
      if (!addr) return util::make_error("--announce: \"" + a + "\" is not an IP address");
      announce_.push_back(*addr);
    }
  } else {
    for (const auto& a : net::local_interface_addresses())
      if (a.is_v4() || dual_stack) announce_.push_back(a);
  }
  if (announce_.empty()) return util::make_error("no address to announce in ICE candidates (no interface is up)");

  for (unsigned i = 0; i < n; ++i) {
    sfu::WorkerConfig wc{announce_, sockets[i].local_address().port(), certificate_};
    auto core = std::make_unique<sfu::WorkerCore>(std::move(wc), util::make_system_random());
    slots_.push_back(std::make_unique<Slot>(*this, i, std::move(core), std::move(sockets[i]),
                                            std::move(report_sockets[i])));
  }
  std::string addrs;
  for (const auto& a : announce_) addrs += (addrs.empty() ? "" : ", ") + a.ip_string();
  for (auto& s : slots_) {
    log()->info("media worker {} on UDP port {}", s->index, s->worker->socket().local_address().port());
    s->worker->start();
  }
  log()->info("announcing {}; DTLS fingerprint sha-256 {}", addrs, certificate_->fingerprint());
  return {};
}

void MediaEngine::stop() {
  for (auto& s : slots_) s->worker->stop();
}

MediaEngine::Slot* MediaEngine::slot_for(signal::ConnId conn) {
  auto it = conns_.find(conn);
  return it == conns_.end() ? nullptr : slots_[it->second].get();
}

std::optional<signal::ProtocolError> MediaEngine::join(const signal::ParticipantKey& who) {
  // A room lives on one worker: its media never crosses threads. New rooms go
  // to the worker with the fewest participants.
  auto [it, fresh] = rooms_.try_emplace(who.room_id);
  if (fresh) {
    std::vector<size_t> load(slots_.size(), 0);
    for (const auto& [c, w] : conns_) ++load[w];
    size_t best = next_worker_ % slots_.size();
    for (size_t i = 0; i < slots_.size(); ++i)
      if (load[i] < load[best]) best = i;
    next_worker_ = best + 1;
    it->second.worker = best;
  }
  ++it->second.members;
  conns_[who.conn] = it->second.worker;
  Slot* s = slots_[it->second.worker].get();
  s->worker->post([core = s->core.get(), conn = who.conn, room = who.room_id, self = who.self_id](
                      util::Timestamp now, net::Transmitter&) { core->join(now, conn, room, self); });
  return std::nullopt;
}

std::optional<signal::ProtocolError> MediaEngine::offer(const signal::ParticipantKey& who, std::string sdp) {
  Slot* s = slot_for(who.conn);
  if (!s) return signal::ProtocolError{signal::errc::kNotJoined, "not in a room", "offer"};
  s->worker->post([core = s->core.get(), conn = who.conn, sdp = std::move(sdp)](util::Timestamp now, net::Transmitter&) {
    core->offer(now, conn, sdp);
  });
  return std::nullopt;
}

std::optional<signal::ProtocolError> MediaEngine::answer(const signal::ParticipantKey& who, std::string sdp) {
  Slot* s = slot_for(who.conn);
  if (!s) return signal::ProtocolError{signal::errc::kNotJoined, "not in a room", "answer"};
  s->worker->post([core = s->core.get(), conn = who.conn, sdp = std::move(sdp)](util::Timestamp now, net::Transmitter&) {
    core->answer(now, conn, sdp);
  });
  return std::nullopt;
}

std::optional<signal::ProtocolError> MediaEngine::candidate(const signal::ParticipantKey& who, signal::IceCandidate c) {
  Slot* s = slot_for(who.conn);
  if (!s) return signal::ProtocolError{signal::errc::kNotJoined, "not in a room", "ice-candidate"};
  s->worker->post([core = s->core.get(), conn = who.conn, cand = std::move(c.candidate)](util::Timestamp now,
                                                                                         net::Transmitter&) {
    core->candidate(now, conn, cand);
  });
  return std::nullopt;
}

void MediaEngine::leave(const signal::ParticipantKey& who) {
  auto it = conns_.find(who.conn);
  if (it == conns_.end()) return;
  Slot* s = slots_[it->second].get();
  conns_.erase(it);
  if (auto r = rooms_.find(who.room_id); r != rooms_.end() && --r->second.members == 0) rooms_.erase(r);
  s->worker->post([core = s->core.get(), conn = who.conn](util::Timestamp now, net::Transmitter&) {
    core->leave(now, conn);
  });
}

void MediaEngine::collect_stats(bool with_rooms, std::function<void(std::string)> done) {
  struct Gather {
    std::vector<json::object> workers;
    std::map<std::string, json::array> rooms;
    size_t pending;
    std::function<void(std::string)> done;
  };
  auto g = std::make_shared<Gather>();
  g->pending = slots_.size();
  g->done = std::move(done);
  g->workers.resize(slots_.size());
  for (auto& slot : slots_) {
    Slot* s = slot.get();
    // The worker only copies its counters (a few µs per participant); the JSON
    // is built here on the signaling thread, so that a monitoring poll of a
    // worker with a thousand participants does not hold its media up.
    s->worker->post([this, s, g, with_rooms](util::Timestamp, net::Transmitter&) {
      auto snapshot = with_rooms ? s->core->snapshot() : decltype(s->core->snapshot()){};
      boost::asio::post(signaling_, [s, g, snaps = std::move(snapshot), ws = s->core->stats(),
                                     ss = s->worker->socket().stats(), wk = s->worker->stats(),
                                     d = s->worker->forward_delay(), rw = s->worker->receive_wait(),
                                     participants = s->core->participant_count(),
                                     room_count = s->core->room_count()]() mutable {
        json::object w{{"index", s->index},
                       {"udp_port", s->worker->socket().local_address().port()},
                       {"participants", participants},
                       {"rooms", room_count},
                       {"datagrams", ws.datagrams},
                       {"dropped_unknown_source", ws.dropped_unknown_source},
                       {"dropped_unknown_ufrag", ws.dropped_unknown_ufrag},
                       {"dropped_malformed_stun", ws.dropped_malformed_stun},
                       {"rx_packets", ss.rx_packets},
                       {"tx_packets", ss.tx_packets},
                       {"tx_dropped", ss.tx_dropped},
                       {"tx_calls", ss.tx_batches},
                       {"tx_gso_segments", ss.tx_gso_segments},
                       {"tx_gso_refused", ss.tx_gso_refused},
                       {"wakeups", wk.wakeups},
                       {"timer_rounds", wk.timer_rounds},
                       {"reports_deferred", wk.reports},
                       {"report_timeouts", wk.report_timeouts}};
        // Time in the server per forwarded datagram (kernel arrival to
        // sendmmsg), since start.
        w["forward_delay_us"] = histogram_json(d);
        // Its first part: arrival to the recvmmsg that read the datagram.
        w["receive_wait_us"] = histogram_json(rw);
        for (const auto& p : snaps) {
          const auto& t = p.transport;
          json::object tr{{"state", p.transport_state},
                          {"srtp_profile", p.srtp_profile},
                          {"remote", p.remote},
                          {"datagrams_in", t.datagrams_in},
                          {"stun_in", t.stun_in},
                          {"dtls_in", t.dtls_in},
                          {"rtp_in", t.rtp_in},
                          {"rtcp_in", t.rtcp_in},
                          {"rtp_bytes_in", t.rtp_bytes_in},
                          {"rtp_out", t.rtp_out},
                          {"rtcp_out", t.rtcp_out},
                          {"dropped_srtp", t.dropped_srtp},
                          {"dropped_unverified_source", t.dropped_unverified_source},
                          {"dropped_not_ready", t.dropped_not_ready},
                          {"dropped_unknown_kind", t.dropped_unknown_kind},
                          {"srtp_auth_failures", p.srtp_auth_failures},
                          {"srtp_replays", p.srtp_replays}};
          const auto& m = p.media;
          json::object media{{"rtp_packets", m.rtp_packets},
                             {"rtcp_packets", m.rtcp_packets},
                             {"unknown_ssrc", m.unknown_ssrc},
                             {"rtx_received", m.rtx_received},
                             {"rtx_duplicates", m.rtx_duplicates},
                             {"forwarded", m.forwarded},
                             {"nacks_received", m.nacks_received},
                             {"retransmitted", m.retransmitted},
                             {"nacks_ignored", m.nacks_ignored},
                             {"plis_received", m.plis_received},
                             {"rembs_received", m.rembs_received},
                             {"downlink_estimate_bps", m.downlink_estimate_bps},
                             {"keyframe_requests_sent", m.keyframe_requests_sent},
                             {"keyframe_replays", m.keyframe_replays},
                             {"nacks_sent", m.nacks_sent},
                             {"twcc_feedback_sent", m.twcc_feedback_sent},
                             {"offers_sent", m.offers_sent},
                             {"published_tracks", p.published_tracks},
                             {"subscriptions", p.subscriptions},
                             {"active_subscriptions", p.active_subscriptions}};
          json::object po{{"self_id", p.self_id}, {"transport", std::move(tr)}, {"media", std::move(media)}};
          g->rooms[p.room_id].push_back(std::move(po));
        }
        g->workers[s->index] = std::move(w);
        if (--g->pending > 0) return;
        json::array rooms;
        for (auto& [id, ps] : g->rooms) rooms.push_back(json::object{{"room_id", id}, {"participants", std::move(ps)}});
        json::array workers;
        for (auto& w2 : g->workers) workers.push_back(std::move(w2));
        g->done(json::serialize(json::object{{"workers", std::move(workers)}, {"rooms", std::move(rooms)}}));
      });
    });
  }
  if (slots_.empty()) g->done("{\"workers\":[],\"rooms\":[]}");
}

}  // namespace sb::app
