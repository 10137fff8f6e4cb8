#pragma once
// The result of one run, written as one JSON object on stdout (--json) or as a
// few lines of text.
#include <cstdint>
#include <string>
#include <vector>

#include "load/ServerStats.hpp"

namespace sb::load {

struct Quantiles {
  double p50 = 0, p99 = 0, max = 0;
};

/// The steady state of a run: from when every participant was up and receiving
/// (and the warm-up was over) to when publishers stopped. Server CPU and memory
/// here exclude joining, ICE and the DTLS handshakes.
struct SteadyWindow {
  double start_s = 0;     ///< from the start of the run
  double duration_s = 0;  ///< 0: no window (the run ended first)
  bool settled = false;   ///< everyone was up and receiving when it began
  uint64_t sent_packets = 0;
  uint64_t received_packets = 0;
  uint64_t expected_packets = 0;
  double loss_fraction = 0;
  Quantiles delay_us;
  double server_cpu_s = -1;  ///< with --server-pid; -1 otherwise
  double media_thread_cpu_s = 0;  ///< the generator's media thread over the window
  /// How late the generator built its publishers' video frames (µs after due).
  Quantiles frame_lateness_us;
  /// With --server-stats: the server's own time-in-server distribution over the
  /// window (kernel receive to sendmmsg, µs); count 0 when not read.
  DelayQuantiles server_delay_us;
  /// Its first part: kernel receive to the server's recvmmsg (waking up, and
  /// the work queued ahead of the datagram).
  DelayQuantiles server_wait_us;
  std::string server_delay_error;  ///< why it could not be read, if asked for
};

struct Summary {
  int rooms = 0;
  int publishers = 0;   ///< total over rooms
  int subscribers = 0;  ///< total over rooms
  double duration_s = 0;  ///< from the first join to the end of sending
  uint64_t sent_packets = 0;      ///< media packets sent by publishers
  uint64_t received_packets = 0;  ///< media packets received (RTX-repaired included)
  uint64_t expected_packets = 0;  ///< from sequence numbers at each receiver (RFC 3550 §A.3)
  double loss_fraction = 0;
  Quantiles delay_us;
  Quantiles join_ms;     ///< joinRoom → first media packet, receivers only
  /// joinRoom → first packet of a video keyframe (a decoder's first frame),
  /// receivers of video only.
  Quantiles keyframe_ms;
  Quantiles connect_ms;  ///< joinRoom → DTLS-SRTP connected
  int connected = 0;     ///< participants whose transport came up
  int receiving = 0;     ///< participants that received media
  int expected_receivers = 0;  ///< participants that should receive media
  uint64_t errors = 0;
  std::vector<std::string> error_messages;  ///< the first few
  uint64_t retransmissions = 0;
  uint64_t nacks_sent = 0;
  uint64_t rtcp_sent = 0;      ///< SRTCP datagrams, every participant
  uint64_t rtcp_received = 0;
  uint64_t keyframes_sent = 0;
  uint64_t keyframe_requests = 0;
  uint64_t sent_bytes = 0, received_bytes = 0;
  std::string srtp_profile;  ///< "gcm", "cm" or "mixed"
  std::string sockets;       ///< "shared" or "per-peer" (LoadConfig::sockets as it was resolved)
  double cpu_s = 0;          ///< this process, user + system
  double media_thread_cpu_s = 0;
  double server_cpu_s = -1;  ///< with --server-pid; -1 otherwise
  /// With --server-pid: the server's resident memory (VmRSS) when the run began,
  /// when the steady window began, and at its end; -1 otherwise.
  double server_rss_start_kb = -1, server_rss_steady_kb = -1, server_rss_end_kb = -1;
  SteadyWindow steady;

  std::string to_json() const;
  std::string to_text() const;
};

}  // namespace sb::load
