#pragma once
// Counters and histograms of one run, shared by every virtual participant of
// the media thread (single-threaded: plain integers).
#include <cstdint>

#include "load/Histogram.hpp"

namespace sb::load {

struct MediaStats {
  // Sent by publishers.
  uint64_t sent_packets = 0;  ///< media RTP packets (audio + video), retransmissions excluded
  uint64_t sent_bytes = 0;    ///< RTP bytes before SRTP
  uint64_t sent_video_frames = 0;
  uint64_t keyframes_sent = 0;
  uint64_t retransmissions_sent = 0;  ///< RTX answers to NACKs
  uint64_t nacks_received = 0;        ///< sequence numbers the server asked for
  uint64_t keyframe_requests_received = 0;  ///< PLI + FIR
  uint64_t send_failures = 0;
  /// How long after it was due each video frame was built, since the steady
  /// window began (µs). The generator's own lateness: frames that leave late
  /// leave together, and the server sees a burst no independent clients send.
  Histogram frame_lateness_window_us;
  // Received by everyone.
  uint64_t received_packets = 0;  ///< media RTP packets, RTX excluded
  uint64_t received_bytes = 0;
  uint64_t rtx_received = 0;
  uint64_t nacks_sent = 0;
  uint64_t rtcp_sent = 0;
  uint64_t rtcp_received = 0;
  uint64_t unknown_payload = 0;  ///< RTP with a payload type no description explained
  Histogram delay_us;           ///< one-way delay through the server, whole run
  Histogram delay_interval_us;  ///< the same, since the last progress line
  Histogram delay_window_us;    ///< the same, since the steady-state window began
};

}  // namespace sb::load
