#pragma once
// Where protocol code puts datagrams to send. The I/O shell implements it with
// pooled slots that go out in one sendmmsg; tests implement it with a vector.
// Writing straight into the slot is what lets the packet path avoid copies.
#include <algorithm>
#include <cstddef>

#include "util/Bytes.hpp"
#include "util/SocketAddr.hpp"

namespace sb::util {

/// Largest UDP payload sent or received. Browsers keep WebRTC packets under
/// ~1200 bytes (path MTU); 2048 leaves room for anything a peer may send.
inline constexpr size_t kMaxDatagram = 2048;

class DatagramSink {
 public:
  virtual ~DatagramSink() = default;
  /// A slot of kMaxDatagram bytes to write one datagram into; never empty.
  virtual MutableBytes reserve() = 0;
  /// Sends the first `len` bytes of the slot last returned by reserve() to `to`.
  virtual void commit(const SocketAddr& to, size_t len) = 0;

  /// When the datagram being handled arrived (the I/O shell's receive
  /// timestamp, ns since the epoch; 0: unknown). What the shell sends is
  /// measured from it. Work that is deferred past that datagram (the fan-out,
  /// which waits for the end of the receive batch) takes it along and restores
  /// it with set_origin() while it sends.
  virtual int64_t origin() const { return 0; }
  virtual void set_origin(int64_t) {}

  void send(const SocketAddr& to, ByteView data) {
    if (data.size() > kMaxDatagram) return;
    auto slot = reserve();
    std::copy(data.begin(), data.end(), slot.begin());
    commit(to, data.size());
  }
};

}  // namespace sb::util
