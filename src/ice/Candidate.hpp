#pragma once
// The SDP candidate line (RFC 8839 §5.1):
//   candidate:<foundation> <component> <transport> <priority> <address> <port>
//             typ <type> [raddr <addr> rport <port>] *(<ext-name> <ext-value>)
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/Result.hpp"
#include "util/SocketAddr.hpp"

namespace sb::ice {

enum class CandidateType : uint8_t { kHost, kServerReflexive, kPeerReflexive, kRelayed };
const char* to_string(CandidateType t);  ///< "host", "srflx", "prflx", "relay"

struct Candidate {
  std::string foundation;
  uint16_t component = 1;
  std::string transport = "udp";  ///< lower-cased
  uint32_t priority = 0;
  /// The connection-address as written: an IP literal or a hostname (mDNS `*.local`).
  std::string address;
  uint16_t port = 0;
  CandidateType type = CandidateType::kHost;
  /// Set when `address` is an IP literal; empty for hostnames, which callers that
  /// learn addresses from checks (an ICE-lite server) simply ignore.
  std::optional<util::SocketAddr> addr;
  std::optional<util::SocketAddr> related;  ///< raddr/rport
  std::string tcp_type;                     ///< "active" / "passive" / "so" for TCP
  uint32_t generation = 0;

  bool is_udp() const { return transport == "udp"; }
  /// A hostname ending in ".local" (RFC 8839 §5.1, browsers hide host IPs this way).
  bool is_mdns() const;
};

/// Parses a candidate attribute value, with or without "candidate:" (or
/// "a=candidate:") in front. Garbage is an error whose message says what is wrong.
util::Result<Candidate> parse_candidate(std::string_view line);

/// The attribute value ("candidate:..."), e.g. for a trickled candidate event.
std::string format_candidate(const Candidate& c);
/// Our host candidates: `candidate:<foundation> 1 udp <priority> <ip> <port> typ host generation 0`.
std::string format_host_candidate(std::string_view foundation, uint32_t priority, const util::SocketAddr& addr);

/// RFC 8445 §5.1.2.1: (2^24)*type_pref + (2^8)*local_pref + (256 - component).
uint32_t candidate_priority(CandidateType type, uint16_t local_preference, uint16_t component = 1);

}  // namespace sb::ice
