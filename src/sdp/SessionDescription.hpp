#pragma once
// A session description (RFC 8866) as WebRTC peers exchange it (RFC 8829),
// with BUNDLE groups (RFC 8843). Plain values: copy, compare, edit, write.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sdp/Attribute.hpp"
#include "sdp/Connection.hpp"
#include "sdp/Direction.hpp"
#include "sdp/MediaSection.hpp"
#include "sdp/Transport.hpp"
#include "util/Result.hpp"

namespace sb::sdp {

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>` (RFC 8866 §5.2).
struct Origin {
  std::string username = "-";
  uint64_t session_id = 0;
  uint64_t session_version = 0;
  std::string net_type = "IN";
  std::string addr_type = "IP4";
  std::string address = "127.0.0.1";
  bool operator==(const Origin&) const = default;
};

/// `t=<start> <stop>` (RFC 8866 §5.9); WebRTC always uses "0 0".
struct Timing {
  uint64_t start = 0;
  uint64_t stop = 0;
  bool operator==(const Timing&) const = default;
};

/// `a=group:<semantics> <mid>...` (RFC 5888 §5), e.g. BUNDLE (RFC 8843 §7.1).
struct Group {
  std::string semantics;
  std::vector<std::string> mids;
  bool contains(std::string_view mid) const {
    for (const auto& m : mids) if (m == mid) return true;
    return false;
  }
  bool operator==(const Group&) const = default;
};

struct SessionDescription {
  Origin origin;
  std::string session_name = "-";
  std::optional<Connection> connection;
  Timing timing;

  std::vector<Group> groups;
  bool ice_lite = false;  ///< RFC 8839 §5.3
  TransportAttributes transport;
  std::optional<std::string> msid_semantic;  ///< e.g. "WMS" or "WMS *"
  bool extmap_allow_mixed = false;           ///< RFC 8285 §6
  /// A session-level direction attribute; already applied to sections without one.
  std::optional<Direction> direction;
  std::vector<Attribute> other_attributes;
  std::vector<OtherLine> other_lines;

  std::vector<MediaSection> media;

  /// Parses `text` (LF or CRLF lines). See SdpParser for limits and what is rejected.
  static util::Result<SessionDescription> parse(std::string_view text);
  /// CRLF lines in the usual browser order.
  std::string to_string() const;

  /// The first group with these semantics (case-insensitive per RFC 5888 §5).
  const Group* find_group(std::string_view semantics) const;
  const Group* bundle_group() const { return find_group("BUNDLE"); }
  /// Whether `mid` is in a BUNDLE group.
  bool is_bundled(std::string_view mid) const;
  const MediaSection* find_media(std::string_view mid) const;
  MediaSection* find_media(std::string_view mid);
  /// ICE and DTLS attributes for one section: its own, each missing one taken
  /// from session level (RFC 8839 §5.4, RFC 8122 §5).
  TransportAttributes transport_for(const MediaSection& m) const;
  const Attribute* find_attribute(std::string_view name) const;

  bool operator==(const SessionDescription&) const = default;
};

}  // namespace sb::sdp
