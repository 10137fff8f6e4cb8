#include "rtc/Negotiator.hpp"

#include <algorithm>

#include "rtc/Capabilities.hpp"

namespace sb::rtc {

namespace {

std::string where(size_t index, const sdp::MediaSection& m) {
  return "m-section " + std::to_string(index) + (m.mid.empty() ? "" : " (mid " + m.mid + ")");
}

}  // namespace

const sdp::Codec* MediaLine::codec(uint8_t pt) const {
  for (const auto& c : codecs)
    if (c.pt == pt) return &c;
  return nullptr;
}

std::optional<uint16_t> MediaLine::extmap_id(std::string_view uri) const {
  for (const auto& e : extmaps)
    if (e.uri == uri) return e.id;
  return std::nullopt;
}

Negotiator::Negotiator(LocalTransportInfo local, util::Random& rng)
    : local_(std::move(local)), session_id_(rng.u64() >> 2) {}  // < 2^62 (RFC 8866 §5.2 suggests NTP-sized)

const MediaLine* Negotiator::find_line(std::string_view mid) const {
  for (const auto& l : lines_)
    if (l.mid == mid) return &l;
  return nullptr;
}

util::Result<RemoteParameters> Negotiator::read_remote_transport(const sdp::SessionDescription& offer) const {
  // The BUNDLE-tag section (first mid of the group) carries the transport
  // (RFC 8843 §7.3.1); without BUNDLE, the first section that is not rejected.
  const sdp::MediaSection* tag = nullptr;
  if (const auto* g = offer.bundle_group(); g && !g->mids.empty()) tag = offer.find_media(g->mids.front());
  if (tag == nullptr)
    for (const auto& m : offer.media)
      if (!m.is_rejected()) { tag = &m; break; }
  if (tag == nullptr) return util::make_error("every m-section of the offer is rejected (port 0)");
  auto t = offer.transport_for(*tag);
  std::string w = "mid " + tag->mid;
  if (!t.ice_ufrag || t.ice_ufrag->empty()) return util::make_error(w + ": a=ice-ufrag is missing");
  if (!t.ice_pwd || t.ice_pwd->empty()) return util::make_error(w + ": a=ice-pwd is missing");
  if (t.fingerprints.empty()) return util::make_error(w + ": a=fingerprint is missing (DTLS-SRTP needs it, RFC 8122)");
  std::optional<dtls::Fingerprint> fp;
  std::string fp_error;
  // Prefer SHA-256, the hash every browser sends; accept any RFC 8122 hash.
  for (int pass = 0; pass < 2 && !fp; ++pass)
    for (const auto& f : t.fingerprints) {
      if (pass == 0 && !sdp::iequals(f.algorithm, "sha-256")) continue;
      auto parsed = dtls::parse_fingerprint(f.algorithm, f.value);
      if (parsed) { fp = std::move(parsed.value()); break; }
      fp_error = parsed.error();
    }
  if (!fp) return util::make_error(w + ": unusable a=fingerprint: " + fp_error);
  RemoteParameters r;
  r.ufrag = *t.ice_ufrag;
  r.pwd = *t.ice_pwd;
  r.fingerprint = std::move(*fp);
  // RFC 8842 §5.2/§5.3: the answerer to actpass picks; we take passive, so the
  // peer's ClientHello arrives right after ICE. A role once chosen is kept.
  sdp::SetupRole setup = t.setup.value_or(sdp::SetupRole::ActPass);
  if (dtls_role_) r.local_dtls_role = *dtls_role_;
  else if (setup == sdp::SetupRole::Passive) r.local_dtls_role = dtls::Role::kClient;
  else if (setup == sdp::SetupRole::HoldConn) return util::make_error(w + ": a=setup:holdconn is not supported");
  else r.local_dtls_role = dtls::Role::kServer;
  return r;
}

util::Result<MediaLine> Negotiator::answer_line(const sdp::SessionDescription& offer, const sdp::MediaSection& m,
                                                const MediaLine* previous) const {
  (void)offer;
  MediaLine l;
  l.mid = m.mid;
  l.media = m.media;
  l.protocol = m.protocol;
  l.kind = m.kind();
  auto reject = [&] {
    l.rejected = true;
    l.direction = sdp::Direction::Inactive;
    l.formats = m.formats.empty() ? std::vector<std::string>{"0"} : m.formats;
    return l;
  };
  if (m.is_rejected()) return reject();
  // Data channels (SCTP) and unknown media are declined, not fatal.
  if (!m.is_rtp() || (l.kind != sdp::MediaKind::Audio && l.kind != sdp::MediaKind::Video)) return reject();
  if (!m.rtcp_mux)
    return util::make_error("mid " + m.mid + ": a=rtcp-mux is required (RFC 8843 §9, RFC 5761)");

  for (sdp::PayloadType pt : m.payload_types()) {
    const sdp::Codec* c = m.find_codec(pt);
    if (c == nullptr || c->is_rtx() || !is_supported_codec(*c, l.kind)) continue;
    sdp::Codec kept = *c;
    std::vector<sdp::RtcpFeedback> fb;
    for (const auto& f : c->feedback)
      if (is_supported_feedback(f)) fb.push_back(f);
    for (const auto& f : m.wildcard_feedback)
      if (is_supported_feedback(f) && std::find(fb.begin(), fb.end(), f) == fb.end()) fb.push_back(f);
    kept.feedback = std::move(fb);
    l.codecs.push_back(std::move(kept));
  }
  if (l.codecs.empty()) return reject();
  // RTX companions of the codecs we kept (RFC 4588 §8.6).
  size_t primaries = l.codecs.size();
  for (sdp::PayloadType pt : m.payload_types()) {
    const sdp::Codec* c = m.find_codec(pt);
    if (c == nullptr || !c->is_rtx()) continue;
    auto apt = c->apt();
    if (!apt) continue;
    bool kept_primary = false;
    for (size_t i = 0; i < primaries; ++i) kept_primary |= l.codecs[i].pt == *apt;
    if (!kept_primary) continue;
    sdp::Codec rtx = *c;
    rtx.feedback.clear();
    l.codecs.push_back(std::move(rtx));
  }
  for (const auto& c : l.codecs) l.formats.push_back(std::to_string(c.pt));
  for (const auto& e : m.extmaps) {
    if (!is_supported_extension(e.uri)) continue;
    sdp::Extmap kept = e;
    kept.direction.reset();
    l.extmaps.push_back(std::move(kept));
  }
  l.rtcp_rsize = m.rtcp_rsize;
  l.remote_sends = sdp::sends(m.direction);
  l.send = previous ? previous->send : std::nullopt;
  l.direction = sdp::answer_direction(m.direction, l.send.has_value(), true);
  if (l.remote_sends) {
    l.remote_ssrcs = m.primary_ssrcs();
    for (auto s : l.remote_ssrcs)
      if (auto r = m.rtx_ssrc(s)) l.remote_rtx.emplace_back(s, *r);
    for (const auto& rid : m.rids)
      if (rid.direction == sdp::RidDirection::Send) l.remote_rids.push_back(rid.id);
    if (!m.msids.empty()) l.remote_msid = m.msids.front();
  }
  return l;
}

util::Result<std::string> Negotiator::handle_offer(std::string_view offer_sdp) {
  auto parsed = sdp::SessionDescription::parse(offer_sdp);
  if (!parsed) return util::make_error("offer SDP is malformed: " + parsed.error());
  const auto& offer = parsed.value();
  if (offer.media.empty()) return util::make_error("offer has no m-sections");
  if (offer.media.size() < lines_.size())
    return util::make_error("offer has " + std::to_string(offer.media.size()) + " m-sections, fewer than the " +
                            std::to_string(lines_.size()) + " already negotiated (JSEP never removes them)");

  auto remote = read_remote_transport(offer);
  if (!remote) return util::make_error(remote.error());
  if (remote_ && (remote->ufrag != remote_->ufrag || remote->pwd != remote_->pwd))
    return util::make_error("ICE restart (changed ice-ufrag/ice-pwd) is not supported");

  const sdp::Group* bundle = offer.bundle_group();
  std::vector<MediaLine> lines;
  for (size_t i = 0; i < offer.media.size(); ++i) {
    const auto& m = offer.media[i];
    if (m.mid.empty()) return util::make_error(where(i, m) + ": a=mid is missing (BUNDLE needs one, RFC 8843)");
    for (size_t j = 0; j < i; ++j)
      if (offer.media[j].mid == m.mid) return util::make_error(where(i, m) + ": mid is used twice");
    const MediaLine* previous = i < lines_.size() ? &lines_[i] : nullptr;
    if (previous && previous->mid != m.mid && !previous->rejected)
      return util::make_error(where(i, m) + ": was mid " + previous->mid +
                              "; an m-section keeps its mid until it is stopped (RFC 8829 §5.2.2)");
    if (previous && !previous->rejected && previous->media != m.media)
      return util::make_error(where(i, m) + ": media type changed from " + previous->media + " to " + m.media);
    auto line = answer_line(offer, m, previous && previous->mid == m.mid ? previous : nullptr);
    if (!line) return util::make_error(line.error());
    // Sections outside the BUNDLE group would need a transport of their own,
    // which an SFU transport does not offer: decline them.
    if (!line->rejected && bundle != nullptr && !bundle->contains(m.mid)) {
      line->rejected = true;
      line->direction = sdp::Direction::Inactive;
    }
    lines.push_back(std::move(line.value()));
  }
  size_t accepted = std::count_if(lines.begin(), lines.end(), [](const MediaLine& l) { return !l.rejected; });
  if (bundle == nullptr && accepted > 1)
    return util::make_error("offer has several media sections but no a=group:BUNDLE (RFC 8843 is required)");
  if (accepted == 0) return util::make_error("no m-section of the offer has a codec we forward (opus, VP8, VP9, H264, AV1)");

  lines_ = std::move(lines);
  remote_ = std::move(remote.value());
  dtls_role_ = remote_->local_dtls_role;
  return write_description(lines_, false, offer.extmap_allow_mixed);
}

void Negotiator::write_transport(sdp::MediaSection& out, bool offering, bool first) const {
  (void)first;
  out.transport.ice_ufrag = local_.ice_ufrag;
  out.transport.ice_pwd = local_.ice_pwd;
  out.transport.fingerprints = {{"sha-256", local_.fingerprint_sha256}};
  if (offering) out.transport.setup = sdp::SetupRole::ActPass;
  else out.transport.setup = dtls_role_ == dtls::Role::kClient ? sdp::SetupRole::Active : sdp::SetupRole::Passive;
  out.candidates = local_.candidates;
  out.end_of_candidates = true;
}

sdp::MediaSection Negotiator::write_line(const MediaLine& line, bool offering, bool first) const {
  sdp::MediaSection s;
  s.media = line.media;
  s.protocol = line.protocol;
  s.formats = line.formats;
  s.mid = line.mid;
  sdp::Connection c;
  c.addr_type = local_.default_address.is_v6() ? "IP6" : "IP4";
  c.address = local_.default_address.empty() ? "0.0.0.0" : local_.default_address.ip_string();
  s.connection = c;
  if (line.rejected) {
    s.port = 0;
    s.direction = sdp::Direction::Inactive;
    return s;
  }
  s.port = local_.default_address.port() ? local_.default_address.port() : 9;
  write_transport(s, offering, first);
  s.direction = line.direction;
  s.rtcp_mux = true;
  s.rtcp_rsize = line.rtcp_rsize;
  s.codecs = line.codecs;
  s.extmaps = line.extmaps;
  if (line.send) {
    const auto& t = *line.send;
    s.msids.push_back({t.stream_id, t.track_id});
    if (t.rtx_ssrc != 0) s.ssrc_groups.push_back({"FID", {t.ssrc, t.rtx_ssrc}});
    s.ssrcs.push_back({t.ssrc, "cname", t.cname});
    s.ssrcs.push_back({t.ssrc, "msid", t.stream_id + " " + t.track_id});
    if (t.rtx_ssrc != 0) {
      s.ssrcs.push_back({t.rtx_ssrc, "cname", t.cname});
      s.ssrcs.push_back({t.rtx_ssrc, "msid", t.stream_id + " " + t.track_id});
    }
  }
  if (!offering && !line.remote_rids.empty()) {
    // Receive the peer's simulcast layers (RFC 8853 §5.3: answer send with recv).
    sdp::Simulcast sim;
    for (const auto& r : line.remote_rids) {
      s.rids.push_back({r, sdp::RidDirection::Recv, "", {}});
      sim.recv.push_back({{r, false}});
    }
    s.simulcast = std::move(sim);
  }
  return s;
}

std::string Negotiator::write_description(const std::vector<MediaLine>& lines, bool offering,
                                          bool extmap_allow_mixed) {
  sdp::SessionDescription d;
  d.origin.username = "switchboard";
  d.origin.session_id = session_id_;
  d.origin.session_version = ++version_;
  d.origin.addr_type = "IP4";
  d.origin.address = "0.0.0.0";
  d.session_name = "-";
  d.ice_lite = true;  // RFC 8445 §2.5: we only answer checks
  d.msid_semantic = "WMS *";
  d.extmap_allow_mixed = extmap_allow_mixed;
  sdp::Group bundle{"BUNDLE", {}};
  for (const auto& l : lines)
    if (!l.rejected) bundle.mids.push_back(l.mid);
  if (!bundle.mids.empty()) d.groups.push_back(std::move(bundle));
  bool first = true;
  for (const auto& l : lines) {
    d.media.push_back(write_line(l, offering, first));
    if (!l.rejected) first = false;
  }
  return d.to_string();
}

}  // namespace sb::rtc
