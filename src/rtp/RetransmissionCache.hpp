#pragma once
// The last packets of one published stream, kept so that NACKs (RFC 4585
// §6.2.1) from any subscriber can be answered by resending them. One cache per
// published stream, shared by all its subscriptions: it holds the publisher's
// plaintext packets, indexed by the publisher's 16-bit sequence number.
//
// Memory is fixed at construction (capacity * kSlotBytes); nothing allocates
// afterwards. A packet is forgotten when a newer one takes its slot or after
// kMaxAge, whichever comes first.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "util/Bytes.hpp"
#include "util/Time.hpp"

namespace sb::rtp {

class RetransmissionCache {
 public:
  static constexpr size_t kDefaultCapacity = 512;  ///< packets; video. Audio uses e.g. 64.
  static constexpr size_t kMaxCapacity = 65536;    ///< one slot per possible sequence number
  /// An IP/UDP datagram on a path with a 1500-byte MTU cannot carry more.
  static constexpr size_t kSlotBytes = 1500;
  /// Older than this, a resent packet arrives too late to be played out.
  static constexpr util::Duration kMaxAge = std::chrono::milliseconds(1000);
  /// A packet this far behind the newest is a restarted source, not a late one.
  static constexpr uint16_t kRestartDistance = 4096;

  /// `capacity` is rounded up to a power of two in [1, kMaxCapacity].
  explicit RetransmissionCache(size_t capacity = kDefaultCapacity);

  // -- inputs
  /// Stores a copy of `packet`. Packets larger than kSlotBytes are not stored,
  /// nor ones so late that their slot already holds a newer packet.
  void insert(util::Timestamp now, uint16_t seq, util::ByteView packet);
  /// Forgets everything (e.g. the stream's source restarted).
  void clear();

  // -- getters
  /// The stored packet with that sequence number if present and younger than
  /// kMaxAge. The view stays valid until the next insert() or clear().
  std::optional<util::ByteView> find(util::Timestamp now, uint16_t seq) const;
  size_t capacity() const { return slots_.size(); }
  /// The newest sequence number stored (the end of what can be replayed).
  std::optional<uint16_t> newest() const { return newest_seq_; }

 private:
  struct Slot {
    util::Timestamp stored{};
    uint16_t seq = 0;
    uint16_t size = 0;
    bool used = false;
  };

  std::vector<Slot> slots_;
  std::vector<uint8_t> storage_;  ///< capacity() * kSlotBytes
  size_t mask_ = 0;
  // The newest sequence number inserted (and when): a packet more than
  // capacity() older would evict a newer one from its slot, so it is not stored.
  std::optional<uint16_t> newest_seq_;
  util::Timestamp newest_time_{};
};

}  // namespace sb::rtp
