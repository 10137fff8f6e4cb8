#pragma once
// The 96-bit STUN transaction id (RFC 8489 §5): matches responses to requests.
#include <array>
#include <cstdint>
#include <cstring>

#include "stun/Constants.hpp"
#include "util/Bytes.hpp"
#include "util/Random.hpp"

namespace sb::stun {

struct TransactionId {
  std::array<uint8_t, kTransactionIdSize> bytes{};

  /// Fresh id; RFC 8489 §5 asks for it to be uniformly random.
  static TransactionId random(util::Random& rng) {
    TransactionId id;
    rng.fill(id.bytes);
    return id;
  }
  static TransactionId from(util::ByteView v) {
    TransactionId id;
    if (v.size() == kTransactionIdSize) std::memcpy(id.bytes.data(), v.data(), kTransactionIdSize);
    return id;
  }
  util::ByteView view() const { return bytes; }
  friend bool operator==(const TransactionId&, const TransactionId&) = default;
};

}  // namespace sb::stun
