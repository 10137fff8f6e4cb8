#include "sdp/Direction.hpp"

namespace sb::sdp {

std::string_view to_string(Direction d) {
  switch (d) {
    case Direction::SendRecv: return "sendrecv";
    case Direction::SendOnly: return "sendonly";
    case Direction::RecvOnly: return "recvonly";
    case Direction::Inactive: return "inactive";
  }
  return "sendrecv";
}

std::optional<Direction> parse_direction(std::string_view s) {
  if (s == "sendrecv") return Direction::SendRecv;
  if (s == "sendonly") return Direction::SendOnly;
  if (s == "recvonly") return Direction::RecvOnly;
  if (s == "inactive") return Direction::Inactive;
  return std::nullopt;
}

std::string_view to_string(SetupRole r) {
  switch (r) {
    case SetupRole::ActPass: return "actpass";
    case SetupRole::Active: return "active";
    case SetupRole::Passive: return "passive";
    case SetupRole::HoldConn: return "holdconn";
  }
  return "actpass";
}

std::optional<SetupRole> parse_setup_role(std::string_view s) {
  if (s == "actpass") return SetupRole::ActPass;
  if (s == "active") return SetupRole::Active;
  if (s == "passive") return SetupRole::Passive;
  if (s == "holdconn") return SetupRole::HoldConn;
  return std::nullopt;
}

}  // namespace sb::sdp
