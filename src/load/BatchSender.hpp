#pragma once
// The DatagramSink every virtual participant writes into. The media thread
// says whose datagrams come next with use():
//  - a socket per participant: one set of pooled slots for the whole thread,
//    sent with one sendmmsg per participant round (a batch never spans two
//    sockets);
//  - shared sockets: datagrams queue on the participant's SharedSocket with
//    their source address, so the feedback of many participants that fall due
//    together leaves in one sendmmsg.
// flush() sends everything queued.
#include <vector>

#include "load/SharedSocket.hpp"
#include "net/Datagram.hpp"
#include "net/UdpSocket.hpp"
#include "util/DatagramSink.hpp"

namespace sb::load {

class BatchSender final : public util::DatagramSink {
 public:
  /// Sends what is queued for the previous socket, then queues for `socket`.
  void use(net::UdpSocket& socket) {
    if (&socket != socket_) flush_own();
    socket_ = &socket;
    shared_ = nullptr;
  }
  /// The next datagrams leave `socket` from `source_ip` (IPv4, host order).
  void use(SharedSocket& socket, uint32_t source_ip) {
    shared_ = &socket;
    source_ = source_ip;
  }
  /// Sends everything queued (one sendmmsg per socket).
  void flush() {
    flush_own();
    for (SharedSocket* s : dirty_) s->flush();
    dirty_.clear();
  }

  util::MutableBytes reserve() override {
    if (shared_ != nullptr) return shared_->reserve();
    auto slot = queue_.reserve();
    if (slot.empty()) {
      flush_own();
      slot = queue_.reserve();
    }
    return slot;
  }
  void commit(const util::SocketAddr& to, size_t len) override {
    if (shared_ == nullptr) {
      queue_.commit(to, len);
      return;
    }
    // A socket joins the list when its queue stops being empty (it may join
    // twice if it flushed itself when full in between: harmless).
    if (!shared_->has_queued()) dirty_.push_back(shared_);
    shared_->commit(source_, to, len);
  }

 private:
  void flush_own() {
    if (queue_.empty()) return;
    if (socket_ != nullptr) socket_->send(queue_);
    queue_.clear();
  }

  net::SendQueue queue_;
  net::UdpSocket* socket_ = nullptr;
  SharedSocket* shared_ = nullptr;
  uint32_t source_ = 0;
  std::vector<SharedSocket*> dirty_;
};

}  // namespace sb::load
