#pragma once
// Iteration over a compound RTCP datagram (RFC 3550 §6.1). A lone packet of any
// type is accepted too: browsers negotiate reduced-size RTCP (RFC 5506), so a
// datagram may hold just one feedback packet.
#include <optional>

#include "rtp/rtcp/PacketView.hpp"

namespace sb::rtp::rtcp {

class CompoundIterator {
 public:
  explicit CompoundIterator(util::ByteView data) : rest_(data) {}

  /// The next packet; nullopt at the end or at the first malformed header
  /// (then error() is not kNone and iteration stops for good).
  std::optional<PacketView> next();
  ParseError error() const { return error_; }

 private:
  util::ByteView rest_;
  ParseError error_ = ParseError::kNone;
};

/// kNone if the datagram is non-empty and every packet header in it is valid
/// and the packets exactly fill it.
ParseError validate_compound(util::ByteView data);

/// Validates the whole datagram first (RFC 3550 §A.2: a malformed compound is
/// discarded as a whole), then calls `f(const PacketView&)` for each packet.
/// Returns false, without calling `f`, if the datagram is malformed.
template <typename F>
bool for_each(util::ByteView data, F&& f) {
  if (validate_compound(data) != ParseError::kNone) return false;
  CompoundIterator it(data);
  while (auto p = it.next()) f(*p);
  return true;
}

}  // namespace sb::rtp::rtcp
