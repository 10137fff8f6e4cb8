#include "ice/Candidate.hpp"

#include <charconv>
#include <limits>
#include <vector>

#include "ice/Constants.hpp"
#include "ice/Credentials.hpp"

namespace sb::ice {

namespace {

constexpr size_t kMaxTokens = 64;  // a candidate line has ~20; more is garbage

char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

template <typename T>
bool parse_uint(std::string_view s, T& out) {
  if (s.empty() || s.size() > 10) return false;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v > std::numeric_limits<T>::max()) return false;
  out = T(v);
  return true;
}

bool looks_like_hostname(std::string_view s) {
  // RFC 1123 letters, digits, '-' and '.'; at least one letter so that a malformed
  // IPv4 literal ("1.2.3.999") is not taken for a name.
  bool letter = false;
  for (char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) letter = true;
    else if (!((c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  }
  return letter && !s.empty() && s.size() <= 253;
}

util::Error fail(std::string_view why) { return util::make_error("bad candidate: " + std::string(why)); }

}  // namespace

const char* to_string(CandidateType t) {
  switch (t) {
    case CandidateType::kHost: return "host";
    case CandidateType::kServerReflexive: return "srflx";
    case CandidateType::kPeerReflexive: return "prflx";
    case CandidateType::kRelayed: return "relay";
  }
  return "host";
}

bool Candidate::is_mdns() const {
  constexpr std::string_view kSuffix = ".local";
  return !addr && address.size() > kSuffix.size() && iequals(std::string_view(address).substr(address.size() - kSuffix.size()), kSuffix);
}

util::Result<Candidate> parse_candidate(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || line.back() == ' ')) line.remove_suffix(1);
  while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  if (line.substr(0, 2) == "a=") line.remove_prefix(2);
  if (line.size() >= 10 && iequals(line.substr(0, 10), "candidate:")) line.remove_prefix(10);

  std::vector<std::string_view> tok;
  size_t pos = 0;
  while (pos < line.size()) {
    if (line[pos] == ' ') { ++pos; continue; }
    size_t end = line.find(' ', pos);
    if (end == std::string_view::npos) end = line.size();
    if (tok.size() == kMaxTokens) return fail("too many fields");
    tok.push_back(line.substr(pos, end - pos));
    pos = end;
  }
  if (tok.size() < 8) return fail("expected '<foundation> <component> <transport> <priority> <address> <port> typ <type>'");

  Candidate c;
  c.foundation = std::string(tok[0]);
  if (c.foundation.empty() || c.foundation.size() > 32 || !is_ice_chars(c.foundation)) return fail("foundation");
  if (!parse_uint(tok[1], c.component) || c.component < 1 || c.component > 256) return fail("component");
  c.transport.clear();
  for (char ch : tok[2]) c.transport.push_back(lower(ch));
  if (c.transport != "udp" && c.transport != "tcp") return fail("transport '" + std::string(tok[2]) + "'");
  if (!parse_uint(tok[3], c.priority) || c.priority < 1 || c.priority > 0x7FFFFFFFu) return fail("priority");
  c.address = std::string(tok[4]);
  if (!parse_uint(tok[5], c.port)) return fail("port");
  c.addr = util::SocketAddr::parse_ip(c.address, c.port);
  if (!c.addr && !looks_like_hostname(c.address)) return fail("address '" + c.address + "'");
  if (tok[6] != "typ") return fail("missing 'typ'");
  if (tok[7] == "host") c.type = CandidateType::kHost;
  else if (tok[7] == "srflx") c.type = CandidateType::kServerReflexive;
  else if (tok[7] == "prflx") c.type = CandidateType::kPeerReflexive;
  else if (tok[7] == "relay") c.type = CandidateType::kRelayed;
  else return fail("type '" + std::string(tok[7]) + "'");

  // Extensions come in name/value pairs; unknown ones (ufrag, network-id, ...) are skipped.
  if ((tok.size() - 8) % 2 != 0) return fail("extension without a value");
  std::string_view raddr;
  std::optional<uint16_t> rport;
  for (size_t i = 8; i + 1 < tok.size(); i += 2) {
    const std::string_view name = tok[i], value = tok[i + 1];
    if (name == "raddr") raddr = value;
    else if (name == "rport") {
      uint16_t p = 0;
      if (!parse_uint(value, p)) return fail("rport");
      rport = p;
    } else if (name == "generation") {
      if (!parse_uint(value, c.generation)) return fail("generation");
    } else if (name == "tcptype") {
      c.tcp_type = std::string(value);
    }
  }
  if (!raddr.empty() && rport) c.related = util::SocketAddr::parse_ip(raddr, *rport);
  return c;
}

std::string format_candidate(const Candidate& c) {
  std::string s = "candidate:" + c.foundation + " " + std::to_string(c.component) + " " + c.transport + " " +
                  std::to_string(c.priority) + " " + (c.addr ? c.addr->ip_string() : c.address) + " " +
                  std::to_string(c.addr ? c.addr->port() : c.port) + " typ " + to_string(c.type);
  if (c.related) s += " raddr " + c.related->ip_string() + " rport " + std::to_string(c.related->port());
  if (!c.tcp_type.empty()) s += " tcptype " + c.tcp_type;
  s += " generation " + std::to_string(c.generation);
  return s;
}

std::string format_host_candidate(std::string_view foundation, uint32_t priority, const util::SocketAddr& addr) {
  Candidate c;
  c.foundation = std::string(foundation);
  c.priority = priority;
  c.addr = addr;
  c.address = addr.ip_string();
  c.port = addr.port();
  return format_candidate(c);
}

uint32_t candidate_priority(CandidateType type, uint16_t local_preference, uint16_t component) {
  uint32_t type_pref = kHostTypePreference;
  switch (type) {
    case CandidateType::kHost: type_pref = kHostTypePreference; break;
    case CandidateType::kPeerReflexive: type_pref = kPeerReflexiveTypePreference; break;
    case CandidateType::kServerReflexive: type_pref = kServerReflexiveTypePreference; break;
    case CandidateType::kRelayed: type_pref = kRelayedTypePreference; break;
  }
  const uint32_t comp = component >= 1 && component <= 256 ? component : 1;
  return (type_pref << 24) + (uint32_t(local_preference) << 8) + (256 - comp);
}

}  // namespace sb::ice
