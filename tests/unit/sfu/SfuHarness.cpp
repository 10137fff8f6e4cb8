#include "sfu/SfuHarness.hpp"

#include <algorithm>
#include <cstdlib>

#include "dtls/Fingerprint.hpp"
#include "rtp/rtcp/Fir.hpp"
#include "util/Log.hpp"

namespace sb::sfu::test {

namespace rtcp = rtp::rtcp;

namespace {
constexpr util::Duration kAudioInterval = 20ms;
constexpr util::Duration kVideoInterval = 40ms;  // 25 fps: 3600 ticks of 90 kHz, exact
constexpr util::Duration kSrInterval = 1s;
constexpr size_t kVideoHistory = 2000;
constexpr size_t kMaxVideoPayload = 1200;
constexpr size_t kAudioPayload = 80;
/// Where the clients' wall clocks stand at the simulation's epoch.
constexpr std::chrono::seconds kWallOffset{1'700'000'000};
}  // namespace

// ---------------------------------------------------------------------------
// Client

Client::Client(Harness& harness, ConnId c, ClientSpec s, util::SocketAddr a, uint64_t seed)
    : h(harness), conn(c), spec(std::move(s)), addr(a), rng(util::make_seeded_random(seed)) {
  creds = ice::Credentials::generate(*rng);
  cname = rng->alnum(16);
  audio_ssrc = rng->u32() | 1;
  video_ssrc = rng->u32() | 1;
  rtx_ssrc = rng->u32() | 1;
  rtcp_ssrc = rng->u32() | 1;
  session_id_ = rng->u64() >> 2;
  audio_base_ = rng->u32();
  video_base_ = rng->u32();
}

std::string Client::make_offer() {
  if (negotiated) {
    // A re-offer of the negotiated state (JSEP keeps every m-section): our own
    // transceivers sendrecv, those the server created recvonly.
    sdp::SessionDescription o;
    o.origin.session_id = session_id_;
    o.origin.session_version = ++version_;
    o.msid_semantic = "WMS";
    o.extmap_allow_mixed = negotiated->extmap_allow_mixed;
    sdp::Group bundle{"BUNDLE", {}};
    for (const auto& m : negotiated->media) {
      bool own = m.mid == "0" || m.mid == "1";
      auto dir = own ? sdp::make_direction(spec.publish, true) : sdp::Direction::RecvOnly;
      o.media.push_back(own_section(m, dir, true));
      if (!m.is_rejected()) bundle.mids.push_back(m.mid);
    }
    o.groups.push_back(bundle);
    return o.to_string();
  }
  const std::string fp = certificate(1)->fingerprint();
  auto transport_lines = [&](std::string_view mid) {
    return "c=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:" + creds.ufrag + "\r\na=ice-pwd:" +
           creds.pwd + "\r\na=ice-options:trickle\r\na=fingerprint:sha-256 " + fp + "\r\na=setup:actpass\r\na=mid:" +
           std::string(mid) + "\r\n";
  };
  auto ext = [](int id, std::string_view uri) { return "a=extmap:" + std::to_string(id) + " " + std::string(uri) + "\r\n"; };
  auto ssrc_lines = [&](uint32_t ssrc, const std::string& track) {
    return "a=ssrc:" + std::to_string(ssrc) + " cname:" + cname + "\r\na=ssrc:" + std::to_string(ssrc) +
           " msid:" + spec.name + " " + track + "\r\n";
  };
  const std::string dir = spec.publish ? "a=sendrecv\r\n" : "a=recvonly\r\n";
  const std::string a = std::to_string(spec.audio_pt), v = std::to_string(spec.video_pt),
                    r = std::to_string(spec.rtx_pt);
  std::string s = "v=0\r\no=- " + std::to_string(session_id_) + " " + std::to_string(++version_) +
                  " IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\na=extmap-allow-mixed\r\n"
                  "a=msid-semantic: WMS " + spec.name + "\r\n";
  s += "m=audio 9 UDP/TLS/RTP/SAVPF " + a + "\r\n" + transport_lines("0");
  s += ext(spec.ext_audio_level, rtc::ext::kAudioLevel) + ext(spec.ext_abs_send_time, rtc::ext::kAbsSendTime) +
       ext(spec.ext_twcc, rtc::ext::kTransportCc) + ext(spec.ext_mid, rtc::ext::kMid);
  s += dir;
  if (spec.publish) s += "a=msid:" + spec.name + " " + spec.name + "-audio\r\n";
  s += "a=rtcp-mux\r\na=rtcp-rsize\r\na=rtpmap:" + a + " opus/48000/2\r\na=rtcp-fb:" + a +
       " transport-cc\r\na=fmtp:" + a + " minptime=10;useinbandfec=1\r\n";
  if (spec.publish) s += ssrc_lines(audio_ssrc, spec.name + "-audio");
  s += "m=video 9 UDP/TLS/RTP/SAVPF " + v + " " + r + "\r\n" + transport_lines("1");
  s += ext(spec.ext_abs_send_time, rtc::ext::kAbsSendTime) + ext(spec.ext_twcc, rtc::ext::kTransportCc) +
       ext(spec.ext_mid, rtc::ext::kMid);
  s += dir;
  if (spec.publish) s += "a=msid:" + spec.name + " " + spec.name + "-video\r\n";
  s += "a=rtcp-mux\r\na=rtcp-rsize\r\na=rtpmap:" + v + " VP8/90000\r\n";
  for (const char* fb : {"goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"})
    s += "a=rtcp-fb:" + v + " " + fb + "\r\n";
  s += "a=rtpmap:" + r + " rtx/90000\r\na=fmtp:" + r + " apt=" + v + "\r\n";
  if (spec.publish) {
    s += "a=ssrc-group:FID " + std::to_string(video_ssrc) + " " + std::to_string(rtx_ssrc) + "\r\n";
    s += ssrc_lines(video_ssrc, spec.name + "-video") + ssrc_lines(rtx_ssrc, spec.name + "-video");
  }
  return s;
}

sdp::MediaSection Client::own_section(const sdp::MediaSection& like, sdp::Direction dir, bool offering) const {
  sdp::MediaSection s;
  s.media = like.media;
  s.protocol = like.protocol;
  s.formats = like.formats;
  s.mid = like.mid;
  s.connection = sdp::Connection{};
  if (like.is_rejected()) {
    s.port = 0;
    s.direction = sdp::Direction::Inactive;
    return s;
  }
  s.port = 9;
  s.transport.ice_ufrag = creds.ufrag;
  s.transport.ice_pwd = creds.pwd;
  s.transport.ice_options = {"trickle"};
  s.transport.fingerprints = {{"sha-256", certificate(1)->fingerprint()}};
  s.transport.setup = offering ? sdp::SetupRole::ActPass : sdp::SetupRole::Active;
  s.rtcp_mux = true;
  s.rtcp_rsize = like.rtcp_rsize;
  s.codecs = like.codecs;
  s.extmaps = like.extmaps;
  for (auto& e : s.extmaps) e.direction.reset();
  s.direction = dir;
  bool own = like.mid == "0" || like.mid == "1";
  if (own && sdp::sends(dir)) {
    bool video = like.media == "video";
    std::string track = spec.name + (video ? "-video" : "-audio");
    uint32_t ssrc = video ? video_ssrc : audio_ssrc;
    s.msids.push_back({spec.name, track});
    if (video) s.ssrc_groups.push_back({"FID", {video_ssrc, rtx_ssrc}});
    for (uint32_t x : video ? std::vector<uint32_t>{video_ssrc, rtx_ssrc} : std::vector<uint32_t>{ssrc}) {
      s.ssrcs.push_back({x, "cname", cname});
      s.ssrcs.push_back({x, "msid", spec.name + " " + track});
    }
  }
  return s;
}

std::string Client::make_answer(const sdp::SessionDescription& offer) const {
  sdp::SessionDescription a;
  a.origin.session_id = session_id_;
  a.origin.session_version = version_ + 1;
  a.msid_semantic = "WMS";
  a.extmap_allow_mixed = offer.extmap_allow_mixed;
  sdp::Group bundle{"BUNDLE", {}};
  for (const auto& m : offer.media) {
    bool own = spec.publish && (m.mid == "0" || m.mid == "1");
    // RFC 3264 §6.1: we receive what the server sends; we send on our own lines
    // when it receives.
    auto dir = sdp::make_direction(own && sdp::receives(m.direction), sdp::sends(m.direction));
    a.media.push_back(own_section(m, dir, false));
    if (!m.is_rejected()) bundle.mids.push_back(m.mid);
  }
  a.groups.push_back(bundle);
  return a.to_string();
}

void Client::send_offer() {
  h.core.offer(h.now(), conn, make_offer());
  h.pump_signals();
}

void Client::answer_pending() {
  if (held_offers.empty()) return;
  std::string text = held_offers.front();
  held_offers.erase(held_offers.begin());
  auto offer = sdp::SessionDescription::parse(text);
  ASSERT_TRUE(offer.ok()) << offer.error();
  ++version_;
  negotiated = offer.value();
  h.core.answer(h.now(), conn, make_answer(offer.value()));
  h.pump_signals();
}

void Client::on_signal(const SignalOut& s) {
  if (const auto* a = std::get_if<AnswerOut>(&s.message)) {
    signal_kinds.push_back("answer");
    answers.push_back(a->sdp);
    auto parsed = sdp::SessionDescription::parse(a->sdp);
    ASSERT_TRUE(parsed.ok()) << parsed.error();
    if (!transport) setup_transport(parsed.value());
    negotiated = parsed.value();
  } else if (const auto* o = std::get_if<OfferOut>(&s.message)) {
    signal_kinds.push_back("offer");
    offers.push_back(o->sdp);
    if (!auto_answer) {
      held_offers.push_back(o->sdp);
      return;
    }
    auto parsed = sdp::SessionDescription::parse(o->sdp);
    ASSERT_TRUE(parsed.ok()) << parsed.error();
    ++version_;
    negotiated = parsed.value();
    h.core.answer(h.now(), conn, make_answer(parsed.value()));
  } else if (const auto* c = std::get_if<CandidateOut>(&s.message)) {
    signal_kinds.push_back("candidate");
    if (auto cand = ice::parse_candidate(c->candidate); cand && cand->addr && transport)
      transport->add_remote_candidate(*cand->addr, cand->priority);
  } else if (const auto* e = std::get_if<ErrorOut>(&s.message)) {
    signal_kinds.push_back("error");
    errors.push_back(*e);
  } else if (const auto* cl = std::get_if<ClosedOut>(&s.message)) {
    signal_kinds.push_back("closed");
    closed.push_back(*cl);
  }
}

void Client::setup_transport(const sdp::SessionDescription& answer) {
  const sdp::MediaSection* tag = nullptr;
  for (const auto& m : answer.media)
    if (!m.is_rejected()) {
      tag = &m;
      break;
    }
  ASSERT_NE(tag, nullptr);
  auto t = answer.transport_for(*tag);
  ASSERT_TRUE(t.ice_ufrag && t.ice_pwd && !t.fingerprints.empty());
  EXPECT_EQ(t.setup, sdp::SetupRole::Passive);
  auto fp = dtls::parse_fingerprint(t.fingerprints.front().algorithm, t.fingerprints.front().value);
  ASSERT_TRUE(fp.ok()) << fp.error();
  rtc::RemoteParameters remote{*t.ice_ufrag, *t.ice_pwd, fp.value(), dtls::Role::kClient};
  ice::ClientAgentConfig cfg;
  cfg.local = creds;
  cfg.tie_breaker = rng->u64();
  dtls::SessionConfig dtls_config;
  if (!spec.srtp_profiles.empty()) dtls_config.srtp_profiles = spec.srtp_profiles;
  transport = rtc::Transport::make_client(std::move(cfg), *rng, certificate(1), remote, dtls_config);
  for (const auto& line : tag->candidates) {
    auto c = ice::parse_candidate(line);
    ASSERT_TRUE(c.ok()) << c.error();
    ASSERT_TRUE(c->addr.has_value());
    transport->add_remote_candidate(*c->addr, c->priority);
  }
}

void Client::start_media(util::Timestamp now, bool first_frame_keyframe) {
  media_on_ = true;
  media_start_ = now;
  next_audio_ = now;
  next_video_ = now;
  next_sr_ = now + kSrInterval;
  keyframe_next_ = first_frame_keyframe;
}

uint32_t Client::rtp_time(util::Timestamp now, uint32_t clock) const {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - media_start_).count();
  uint32_t base = clock == 90000 ? video_base_ : audio_base_;
  return base + uint32_t(ns * int64_t(clock) / 1'000'000'000);
}

rtp::NtpTime Client::wall(util::Timestamp now) {
  return rtp::NtpTime::from_unix(std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()) +
                                 kWallOffset);
}

bool Client::send_rtcp(util::ByteView data) { return transport && transport->send_rtcp(h.net.sink(endpoint), data); }

void Client::send_media(util::Timestamp now, uint32_t ssrc, uint8_t pt, uint16_t seq, uint32_t ts, bool marker,
                        util::ByteView payload, bool keyframe, bool rtx, std::string_view mid) {
  uint8_t ext_buf[64];
  rtp::ExtensionWriter w(ext_buf, rtp::ExtensionProfile::kOneByte);
  uint16_t tseq = next_transport_seq++;
  if (spec.ext_mid) w.add_string(spec.ext_mid, mid);
  if (spec.ext_twcc) w.add_transport_sequence(spec.ext_twcc, tseq);
  if (spec.ext_abs_send_time)
    w.add_abs_send_time(spec.ext_abs_send_time, rtp::abs_send_time_from(now.time_since_epoch()));
  if (mid == "0" && spec.ext_audio_level) w.add_audio_level(spec.ext_audio_level, true, 30);
  size_t ext_len = w.finish();
  uint8_t buf[util::kMaxDatagram];
  rtp::RtpHeader hdr{marker, rtp::PayloadType{pt}, seq, ts, rtp::Ssrc{ssrc}, {}};
  size_t len = rtp::write_packet(buf, hdr, {ext_buf, ext_len}, payload);
  ASSERT_GT(len, 0u);
  SentRtp s{now, ssrc, seq, ts, pt, keyframe, tseq, rtx, util::Bytes(buf, buf + len)};
  sent.push_back(std::move(s));
  transport->send_rtp(h.net.sink(endpoint), {buf, len});
}

void Client::send_audio(util::Timestamp now) {
  uint8_t payload[kAudioPayload];
  uint16_t seq = next_audio_seq++;
  for (size_t i = 0; i < sizeof(payload); ++i) payload[i] = uint8_t(seq * 7 + i);
  send_media(now, audio_ssrc, spec.audio_pt, seq, rtp_time(now, 48000), false, payload, false, false, "0");
}

void Client::send_video_frame(util::Timestamp now) {
  bool key = keyframe_next_;
  keyframe_next_ = false;
  int n = key ? video_packets_per_keyframe : video_packets_per_delta;
  uint32_t ts = rtp_time(now, 90000);
  for (int i = 0; i < n; ++i) {
    std::array<uint8_t, kMaxVideoPayload> buf;
    uint8_t* payload = buf.data();
    size_t size = std::clamp<size_t>(video_payload_size, 8, buf.size());
    uint16_t seq = next_video_seq++;
    for (size_t j = 0; j < size; ++j) payload[j] = uint8_t(seq * 13 + j);
    // RFC 7741 §4.2 payload descriptor: S=1 and PID=0 on the first packet of the frame.
    payload[0] = i == 0 ? 0x10 : 0x00;
    if (i == 0) {
      // RFC 6386 §9.1 frame tag: P (bit 0) is 0 for a keyframe; show_frame set.
      payload[1] = key ? 0x10 : 0x11;
      payload[2] = 0x00;
      payload[3] = 0x01;
      if (key) {
        const uint8_t start[] = {0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01};  // start code, 640x480
        std::copy(std::begin(start), std::end(start), payload + 4);
      } else {
        payload[4] = 0x00;  // never the start code
      }
    }
    send_media(now, video_ssrc, spec.video_pt, seq, ts, i == n - 1, {payload, size}, key && i == 0, false, "1");
    video_history_[seq] = sent.back().packet;
    if (video_history_.size() > kVideoHistory) video_history_.erase(video_history_.begin());
  }
}

void Client::send_rtx(util::Timestamp now, uint16_t seq) {
  auto it = video_history_.find(seq);
  if (it == video_history_.end()) return;
  auto original = rtp::PacketView::parse(it->second);
  ASSERT_TRUE(original.ok());
  // RFC 4588 §4: the original sequence number leads the payload.
  util::Bytes payload(2 + original->payload().size());
  util::store_be16(payload.data(), seq);
  std::copy(original->payload().begin(), original->payload().end(), payload.begin() + 2);
  send_media(now, rtx_ssrc, spec.rtx_pt, next_rtx_seq++, original->timestamp(), original->marker(), payload, false,
             true, "1");
}

void Client::send_sender_reports(util::Timestamp now) {
  for (bool video : {false, true}) {
    uint32_t ssrc = video ? video_ssrc : audio_ssrc;
    rtcp::SenderInfo info;
    info.ntp = wall(now);
    info.rtp_timestamp = rtp_time(now, video ? 90000 : 48000);
    info.packet_count = uint32_t(std::count_if(sent.begin(), sent.end(), [&](const SentRtp& s) { return s.ssrc == ssrc; }));
    uint8_t buf[128];
    size_t n = rtcp::SenderReport::write(buf, rtp::Ssrc{ssrc}, info);
    ASSERT_GT(n, 0u);
    sent_srs.push_back({now, ssrc, info.ntp, info.rtp_timestamp});
    transport->send_rtcp(h.net.sink(endpoint), {buf, n});
  }
}

void Client::handle_datagram(util::Timestamp now, const util::SocketAddr& from, util::MutableBytes data) {
  if (!transport) return;
  auto rx = transport->handle_datagram(now, from, data);
  if (rx.kind == rtc::Transport::Received::Kind::kRtp) {
    rtp.push_back({now, util::Bytes(rx.packet.begin(), rx.packet.end())});
  } else if (rx.kind == rtc::Transport::Received::Kind::kRtcp) {
    rtcp.push_back({now, util::Bytes(rx.packet.begin(), rx.packet.end())});
    on_rtcp(now, rx.packet);
  }
}

void Client::on_rtcp(util::Timestamp now, util::ByteView data) {
  bool ok = rtcp::for_each(data, [&](const rtcp::PacketView& pv) {
    if (pv.is(rtcp::PacketType::kPsfb, rtcp::kFmtPli)) {
      if (auto pli = rtcp::Pli::parse(pv); pli && uint32_t(pli->media_ssrc()) == video_ssrc && respond_to_pli)
        keyframe_next_ = true;
    } else if (pv.is(rtcp::PacketType::kPsfb, rtcp::kFmtFir)) {
      if (respond_to_pli) keyframe_next_ = true;
    } else if (pv.is(rtcp::PacketType::kRtpfb, rtcp::kFmtNack)) {
      if (auto nack = rtcp::Nack::parse(pv); nack && uint32_t(nack->media_ssrc()) == video_ssrc && respond_to_nack)
        nack->for_each_lost([&](uint16_t seq) { send_rtx(now, seq); });
    }
  });
  EXPECT_TRUE(ok) << "malformed RTCP from the server";
}

void Client::handle_timeout(util::Timestamp now) {
  if (!transport) return;
  if (transport->poll_timeout() <= now) transport->handle_timeout(now);
  if (!media_on_ || !connected()) return;
  while (next_audio_ <= now) {
    send_audio(next_audio_);
    next_audio_ += kAudioInterval;
  }
  while (next_video_ <= now) {
    send_video_frame(next_video_);
    next_video_ += kVideoInterval;
  }
  if (next_sr_ <= now) {
    send_sender_reports(now);
    next_sr_ += kSrInterval;
  }
}

util::Timestamp Client::poll_timeout() const {
  if (!transport) return util::kNever;
  util::Timestamp t = transport->poll_timeout();
  if (media_on_ && connected()) t = std::min({t, next_audio_, next_video_, next_sr_});
  return t;
}

void Client::flush(util::Timestamp, util::DatagramSink& out) {
  if (transport) transport->flush(out);
}

std::optional<OfferedStream> Client::stream_for(std::string_view track_id) const {
  if (!negotiated) return std::nullopt;
  for (const auto& m : negotiated->media) {
    if (m.is_rejected() || m.msids.empty() || m.msids.front().track_id != track_id) continue;
    OfferedStream s;
    s.mid = m.mid;
    s.stream_id = m.msids.front().stream_id;
    s.track_id = m.msids.front().track_id;
    auto primaries = m.primary_ssrcs();
    if (primaries.empty()) return std::nullopt;
    s.ssrc = primaries.front();
    if (auto r = m.rtx_ssrc(s.ssrc)) s.rtx_ssrc = *r;
    s.section = m;
    return s;
  }
  return std::nullopt;
}

std::vector<Received> Client::rtp_from(uint32_t ssrc) const {
  std::vector<Received> out;
  for (const auto& r : rtp)
    if (uint32_t(r.rtp().ssrc()) == ssrc) out.push_back(r);
  return out;
}

std::vector<Timed<util::Bytes>> Client::rtcp_of(rtcp::PacketType type, uint8_t fmt) const {
  std::vector<Timed<util::Bytes>> out;
  for (const auto& r : rtcp)
    (void)rtcp::for_each(r.packet, [&](const rtcp::PacketView& pv) {
      if (pv.is(type, fmt)) out.push_back({r.at, util::Bytes(pv.data().begin(), pv.data().end())});
    });
  return out;
}

std::vector<Timed<rtcp::FeedbackHeader>> Client::plis() const {
  std::vector<Timed<rtcp::FeedbackHeader>> out;
  for (const auto& [at, bytes] : rtcp_of(rtcp::PacketType::kPsfb, rtcp::kFmtPli)) {
    auto pv = rtcp::PacketView::parse(bytes);
    if (auto pli = rtcp::Pli::parse(*pv)) out.push_back({at, {pli->sender_ssrc(), pli->media_ssrc()}});
  }
  return out;
}

std::vector<Timed<std::vector<uint16_t>>> Client::nacks() const {
  std::vector<Timed<std::vector<uint16_t>>> out;
  for (const auto& [at, bytes] : rtcp_of(rtcp::PacketType::kRtpfb, rtcp::kFmtNack)) {
    auto pv = rtcp::PacketView::parse(bytes);
    auto nack = rtcp::Nack::parse(*pv);
    if (!nack) continue;
    std::vector<uint16_t> seqs;
    nack->for_each_lost([&](uint16_t s) { seqs.push_back(s); });
    out.push_back({at, std::move(seqs)});
  }
  return out;
}

std::vector<Timed<rtcp::SenderInfo>> Client::sender_reports(uint32_t ssrc) const {
  std::vector<Timed<rtcp::SenderInfo>> out;
  for (const auto& [at, bytes] : rtcp_of(rtcp::PacketType::kSr, 0)) {
    auto pv = rtcp::PacketView::parse(bytes);
    if (auto sr = rtcp::SenderReport::parse(*pv); sr && uint32_t(sr->sender_ssrc()) == ssrc)
      out.push_back({at, sr->sender_info()});
  }
  return out;
}

std::vector<Timed<rtcp::ReportBlock>> Client::report_blocks(uint32_t ssrc) const {
  std::vector<Timed<rtcp::ReportBlock>> out;
  for (const auto& r : rtcp)
    (void)rtcp::for_each(r.packet, [&](const rtcp::PacketView& pv) {
      if (pv.type() == rtcp::PacketType::kRr) {
        if (auto rr = rtcp::ReceiverReport::parse(pv))
          for (auto b : rr->report_blocks())
            if (uint32_t(b.ssrc) == ssrc) out.push_back({r.at, b});
      } else if (pv.type() == rtcp::PacketType::kSr) {
        if (auto sr = rtcp::SenderReport::parse(pv))
          for (auto b : sr->report_blocks())
            if (uint32_t(b.ssrc) == ssrc) out.push_back({r.at, b});
      }
    });
  return out;
}

// ---------------------------------------------------------------------------
// Harness

WorkerConfig Harness::config() {
  WorkerConfig c;
  c.announce = {util::SocketAddr::v4({10, 0, 0, 1}, 0)};
  c.udp_port = kCoreAddr.port();
  c.certificate = certificate(0);
  return c;
}

Harness::Harness(uint64_t seed, sim::LinkConfig link)
    : net(seed), core(config(), util::make_seeded_random(seed * 7919 + 3)), node_(*this) {
  // Quiet by default; SB_TEST_LOG=debug (or info, …) to see the core at work.
  static const bool logging = [] {
    util::LogConfig cfg;
    cfg.level = spdlog::level::warn;
    if (const char* level = std::getenv("SB_TEST_LOG")) util::parse_log_level(level, cfg.level);
    util::configure_logging(cfg);
    return true;
  }();
  (void)logging;
  net.set_default_link(link);
  endpoint_ = net.add_node(kCoreAddr, node_);
  sink_.inner = &net.sink(endpoint_);
}

Client& Harness::add_client(ClientSpec spec) {
  ConnId conn = next_conn_++;
  auto addr = util::SocketAddr::v4({192, 168, 1, uint8_t(conn)}, uint16_t(50000 + conn));
  if (spec.name.empty()) spec.name = "p" + std::to_string(conn);
  clients.push_back(std::make_unique<Client>(*this, conn, std::move(spec), addr, conn * 1000003 + 17));
  Client& c = *clients.back();
  c.endpoint = net.add_node(addr, c);
  return c;
}

void Harness::join(Client& c, const std::string& room) {
  core.join(now(), c.conn, room, c.spec.name);
  c.send_offer();
}

void Harness::leave(Client& c) {
  c.left = true;
  c.stop_media();
  core.leave(now(), c.conn);
}

void Harness::pump_signals() {
  while (auto s = core.poll_signal()) {
    signal_log.push_back(*s);
    for (auto& c : clients)
      if (c->conn == s->conn) c->on_signal(*s);
  }
}

const ParticipantSnapshot* Harness::snapshot_of(const std::string& self_id) {
  snapshots_ = core.snapshot();
  for (const auto& s : snapshots_)
    if (s.self_id == self_id) return &s;
  return nullptr;
}

bool Harness::connect_all(util::Duration limit) {
  return net.run_until(
      [&] {
        for (auto& c : clients) {
          if (!c->transport || c->left) continue;
          if (!c->connected()) return false;
          const auto* s = snapshot_of(c->spec.name);
          if (s == nullptr || s->transport_state != "connected") return false;
        }
        return true;
      },
      limit);
}

void Harness::CoreNode::handle_datagram(util::Timestamp now, const util::SocketAddr& from, util::MutableBytes data) {
  alloc::Totals* bucket = &h.allocations.other;
  if (!data.empty()) {
    uint8_t b = data[0];
    if (b <= 3) bucket = &h.allocations.stun;
    else if (b >= 20 && b <= 63) bucket = &h.allocations.dtls;
    else if (rtp::is_rtcp(data)) bucket = &h.allocations.rtcp;
    else if (b >= 128 && b <= 191) bucket = &h.allocations.rtp;
  }
  if (h.measure_allocations && bucket == &h.allocations.rtp) ++h.allocations.rtp_calls;
  alloc::Counter counter(*bucket, h.measure_allocations);
  h.core.handle_datagram(now, from, data, h.sink_);
}

void Harness::CoreNode::handle_timeout(util::Timestamp now) {
  alloc::Counter counter(h.allocations.timeout, h.measure_allocations);
  ++h.timer_rounds;
  h.core.handle_timeout(now, h.sink_);
}

void Harness::CoreNode::flush(util::Timestamp now, util::DatagramSink&) {
  // As the media worker does: timers that are due ride on this round.
  if (h.core.poll_due() <= now) {
    alloc::Counter counter(h.allocations.timeout, h.measure_allocations);
    ++h.timer_rounds;
    h.core.handle_timeout(now, h.sink_);
  }
  {
    alloc::Counter counter(h.allocations.flush, h.measure_allocations);
    h.core.flush(now, h.sink_);
  }
  h.pump_signals();
}

}  // namespace sb::sfu::test
