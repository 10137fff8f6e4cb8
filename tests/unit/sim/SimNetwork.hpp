#pragma once
// A deterministic simulated UDP network in virtual time, for driving sans-IO
// protocol objects (transports, whole rooms) against each other in unit tests.
//
// Endpoints are transport addresses with one SimNode each. A datagram sent on a
// link is lost, duplicated, delayed (base delay ± jitter, so packets reorder) and,
// when the link has a bandwidth cap, serialised behind earlier ones and dropped
// when the link's queue is full. Every random choice comes from one seeded
// generator, so a run is the same every time for a given seed.
//
//   sim::SimNetwork net(seed);
//   net.set_default_link({.delay = 20ms, .jitter = 10ms, .loss = 0.1});
//   auto a = net.add_node(addr_a, node_a);
//   net.run_until([&] { return done(); }, 10s);
//
// Nothing here sleeps or reads a clock: time only moves inside run_until().
#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <random>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "util/Bytes.hpp"
#include "util/DatagramSink.hpp"
#include "util/SocketAddr.hpp"
#include "util/Time.hpp"

namespace sb::sim {

using namespace std::chrono_literals;

/// One participant of the simulation (usually a thin adapter around a sans-IO
/// object). The network calls it; it never calls back into the network except
/// through the sink it is given in flush().
class SimNode {
 public:
  virtual ~SimNode() = default;
  /// A datagram arrived; `data` is a private copy the node may modify (decrypt in place).
  virtual void handle_datagram(util::Timestamp now, const util::SocketAddr& from, util::MutableBytes data) = 0;
  virtual void handle_timeout(util::Timestamp now) = 0;
  /// Next time handle_timeout() is due; kNever if none. A past time means "now".
  virtual util::Timestamp poll_timeout() const = 0;
  /// Hands queued output to the network (the sink sends from the node's address).
  virtual void flush(util::Timestamp now, util::DatagramSink& out) = 0;
};

/// A node made of hooks, for ad-hoc participants (a scripted peer, a traffic source).
struct FnNode : SimNode {
  std::function<void(util::Timestamp, const util::SocketAddr&, util::MutableBytes)> on_datagram;
  std::function<void(util::Timestamp)> on_timeout;
  std::function<util::Timestamp()> next_timeout;
  std::function<void(util::Timestamp, util::DatagramSink&)> on_flush;

  void handle_datagram(util::Timestamp now, const util::SocketAddr& from, util::MutableBytes data) override {
    if (on_datagram) on_datagram(now, from, data);
  }
  void handle_timeout(util::Timestamp now) override {
    if (on_timeout) on_timeout(now);
  }
  util::Timestamp poll_timeout() const override { return next_timeout ? next_timeout() : util::kNever; }
  void flush(util::Timestamp now, util::DatagramSink& out) override {
    if (on_flush) on_flush(now, out);
  }
};

/// Adapts any object with the project's sans-IO shape:
///   R handle_datagram(Timestamp, const SocketAddr&, MutableBytes);
///   void handle_timeout(Timestamp);  Timestamp poll_timeout() const;  void flush(DatagramSink&);
/// `on_result` sees what handle_datagram returned (e.g. decrypted media); `after_step`
/// runs after every input (e.g. to drain events) and before the flush.
template <typename T>
class DrivenNode : public SimNode {
 public:
  using Result = decltype(std::declval<T&>().handle_datagram(util::Timestamp{}, std::declval<const util::SocketAddr&>(),
                                                             util::MutableBytes{}));
  using ResultHook = std::conditional_t<std::is_void_v<Result>, std::function<void(util::Timestamp)>,
                                        std::function<void(util::Timestamp, Result&)>>;

  explicit DrivenNode(T& target) : target_(target) {}

  ResultHook on_result;
  std::function<void(util::Timestamp)> after_step;
  /// Set false to make the node deaf and mute (a crashed or unplugged peer).
  bool enabled = true;

