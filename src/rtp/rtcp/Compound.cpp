#include "rtp/rtcp/Compound.hpp"

namespace sb::rtp::rtcp {

std::optional<PacketView> CompoundIterator::next() {
  if (rest_.empty() || error_ != ParseError::kNone) return std::nullopt;
  auto p = PacketView::parse(rest_);
  if (!p) {
    error_ = p.error();
    rest_ = {};
    return std::nullopt;
  }
  rest_ = rest_.subspan(p->size());
  return *p;
}

ParseError validate_compound(util::ByteView data) {
  if (data.empty()) return ParseError::kTruncated;
  CompoundIterator it(data);
  while (it.next()) {
  }
  return it.error();
}

}  // namespace sb::rtp::rtcp
