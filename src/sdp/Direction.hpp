#pragma once
// Media direction attributes (RFC 8866 §6.7) and DTLS setup roles (RFC 4145 §4,
// RFC 8842 §5).
#include <optional>
#include <string_view>

namespace sb::sdp {

enum class Direction { SendRecv, SendOnly, RecvOnly, Inactive };

std::string_view to_string(Direction d);
std::optional<Direction> parse_direction(std::string_view s);

constexpr bool sends(Direction d) { return d == Direction::SendRecv || d == Direction::SendOnly; }
constexpr bool receives(Direction d) { return d == Direction::SendRecv || d == Direction::RecvOnly; }
constexpr Direction make_direction(bool send, bool recv) {
  if (send && recv) return Direction::SendRecv;
  if (send) return Direction::SendOnly;
  if (recv) return Direction::RecvOnly;
  return Direction::Inactive;
}
/// The same flow seen from the other side: the offerer's sendonly is the
/// answerer's recvonly (RFC 3264 §6.1).
constexpr Direction reversed(Direction d) { return make_direction(receives(d), sends(d)); }
/// What an answerer may answer to `offered` given what it wants to do itself
/// (RFC 3264 §6.1: never more than the reverse of the offer).
constexpr Direction answer_direction(Direction offered, bool want_send, bool want_recv) {
  return make_direction(want_send && receives(offered), want_recv && sends(offered));
}

enum class SetupRole { ActPass, Active, Passive, HoldConn };

std::string_view to_string(SetupRole r);
std::optional<SetupRole> parse_setup_role(std::string_view s);

}  // namespace sb::sdp