  void handle_datagram(util::Timestamp now, const util::SocketAddr& from, util::MutableBytes data) override {
    if (!enabled) return;
    if constexpr (std::is_void_v<Result>) {
      target_.handle_datagram(now, from, data);
      if (on_result) on_result(now);
    } else {
      Result r = target_.handle_datagram(now, from, data);
      if (on_result) on_result(now, r);
    }
    if (after_step) after_step(now);
  }
  void handle_timeout(util::Timestamp now) override {
    if (!enabled) return;
    target_.handle_timeout(now);
    if (after_step) after_step(now);
  }
  util::Timestamp poll_timeout() const override { return enabled ? target_.poll_timeout() : util::kNever; }
  void flush(util::Timestamp, util::DatagramSink& out) override {
    if (enabled) target_.flush(out);
  }

  T& target() { return target_; }

 private:
  T& target_;
};

/// Impairments of one direction of a link.
struct LinkConfig {
  util::Duration delay = 1ms;
  /// Each datagram gets delay + uniform[-jitter, +jitter] (never below zero), so
  /// datagrams closer together than the jitter may arrive out of order.
  util::Duration jitter = 0ms;
  double loss = 0.0;       ///< probability a datagram is lost
  double duplicate = 0.0;  ///< probability it is delivered twice (the copy independently delayed)
  /// 0: unlimited. Otherwise datagrams are serialised one after another at this rate.
  uint64_t bandwidth_bps = 0;
  /// Bytes that may wait for the wire on a capped link; beyond that, tail drop.
  size_t queue_limit_bytes = 64 * 1024;
};

struct NetworkStats {
  uint64_t sent = 0;           ///< send() calls
  uint64_t delivered = 0;      ///< handed to a node (duplicates included)
  uint64_t lost = 0;           ///< random loss
  uint64_t duplicated = 0;     ///< extra copies scheduled
  uint64_t queue_dropped = 0;  ///< bandwidth queue full
  uint64_t filtered = 0;       ///< dropped by the test's filter
  uint64_t unroutable = 0;     ///< no node at the destination on arrival
};

/// One datagram in flight.
struct SimDatagram {
  util::SocketAddr from;
  util::SocketAddr to;
  util::Bytes data;
  util::Timestamp sent_at;
};

class SimNetwork {
 public:
  using EndpointId = size_t;
  /// Decides at send time whether a datagram enters the network at all.
  using Filter = std::function<bool(const SimDatagram&)>;
  /// Sees every datagram handed to a node.
  using Tap = std::function<void(const SimDatagram&, util::Timestamp delivered_at)>;

  /// Guards against a node whose poll_timeout() stays in the past: this many
  /// steps without time moving ends run_until() with stalled() set.
  static constexpr int kMaxStepsWithoutProgress = 100000;

  explicit SimNetwork(uint64_t seed, util::Timestamp epoch = util::Timestamp{std::chrono::hours(1)})
      : rng_(seed), now_(epoch) {}
  SimNetwork(const SimNetwork&) = delete;
  SimNetwork& operator=(const SimNetwork&) = delete;

  // ---- configuration
  util::Timestamp now() const { return now_; }
  const NetworkStats& stats() const { return stats_; }
  bool stalled() const { return stalled_; }
  void set_default_link(const LinkConfig& cfg) { default_link_ = cfg; }
  /// Impairments for datagrams from `from` to `to` only (one direction).
  void set_link(const util::SocketAddr& from, const util::SocketAddr& to, const LinkConfig& cfg) {
    links_[{from, to}].config = cfg;
    links_[{from, to}].has_config = true;
  }
  void set_filter(Filter f) { filter_ = std::move(f); }
  void set_tap(Tap t) { tap_ = std::move(t); }
  /// The node at `addr` reads its socket only every `every` (a busy server's
  /// recvmmsg): datagrams for it wait for the next multiple of `every`, and it
  /// is flushed once after all of them, not after each. Zero: after each.
  void set_read_interval(const util::SocketAddr& addr, util::Duration every) { read_interval_[addr] = every; }

