#include "rtc/Negotiator.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>

#include "rtc/Capabilities.hpp"

namespace sb::rtc {

namespace {

std::string where(size_t index, const sdp::MediaSection& m) {
  return "m-section " + std::to_string(index) + (m.mid.empty() ? "" : " (mid " + m.mid + ")");
}

/// Fresh mids we mint look like "s<n>": browsers number their own mids "0",
/// "1", …, so a peer offer that adds a transceiver during glare cannot pick one
/// of ours by chance.
constexpr std::string_view kLocalMidPrefix = "s";
constexpr size_t kMaxLocalMidDigits = 9;  ///< keeps n far from overflow and the mid short (RFC 8843 §15.2)
constexpr std::string_view kSendProtocol = "UDP/TLS/RTP/SAVPF";  // RFC 5764 §8, what browsers use

/// The BUNDLE-tag section (first mid of the group) carries the transport
/// (RFC 8843 §7.3.1); without BUNDLE, the first section that is not rejected.
const sdp::MediaSection* transport_section(const sdp::SessionDescription& d) {
  if (const auto* g = d.bundle_group(); g && !g->mids.empty())
    if (const auto* m = d.find_media(g->mids.front()); m && !m->is_rejected()) return m;
  for (const auto& m : d.media)
    if (!m.is_rejected()) return &m;
  return nullptr;
}

/// Which payload type means which codec in the whole BUNDLE group (RFC 8843
/// §9.1): a number never stands for two different codecs.
class PayloadTypeBook {
 public:
  void note(const sdp::Codec& c, bool remote) {
    if (c.pt < entries_.size() && !entries_[c.pt]) entries_[c.pt] = Entry{c, remote};
  }
  /// A payload type that already means this codec, the peer's own first.
  std::optional<sdp::PayloadType> find(const sdp::Codec& c) const {
    for (bool remote : {true, false})
      for (size_t pt = 0; pt < entries_.size(); ++pt) {
        const auto& e = entries_[pt];
        if (e && e->remote == remote && !e->codec.is_rtx() && same_codec(e->codec, c)) return sdp::PayloadType(pt);
      }
    return std::nullopt;
  }
  /// The RTX payload type already paired with `apt` (RFC 4588 §8.6).
  std::optional<sdp::PayloadType> find_rtx(sdp::PayloadType apt, uint32_t clock_rate) const {
    for (size_t pt = 0; pt < entries_.size(); ++pt) {
      const auto& e = entries_[pt];
      if (e && e->codec.is_rtx() && e->codec.apt() == apt && e->codec.clock_rate == clock_rate)
        return sdp::PayloadType(pt);
    }
    return std::nullopt;
  }
  /// A number nobody uses yet: the dynamic range (RFC 3551 §6), then 35-63,
  /// which stay clear of the RTCP packet types under rtcp-mux (RFC 5761 §4).
  std::optional<sdp::PayloadType> allocate() const {
    for (auto [lo, hi] : {std::pair{96, 127}, std::pair{35, 63}})
      for (int pt = lo; pt <= hi; ++pt)
        if (!entries_[size_t(pt)]) return sdp::PayloadType(pt);
    return std::nullopt;
  }

 private:
  struct Entry {
    sdp::Codec codec;
    bool remote = false;
  };
  std::array<std::optional<Entry>, 128> entries_;
};

/// Which extmap id means which URI in the BUNDLE group (RFC 8285 §6, RFC 8843).
class ExtmapBook {
 public:
  void note(uint16_t id, const std::string& uri) { ids_.emplace(id, uri); }
  std::optional<uint16_t> find(std::string_view uri) const {
    for (const auto& [id, u] : ids_)
      if (u == uri) return id;
    return std::nullopt;
  }
  /// A free one-byte-header id (RFC 8285 §4.2: 1-14).
  std::optional<uint16_t> allocate() const {
    for (uint16_t id = 1; id <= 14; ++id)
      if (!ids_.contains(id)) return id;
    return std::nullopt;
  }

