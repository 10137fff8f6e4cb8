#pragma once
// The DatagramSink every virtual participant writes into: one set of pooled
// slots for the whole media thread, sent with one sendmmsg per participant
// round (each participant has its own socket, so a batch never spans two).
#include "net/Datagram.hpp"
#include "net/UdpSocket.hpp"
#include "util/DatagramSink.hpp"

namespace sb::load {

class BatchSender final : public util::DatagramSink {
 public:
  /// Sends what is queued for the previous socket, then queues for `socket`.
  void use(net::UdpSocket& socket) {
    flush();
    socket_ = &socket;
  }
  /// Sends everything queued (one sendmmsg).
  void flush() {
    if (queue_.empty()) return;
    if (socket_ != nullptr) socket_->send(queue_);
    queue_.clear();
  }

  util::MutableBytes reserve() override {
    auto slot = queue_.reserve();
    if (slot.empty()) {
      flush();
      slot = queue_.reserve();
    }
    return slot;
  }
  void commit(const util::SocketAddr& to, size_t len) override { queue_.commit(to, len); }

 private:
  net::SendQueue queue_;
  net::UdpSocket* socket_ = nullptr;
};

}  // namespace sb::load
