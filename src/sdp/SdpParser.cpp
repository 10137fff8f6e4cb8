#include "sdp/SdpParser.hpp"

#include <algorithm>
#include <charconv>
#include <string>

#include "util/Hex.hpp"

namespace sb::sdp {

namespace {

using util::Error;
using util::make_error;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

/// Takes the next space-separated token off the front of `s`.
std::string_view next_token(std::string_view& s) {
  size_t b = s.find_first_not_of(' ');
  if (b == std::string_view::npos) {
    s = {};
    return {};
  }
  s.remove_prefix(b);
  size_t e = s.find(' ');
  std::string_view tok = s.substr(0, e);
  s = e == std::string_view::npos ? std::string_view{} : s.substr(e);
  return tok;
}

std::vector<std::string_view> tokens(std::string_view s) {
  std::vector<std::string_view> out;
  for (auto t = next_token(s); !t.empty(); t = next_token(s)) out.push_back(t);
  return out;
}

/// Decimal digits only (no sign, no blanks), within T.
template <typename T>
std::optional<T> parse_uint(std::string_view s) {
  if (s.empty() || s.size() > 40) return std::nullopt;
  for (char c : s)
    if (c < '0' || c > '9') return std::nullopt;
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

/// RFC 8851 §10: rid-id = 1*(alpha-numeric / "-" / "_").
bool is_valid_rid_id(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool is_rtp_protocol(std::string_view proto) { return proto.find("RTP/") != std::string_view::npos; }

/// Rank of an unmodelled line among the lines RFC 8866 §5 orders around it;
/// kept sorted so that writing and re-reading preserves their order.
int session_line_rank(char type) {
  switch (type) {
    case 'i': case 'u': case 'e': case 'p': return 0;  // before c=
    case 'b': return 1;                                // after c=, before t=
    default: return 2;                                 // after t=
  }
}
int media_line_rank(char type) { return type == 'i' ? 0 : 1; }

void insert_ranked(std::vector<OtherLine>& lines, OtherLine line, int (*rank)(char)) {
  // Search from the back: lines usually arrive in order, making this O(1).
  int r = rank(line.type);
  auto pos = lines.end();
  while (pos != lines.begin() && rank((pos - 1)->type) > r) --pos;
  lines.insert(pos, std::move(line));
}

class Parser {
 public:
  explicit Parser(const SdpLimits& limits) : limits_(limits) {}

  util::Result<SessionDescription> run(std::string_view text) {
    if (text.size() > limits_.max_bytes)
      return make_error("description is " + std::to_string(text.size()) + " bytes, more than the limit of " +
                        std::to_string(limits_.max_bytes));
    size_t lines = size_t(std::count(text.begin(), text.end(), '\n'));
    if (!text.empty() && text.back() != '\n') ++lines;
    if (lines > limits_.max_lines)
      return make_error("description has " + std::to_string(lines) + " lines, more than the limit of " +
                        std::to_string(limits_.max_lines));

    bool seen_version = false;
    while (!text.empty()) {
      size_t nl = text.find('\n');
      std::string_view raw = text.substr(0, nl);
      text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
      ++line_no_;

      // Trailing blanks and the CR of CRLF are tolerated; leading blanks are not.
      while (!raw.empty() && (raw.back() == '\r' || raw.back() == ' ' || raw.back() == '\t')) raw.remove_suffix(1);
      if (raw.empty()) continue;
      for (char ch : raw) {
        auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7f) {
          static const char* kHex = "0123456789abcdef";
          std::string code = "0x";
          code += kHex[c >> 4];
          code += kHex[c & 15];
          return fail("control character " + code + " in line");
        }
      }
      char type = raw[0];
      bool letter = (type >= 'a' && type <= 'z') || (type >= 'A' && type <= 'Z');
      if (raw.size() < 2 || raw[1] != '=' || !letter) return fail("not a <type>=<value> line");
      std::string_view value = raw.substr(2);

      if (!seen_version) {
        if (type != 'v') return fail("description must start with v=");
        if (trim(value) != "0") return fail("unsupported version v=" + std::string(value));
        seen_version = true;
        continue;
      }
      util::Result<void> r = media_ ? media_line(type, value) : session_line(type, value);
      if (!r) return make_error(r.error());
    }
    if (!seen_version) return make_error("empty description: missing v= line");
    if (!seen_origin_) return make_error("missing o= line");
    return std::move(sd_);
  }

 private:
  Error fail(const std::string& why) const { return make_error("line " + std::to_string(line_no_) + ": " + why); }

  // ---- session level (RFC 8866 §5.1-5.13) ----

  util::Result<void> session_line(char type, std::string_view value) {
    switch (type) {
      case 'v': return fail("duplicate v= line");
      case 'o': return origin(value);
      case 's':
        if (seen_name_) return fail("duplicate s= line");
        seen_name_ = true;
        sd_.session_name = std::string(value);
        return {};
      case 'c': {
        if (sd_.connection) return fail("duplicate c= line");
        auto c = connection(value);
        if (!c) return make_error(c.error());
        sd_.connection = std::move(*c);
        return {};
      }
      case 't':
        if (!seen_timing_) {
          seen_timing_ = true;
          return timing(value);
        }
        break;
      case 'a': return session_attribute(value);
      case 'm': return start_media(value);
      default: break;
    }
    insert_ranked(sd_.other_lines, OtherLine{type, std::string(value)}, session_line_rank);
    return {};
  }

  util::Result<void> origin(std::string_view value) {
    if (seen_origin_) return fail("duplicate o= line");
    seen_origin_ = true;
    auto t = tokens(value);
    if (t.size() != 6) return fail("o= line needs 6 fields, has " + std::to_string(t.size()));
    auto id = parse_uint<uint64_t>(t[1]);
    if (!id) return fail("o= session id is not a number: '" + std::string(t[1]) + "'");
    auto version = parse_uint<uint64_t>(t[2]);
    if (!version) return fail("o= session version is not a number: '" + std::string(t[2]) + "'");
    sd_.origin = Origin{std::string(t[0]), *id, *version, std::string(t[3]), std::string(t[4]), std::string(t[5])};
    return {};
  }

  util::Result<Connection> connection(std::string_view value) {
    auto t = tokens(value);
    if (t.size() != 3) return fail("c= line needs 3 fields, has " + std::to_string(t.size()));
    return Connection{std::string(t[0]), std::string(t[1]), std::string(t[2])};
  }

  util::Result<void> timing(std::string_view value) {
    auto t = tokens(value);
    if (t.size() != 2) return fail("t= line needs 2 fields, has " + std::to_string(t.size()));
    auto start = parse_uint<uint64_t>(t[0]);
    auto stop = parse_uint<uint64_t>(t[1]);
    if (!start || !stop) return fail("t= times are not numbers");
    sd_.timing = Timing{*start, *stop};
    return {};
  }

  util::Result<void> session_attribute(std::string_view line) {
    auto [name, value] = split_attribute(line);
    attr_ = name;
    if (name == "group" && value) {
      std::string_view rest = *value;
      std::string_view semantics = next_token(rest);
      if (semantics.empty()) return attr_fail("missing group semantics");
      Group g{std::string(semantics), {}};
      for (auto mid : tokens(rest)) g.mids.emplace_back(mid);
      sd_.groups.push_back(std::move(g));
      return {};
    }
    if (name == "ice-lite" && !value) {
      sd_.ice_lite = true;
      return {};
    }
    if (name == "msid-semantic") {
      sd_.msid_semantic = std::string(value ? trim(*value) : std::string_view{});
      return {};
    }
    if (name == "extmap-allow-mixed" && !value) {
      sd_.extmap_allow_mixed = true;
      return {};
    }
    if (!value) {
      if (auto d = parse_direction(name)) {
        if (sd_.direction) return attr_fail("more than one direction attribute");
        sd_.direction = d;
        return {};
      }
    }
    bool handled = false;
    auto r = transport_attribute(name, value, sd_.transport, handled);
    if (handled) return r;
    sd_.other_attributes.push_back(Attribute{std::string(name), value ? std::optional<std::string>(*value) : std::nullopt});
    return {};
  }

  // ---- ICE / DTLS attributes, either level ----

  util::Result<void> transport_attribute(std::string_view name, std::optional<std::string_view> value,
                                         TransportAttributes& t, bool& handled) {
    handled = true;
    if (name == "ice-ufrag" || name == "ice-pwd") {
      auto& slot = name == "ice-ufrag" ? t.ice_ufrag : t.ice_pwd;
      if (slot) return attr_fail("duplicate attribute");
      std::string_view v = value ? trim(*value) : std::string_view{};
      if (v.empty()) return attr_fail("empty value");
      slot = std::string(v);
      return {};
    }
    if (name == "ice-options" && value) {
      for (auto o : tokens(*value)) t.ice_options.emplace_back(o);
      return {};
    }
    if (name == "fingerprint") {
      std::string_view rest = value ? *value : std::string_view{};
      std::string_view algorithm = next_token(rest);
      rest = trim(rest);
      if (algorithm.empty() || rest.empty()) return attr_fail("needs a hash function and a value");
      auto bytes = util::from_hex(rest);
      if (!bytes || bytes->empty()) return attr_fail("value is not hex: '" + std::string(rest) + "'");
      t.fingerprints.push_back(Fingerprint{std::string(algorithm), std::string(rest)});
      return {};
    }
    if (name == "setup") {
      if (t.setup) return attr_fail("duplicate attribute");
      std::string_view v = value ? trim(*value) : std::string_view{};
      auto role = parse_setup_role(v);
      if (!role) return attr_fail("unknown role '" + std::string(v) + "'");
      t.setup = role;
      return {};
    }
    handled = false;
    return {};
  }

  // ---- m-sections (RFC 8866 §5.14) ----

  util::Result<void> start_media(std::string_view value) {
    MediaSection m;
    std::string_view rest = value;
    std::string_view media = next_token(rest);
    if (media.empty()) return fail("m= line has no media type");
    m.media = std::string(media);
    std::string_view port = next_token(rest);
    if (port.empty()) return fail("m= line has no port");
    std::optional<std::string_view> count;
    if (size_t slash = port.find('/'); slash != std::string_view::npos) {
      count = port.substr(slash + 1);
      port = port.substr(0, slash);
    }
    auto p = parse_uint<uint32_t>(port);
    if (!p) return fail("m= line port is not a number: '" + std::string(port) + "'");
    if (*p > 65535) return fail("m= line port " + std::string(port) + " is out of range");
    m.port = uint16_t(*p);
    if (count) {
      auto c = parse_uint<uint16_t>(*count);
      if (!c) return fail("m= line port count is not a number: '" + std::string(*count) + "'");
      m.port_count = *c;
    }
    std::string_view proto = next_token(rest);
    if (proto.empty()) return fail("m= line has no protocol");
    m.protocol = std::string(proto);
    for (auto f : tokens(rest)) {
      if (is_rtp_protocol(proto)) {
        auto pt = parse_uint<uint32_t>(f);
        if (!pt || *pt > 127) return fail("m= line format '" + std::string(f) + "' is not a payload type (0-127)");
      }
      m.formats.emplace_back(f);
    }
    if (m.formats.empty()) return fail("m= line has no formats");
    m.direction = sd_.direction.value_or(Direction::SendRecv);
    sd_.media.push_back(std::move(m));
    media_ = &sd_.media.back();
    direction_seen_ = false;
    fmtp_seen_.clear();
    return {};
  }

  util::Result<void> media_line(char type, std::string_view value) {
    switch (type) {
      case 'm': return start_media(value);
      case 'c': {
        if (media_->connection) return fail("duplicate c= line in m-section");
        auto c = connection(value);
        if (!c) return make_error(c.error());
        media_->connection = std::move(*c);
        return {};
      }
      case 'a': return media_attribute(value);
      default:
        insert_ranked(media_->other_lines, OtherLine{type, std::string(value)}, media_line_rank);
        return {};
    }
  }

  util::Result<void> media_attribute(std::string_view line) {
    auto [name, value] = split_attribute(line);
    attr_ = name;
    MediaSection& m = *media_;

    if (!value) {
      if (auto d = parse_direction(name)) {
        if (direction_seen_) return attr_fail("more than one direction attribute");
        direction_seen_ = true;
        m.direction = *d;
        return {};
      }
      if (name == "rtcp-mux") return set_flag(m.rtcp_mux);
      if (name == "rtcp-rsize") return set_flag(m.rtcp_rsize);
      if (name == "bundle-only") return set_flag(m.bundle_only);
      if (name == "end-of-candidates") return set_flag(m.end_of_candidates);
      if (name == "extmap-allow-mixed") return set_flag(m.extmap_allow_mixed);
    } else {
      std::string_view v = *value;
      if (name == "mid") return mid(m, v);
      if (name == "candidate") {
        m.candidates.push_back("candidate:" + std::string(v));
        return {};
      }
      if (name == "rtpmap") return rtpmap(m, v);
      if (name == "fmtp") return fmtp(m, v);
      if (name == "rtcp-fb") return rtcp_fb(m, v);
      if (name == "extmap") return extmap(m, v);
      if (name == "msid") return msid(m, v);
      if (name == "ssrc") return ssrc(m, v);
      if (name == "ssrc-group") return ssrc_group(m, v);
      if (name == "rid") return rid(m, v);
      if (name == "simulcast") return simulcast(m, v);
      if (name == "rtcp") return rtcp(m, v);
      if (name == "sctp-port") {
        auto p = parse_uint<uint16_t>(trim(v));
        if (!p) return attr_fail("port is not a number: '" + std::string(v) + "'");
        m.sctp_port = *p;
        return {};
      }
      if (name == "max-message-size") {
        auto s = parse_uint<uint64_t>(trim(v));
        if (!s) return attr_fail("size is not a number: '" + std::string(v) + "'");
        m.max_message_size = *s;
        return {};
      }
    }
    bool handled = false;
    auto r = transport_attribute(name, value, m.transport, handled);
    if (handled) return r;
    m.other_attributes.push_back(Attribute{std::string(name), value ? std::optional<std::string>(*value) : std::nullopt});
    return {};
  }

  util::Result<void> set_flag(bool& flag) {
    flag = true;
    return {};
  }

  util::Result<void> mid(MediaSection& m, std::string_view v) {
    if (!m.mid.empty()) return attr_fail("duplicate attribute");
    v = trim(v);
    if (v.empty()) return attr_fail("empty value");
    m.mid = std::string(v);
    return {};
  }

  /// Parses a payload type token; the message names the attribute being parsed.
  util::Result<PayloadType> payload_type(std::string_view tok) {
    if (tok.empty()) return attr_fail("missing payload type");
    auto pt = parse_uint<uint32_t>(tok);
    if (!pt) return fail("a=" + std::string(attr_) + ":" + std::string(tok) + ": payload type is not a number");
    if (*pt > 127) return fail("a=" + std::string(attr_) + ":" + std::string(tok) + ": payload type is out of range (0-127)");
    return PayloadType(*pt);
  }

  Codec& codec(MediaSection& m, PayloadType pt) {
    if (Codec* c = m.find_codec(pt)) return *c;
    m.codecs.push_back(Codec{});
    m.codecs.back().pt = pt;
    return m.codecs.back();
  }

  // a=rtpmap:<pt> <encoding name>/<clock rate>[/<channels>] (RFC 8866 §6.6)
  util::Result<void> rtpmap(MediaSection& m, std::string_view v) {
    auto pt = payload_type(next_token(v));
    if (!pt) return make_error(pt.error());
    std::string_view enc = next_token(v);
    if (!trim(v).empty()) return attr_fail("unexpected text after the encoding: '" + std::string(trim(v)) + "'");
    std::vector<std::string_view> parts;
    while (true) {
      size_t slash = enc.find('/');
      parts.push_back(enc.substr(0, slash));
      if (slash == std::string_view::npos) break;
      if (parts.size() == 3) return attr_fail("too many '/' fields in the encoding");
      enc.remove_prefix(slash + 1);
    }
    if (parts[0].empty()) return attr_fail("missing encoding name");
    if (parts.size() < 2) return attr_fail("missing clock rate");
    auto clock = parse_uint<uint32_t>(parts[1]);
    if (!clock) return attr_fail("clock rate is not a number: '" + std::string(parts[1]) + "'");
    uint32_t channels = 0;
    if (parts.size() == 3) {
      auto ch = parse_uint<uint32_t>(parts[2]);
      if (!ch) return attr_fail("channel count is not a number: '" + std::string(parts[2]) + "'");
      channels = *ch;
    }
    Codec& c = codec(m, *pt);
    if (c.has_rtpmap()) return attr_fail("payload type " + std::to_string(*pt) + " has two rtpmap lines");
    c.name = std::string(parts[0]);
    c.clock_rate = *clock;
    c.channels = channels;
    return {};
  }

  // a=fmtp:<pt> <format specific parameters> (RFC 8866 §6.15)
  util::Result<void> fmtp(MediaSection& m, std::string_view v) {
    auto pt = payload_type(next_token(v));
    if (!pt) return make_error(pt.error());
    if (std::find(fmtp_seen_.begin(), fmtp_seen_.end(), *pt) != fmtp_seen_.end())
      return attr_fail("payload type " + std::to_string(*pt) + " has two fmtp lines");
    fmtp_seen_.push_back(*pt);
    v = trim(v);
    // An empty fmtp says nothing; it must not invent a codec on its own.
    if (v.empty() && !m.find_codec(*pt)) return {};
    Codec& c = codec(m, *pt);
    c.fmtp = std::string(v);
    c.fmtp_params = parse_param_list(c.fmtp);
    return {};
  }

  // a=rtcp-fb:<pt|*> <type> [<parameter>] (RFC 4585 §4.2)
  util::Result<void> rtcp_fb(MediaSection& m, std::string_view v) {
    std::string_view pt_tok = next_token(v);
    std::string_view type = next_token(v);
    if (type.empty()) return attr_fail("missing feedback type");
    RtcpFeedback fb{std::string(type), std::string(trim(v))};
    if (pt_tok == "*") {
      m.wildcard_feedback.push_back(std::move(fb));
      return {};
    }
    auto pt = payload_type(pt_tok);
    if (!pt) return make_error(pt.error());
    codec(m, *pt).feedback.push_back(std::move(fb));
    return {};
  }

  // a=extmap:<id>[/<direction>] <uri> [<attributes>] (RFC 8285 §7)
  util::Result<void> extmap(MediaSection& m, std::string_view v) {
    std::string_view id_tok = next_token(v);
    std::optional<Direction> dir;
    if (size_t slash = id_tok.find('/'); slash != std::string_view::npos) {
      dir = parse_direction(id_tok.substr(slash + 1));
      if (!dir) return attr_fail("unknown direction '" + std::string(id_tok.substr(slash + 1)) + "'");
      id_tok = id_tok.substr(0, slash);
    }
    auto id = parse_uint<uint32_t>(id_tok);
    if (!id) return attr_fail("id is not a number: '" + std::string(id_tok) + "'");
    if (!is_valid_extmap_id(*id)) return attr_fail("id " + std::to_string(*id) + " is out of range");
    std::string_view uri = next_token(v);
    if (uri.empty()) return attr_fail("missing extension URI");
    if (m.find_extmap(uint16_t(*id))) return attr_fail("id " + std::to_string(*id) + " is used twice");
    m.extmaps.push_back(Extmap{uint16_t(*id), dir, std::string(uri), std::string(trim(v))});
    return {};
  }

  // a=msid:<stream id> [<track id>] (RFC 8830 §2)
  util::Result<void> msid(MediaSection& m, std::string_view v) {
    auto t = tokens(v);
    if (t.empty()) return attr_fail("missing stream id");
    if (t.size() > 2) return attr_fail("expected '<stream id> [<track id>]'");
    m.msids.push_back(Msid{std::string(t[0]), t.size() > 1 ? std::string(t[1]) : std::string()});
    return {};
  }

  util::Result<Ssrc> ssrc_value(std::string_view tok) {
    auto s = parse_uint<uint32_t>(tok);
    if (!s) return attr_fail("SSRC is not a 32-bit number: '" + std::string(tok) + "'");
    return Ssrc(*s);
  }

  // a=ssrc:<ssrc> <attribute>[:<value>] (RFC 5576 §4.1)
  util::Result<void> ssrc(MediaSection& m, std::string_view v) {
    auto s = ssrc_value(next_token(v));
    if (!s) return make_error(s.error());
    v = trim(v);
    if (v.empty()) return attr_fail("missing source attribute");
    size_t colon = v.find(':');
    std::string_view aname = v.substr(0, colon);
    if (aname.empty()) return attr_fail("empty source attribute name");
    std::string_view avalue = colon == std::string_view::npos ? std::string_view{} : v.substr(colon + 1);
    m.ssrcs.push_back(SsrcAttribute{*s, std::string(aname), std::string(avalue)});
    return {};
  }

  // a=ssrc-group:<semantics> <ssrc>... (RFC 5576 §4.2)
  util::Result<void> ssrc_group(MediaSection& m, std::string_view v) {
    std::string_view semantics = next_token(v);
    if (semantics.empty()) return attr_fail("missing semantics");
    SsrcGroup g{std::string(semantics), {}};
    for (auto tok : tokens(v)) {
      auto s = ssrc_value(tok);
      if (!s) return make_error(s.error());
      g.ssrcs.push_back(*s);
    }
    if (g.ssrcs.empty()) return attr_fail("group has no SSRCs");
    m.ssrc_groups.push_back(std::move(g));
    return {};
  }

  // a=rid:<id> <send|recv> [<params>] (RFC 8851 §10)
  util::Result<void> rid(MediaSection& m, std::string_view v) {
    std::string_view id = next_token(v);
    if (!is_valid_rid_id(id)) return attr_fail("invalid rid id '" + std::string(id) + "'");
    std::string_view dir = next_token(v);
    Rid r;
    r.id = std::string(id);
    if (dir == "send") {
      r.direction = RidDirection::Send;
    } else if (dir == "recv") {
      r.direction = RidDirection::Recv;
    } else {
      return attr_fail("direction must be send or recv, not '" + std::string(dir) + "'");
    }
    if (m.find_rid(id)) return attr_fail("rid '" + std::string(id) + "' is declared twice");
    r.params = std::string(trim(v));
    r.parsed_params = parse_param_list(r.params);
    m.rids.push_back(std::move(r));
    return {};
  }

  // a=simulcast:<send|recv> <list> [<send|recv> <list>] (RFC 8853 §5.1)
  util::Result<void> simulcast(MediaSection& m, std::string_view v) {
    if (m.simulcast) return attr_fail("duplicate attribute");
    auto t = tokens(v);
    if (t.empty() || t.size() % 2 != 0 || t.size() > 4) return attr_fail("expected 'send|recv <rid list>' pairs");
    Simulcast sc;
    bool has_send = false, has_recv = false;
    for (size_t i = 0; i < t.size(); i += 2) {
      std::vector<SimulcastStream>* list = nullptr;
      if (t[i] == "send" && !has_send) {
        has_send = true;
        list = &sc.send;
      } else if (t[i] == "recv" && !has_recv) {
        has_recv = true;
        list = &sc.recv;
      } else {
        return attr_fail("unexpected '" + std::string(t[i]) + "' where send or recv belongs");
      }
      std::string_view streams = t[i + 1];
      // Older drafts (and older Firefox) wrote "rid=h;m;l".
      if (streams.substr(0, 4) == "rid=") streams.remove_prefix(4);
      while (true) {
        size_t semi = streams.find(';');
        std::string_view stream = streams.substr(0, semi);
        SimulcastStream alts;
        while (true) {
          size_t comma = stream.find(',');
          std::string_view rid_tok = stream.substr(0, comma);
          SimulcastRid sr;
          if (!rid_tok.empty() && rid_tok.front() == '~') {
            sr.paused = true;
            rid_tok.remove_prefix(1);
          }
          if (!is_valid_rid_id(rid_tok)) return attr_fail("invalid rid id '" + std::string(rid_tok) + "'");
          sr.rid = std::string(rid_tok);
          alts.push_back(std::move(sr));
          if (comma == std::string_view::npos) break;
          stream.remove_prefix(comma + 1);
        }
        list->push_back(std::move(alts));
        if (semi == std::string_view::npos) break;
        streams.remove_prefix(semi + 1);
      }
    }
    m.simulcast = std::move(sc);
    return {};
  }

  // a=rtcp:<port> [<nettype> <addrtype> <address>] (RFC 3605 §2.1)
  util::Result<void> rtcp(MediaSection& m, std::string_view v) {
    std::string_view port = next_token(v);
    auto p = parse_uint<uint16_t>(port);
    if (!p) return attr_fail("port is not a number: '" + std::string(port) + "'");
    m.rtcp = RtcpAddress{*p, std::string(trim(v))};
    return {};
  }

  // ---- helpers ----

  static std::pair<std::string_view, std::optional<std::string_view>> split_attribute(std::string_view line) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return {line, std::nullopt};
    return {line.substr(0, colon), line.substr(colon + 1)};
  }

  Error attr_fail(const std::string& why) const { return fail("a=" + std::string(attr_) + ": " + why); }

  const SdpLimits& limits_;
  SessionDescription sd_;
  MediaSection* media_ = nullptr;  // points into sd_.media; re-taken after each push_back
  std::string_view attr_;          // name of the attribute being parsed, for messages
  size_t line_no_ = 0;
  bool seen_origin_ = false;
  bool seen_name_ = false;
  bool seen_timing_ = false;
  bool direction_seen_ = false;
  std::vector<PayloadType> fmtp_seen_;  // payload types with an fmtp in the current section
};

}  // namespace

util::Result<SessionDescription> SdpParser::parse(std::string_view text, const SdpLimits& limits) {
  Parser p(limits);
  return p.run(text);
}

}  // namespace sb::sdp
