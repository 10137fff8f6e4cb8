#include "sdp/SdpWriter.hpp"

#include <string_view>

#include "sdp/SessionDescription.hpp"

namespace sb::sdp {

namespace {

class Out {
 public:
  /// One "<type>=<parts...>" line ending in CRLF (RFC 8866 §5).
  template <typename... Parts>
  void line(char type, const Parts&... parts) {
    s_ += type;
    s_ += '=';
    (append(parts), ...);
    s_ += "\r\n";
  }
  std::string take() { return std::move(s_); }

 private:
  void append(std::string_view v) { s_ += v; }
  void append(const std::string& v) { s_ += v; }
  void append(const char* v) { s_ += v; }
  void append(char c) { s_ += c; }
  template <typename T>
  void append(const T& n) requires std::is_integral_v<T> { s_ += std::to_string(n); }

  std::string s_;
};

void write_other_lines(Out& out, const std::vector<OtherLine>& lines, bool (*select)(char)) {
  for (const auto& l : lines)
    if (select(l.type)) out.line(l.type, l.value);
}

void write_attributes(Out& out, const std::vector<Attribute>& attrs) {
  for (const auto& a : attrs) {
    if (a.value) {
      out.line('a', a.name, ':', *a.value);
    } else {
      out.line('a', a.name);
    }
  }
}

void write_transport(Out& out, const TransportAttributes& t) {
  if (t.ice_ufrag) out.line('a', "ice-ufrag:", *t.ice_ufrag);
  if (t.ice_pwd) out.line('a', "ice-pwd:", *t.ice_pwd);
  if (!t.ice_options.empty()) {
    std::string opts;
    for (const auto& o : t.ice_options) {
      if (!opts.empty()) opts += ' ';
      opts += o;
    }
    out.line('a', "ice-options:", opts);
  }
  for (const auto& f : t.fingerprints) out.line('a', "fingerprint:", f.algorithm, ' ', f.value);
  if (t.setup) out.line('a', "setup:", to_string(*t.setup));
}

std::string join_simulcast(const std::vector<SimulcastStream>& streams) {
  std::string s;
  for (size_t i = 0; i < streams.size(); ++i) {
    if (i) s += ';';
    for (size_t j = 0; j < streams[i].size(); ++j) {
      if (j) s += ',';
      if (streams[i][j].paused) s += '~';
      s += streams[i][j].rid;
    }
  }
  return s;
}

void write_codec(Out& out, const Codec& c) {
  if (c.has_rtpmap()) {
    if (c.channels != 0) {
      out.line('a', "rtpmap:", c.pt, ' ', c.name, '/', c.clock_rate, '/', c.channels);
    } else {
      out.line('a', "rtpmap:", c.pt, ' ', c.name, '/', c.clock_rate);
    }
  }
  for (const auto& fb : c.feedback) {
    if (fb.parameter.empty()) {
      out.line('a', "rtcp-fb:", c.pt, ' ', fb.type);
    } else {
      out.line('a', "rtcp-fb:", c.pt, ' ', fb.type, ' ', fb.parameter);
    }
  }
  if (!c.fmtp.empty()) out.line('a', "fmtp:", c.pt, ' ', c.fmtp);
}

void write_media(Out& out, const MediaSection& m) {
  std::string mline = m.media + ' ' + std::to_string(m.port);
  if (m.port_count) mline += '/' + std::to_string(*m.port_count);
  mline += ' ' + m.protocol;
  for (const auto& f : m.formats) mline += ' ' + f;
  out.line('m', mline);
  // RFC 8866 §5: i= comes before c=, b= and k= after it.
  write_other_lines(out, m.other_lines, [](char t) { return t == 'i'; });
  if (m.connection) out.line('c', m.connection->net_type, ' ', m.connection->addr_type, ' ', m.connection->address);
  write_other_lines(out, m.other_lines, [](char t) { return t != 'i'; });

  if (m.rtcp) {
    if (m.rtcp->address.empty()) {
      out.line('a', "rtcp:", m.rtcp->port);
    } else {
      out.line('a', "rtcp:", m.rtcp->port, ' ', m.rtcp->address);
    }
  }
  write_transport(out, m.transport);
  if (!m.mid.empty()) out.line('a', "mid:", m.mid);
  if (m.bundle_only) out.line('a', "bundle-only");
  for (const auto& e : m.extmaps) {
    std::string id = std::to_string(e.id);
    if (e.direction) id += '/' + std::string(to_string(*e.direction));
    if (e.attributes.empty()) {
      out.line('a', "extmap:", id, ' ', e.uri);
    } else {
      out.line('a', "extmap:", id, ' ', e.uri, ' ', e.attributes);
    }
  }
  if (m.extmap_allow_mixed) out.line('a', "extmap-allow-mixed");
  out.line('a', to_string(m.direction));
  for (const auto& ms : m.msids) {
    if (ms.track_id.empty()) {
      out.line('a', "msid:", ms.stream_id);
    } else {
      out.line('a', "msid:", ms.stream_id, ' ', ms.track_id);
    }
  }
  if (m.rtcp_mux) out.line('a', "rtcp-mux");
  if (m.rtcp_rsize) out.line('a', "rtcp-rsize");
  for (const auto& fb : m.wildcard_feedback) {
    if (fb.parameter.empty()) {
      out.line('a', "rtcp-fb:* ", fb.type);
    } else {
      out.line('a', "rtcp-fb:* ", fb.type, ' ', fb.parameter);
    }
  }
  for (const auto& c : m.codecs) write_codec(out, c);
  for (const auto& g : m.ssrc_groups) {
    std::string v = g.semantics;
    for (Ssrc s : g.ssrcs) v += ' ' + std::to_string(s);
    out.line('a', "ssrc-group:", v);
  }
  for (const auto& s : m.ssrcs) {
    if (s.value.empty()) {
      out.line('a', "ssrc:", s.ssrc, ' ', s.name);
    } else {
      out.line('a', "ssrc:", s.ssrc, ' ', s.name, ':', s.value);
    }
  }
  for (const auto& r : m.rids) {
    std::string_view dir = r.direction == RidDirection::Send ? "send" : "recv";
    if (r.params.empty()) {
      out.line('a', "rid:", r.id, ' ', dir);
    } else {
      out.line('a', "rid:", r.id, ' ', dir, ' ', r.params);
    }
  }
  if (m.simulcast) {
    std::string v;
    if (!m.simulcast->send.empty()) v += "send " + join_simulcast(m.simulcast->send);
    if (!m.simulcast->recv.empty()) {
      if (!v.empty()) v += ' ';
      v += "recv " + join_simulcast(m.simulcast->recv);
    }
    if (!v.empty()) out.line('a', "simulcast:", v);
  }
  if (m.sctp_port) out.line('a', "sctp-port:", *m.sctp_port);
  if (m.max_message_size) out.line('a', "max-message-size:", *m.max_message_size);
  write_attributes(out, m.other_attributes);
  for (const auto& c : m.candidates) out.line('a', c);
  if (m.end_of_candidates) out.line('a', "end-of-candidates");
}

}  // namespace

std::string SdpWriter::write(const SessionDescription& sd) {
  Out out;
  out.line('v', '0');
  const Origin& o = sd.origin;
  out.line('o', o.username, ' ', o.session_id, ' ', o.session_version, ' ', o.net_type, ' ', o.addr_type, ' ',
           o.address);
  out.line('s', sd.session_name);
  // RFC 8866 §5: i, u, e, p, then c, b, then t, r, z, k.
  auto before_c = [](char t) { return t == 'i' || t == 'u' || t == 'e' || t == 'p'; };
  write_other_lines(out, sd.other_lines, before_c);
  if (sd.connection) out.line('c', sd.connection->net_type, ' ', sd.connection->addr_type, ' ', sd.connection->address);
  write_other_lines(out, sd.other_lines, [](char t) { return t == 'b'; });
  out.line('t', sd.timing.start, ' ', sd.timing.stop);
  write_other_lines(out, sd.other_lines, [](char t) {
    return !(t == 'i' || t == 'u' || t == 'e' || t == 'p' || t == 'b');
  });

  for (const auto& g : sd.groups) {
    std::string v = g.semantics;
    for (const auto& mid : g.mids) v += ' ' + mid;
    out.line('a', "group:", v);
  }
  if (sd.extmap_allow_mixed) out.line('a', "extmap-allow-mixed");
  if (sd.msid_semantic) out.line('a', "msid-semantic: ", *sd.msid_semantic);
  if (sd.ice_lite) out.line('a', "ice-lite");
  write_transport(out, sd.transport);
  if (sd.direction) out.line('a', to_string(*sd.direction));
  write_attributes(out, sd.other_attributes);

  for (const auto& m : sd.media) write_media(out, m);
  return out.take();
}

}  // namespace sb::sdp
