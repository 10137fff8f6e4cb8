#pragma once
// Coordinator → Room → Participant bookkeeping for the signaling protocol.
// Sans-IO and single-threaded: the HTTP layer feeds it connection events and
// drains `poll_output()`; the media backend reports back through on_media_*.
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "signal/MediaBackend.hpp"
#include "signal/Protocol.hpp"

namespace sb::signal {

/// Candidates kept per participant while its offer has not arrived.
inline constexpr size_t kMaxPendingCandidates = 64;
/// Rooms and participants bounded so that a misbehaving client cannot exhaust memory.
inline constexpr size_t kMaxRooms = 100'000;
/// A room of one speaker and thousands of viewers is a normal use of an SFU.
inline constexpr size_t kMaxParticipantsPerRoom = 5'000;
/// Up to this many members a room hears of each join and leave at once
/// (participantJoined, participantLeft). In a larger room that would be a
/// message to every member per change, N² messages for N people joining, which
/// takes a core at a few thousand members; there the changes are collected and
/// sent as one participantsChanged per member each kMembershipBatchInterval
/// (the server calls flush_membership() on that period).
inline constexpr size_t kAnnounceEachUpTo = 50;
inline constexpr auto kMembershipBatchInterval = std::chrono::milliseconds(500);

struct Outgoing {
  ConnId conn = 0;
  std::string text;
};

class Coordinator {
 public:
  explicit Coordinator(MediaBackend& media) : media_(media) {}

  // --- from the WebSocket layer -------------------------------------------
  void handle_open(ConnId conn);
  void handle_text(ConnId conn, std::string_view text);
  void handle_binary(ConnId conn, size_t size);
  /// The socket closed (with or without leaveRoom): that is a leave.
  void handle_close(ConnId conn);
  /// Server shutting down: everyone is told and leaves.
  void shutdown(std::string_view reason);

  // --- from the media backend ----------------------------------------------
  void on_media_answer(ConnId conn, std::string sdp);
  void on_media_offer(ConnId conn, std::string sdp);
  void on_media_candidate(ConnId conn, const IceCandidate& c);
  void on_media_error(ConnId conn, const ProtocolError& e);
  /// The participant's transport died (ICE consent expired, DTLS failed…).
  void on_media_closed(ConnId conn, std::string_view reason);

  std::optional<Outgoing> poll_output();
  /// True while a large room has joins or leaves not yet announced.
  bool membership_pending() const { return !pending_rooms_.empty(); }
  /// Announces them: one participantsChanged to each member of each such room.
  void flush_membership();

  // --- read-only views (healthz, tests) -------------------------------------
  size_t room_count() const { return rooms_.size(); }
  size_t participant_count() const;
  size_t connection_count() const { return conns_.size(); }
  std::vector<std::string> room_members(std::string_view room_id) const;

 private:
  struct Connection {
    std::optional<ParticipantKey> joined;
    bool offered = false;  ///< the first offer reached the backend
    std::vector<IceCandidate> pending_candidates;
  };
  struct Member {
    ConnId conn = 0;
    uint64_t joined_at = 0;  ///< the room's change count when this member joined
  };
  struct Change {
    uint64_t seq = 0;
    bool joined = false;
    Departure who;  ///< reason empty for a join
  };
  struct Room {
    // self_id → member; std::map keeps listing order stable for clients.
    std::map<std::string, Member, std::less<>> members;
    uint64_t changes = 0;         ///< joins and leaves so far
    std::vector<Change> pending;  ///< not yet announced (large rooms)
  };

  void on_join(ConnId conn, Connection& c, JoinRoom m);
  void on_leave(ConnId conn, Connection& c, std::string_view reason, bool tell_self);
  void on_offer(ConnId conn, Connection& c, Offer m);
  void on_answer(ConnId conn, Connection& c, Answer m);
  void on_candidate(ConnId conn, Connection& c, IceCandidate m);
  void send(ConnId conn, std::string text);
  void send_error(ConnId conn, const ProtocolError& e);

  MediaBackend& media_;
  std::unordered_map<ConnId, Connection> conns_;
  /// Tells the room's other members; at once, or in the next batch.
  void announce(const std::string& room_id, Room& room, const std::string& self_id, bool joined,
                std::string_view reason);
  std::unordered_map<std::string, Room> rooms_;
  std::vector<std::string> pending_rooms_;  ///< rooms with pending changes
  std::deque<Outgoing> out_;
};

}  // namespace sb::signal
