#pragma once
// Goodbye, RFC 3550 §6.6.
#include <span>
#include <string_view>

#include "rtp/rtcp/PacketView.hpp"
#include "rtp/rtcp/RecordList.hpp"

namespace sb::rtp::rtcp {

class Bye {
 public:
  static Parsed<Bye> parse(const PacketView& p);
  /// Returns the size written; 0 if it does not fit, > 31 SSRCs or a reason
  /// longer than 255 bytes.
  static size_t write(util::MutableBytes out, std::span<const Ssrc> ssrcs, std::string_view reason = {});

  const SsrcList& ssrcs() const { return ssrcs_; }
  std::string_view reason() const { return reason_; }

 private:
  Bye() = default;
  SsrcList ssrcs_;
  std::string_view reason_;
};

}  // namespace sb::rtp::rtcp
