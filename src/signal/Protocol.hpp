#pragma once
// The WebSocket signaling protocol: seed-compatible messages plus Switchboard's
// extensions (docs/protocol.md). Text frames, one JSON object each:
//   {"event": "<name>", "data": <value>}
// Decoding validates shape and types and reports precisely what was wrong.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sb::signal {

/// Limits on client-chosen identifiers (named so the docs and tests agree).
inline constexpr size_t kMaxRoomIdLength = 256;
inline constexpr size_t kMaxSelfIdLength = 256;
inline constexpr size_t kMaxSdpLength = 256 * 1024;
inline constexpr size_t kMaxCandidateLength = 1024;
/// Largest WebSocket message accepted (RFC 6455 close 1009 beyond it).
inline constexpr size_t kMaxMessageBytes = 1 << 20;

/// Error codes carried in `error` events. Stable strings: clients may switch on them.
namespace errc {
inline constexpr std::string_view kBadJson = "bad-json";
inline constexpr std::string_view kBinaryFrame = "binary-frame";
inline constexpr std::string_view kTooLarge = "too-large";
inline constexpr std::string_view kUnknownEvent = "unknown-event";
inline constexpr std::string_view kBadMessage = "bad-message";
inline constexpr std::string_view kNotJoined = "not-joined";
inline constexpr std::string_view kAlreadyJoined = "already-joined";
inline constexpr std::string_view kBadRoomId = "bad-room-id";
inline constexpr std::string_view kBadSelfId = "bad-self-id";
inline constexpr std::string_view kIdTaken = "id-taken";
inline constexpr std::string_view kBadSdp = "bad-sdp";
inline constexpr std::string_view kBadCandidate = "bad-candidate";
inline constexpr std::string_view kMediaUnavailable = "media-unavailable";
inline constexpr std::string_view kNegotiation = "negotiation-failed";
inline constexpr std::string_view kOverloaded = "overloaded";
}  // namespace errc

struct JoinRoom {
  std::string room_id;
  std::string self_id;
};
struct LeaveRoom {};
struct Offer {
  std::string sdp;
};
struct Answer {
  std::string sdp;
};
/// A trickled ICE candidate (RFC 8840 semantics). An empty `candidate` string
/// means end-of-candidates.
struct IceCandidate {
  std::string candidate;
  std::optional<std::string> sdp_mid;
  std::optional<int> sdp_mline_index;
  std::optional<std::string> username_fragment;
};

using ClientMessage = std::variant<JoinRoom, LeaveRoom, Offer, Answer, IceCandidate>;

/// Why a client message was rejected; becomes an `error` event.
struct ProtocolError {
  std::string_view code;
  std::string message;
  std::string event;  ///< the offending event name, empty if unknown
};

using Decoded = std::variant<ClientMessage, ProtocolError>;

/// Parses one text frame. Never throws.
Decoded decode_client_message(std::string_view text);

/// Name of a client message's event, for logs and errors.
std::string_view event_name(const ClientMessage& m);

// ---- Server → client ------------------------------------------------------
// Seed events carry `data` as a JSON *string* that the client JSON.parse()s.
std::string encode_answer(std::string_view sdp);
std::string encode_offer(std::string_view sdp);
std::string encode_candidate(const IceCandidate& c);

// Extensions carry `data` as a plain JSON object.
std::string encode_error(std::string_view code, std::string_view message, std::string_view event);
std::string encode_room_joined(std::string_view room_id, std::string_view self_id,
                               const std::vector<std::string>& others);
std::string encode_participant_joined(std::string_view room_id, std::string_view self_id);
std::string encode_participant_left(std::string_view room_id, std::string_view self_id,
                                    std::string_view reason);
/// One member's departure in a batch: who, and why (as in participantLeft).
struct Departure {
  std::string self_id;
  std::string reason;
};
/// Joins and leaves of a large room since the last batch, in order of occurrence
/// within each list.
std::string encode_participants_changed(std::string_view room_id, const std::vector<std::string>& joined,
                                        const std::vector<Departure>& left);
std::string encode_room_left(std::string_view room_id);
std::string encode_shutdown(std::string_view reason);

}  // namespace sb::signal
