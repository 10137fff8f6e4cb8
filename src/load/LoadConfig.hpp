#pragma once
// What one run of the load generator does (filled from the command line).
#include <cstdint>
#include <string>
#include <vector>

#include "srtp/Profile.hpp"

namespace sb::load {

/// The kind of server under load: its signaling differs, the media path is the same.
enum class Target {
  kSwitchboard,  ///< docs/protocol.md
  kJanus,        ///< Janus VideoRoom over the Janus WebSocket API
};

/// How the participants' UDP traffic maps onto sockets.
enum class SocketMode {
  /// kShared when the participants' address is IPv4 loopback (every 127.x.y.z is
  /// local, so each participant gets one), else kPerPeer.
  kAuto,
  /// One socket per participant, bound to the bind address: one epoll event and
  /// at least one recvmmsg per participant and wakeup. Works anywhere.
  kPerPeer,
  /// Participant i sends and receives on bind address + i, all of them through a
  /// few sockets (SharedSocket) read many datagrams per syscall. Every one of
  /// those addresses must be local.
  kShared,
};

struct LoadConfig {
  /// Switchboard's GET /stats URL: its time-in-server histogram is read at the
  /// edges of the steady window (empty: not read).
  std::string server_stats_url;
  Target target = Target::kSwitchboard;
  /// Signaling endpoint, e.g. "ws://127.0.0.1:8080/" (Janus: "ws://host:8188/").
  std::string url = "ws://127.0.0.1:8080/";
  int rooms = 1;
  int publishers = 1;   ///< per room
  int subscribers = 1;  ///< per room
  double duration_s = 10;
  /// The steady-state window of the summary starts this long after the last
  /// participant started, and only once everyone is up and receiving (at the
  /// latest half-way through the run): joins, ICE and DTLS stay out of it.
  double warmup_s = 2;
  uint32_t video_bitrate = 1'000'000;  ///< bits per second of the VP8 stream
  int fps = 30;
  bool audio = false;  ///< publishers also send Opus-sized audio (20 ms packets)
  double keyframe_interval_s = 0;  ///< periodic keyframes (0: only on PLI/FIR and at start)
  /// Offered in DTLS use_srtp, most preferred first.
  std::vector<srtp::Profile> srtp_profiles{srtp::Profile::AeadAes128Gcm, srtp::Profile::AesCm128HmacSha1_80};
  double ramp_per_s = 50;  ///< participants started per second
  /// Subscribers start this long after their turn in the ramp, so that they join
  /// rooms whose publishers are already sending (join time is then their own).
  double subscriber_delay_s = 0;
  /// Local address the participants' UDP sockets bind to (empty: derived from the URL host).
  std::string bind_ip;
  SocketMode sockets = SocketMode::kAuto;
  /// How long a participant may take from joinRoom to a connected transport.
  double connect_timeout_s = 15;
  /// Receive moderation, as a NIC's interrupt coalescing: once datagrams have
  /// arrived, the generator reads its sockets again this many µs later instead
  /// of sleeping on them, as long as each look finds more. On one machine the
  /// kernel charges the sender for waking the receiver, so a generator woken by
  /// every burst makes the server under test pay for it. 0: wake on every
  /// datagram. Delays are measured from kernel receive timestamps either way.
  int rx_moderation_us = 250;
  /// Receivers send transport-wide CC feedback every 50 ms, as browsers do
  /// (off: only receiver reports and NACKs, a lighter generator).
  bool twcc_feedback = true;
  /// Seconds between a receiver's reports (RFC 3550 §6.4.2); browsers send
  /// about one a second per stream. Longer: fewer RTCP arrivals at the server,
  /// to see what they cost it.
  double receiver_report_interval_s = 1;
  bool progress = true;  ///< the once-a-second line on stderr
  std::string room_prefix = "load";
};

}  // namespace sb::load