 private:
  std::map<uint16_t, std::string> ids_;
};

std::string_view media_name(sdp::MediaKind kind) { return kind == sdp::MediaKind::Audio ? "audio" : "video"; }

bool has(const std::vector<std::string>& v, std::string_view x) { return std::find(v.begin(), v.end(), x) != v.end(); }

SendTrack make_send_track(const SendTrackSpec& spec) {
  return SendTrack{spec.stream_id, spec.track_id, spec.cname, spec.ssrc, spec.rtx ? spec.rtx_ssrc : 0, spec.codecs};
}

MediaLine new_local_line(const std::string& mid, const SendTrackSpec& spec) {
  MediaLine l;
  l.mid = mid;
  l.media = std::string(media_name(spec.kind));
  l.protocol = std::string(kSendProtocol);
  l.kind = spec.kind;
  l.origin = LineOrigin::kLocal;
  l.rtcp_rsize = true;
  return l;
}

/// Codecs and extmaps of a line that carries `spec`, numbered consistently
/// with the rest of the session.
util::Result<void> assign_formats(MediaLine& l, const SendTrackSpec& spec, PayloadTypeBook& pts, ExtmapBook& exts) {
  auto fb = feedback_for_sending(spec.kind, has(spec.extensions, ext::kTransportCc), has(spec.extensions, ext::kAbsSendTime));
  std::vector<sdp::Codec> primaries;
  for (const auto& c : spec.codecs) {
    auto pt = pts.find(c);
    if (!pt) pt = pts.allocate();
    if (!pt) break;
    if (std::any_of(primaries.begin(), primaries.end(), [&](const sdp::Codec& p) { return p.pt == *pt; })) continue;
    sdp::Codec out = c;
    out.pt = *pt;
    out.feedback = fb;
    pts.note(out, false);
    primaries.push_back(std::move(out));
  }
  if (primaries.empty()) return util::make_error("mid " + l.mid + ": no payload type is left for the track's codecs");
  l.codecs.clear();
  for (const auto& p : primaries) {
    l.codecs.push_back(p);
    if (!spec.rtx) continue;
    auto pt = pts.find_rtx(p.pt, p.clock_rate);
    if (!pt) pt = pts.allocate();
    if (!pt) continue;  // the track goes without retransmissions
    sdp::Codec rtx;
    rtx.pt = *pt;
    rtx.name = "rtx";
    rtx.clock_rate = p.clock_rate;
    rtx.set_fmtp({{"apt", std::to_string(p.pt)}});
    pts.note(rtx, false);
    l.codecs.push_back(std::move(rtx));
  }
  l.formats.clear();
  for (const auto& c : l.codecs) l.formats.push_back(std::to_string(c.pt));
  l.extmaps.clear();
  for (const auto& uri : spec.extensions) {
    auto id = exts.find(uri);
    if (!id) id = exts.allocate();
    if (!id) continue;  // no id left: we will not write this extension
    exts.note(*id, uri);
    l.extmaps.push_back(sdp::Extmap{*id, std::nullopt, uri, ""});
  }
  return {};
}

void clear_remote_media(MediaLine& l) {
  l.remote_sends = false;
  l.remote_ssrcs.clear();
  l.remote_rtx.clear();
  l.remote_rids.clear();
  l.remote_msid.reset();
}

/// What the peer's description says it sends on one m-section.
void read_remote_media(MediaLine& l, const sdp::MediaSection& m) {
  clear_remote_media(l);
  l.remote_sends = sdp::sends(m.direction);
  if (!l.remote_sends) return;
  l.remote_ssrcs = m.primary_ssrcs();
  for (auto s : l.remote_ssrcs)
    if (auto r = m.rtx_ssrc(s)) l.remote_rtx.emplace_back(s, *r);
  for (const auto& rid : m.rids)
    if (rid.direction == sdp::RidDirection::Send) l.remote_rids.push_back(rid.id);
  if (!m.msids.empty()) l.remote_msid = m.msids.front();
}

bool has_seq(const std::vector<uint64_t>& v, uint64_t seq) { return std::find(v.begin(), v.end(), seq) != v.end(); }

bool is_msid_token(std::string_view s) {
  // RFC 8830 §2: msid-id and msid-appdata are tokens (no blanks or controls).
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
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

std::optional<uint8_t> MediaLine::payload_type_for(const sdp::Codec& publisher_codec) const {
  for (const auto& c : codecs)
    if (!c.is_rtx() && same_codec(c, publisher_codec)) return c.pt;
  return std::nullopt;
}

std::optional<uint8_t> MediaLine::rtx_payload_type_for(const sdp::Codec& publisher_codec) const {
  auto pt = payload_type_for(publisher_codec);
  if (!pt) return std::nullopt;
  for (const auto& c : codecs)
    if (c.is_rtx() && c.apt() == *pt) return c.pt;
  return std::nullopt;
}

Negotiator::Negotiator(LocalTransportInfo local, util::Random& rng)
    : local_(std::move(local)), session_id_(rng.u64() >> 2) {}  // < 2^62 (RFC 8866 §5.2 suggests NTP-sized)

const MediaLine* Negotiator::find_line(std::string_view mid) const {
  for (const auto& l : lines_)
    if (l.mid == mid) return &l;
  return nullptr;
}

const MediaLine* Negotiator::line_for_remote_ssrc(uint32_t ssrc) const {
  for (const auto& l : lines_) {
    if (l.rejected) continue;
    if (std::find(l.remote_ssrcs.begin(), l.remote_ssrcs.end(), ssrc) != l.remote_ssrcs.end()) return &l;
    for (const auto& [primary, rtx] : l.remote_rtx)
      if (primary == ssrc || rtx == ssrc) return &l;
  }
  return nullptr;
}

util::Result<RemoteParameters> Negotiator::read_remote_transport(const sdp::SessionDescription& offer) const {
  const sdp::MediaSection* tag = transport_section(offer);
  if (tag == nullptr) return util::make_error("every m-section of the description is rejected (port 0)");
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
  l.origin = previous ? previous->origin : LineOrigin::kRemote;
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

  // A payload type listed twice on the m= line is one codec (answering it twice
  // would be an invalid description).
  std::vector<sdp::PayloadType> offered;
  for (sdp::PayloadType pt : m.payload_types())
    if (std::find(offered.begin(), offered.end(), pt) == offered.end()) offered.push_back(pt);
  for (sdp::PayloadType pt : offered) {
    const sdp::Codec* c = m.find_codec(pt);
    if (c == nullptr || c->is_rtx() || !is_supported_codec(*c, l.kind)) continue;
    sdp::Codec kept = *c;
    std::vector<sdp::RtcpFeedback> fb;
    for (const auto& f : c->feedback)
      if (is_supported_feedback(f)) fb.push_back(f);
    for (const auto& f : m.wildcard_feedback)
      if (is_supported_feedback(f) && std::find(fb.begin(), fb.end(), f) == fb.end()) fb.push_back(f);
    kept.feedback = std::move(fb);
    if (l.kind == sdp::MediaKind::Video) {
      // Chromium starts its encoder at 300 kbps and shrinks the picture to fit,
      // then takes half a minute to grow it back although the bandwidth estimate
      // allows more. A start bitrate in the answer lets it begin near a useful
      // rate; transport-wide feedback corrects it within a second if too high.
      auto params = kept.fmtp_params;
      if (!sdp::find_param(params, "x-google-start-bitrate"))
        params.push_back({"x-google-start-bitrate", std::to_string(kVideoStartBitrateKbps)});
      kept.set_fmtp(std::move(params));
    }
    l.codecs.push_back(std::move(kept));
  }
  // A line we send on offers only what the track carries, when the peer still
  // lists it; otherwise we keep the track but cannot send it (direction below).
  bool can_send = previous && previous->send;
  if (can_send) {
    std::vector<sdp::Codec> sendable;
    for (const auto& c : l.codecs)
      for (const auto& t : previous->send->codecs)
        if (same_codec(c, t)) { sendable.push_back(c); break; }
    if (!sendable.empty()) l.codecs = std::move(sendable);
    else can_send = false;
  }
  if (l.codecs.empty()) return reject();
  // RTX companions of the codecs we kept (RFC 4588 §8.6), unless we send
  // a track without RTX here.
  size_t primaries = l.codecs.size();
  bool want_rtx = !(can_send && previous->send->rtx_ssrc == 0);
  for (sdp::PayloadType pt : want_rtx ? offered : std::vector<sdp::PayloadType>{}) {
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
  l.send = previous ? previous->send : std::nullopt;
  // Receiving stays possible on a line we created: Chromium's addTrack may
  // reuse a transceiver that came from our offer to publish on it.
  l.direction = sdp::answer_direction(m.direction, can_send, true);
  if (l.send && !can_send) l.rejection = "the peer's offer no longer lists a codec of the track";
  read_remote_media(l, m);
  return l;
}

util::Result<std::string> Negotiator::handle_offer(std::string_view offer_sdp) {
  auto parsed = sdp::SessionDescription::parse(offer_sdp);
  if (!parsed) return util::make_error("offer SDP is malformed: " + parsed.error());
  const auto& offer = parsed.value();
  if (offer.media.empty()) return util::make_error("offer has no m-sections");
  if (offer.media.size() > kMaxMediaLines)
    return util::make_error("offer has more than " + std::to_string(kMaxMediaLines) + " m-sections");
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

  // Glare: we are the polite side and give up our own offer (RFC 8829 §5.7).
  if (pending_offer_) rollback();
  lines_ = std::move(lines);
  remote_ = std::move(remote.value());
  dtls_role_ = remote_->local_dtls_role;
  extmap_allow_mixed_ = offer.extmap_allow_mixed;
  note_mids(offer);
  note_remote_formats(offer);
  revalidate_pending();
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
  // RFC 8830 §2 / RFC 5576 §4: signal what we send, only while we send it.
  if (line.send && sdp::sends(line.direction)) {
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
  if (!line.remote_rids.empty() && sdp::receives(line.direction)) {
    // Receive the peer's simulcast layers (RFC 8853 §5.3: answer send with recv).
    // Our later offers repeat it, or the peer's answer would end simulcast.
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

// ---- server-initiated renegotiation ----------------------------------------

util::Result<std::string> Negotiator::add_send_track(const SendTrackSpec& spec) {
  if (spec.kind != sdp::MediaKind::Audio && spec.kind != sdp::MediaKind::Video)
    return util::make_error("a send track is audio or video");
  if (spec.codecs.empty()) return util::make_error("a send track needs at least one codec");
  for (const auto& c : spec.codecs)
    if (!is_supported_codec(c, spec.kind))
      return util::make_error("codec " + c.name + "/" + std::to_string(c.clock_rate) + " is not one we forward");
  for (const auto& uri : spec.extensions)
    if (!is_supported_extension(uri)) return util::make_error("header extension " + uri + " is not supported");
  if (!is_msid_token(spec.stream_id) || !is_msid_token(spec.track_id))
    return util::make_error("stream and track ids must be 1-64 visible characters (RFC 8830 §2)");
  if (!is_msid_token(spec.cname)) return util::make_error("cname must be 1-64 visible characters");
  if (spec.ssrc == 0 || (spec.rtx && (spec.rtx_ssrc == 0 || spec.rtx_ssrc == spec.ssrc)))
    return util::make_error("a send track needs a non-zero SSRC, and a distinct RTX SSRC when rtx is set");
  if (pending_.size() >= kMaxPendingChanges)
    return util::make_error("too many track changes waiting for an offer (" + std::to_string(kMaxPendingChanges) + ")");
  auto slot = choose_slot(spec.kind, true, 0);
  if (!slot && lines_.size() + pending_appends() >= kMaxMediaLines)
    return util::make_error("the session has " + std::to_string(kMaxMediaLines) + " m-sections, the most we keep");
  std::string mid = slot && slot->reuse ? slot->mid : fresh_mid();
  pending_.push_back({PendingChange::Type::kAdd, next_seq_++, mid, slot ? slot->mid : std::string(), spec});
  return mid;
}

void Negotiator::remove_send_track(std::string_view mid) {
  uint64_t in_flight = pending_offer_ ? pending_offer_->last_seq : 0;
  bool has_track = false;
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    if (it->mid != mid) continue;
    if (it->type == PendingChange::Type::kAdd && it->seq > in_flight) {
      // Nobody has seen this addition yet: forget it, the line stays as it is.
      pending_.erase(it);
      return;
    }
    has_track = it->type == PendingChange::Type::kAdd;  // the latest change decides
  }
  if (const auto* l = find_line(mid); l && l->send && !has_track) {
    has_track = std::none_of(pending_.begin(), pending_.end(), [&](const PendingChange& c) {
      return c.type == PendingChange::Type::kRemove && c.mid == mid;
    });
  }
  if (has_track) pending_.push_back({PendingChange::Type::kRemove, next_seq_++, std::string(mid), {}, {}});
}

bool Negotiator::needs_offer() const {
  uint64_t in_flight = pending_offer_ ? pending_offer_->last_seq : 0;
  return std::any_of(pending_.begin(), pending_.end(), [&](const PendingChange& c) { return c.seq > in_flight; });
}

std::vector<SendTrackMoved> Negotiator::take_moved_tracks() {
  std::vector<SendTrackMoved> out;
  out.swap(moved_);
  return out;
}

util::Result<std::vector<MediaLine>> Negotiator::project_offer_lines() const {
  std::vector<MediaLine> lines = lines_;
  std::vector<const SendTrackSpec*> assign(lines.size(), nullptr);
  auto index_of = [&](std::string_view mid) {
    for (size_t i = 0; i < lines.size(); ++i)
      if (lines[i].mid == mid) return i;
    return lines.size();
  };
  for (const auto& c : pending_) {
    if (c.type == PendingChange::Type::kRemove) {
      size_t i = index_of(c.mid);
      if (i == lines.size()) continue;
      // Inactive, codecs kept, no msid/SSRC (RFC 8829 §5.2.2 keeps the m-section).
      lines[i].send.reset();
      lines[i].direction = sdp::make_direction(false, sdp::receives(lines[i].direction));
      lines[i].rejection.clear();
      continue;
    }
    size_t i = c.slot.empty() ? lines.size() : index_of(c.slot);
    if (i < lines.size() && c.slot == c.mid) {
      // Reused transceiver: same mid, new track.
      lines[i].send = make_send_track(c.spec);
      lines[i].direction = sdp::make_direction(true, sdp::receives(lines[i].direction));
      lines[i].rejection.clear();
      assign[i] = &c.spec;
      continue;
    }
    MediaLine l = new_local_line(c.mid, c.spec);
    l.send = make_send_track(c.spec);
    l.direction = sdp::Direction::SendOnly;
    if (i < lines.size()) {
      lines[i] = std::move(l);  // recycled m-section (RFC 8829 §5.2.2), fresh mid
      assign[i] = &c.spec;
    } else {
      lines.push_back(std::move(l));
      assign.push_back(&c.spec);
    }
  }
  PayloadTypeBook pts;
  ExtmapBook exts;
  for (const auto& c : remote_codecs_) pts.note(c, true);
  for (const auto& e : remote_extmaps_) exts.note(e.id, e.uri);
  auto note_line = [&](const MediaLine& l) {
    if (l.rejected) return;
    for (const auto& c : l.codecs) pts.note(c, false);
    for (const auto& e : l.extmaps) exts.note(e.id, e.uri);
  };
  for (const auto& l : lines_) note_line(l);
  for (size_t i = 0; i < lines.size(); ++i)
    if (assign[i] == nullptr) note_line(lines[i]);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (assign[i] == nullptr) continue;
    auto r = assign_formats(lines[i], *assign[i], pts, exts);
    if (!r) return util::make_error(r.error());
  }
  return lines;
}

util::Result<std::string> Negotiator::create_offer() {
  if (pending_offer_) return util::make_error("cannot offer: an offer of ours is already pending (have-local-offer)");
  auto lines = project_offer_lines();
  if (!lines) return util::make_error(lines.error());
  if (lines->empty()) return util::make_error("nothing to offer: the session has no m-sections and no tracks");
  uint64_t last_seq = pending_.empty() ? 0 : pending_.back().seq;
  std::string text = write_description(*lines, true, extmap_allow_mixed_);
  pending_offer_ = PendingOffer{std::move(lines.value()), last_seq};
  return text;
}

void Negotiator::rollback() {
  if (!pending_offer_) return;
  pending_offer_.reset();
  // An addition and its removal, both unsignalled again, cancel out.
  for (bool found = true; found;) {
    found = false;
    for (size_t r = 0; r < pending_.size() && !found; ++r) {
      if (pending_[r].type != PendingChange::Type::kRemove) continue;
      for (size_t a = 0; a < r && !found; ++a) {
        if (pending_[a].type != PendingChange::Type::kAdd || pending_[a].mid != pending_[r].mid) continue;
        pending_.erase(pending_.begin() + std::ptrdiff_t(r));
        pending_.erase(pending_.begin() + std::ptrdiff_t(a));
        found = true;
      }
    }
  }
}

util::Result<MediaLine> Negotiator::apply_answer_line(const MediaLine& offered, const sdp::MediaSection& a) const {
  MediaLine l = offered;
  l.rejection.clear();
  if (offered.rejected) return l;
  if (a.is_rejected()) {
    // RFC 3264 §6: port 0 refuses the stream; the m-section is now recyclable.
    l.rejected = true;
    l.direction = sdp::Direction::Inactive;
    l.send.reset();
    clear_remote_media(l);
    l.rejection = "the peer rejected the m-section (port 0)";
    return l;
  }
  std::string w = "mid " + offered.mid;
  if (!a.rtcp_mux) return util::make_error(w + ": a=rtcp-mux is missing (RFC 5761, RFC 8843)");
  // Codecs: those we offered that the answer keeps, under our numbers
  // (RFC 3264 §6.1; BUNDLE forbids renumbering, RFC 8843 §9).
  std::vector<sdp::Codec> kept;
  for (sdp::PayloadType pt : a.payload_types()) {
    const sdp::Codec* ours = offered.codec(pt);
    if (ours == nullptr) continue;  // not offered: ignore
    const sdp::Codec* theirs = a.find_codec(pt);
    if (theirs != nullptr && theirs->has_rtpmap() && !sdp::iequals(theirs->name, ours->name))
      return util::make_error(w + ": payload type " + std::to_string(pt) + " is " + ours->name +
                              " in our offer but " + theirs->name + " in the answer");
    sdp::Codec c = *ours;
    if (theirs != nullptr) {
      std::erase_if(c.feedback, [&](const sdp::RtcpFeedback& f) {
        return std::find(theirs->feedback.begin(), theirs->feedback.end(), f) == theirs->feedback.end() &&
               std::find(a.wildcard_feedback.begin(), a.wildcard_feedback.end(), f) == a.wildcard_feedback.end();
      });
    }
    kept.push_back(std::move(c));
  }
  std::erase_if(kept, [&](const sdp::Codec& c) {
    if (!c.is_rtx()) return false;
    auto apt = c.apt();
    return !apt || std::none_of(kept.begin(), kept.end(), [&](const sdp::Codec& p) { return !p.is_rtx() && p.pt == *apt; });
  });
  bool any_primary = std::any_of(kept.begin(), kept.end(), [](const sdp::Codec& c) { return !c.is_rtx(); });
  if (any_primary) {
    l.codecs = std::move(kept);
    l.formats.clear();
    for (const auto& c : l.codecs) l.formats.push_back(std::to_string(c.pt));
  }
  // Extensions: ours that the answer keeps with the same id (RFC 8285 §6).
  l.extmaps.clear();
  for (const auto& e : offered.extmaps) {
    auto id = a.extmap_id(e.uri);
    if (!id) continue;
    if (*id != e.id)
      return util::make_error(w + ": extmap " + e.uri + " has id " + std::to_string(*id) + " in the answer, " +
                              std::to_string(e.id) + " in our offer");
    l.extmaps.push_back(e);
  }
  // Direction (RFC 3264 §6.1): the answer may only narrow the reverse of ours.
  if (sdp::sends(a.direction) && !sdp::receives(offered.direction))
    return util::make_error(w + ": answered " + std::string(sdp::to_string(a.direction)) + " to our " +
                            std::string(sdp::to_string(offered.direction)));
  l.direction = sdp::make_direction(sdp::sends(offered.direction) && sdp::receives(a.direction) && any_primary,
                                    sdp::receives(offered.direction) && sdp::sends(a.direction) && any_primary);
  if (offered.send && !any_primary) l.rejection = "the peer accepted none of the track's codecs";
  else if (offered.send && !sdp::receives(a.direction))
    l.rejection = "the peer does not receive the track (answered " + std::string(sdp::to_string(a.direction)) + ")";
  l.rtcp_rsize = offered.rtcp_rsize && a.rtcp_rsize;
  read_remote_media(l, a);
  return l;
}

util::Result<void> Negotiator::handle_answer(std::string_view answer_sdp) {
  if (!pending_offer_) return util::make_error("unexpected answer: no offer of ours is pending (state stable)");
  // Whatever happens, the offer is answered: success applies it, failure drops it.
  PendingOffer offer = std::move(*pending_offer_);
  auto fail = [&](const std::string& why) -> util::Result<void> {
    rollback();
    return util::make_error("answer rejected: " + why);
  };
  auto parsed = sdp::SessionDescription::parse(answer_sdp);
  if (!parsed) return fail("SDP is malformed: " + parsed.error());
  const auto& answer = parsed.value();
  if (answer.media.size() != offer.lines.size())
    return fail("it has " + std::to_string(answer.media.size()) + " m-sections, our offer had " +
                std::to_string(offer.lines.size()) + " (RFC 3264 §6)");

  // Transport: no ICE restart, same certificate, DTLS role kept (RFC 8842 §5.3).
  std::optional<dtls::Role> role = dtls_role_;
  std::optional<RemoteParameters> remote = remote_;
  if (const sdp::MediaSection* tag = transport_section(answer)) {
    auto r = read_remote_transport(answer);
    if (!r) return fail(r.error());
    if (remote_ && (r->ufrag != remote_->ufrag || r->pwd != remote_->pwd))
      return fail("changed ice-ufrag/ice-pwd (an ICE restart, not supported)");
    if (remote_ && r->fingerprint != remote_->fingerprint)
      return fail("changed a=fingerprint (a new DTLS association, not supported)");
    auto setup = answer.transport_for(*tag).setup;
    if (!setup || (*setup != sdp::SetupRole::Active && *setup != sdp::SetupRole::Passive))
      return fail("an answer to a=setup:actpass must say active or passive (RFC 8842 §5.3)");
    dtls::Role ours = *setup == sdp::SetupRole::Active ? dtls::Role::kServer : dtls::Role::kClient;
    if (dtls_role_ && *dtls_role_ != ours)
      return fail(std::string("a=setup:") + std::string(sdp::to_string(*setup)) +
                  " would swap the DTLS roles of the running association (RFC 8842 §5.5)");
    role = ours;
    r->local_dtls_role = ours;
    remote = std::move(r.value());
  }

  const sdp::Group* bundle = answer.bundle_group();
  std::vector<MediaLine> lines;
  lines.reserve(offer.lines.size());
  for (size_t i = 0; i < offer.lines.size(); ++i) {
    const MediaLine& o = offer.lines[i];
    const sdp::MediaSection& a = answer.media[i];
    if (a.mid != o.mid && !(a.mid.empty() && (o.rejected || a.is_rejected())))
      return fail(where(i, a) + ": our offer has mid " + o.mid + " there (same m-sections in the same order, RFC 3264 §6)");
    if (a.media != o.media)
      return fail(where(i, a) + ": media " + a.media + ", our offer has " + o.media);
    if (!a.is_rejected() && !o.rejected && (bundle == nullptr || !bundle->contains(a.mid)))
      return fail(where(i, a) + ": accepted but not in the answer's BUNDLE group (RFC 8843)");
    auto line = apply_answer_line(o, a);
    if (!line) return fail(line.error());
    lines.push_back(std::move(line.value()));
  }

  lines_ = std::move(lines);
  remote_ = std::move(remote);
  dtls_role_ = role;
  std::erase_if(pending_, [&](const PendingChange& c) { return c.seq <= offer.last_seq; });
  pending_offer_.reset();
  note_mids(answer);
  note_remote_formats(answer);
  revalidate_pending();
  return {};
}

bool Negotiator::reusable(const MediaLine& l, sdp::MediaKind kind, uint64_t ignore_seq) const {
  // Only our own m-sections: the peer's transceivers carry its own direction,
  // which may not let it receive.
  if (l.origin != LineOrigin::kLocal || l.rejected || l.kind != kind) return false;
  bool has_track = l.send.has_value();
  for (const auto& c : pending_) {
    if (c.seq == ignore_seq) continue;
    if (c.type == PendingChange::Type::kAdd && c.slot == l.mid) return false;
    if (c.type == PendingChange::Type::kRemove && c.mid == l.mid) has_track = false;
  }
  return !has_track;
}

bool Negotiator::recyclable(const MediaLine& l, uint64_t ignore_seq) const {
  if (!l.rejected) return false;
  return std::none_of(pending_.begin(), pending_.end(), [&](const PendingChange& c) {
    return c.seq != ignore_seq && c.type == PendingChange::Type::kAdd && c.slot == l.mid;
  });
}

std::optional<Negotiator::Slot> Negotiator::choose_slot(sdp::MediaKind kind, bool allow_reuse, uint64_t ignore_seq) const {
  if (allow_reuse)
    for (const auto& l : lines_)
      if (reusable(l, kind, ignore_seq)) return Slot{l.mid, true};
  for (bool same_kind : {true, false})
    for (const auto& l : lines_)
      if ((!same_kind || l.kind == kind) && recyclable(l, ignore_seq)) return Slot{l.mid, false};
  return std::nullopt;
}

size_t Negotiator::pending_appends() const {
  return size_t(std::count_if(pending_.begin(), pending_.end(), [](const PendingChange& c) {
    return c.type == PendingChange::Type::kAdd && c.slot.empty();
  }));
}

bool Negotiator::mid_taken(std::string_view mid) const {
  if (find_line(mid)) return true;
  for (const auto& c : pending_)
    if (c.mid == mid || c.slot == mid) return true;
  if (pending_offer_)
    for (const auto& l : pending_offer_->lines)
      if (l.mid == mid) return true;
  return false;
}

std::string Negotiator::fresh_mid() {
  for (;;) {
    std::string mid = std::string(kLocalMidPrefix) + std::to_string(next_mid_++);
    if (!mid_taken(mid)) return mid;
  }
}

void Negotiator::note_mids(const sdp::SessionDescription& d) {
  // A peer mid that looks like ours moves our counter past it, so we never mint it.
  for (const auto& m : d.media) {
    std::string_view mid = m.mid;
    if (!mid.starts_with(kLocalMidPrefix)) continue;
    mid.remove_prefix(kLocalMidPrefix.size());
    if (mid.empty() || mid.size() > kMaxLocalMidDigits) continue;
    uint64_t n = 0;
    auto [p, ec] = std::from_chars(mid.data(), mid.data() + mid.size(), n);
    if (ec == std::errc() && p == mid.data() + mid.size()) next_mid_ = std::max(next_mid_, n + 1);
  }
}

void Negotiator::note_remote_formats(const sdp::SessionDescription& d) {
  for (const auto& m : d.media) {
    if (!m.is_rtp()) continue;
    for (const auto& c : m.codecs) {
      auto it = std::find_if(remote_codecs_.begin(), remote_codecs_.end(), [&](const sdp::Codec& x) { return x.pt == c.pt; });
      sdp::Codec kept = c;
      kept.feedback.clear();
      if (it != remote_codecs_.end()) *it = std::move(kept);
      else remote_codecs_.push_back(std::move(kept));
    }
    for (const auto& e : m.extmaps) {
      auto it = std::find_if(remote_extmaps_.begin(), remote_extmaps_.end(), [&](const sdp::Extmap& x) { return x.id == e.id; });
      if (it != remote_extmaps_.end()) *it = e;
      else remote_extmaps_.push_back(e);
    }
  }
}

void Negotiator::revalidate_pending() {
  // A removal is moot once its line lost the track some other way (rejected).
  std::vector<uint64_t> moot;
  for (const auto& c : pending_) {
    if (c.type != PendingChange::Type::kRemove) continue;
    const MediaLine* l = find_line(c.mid);
    bool added = std::any_of(pending_.begin(), pending_.end(), [&](const PendingChange& x) {
      return x.type == PendingChange::Type::kAdd && x.mid == c.mid && x.seq < c.seq;
    });
    if (!added && (l == nullptr || !l->send)) moot.push_back(c.seq);
  }
  std::erase_if(pending_, [&](const PendingChange& c) { return has_seq(moot, c.seq); });
  for (auto& c : pending_) {
    if (c.type != PendingChange::Type::kAdd) continue;
    const MediaLine* slot = c.slot.empty() ? nullptr : find_line(c.slot);
    bool reuse = !c.slot.empty() && c.slot == c.mid;
    bool slot_ok = c.slot.empty() || (slot != nullptr && (reuse ? reusable(*slot, c.spec.kind, c.seq) : recyclable(*slot, c.seq)));
    const MediaLine* holder = find_line(c.mid);
    bool mid_clash = holder != nullptr && !(reuse && holder == slot);
    if (slot_ok && !mid_clash) continue;
    if (reuse || mid_clash) {
      // The peer stopped the line we meant to reuse, or took our mid: the track
      // needs a new m-section and so a new mid.
      std::string old = std::move(c.mid);
      c.mid.clear();
      c.slot.clear();
      c.mid = fresh_mid();
      if (moved_.size() >= kMaxPendingChanges) moved_.erase(moved_.begin());
      moved_.push_back({c.spec.track_id, std::move(old), c.mid});
    }
    c.slot.clear();
    auto s = choose_slot(c.spec.kind, false, c.seq);
    c.slot = s ? s->mid : std::string();
  }
}

}  // namespace sb::rtc
