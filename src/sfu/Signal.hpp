#pragma once
// Messages the media side sends back to signaling (delivered on the signaling
// thread by the I/O shell). Plain values: they cross threads.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace sb::sfu {

using ConnId = uint64_t;

struct AnswerOut {
  std::string sdp;
};
struct OfferOut {
  std::string sdp;
};
struct CandidateOut {
  std::string candidate;  ///< "candidate:…"
  std::string sdp_mid;
  int sdp_mline_index = 0;
  std::string username_fragment;
};
/// A request was refused; `code` is one of signal::errc.
struct ErrorOut {
  std::string code;
  std::string message;
  std::string event;
};
/// The participant's transport is gone (consent expired, DTLS failed, …).
struct ClosedOut {
  std::string reason;
};

struct SignalOut {
  ConnId conn = 0;
  std::variant<AnswerOut, OfferOut, CandidateOut, ErrorOut, ClosedOut> message;
};

}  // namespace sb::sfu