  /// Attaches `node` (which must outlive the network or be removed) at `addr`.
  EndpointId add_node(const util::SocketAddr& addr, SimNode& node) {
    auto ep = std::make_unique<Endpoint>(*this, addr, &node);
    endpoints_.push_back(std::move(ep));
    return endpoints_.size() - 1;
  }
  /// The node now sends from and receives at `addr` (a NAT rebinding, a new
  /// socket). Datagrams still in flight to the old address are lost.
  void move_node(EndpointId id, const util::SocketAddr& addr) { endpoints_.at(id)->addr = addr; }
  void remove_node(EndpointId id) { endpoints_.at(id)->node = nullptr; }
  const util::SocketAddr& address(EndpointId id) const { return endpoints_.at(id)->addr; }
  /// Sends from the endpoint's current address at the network's current time.
  util::DatagramSink& sink(EndpointId id) { return *endpoints_.at(id); }

  // ---- traffic
  /// Puts one datagram on the link from → to at time `now`.
  void send(const util::SocketAddr& from, const util::SocketAddr& to, util::ByteView data, util::Timestamp now) {
    ++stats_.sent;
    SimDatagram d{from, to, util::Bytes(data.begin(), data.end()), now};
    if (filter_ && !filter_(d)) {
      ++stats_.filtered;
      return;
    }
    Link& link = links_[{from, to}];
    const LinkConfig& cfg = link.has_config ? link.config : default_link_;
    if (chance(cfg.loss)) {
      ++stats_.lost;
      return;
    }
    util::Timestamp leaves = now;
    if (cfg.bandwidth_bps > 0) {
      // The link is a FIFO in front of a wire of fixed rate: what is still queued
      // is the backlog (busy_until - now) at that rate.
      const util::Timestamp start = std::max(now, link.busy_until);
      const double backlog_bytes =
          std::chrono::duration<double>(start - now).count() * double(cfg.bandwidth_bps) / 8.0;
      if (backlog_bytes + double(data.size()) > double(cfg.queue_limit_bytes)) {
        ++stats_.queue_dropped;
        return;
      }
      const auto serialization = std::chrono::duration_cast<util::Duration>(
          std::chrono::duration<double>(double(data.size()) * 8.0 / double(cfg.bandwidth_bps)));
      leaves = start + serialization;
      link.busy_until = leaves;
    }
    const bool dup = chance(cfg.duplicate);
    if (dup) {
      ++stats_.duplicated;
      schedule(leaves + one_way_delay(cfg), d);
    }
    schedule(leaves + one_way_delay(cfg), std::move(d));
  }

  /// Earliest pending delivery, or kNever.
  util::Timestamp next_delivery() const { return in_flight_.empty() ? util::kNever : in_flight_.top().at; }

  // ---- driving
  /// Advances virtual time, delivering datagrams and firing node timers in time
  /// order, until `done()` holds (checked after every step) or `max_duration` has
  /// passed. Returns done(). Time ends exactly at the limit when done() never held.
  bool run_until(const std::function<bool()>& done, util::Duration max_duration) {
    const util::Timestamp limit = now_ + max_duration;
    flush_all();
    int idle_steps = 0;
    while (!done()) {
      util::Timestamp next = next_delivery();
      for (auto& ep : endpoints_)
        if (ep->node) next = util::earliest(next, ep->node->poll_timeout());
      if (next == util::kNever || next > limit) {
        now_ = limit;
        return done();
      }
      if (next > now_) {
        now_ = next;
        idle_steps = 0;
      } else if (++idle_steps > kMaxStepsWithoutProgress) {
        stalled_ = true;
        return false;
      }
      step();
    }
    return true;
  }
  /// Runs for exactly `d` of virtual time.
  void run_for(util::Duration d) { (void)run_until([] { return false; }, d); }

 private:
  struct Endpoint : util::DatagramSink {
    Endpoint(SimNetwork& n, util::SocketAddr a, SimNode* nd) : net(n), addr(a), node(nd) {}
    util::MutableBytes reserve() override { return slot; }
    void commit(const util::SocketAddr& to, size_t len) override {
      net.send(addr, to, util::ByteView(slot).first(std::min(len, slot.size())), net.now_);
    }
    SimNetwork& net;
    util::SocketAddr addr;
    SimNode* node;
    std::array<uint8_t, util::kMaxDatagram> slot{};
  };

  struct AddrPairHash {
    size_t operator()(const std::pair<util::SocketAddr, util::SocketAddr>& p) const noexcept {
      return p.first.hash() * 31 + p.second.hash();
    }
  };

