#pragma once
// Fixed-size datagram slots for batched UDP I/O. Buffers are allocated once per
// worker and reused for every packet: nothing on the packet path allocates.
#include <array>
#include <cstddef>
#include <cstdint>

#include "util/Bytes.hpp"
#include "util/DatagramSink.hpp"
#include "util/SocketAddr.hpp"

namespace sb::net {

using util::kMaxDatagram;
/// Datagrams moved per recvmmsg/sendmmsg call.
inline constexpr size_t kBatchSize = 64;

/// Outgoing datagrams of one processing round, flushed with one sendmmsg.
class SendQueue {
 public:
  SendQueue() = default;
  SendQueue(const SendQueue&) = delete;
  SendQueue& operator=(const SendQueue&) = delete;

  /// A free slot to write a datagram into, or an empty span when the queue is full
  /// (the owner flushes and retries).
  util::MutableBytes reserve() {
    if (count_ == kBatchSize) return {};
    return {slots_[count_].data.data(), kMaxDatagram};
  }
  /// Commits the slot returned by reserve() with `len` bytes for `to`;
  /// `origin_ns`: when the datagram that caused this one arrived (0: none).
  void commit(const util::SocketAddr& to, size_t len, int64_t origin_ns = 0) {
    slots_[count_].to = to;
    slots_[count_].len = len;
    slots_[count_].origin_ns = origin_ns;
    ++count_;
  }
  /// Copies a datagram in; false if the queue is full or it is too large.
  bool push(const util::SocketAddr& to, util::ByteView data) {
    if (data.size() > kMaxDatagram) return false;
    auto slot = reserve();
    if (slot.empty()) return false;
    std::copy(data.begin(), data.end(), slot.begin());
    commit(to, data.size());
    return true;
  }
  bool full() const { return count_ == kBatchSize; }
  bool empty() const { return count_ == 0; }
  size_t size() const { return count_; }
  void clear() { count_ = 0; }

  struct Slot {
    util::SocketAddr to;
    size_t len = 0;
    int64_t origin_ns = 0;
    std::array<uint8_t, kMaxDatagram> data;
  };
  const Slot& slot(size_t i) const { return slots_[i]; }

 private:
  std::array<Slot, kBatchSize> slots_;
  size_t count_ = 0;
};

using Transmitter = util::DatagramSink;

}  // namespace sb::net
