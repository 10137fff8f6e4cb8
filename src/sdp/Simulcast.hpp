#pragma once
// RTP stream identifiers (`a=rid`, RFC 8851 §10) and `a=simulcast` (RFC 8853 §5.1).
#include <optional>
#include <string>
#include <vector>

#include "sdp/Attribute.hpp"

namespace sb::sdp {

enum class RidDirection { Send, Recv };

/// `a=rid:<id> <send|recv> [<params>]`, e.g. "h" send "max-width=1280;max-height=720".
struct Rid {
  std::string id;
  RidDirection direction = RidDirection::Send;
  std::string params;              ///< as written, possibly empty
  std::vector<Param> parsed_params;  ///< `pt=96,97` stays one item with value "96,97"
  bool operator==(const Rid&) const = default;
};

/// One rid in a simulcast list; `paused` is the '~' prefix.
struct SimulcastRid {
  std::string rid;
  bool paused = false;
  bool operator==(const SimulcastRid&) const = default;
};

/// One simulcast stream: its alternative formats, separated by ',' on the wire.
using SimulcastStream = std::vector<SimulcastRid>;

/// `a=simulcast:send h;m;l recv a,b`. Streams are separated by ';'.
struct Simulcast {
  std::vector<SimulcastStream> send;
  std::vector<SimulcastStream> recv;
  bool operator==(const Simulcast&) const = default;
};

}  // namespace sb::sdp