  struct Link {
    LinkConfig config;
    bool has_config = false;
    util::Timestamp busy_until{};
  };

  struct Scheduled {
    util::Timestamp at;
    uint64_t order;  // ties break by scheduling order: runs are reproducible
    SimDatagram datagram;
  };
  struct Later {
    bool operator()(const Scheduled& a, const Scheduled& b) const {
      return a.at != b.at ? a.at > b.at : a.order > b.order;
    }
  };

  bool chance(double p) { return p > 0 && uniform() < p; }
  /// Uniform in [0, 1) from the top 53 bits: the same numbers on every platform.
  double uniform() { return double(rng_() >> 11) * 0x1.0p-53; }

  util::Duration one_way_delay(const LinkConfig& cfg) {
    util::Duration d = cfg.delay;
    if (cfg.jitter > util::Duration::zero()) {
      const double offset = (2.0 * uniform() - 1.0) * double(cfg.jitter.count());
      d += util::Duration(util::Duration::rep(offset));
    }
    return std::max(d, util::Duration::zero());
  }

  void schedule(util::Timestamp at, SimDatagram d) {
    if (auto it = read_interval_.find(d.to); it != read_interval_.end() && it->second > util::Duration::zero()) {
      const auto every = it->second;
      const auto t = at.time_since_epoch();
      at = util::Timestamp{((t + every - util::Duration{1}) / every) * every};
    }
    in_flight_.push(Scheduled{at, next_order_++, std::move(d)});
  }
  bool reads_in_batches(const util::SocketAddr& addr) const {
    auto it = read_interval_.find(addr);
    return it != read_interval_.end() && it->second > util::Duration::zero();
  }

  Endpoint* endpoint_at(const util::SocketAddr& addr) {
    for (auto& ep : endpoints_)
      if (ep->node && ep->addr == addr) return ep.get();
    return nullptr;
  }

  /// Delivers everything due by now_, then fires due timers; flushes a node
  /// after each input (after the whole batch for one that reads in batches).
  void step() {
    std::vector<Endpoint*> batched;  // read in batches: flushed once, after the loop
    // Their datagrams stay alive until then, as a receive batch's buffers do:
    // a node may hold views into them until its flush. (Moving a vector keeps
    // its heap buffer, so the views survive `held` growing.)
    std::vector<util::Bytes> held;
    while (!in_flight_.empty() && in_flight_.top().at <= now_) {
      Scheduled s = in_flight_.top();
      in_flight_.pop();
      Endpoint* ep = endpoint_at(s.datagram.to);
      if (ep == nullptr) {
        ++stats_.unroutable;
        continue;
      }
      ++stats_.delivered;
      if (tap_) tap_(s.datagram, now_);
      util::Bytes copy = s.datagram.data;
      ep->node->handle_datagram(now_, s.datagram.from, copy);
      if (!reads_in_batches(ep->addr)) {
        if (ep->node) ep->node->flush(now_, *ep);
        continue;
      }
      held.push_back(std::move(copy));
      if (std::find(batched.begin(), batched.end(), ep) == batched.end()) batched.push_back(ep);
    }
    for (Endpoint* ep : batched)
      if (ep->node) ep->node->flush(now_, *ep);
    for (auto& ep : endpoints_) {
      if (ep->node && ep->node->poll_timeout() <= now_) {
        ep->node->handle_timeout(now_);
        if (ep->node) ep->node->flush(now_, *ep);
      }
    }
  }

  void flush_all() {
    for (auto& ep : endpoints_)
      if (ep->node) ep->node->flush(now_, *ep);
  }

  std::mt19937_64 rng_;
  util::Timestamp now_;
  LinkConfig default_link_;
  std::unordered_map<std::pair<util::SocketAddr, util::SocketAddr>, Link, AddrPairHash> links_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
  std::priority_queue<Scheduled, std::vector<Scheduled>, Later> in_flight_;
  uint64_t next_order_ = 0;
  Filter filter_;
  Tap tap_;
  std::unordered_map<util::SocketAddr, util::Duration> read_interval_;
  NetworkStats stats_;
  bool stalled_ = false;
};

}  // namespace sb::sim
