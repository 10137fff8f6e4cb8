#include "load/ClientSdp.hpp"

#include "ice/Candidate.hpp"
#include "rtc/Capabilities.hpp"
#include "sdp/SdpParser.hpp"

namespace sb::load {

namespace {

sdp::Codec make_codec(uint8_t pt, std::string name, uint32_t clock, uint32_t channels, std::string fmtp,
                      std::vector<sdp::RtcpFeedback> fb) {
  sdp::Codec c;
  c.pt = pt;
  c.name = std::move(name);
  c.clock_rate = clock;
  c.channels = channels;
  if (!fmtp.empty()) c.set_fmtp(sdp::parse_param_list(fmtp));
  c.feedback = std::move(fb);
  return c;
}

sdp::Extmap extmap(uint8_t id, std::string_view uri) {
  sdp::Extmap e;
  e.id = id;
  e.uri = std::string(uri);
  return e;
}

}  // namespace

ClientSdp::ClientSdp(LocalDescriptionParams params) : params_(std::move(params)) {}

void ClientSdp::write_transport(sdp::MediaSection& m, sdp::SetupRole setup) const {
  m.transport.ice_ufrag = params_.ice_ufrag;
  m.transport.ice_pwd = params_.ice_pwd;
  m.transport.ice_options = {"trickle"};
  m.transport.fingerprints = {sdp::Fingerprint{"sha-256", params_.fingerprint_sha256}};
  m.transport.setup = setup;
  if (params_.host_candidate) {
    // RFC 8839 §5.1; everything goes over one BUNDLE transport, so every section carries the same one.
    m.candidates = {ice::format_host_candidate(
        "1", ice::candidate_priority(ice::CandidateType::kHost, 65535), *params_.host_candidate)};
    m.end_of_candidates = true;
  }
}

void ClientSdp::write_send_streams(sdp::MediaSection& m, bool audio) const {
  std::string track = params_.stream_id + (audio ? "-audio" : "-video");
  m.msids = {sdp::Msid{params_.stream_id, track}};
  std::string msid = params_.stream_id + " " + track;
  // RFC 5576 §4.1: cname for every SSRC; FID groups the RTX stream (RFC 4588 §8.7).
  if (audio) {
    m.ssrcs = {{params_.audio_ssrc, "cname", params_.cname}, {params_.audio_ssrc, "msid", msid}};
    return;
  }
  m.ssrc_groups = {sdp::SsrcGroup{"FID", {params_.video_ssrc, params_.rtx_ssrc}}};
  m.ssrcs = {{params_.video_ssrc, "cname", params_.cname}, {params_.video_ssrc, "msid", msid},
             {params_.rtx_ssrc, "cname", params_.cname}, {params_.rtx_ssrc, "msid", msid}};
}

sdp::MediaSection ClientSdp::offer_section(bool audio) const {
  sdp::MediaSection m;
  m.media = audio ? "audio" : "video";
  m.port = 9;
  m.protocol = "UDP/TLS/RTP/SAVPF";
  m.connection = sdp::Connection{};
  m.rtcp = sdp::RtcpAddress{9, "IN IP4 0.0.0.0"};
  write_transport(m, sdp::SetupRole::ActPass);
  m.mid = std::string(audio ? kAudioMid : kVideoMid);
  if (audio) m.extmaps.push_back(extmap(kAudioLevelExtId, rtc::ext::kAudioLevel));
  m.extmaps.push_back(extmap(kAbsSendTimeExtId, rtc::ext::kAbsSendTime));
  m.extmaps.push_back(extmap(kTransportCcExtId, rtc::ext::kTransportCc));
  m.extmaps.push_back(extmap(kMidExtId, rtc::ext::kMid));
  bool send = params_.publish && (!audio || params_.publish_audio);
  m.direction = send ? sdp::Direction::SendOnly : sdp::Direction::RecvOnly;
  m.rtcp_mux = true;
  m.rtcp_rsize = !audio;
  if (audio) {
    m.formats = {std::to_string(kOpusPt)};
    m.codecs.push_back(make_codec(kOpusPt, "opus", 48000, 2, "minptime=10;useinbandfec=1", {{"transport-cc", ""}}));
  } else {
    m.formats = {std::to_string(kVp8Pt), std::to_string(kRtxPt)};
    m.codecs.push_back(make_codec(kVp8Pt, "VP8", 90000, 0, "",
                                  {{"goog-remb", ""}, {"transport-cc", ""}, {"ccm", "fir"}, {"nack", ""}, {"nack", "pli"}}));
    m.codecs.push_back(make_codec(kRtxPt, "rtx", 90000, 0, "apt=" + std::to_string(kVp8Pt), {}));
  }
  if (send) write_send_streams(m, audio);
  return m;
}

std::string ClientSdp::create_offer() {
  sdp::SessionDescription d;
  d.origin.session_id = params_.session_id;
  d.origin.session_version = version_++;
  d.groups = {sdp::Group{"BUNDLE", {std::string(kAudioMid), std::string(kVideoMid)}}};
  d.extmap_allow_mixed = true;
  d.msid_semantic = "WMS " + params_.stream_id;
  d.media.push_back(offer_section(true));
  d.media.push_back(offer_section(false));
  return d.to_string();
}

util::Result<std::string> ClientSdp::create_answer(const sdp::SessionDescription& offer, sdp::SetupRole setup) {
  sdp::SessionDescription d;
  d.origin.session_id = params_.session_id;
  d.origin.session_version = version_++;
  d.extmap_allow_mixed = offer.extmap_allow_mixed;
  d.msid_semantic = "WMS " + params_.stream_id;
  sdp::Group bundle{"BUNDLE", {}};
  for (const auto& o : offer.media) {
    sdp::MediaSection a;
    a.media = o.media;
    a.protocol = o.protocol;
    a.formats = o.formats;
    a.mid = o.mid;
    a.connection = sdp::Connection{};
    bool rtp_av = o.is_rtp() && (o.kind() == sdp::MediaKind::Audio || o.kind() == sdp::MediaKind::Video);
    if (o.is_rejected() || !rtp_av) {
      // RFC 3264 §6: port 0 declines the section (and it stays in place).
      a.port = 0;
      a.direction = sdp::Direction::Inactive;
      if (a.formats.empty()) a.formats = {"0"};
      d.media.push_back(std::move(a));
      continue;
    }
    a.port = 9;
    a.rtcp = sdp::RtcpAddress{9, "IN IP4 0.0.0.0"};
    write_transport(a, setup);
    for (auto e : o.extmaps) {
      e.direction.reset();
      a.extmaps.push_back(std::move(e));
    }
    bool audio = o.kind() == sdp::MediaKind::Audio;
    bool ours = o.mid == (audio ? kAudioMid : kVideoMid);
    bool send = ours && params_.publish && (!audio || params_.publish_audio);
    // Receive whatever the server sends; send only on our own sections.
    a.direction = sdp::answer_direction(o.direction, send, true);
    a.rtcp_mux = true;
    a.rtcp_rsize = o.rtcp_rsize;
    a.codecs = o.codecs;
    if (sdp::sends(a.direction)) write_send_streams(a, audio);
    bundle.mids.push_back(a.mid);
    d.media.push_back(std::move(a));
  }
  if (bundle.mids.empty()) return util::make_error("the server's offer has no usable m-section");
  d.groups = {std::move(bundle)};
  return d.to_string();
}

util::Result<sdp::SessionDescription> ClientSdp::parse(std::string_view text) { return sdp::SdpParser::parse(text); }

util::Result<RemoteInfo> ClientSdp::read_remote(const sdp::SessionDescription& d) {
  RemoteInfo info;
  const sdp::MediaSection* tag = nullptr;
  for (const auto& m : d.media)
    if (!m.is_rejected()) {
      tag = &m;
      break;
    }
  if (tag == nullptr) return util::make_error("every m-section is rejected");
  auto t = d.transport_for(*tag);
  if (!t.ice_ufrag || !t.ice_pwd) return util::make_error("no ICE credentials");
  info.setup = t.setup;
  info.ice_ufrag = *t.ice_ufrag;
  info.ice_pwd = *t.ice_pwd;
  bool have_fp = false;
  for (const auto& f : t.fingerprints) {
    auto fp = dtls::parse_fingerprint(f.algorithm, f.value);
    if (fp && (!have_fp || sdp::iequals(f.algorithm, "sha-256"))) {
      info.fingerprint = std::move(fp.value());
      have_fp = true;
    }
  }
  if (!have_fp) return util::make_error("no usable a=fingerprint");
  for (const auto& m : d.media) {
    if (m.is_rejected()) continue;
    for (const auto& line : m.candidates) {
      auto c = ice::parse_candidate(line);
      if (c && c->is_udp() && c->addr) info.candidates.emplace_back(*c->addr, c->priority);
    }
    for (const auto& c : m.codecs) {
      if (c.pt > 127) continue;
      if (c.is_rtx()) info.payload_kinds[c.pt] = PayloadKind::kVideoRtx;
      else if (c.is("opus")) info.payload_kinds[c.pt] = PayloadKind::kAudio;
      else if (c.is("VP8")) info.payload_kinds[c.pt] = PayloadKind::kVideo;
    }
    for (const auto& g : m.ssrc_groups)
      if (g.semantics == "FID" && g.ssrcs.size() == 2) info.rtx_ssrcs.emplace_back(g.ssrcs[1], g.ssrcs[0]);
    auto id = [&](std::string_view uri, uint8_t& out) {
      if (auto v = m.extmap_id(uri); v && *v <= 14 && out == 0) out = uint8_t(*v);
    };
    id(rtc::ext::kTransportCc, info.transport_cc_id);
    id(rtc::ext::kAbsSendTime, info.abs_send_time_id);
    id(rtc::ext::kMid, info.mid_id);
    if (sdp::sends(m.direction)) ++info.receiving_sections;
  }
  return info;
}

}  // namespace sb::load
