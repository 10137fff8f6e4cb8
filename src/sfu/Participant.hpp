#pragma once
// One participant on a media worker: its transport (ICE, DTLS, SRTP) and its
// offer/answer state. Owned by its Room.
#include <memory>
#include <string>

#include "rtc/Negotiator.hpp"
#include "rtc/Transport.hpp"
#include "sfu/Signal.hpp"

namespace sb::sfu {

struct ParticipantStats {
  uint64_t rtp_packets = 0;   ///< decrypted RTP received from the participant
  uint64_t rtcp_packets = 0;  ///< decrypted RTCP received
  uint64_t unknown_ssrc = 0;  ///< RTP that maps to no negotiated m-section
};

class Participant {
 public:
  Participant(ConnId conn, std::string self_id, std::unique_ptr<rtc::Transport> transport,
              std::unique_ptr<rtc::Negotiator> negotiator)
      : conn_(conn), self_id_(std::move(self_id)), transport_(std::move(transport)),
        negotiator_(std::move(negotiator)) {}

  ConnId conn() const { return conn_; }
  const std::string& self_id() const { return self_id_; }
  rtc::Transport& transport() { return *transport_; }
  const rtc::Transport& transport() const { return *transport_; }
  rtc::Negotiator& negotiator() { return *negotiator_; }
  const rtc::Negotiator& negotiator() const { return *negotiator_; }
  ParticipantStats& stats() { return stats_; }
  const ParticipantStats& stats() const { return stats_; }
  /// True once the transport died and the participant is being removed.
  bool closing = false;

 private:
  ConnId conn_;
  std::string self_id_;
  std::unique_ptr<rtc::Transport> transport_;
  std::unique_ptr<rtc::Negotiator> negotiator_;
  ParticipantStats stats_;
};

}  // namespace sb::sfu
