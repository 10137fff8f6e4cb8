#include "load/VirtualPeer.hpp"

#include <algorithm>

#include "ice/Candidate.hpp"
#include "load/MediaFormat.hpp"
#include "rtp/ExtensionValues.hpp"
#include "rtp/ExtensionWriter.hpp"
#include "rtp/Keyframe.hpp"
#include "rtp/NtpTime.hpp"
#include "rtp/PacketView.hpp"
#include "rtp/PacketWriter.hpp"
#include "rtp/rtcp/Compound.hpp"
#include "rtp/rtcp/Fir.hpp"
#include "rtp/rtcp/Nack.hpp"
#include "rtp/rtcp/Pli.hpp"
#include "rtp/rtcp/ReceiverReport.hpp"
#include "rtp/rtcp/Sdes.hpp"
#include "rtp/rtcp/SenderReport.hpp"
#include "stun/Integrity.hpp"
#include "stun/Message.hpp"
#include "stun/MessageBuilder.hpp"

namespace sb::load {

namespace {
constexpr size_t kRtcpBuffer = 1200;
constexpr size_t kMaxNacksPerRound = 64;
constexpr uint32_t kVideoClock = 90000;
constexpr uint32_t kAudioClock = 48000;
/// A publisher more than this late on its frame clock skips ahead instead of bursting.
constexpr util::Duration kMaxLag = std::chrono::seconds(1);

uint32_t ticks(util::Duration d, uint32_t clock) {
  return uint32_t(std::chrono::duration_cast<std::chrono::microseconds>(d).count() * int64_t(clock) / 1'000'000);
}
}  // namespace

VirtualPeer::VirtualPeer(PeerConfig config, const util::SocketAddr& local,
                         std::shared_ptr<const dtls::Certificate> certificate, util::Random& rng, MediaStats& stats)
    : config_(std::move(config)), local_(local), certificate_(std::move(certificate)), rng_(rng),
      stats_(stats), local_credentials_(ice::Credentials::generate(rng)), sdp_([&] {
        LocalDescriptionParams p;
        p.ice_ufrag = local_credentials_.ufrag;
        p.ice_pwd = local_credentials_.pwd;
        p.fingerprint_sha256 = certificate_->fingerprint();
        p.publish = config_.publisher;
        p.publish_audio = config_.publisher && config_.audio;
        p.audio_ssrc = rng.u32() | 1;
        p.video_ssrc = rng.u32() | 1;
        p.rtx_ssrc = rng.u32() | 1;
        p.cname = rng.alnum(16);
        p.stream_id = config_.self_id;
        p.session_id = rng.u64() >> 2;
        bool bound_ip = false;
        for (size_t i = 0; i < local_.ip_size(); ++i) bound_ip |= local_.ip_bytes()[i] != 0;
        if (config_.advertise_host_candidate && bound_ip) p.host_candidate = local_;
        return p;
      }()),
      created_(util::Clock::now()), rtcp_ssrc_(rng.u32() | 1) {
  cname_ = sdp_.params().cname;
  video_seq_ = uint16_t(rng.u32());
  audio_seq_ = uint16_t(rng.u32());
  rtx_seq_ = uint16_t(rng.u32());
  picture_id_ = uint16_t(rng.u32() & 0x7FFF);
  video_ts_base_ = rng.u32();
  audio_ts_base_ = rng.u32();
}

VirtualPeer::~VirtualPeer() = default;

// ---------------------------------------------------------------------------
// Signaling

std::string VirtualPeer::create_offer() { return sdp_.create_offer(); }

void VirtualPeer::learn_remote(const RemoteInfo& info) {
  if (!transport_) return;
  for (const auto& [addr, prio] : info.candidates)
    if (pending_candidates_.size() < kMaxPendingCandidates) pending_candidates_.emplace_back(addr, prio);
  for (const auto& [addr, prio] : pending_candidates_) {
    bool family_ok = addr.family() == local_.family();
    if (family_ok && (!config_.loopback_only || addr.is_loopback())) transport_->add_remote_candidate(addr, prio);
  }
  pending_candidates_.clear();
}

void VirtualPeer::create_transport(util::Timestamp now, dtls::Role local_role) {
  ice::ClientAgentConfig ice;
  ice.local = local_credentials_;
  ice.remote = ice::Credentials{remote_.ice_ufrag, remote_.ice_pwd};
  ice.tie_breaker = rng_.u64();
  rtc::RemoteParameters params{remote_.ice_ufrag, remote_.ice_pwd, remote_.fingerprint, local_role};
  transport_ = rtc::Transport::make_client(std::move(ice), rng_, certificate_, std::move(params), config_.dtls);
  deadline_ = now;  // the first checks go out at once
}

util::Result<void> VirtualPeer::on_answer(util::Timestamp now, const std::string& text) {
  if (transport_) return util::make_error("a second answer");
  auto parsed = ClientSdp::parse(text);
  if (!parsed) return util::make_error("answer: " + parsed.error());
  auto info = ClientSdp::read_remote(*parsed);
  if (!info) return util::make_error("answer: " + info.error());
  remote_ = std::move(info.value());
  // We offered actpass (RFC 8842 §5.3): an active answerer is the DTLS client.
  create_transport(now, remote_.setup == sdp::SetupRole::Active ? dtls::Role::kServer : dtls::Role::kClient);
  learn_remote(remote_);
  return {};
}

util::Result<std::string> VirtualPeer::on_offer(util::Timestamp now, const std::string& text) {
  auto parsed = ClientSdp::parse(text);
  if (!parsed) return util::make_error("server offer: " + parsed.error());
  auto info = ClientSdp::read_remote(*parsed);
  if (!info) return util::make_error("server offer: " + info.error());
  // The server offered first (no transport yet): we answer passive and so are the
  // DTLS server. The server (Janus) then sends its ClientHello once its own
  // triggered check has succeeded; a ClientHello of ours could arrive before that
  // and be dropped, costing a whole DTLS retransmission timeout (1 s).
  const bool first = !transport_;
  auto answer = sdp_.create_answer(*parsed, first ? sdp::SetupRole::Passive : sdp::SetupRole::Active);
  if (!answer) return util::make_error("server offer: " + answer.error());
  remote_recv_ = std::move(info.value());
  if (first) {
    remote_ = remote_recv_;
    create_transport(now, dtls::Role::kServer);
  }
  learn_remote(remote_recv_);
  return answer;
}

void VirtualPeer::on_candidate(const std::string& candidate) {
  if (candidate.empty()) return;  // end of candidates
  auto c = ice::parse_candidate(candidate);
  if (!c || !c->is_udp() || !c->addr || pending_candidates_.size() >= kMaxPendingCandidates) return;
  pending_candidates_.emplace_back(*c->addr, c->priority);
  if (transport_) learn_remote(RemoteInfo{});
}

void VirtualPeer::fail(std::string reason) {
  if (failure_.empty()) failure_ = std::move(reason);
  deadline_ = util::kNever;
}

// ---------------------------------------------------------------------------
// Event loop hooks

void VirtualPeer::on_datagram(util::Timestamp now, const util::SocketAddr& from, util::MutableBytes data,
                              util::DatagramSink& out) {
  if (!transport_ || failed() || data.empty()) return;
  if (data[0] <= 3) answer_check(from, data, out);
  auto rx = transport_->handle_datagram(now, from, data);
  // Decrypted media changes no transport state (no event, nothing to send), so
  // the receive path skips the bookkeeping below: on_rtp() brings the deadline
  // forward itself when a receive timer starts.
  if (rx.kind == rtc::Transport::Received::Kind::kRtp) {
    on_rtp(now, rx.packet);
    return;
  }
  if (rx.kind == rtc::Transport::Received::Kind::kRtcp) on_rtcp(now, rx.packet, out);
  if (failed()) return;
  drain_events(now);
  transport_->flush(out);
  update_deadline();
}

void VirtualPeer::answer_check(const util::SocketAddr& from, util::ByteView data, util::DatagramSink& out) {
  // A full agent answers the peer's checks (RFC 8445 §7.3): Switchboard, an
  // ICE-lite server, sends none, but Janus (libnice) sends triggered checks and
  // only takes our nomination once one of them succeeds.
  auto msg = stun::Message::parse(data);
  if (!msg || !msg->is(stun::MessageClass::kRequest, stun::Method::kBinding)) return;
  auto user = msg->username();
  const std::string& ufrag = local_credentials_.ufrag;
  // USERNAME is "<our ufrag>:<theirs>" (RFC 8445 §7.2.2) and the request is signed with our password.
  if (!user || user->size() <= ufrag.size() || !user->starts_with(ufrag) || (*user)[ufrag.size()] != ':') return;
  if (!stun::verify_message_integrity(*msg, local_credentials_.pwd)) return;
  auto slot = out.reserve();
  stun::MessageBuilder b(slot, stun::MessageClass::kSuccessResponse, stun::Method::kBinding, msg->transaction_id());
  b.add_xor_mapped_address(from).add_message_integrity(local_credentials_.pwd).add_fingerprint();
  if (auto len = b.finish()) out.commit(from, *len);
}

void VirtualPeer::on_timeout(util::Timestamp now, util::DatagramSink& out) {
  if (!transport_ || failed()) {
    deadline_ = util::kNever;
    return;
  }
  if (transport_->poll_timeout() <= now) {
    transport_->handle_timeout(now);
    drain_events(now);
  }
  if (transport_->connected() && !failed()) {
    if (media_started_ && !media_stopped_) {
      if (now - next_frame_ > kMaxLag) next_frame_ = now;
      util::Duration frame_interval = std::chrono::microseconds(1'000'000 / std::max(1, config_.fps));
      while (next_frame_ <= now) {
        const util::Timestamp t = util::Clock::now();
        stats_.frame_lateness_window_us.record(
            uint64_t(std::chrono::duration_cast<std::chrono::microseconds>(t - next_frame_).count()));
        send_video_frame(t, out);
        next_frame_ += frame_interval;
      }
      if (config_.audio) {
        if (now - next_audio_ > kMaxLag) next_audio_ = now;
        while (next_audio_ <= now) {
          send_audio_packet(util::Clock::now(), out);
          next_audio_ += kAudioPacketTime;
        }
      }
    }
    if (media_started_ && now >= next_sender_report_) {
      next_sender_report_ = now + kReportInterval;
      send_sender_reports(now, out);
    }
    send_receiver_feedback(now, out);
  }
  transport_->flush(out);
  update_deadline();
}

void VirtualPeer::drain_events(util::Timestamp now) {
  while (auto ev = transport_->poll_event()) {
    if (std::holds_alternative<rtc::TransportConnected>(*ev)) {
      connected_at_ = now;
      if (config_.publisher) start_media(now);
    } else if (auto* f = std::get_if<rtc::TransportFailed>(&*ev)) {
      fail("transport failed: " + f->reason);
    } else if (std::holds_alternative<rtc::TransportClosed>(*ev)) {
      fail("transport closed by the server");
    }
  }
}

void VirtualPeer::update_deadline() {
  if (!transport_ || failed()) {
    deadline_ = util::kNever;
    return;
  }
  util::Timestamp t = transport_->poll_timeout();
  if (transport_->connected()) {
    if (media_started_ && !media_stopped_) {
      t = util::earliest(t, next_frame_);
      if (config_.audio) t = util::earliest(t, next_audio_);
    }
    if (media_started_) t = util::earliest(t, next_sender_report_);
    t = util::earliest(t, next_receiver_report_);
    t = util::earliest(t, twcc_.poll_timeout());
    for (const auto& [ssrc, s] : streams_)
      if (s->video) t = util::earliest(t, s->nack.poll_timeout());
  }
  deadline_ = t;
}

void VirtualPeer::close(util::Timestamp now, util::DatagramSink& out) {
  if (!transport_) return;
  transport_->close(now);
  transport_->flush(out);
  deadline_ = util::kNever;
}

// ---------------------------------------------------------------------------
// Sending

void VirtualPeer::start_media(util::Timestamp now) {
  if (media_started_) return;
  media_started_ = true;
  media_start_ = now;
  // Independent cameras are not in step: each publisher's frame clock starts at
  // a random point of the frame interval. Starting all of them at connect time
  // put them in step with the ramp instead (participants 10 ms apart, frames
  // 33.3 ms apart: ten phases, a tenth of the publishers' frames at once).
  const auto interval = std::chrono::microseconds(1'000'000 / std::max(1, config_.fps));
  next_frame_ = now + std::chrono::microseconds(rng_.u64() % uint64_t(interval.count()));
  next_audio_ = now + std::chrono::microseconds(rng_.u64() % uint64_t(util::to_micros(kAudioPacketTime)));
  next_sender_report_ = now + kReportInterval;
  keyframe_requested_ = true;
  if (config_.keyframe_interval > util::Duration::zero()) next_keyframe_ = now + config_.keyframe_interval;
  history_.resize(kRtxHistory);
}

size_t VirtualPeer::write_header(util::MutableBytes slot, bool marker, uint8_t pt, uint16_t seq, uint32_t ts,
                                 uint32_t ssrc, util::Timestamp now) {
  uint8_t ext[32];
  rtp::ExtensionWriter w(ext, rtp::ExtensionProfile::kOneByte);
  if (remote_.mid_id != 0) w.add_string(remote_.mid_id, pt == kOpusPt ? kAudioMid : kVideoMid);
  if (remote_.abs_send_time_id != 0)
    w.add_abs_send_time(remote_.abs_send_time_id, rtp::abs_send_time_from(now.time_since_epoch()));
  if (remote_.transport_cc_id != 0) w.add_transport_sequence(remote_.transport_cc_id, transport_seq_++);
  size_t ext_size = w.finish();
  rtp::RtpHeader h{marker, rtp::PayloadType{pt}, seq, ts, rtp::Ssrc{ssrc}, {}};
  return rtp::write_packet(slot, h, {ext, ext_size}, {});
}

void VirtualPeer::send_video_frame(util::Timestamp now, util::DatagramSink& out) {
  bool key = keyframe_requested_ || now >= next_keyframe_;
  if (key) {
    keyframe_requested_ = false;
    if (config_.keyframe_interval > util::Duration::zero()) next_keyframe_ = now + config_.keyframe_interval;
    ++stats_.keyframes_sent;
  }
  size_t frame_bytes = config_.video_bitrate / 8 / uint32_t(std::max(1, config_.fps));
  if (key) frame_bytes *= kKeyframeSizeFactor;
  picture_id_ = uint16_t((picture_id_ + 1) & 0x7FFF);
  uint32_t ts = video_ts_base_ + uint32_t(frames_ * kVideoClock / uint64_t(std::max(1, config_.fps)));
  ++frames_;
  ++stats_.sent_video_frames;
  uint64_t send_time = send_time_us(now);
  constexpr size_t kMaxHeader = 12 + 32;
  FrameSplit split = split_frame(frame_bytes, kMaxRtpPacket - kMaxHeader);
  const uint32_t ssrc = sdp_.params().video_ssrc;
  for (size_t i = 0; i < split.packets; ++i) {
    bool last = i + 1 == split.packets;
    size_t payload_size = last ? split.last_payload_size : split.payload_size;
    auto slot = out.reserve();
    uint16_t seq = video_seq_++;
    size_t header = write_header(slot, last, kVp8Pt, seq, ts, ssrc, now);
    if (header == 0) continue;
    auto payload = slot.subspan(header);
    if (write_vp8_payload(payload, payload_size, {i == 0, key, picture_id_}, send_time) == 0) continue;
    SentPacket& h = history_[seq & (kRtxHistory - 1)];
    h.seq = seq;
    h.size = uint16_t(payload_size);
    h.timestamp = ts;
    h.marker = last;
    std::copy_n(payload.data(), payload_size, h.payload.data());
    if (transport_->send_rtp_in_place(out, slot, header + payload_size)) {
      ++stats_.sent_packets;
      stats_.sent_bytes += header + payload_size;
      ++video_packets_sent_;
      video_octets_sent_ += uint32_t(payload_size);
    } else {
      ++stats_.send_failures;
    }
  }
}

void VirtualPeer::send_audio_packet(util::Timestamp now, util::DatagramSink& out) {
  uint32_t ts = audio_ts_base_ + uint32_t(audio_packets_++ * (kAudioClock / 50));
  auto slot = out.reserve();
  size_t header = write_header(slot, false, kOpusPt, audio_seq_++, ts, sdp_.params().audio_ssrc, now);
  if (header == 0 || write_audio_payload(slot.subspan(header), kAudioPayloadSize, send_time_us(now)) == 0) return;
  if (transport_->send_rtp_in_place(out, slot, header + kAudioPayloadSize)) {
    ++stats_.sent_packets;
    stats_.sent_bytes += header + kAudioPayloadSize;
    ++audio_packets_sent_;
    audio_octets_sent_ += uint32_t(kAudioPayloadSize);
  } else {
    ++stats_.send_failures;
  }
}

void VirtualPeer::retransmit(util::Timestamp now, uint16_t seq, util::DatagramSink& out) {
  if (history_.empty()) return;
  const SentPacket& p = history_[seq & (kRtxHistory - 1)];
  if (p.size == 0 || p.seq != seq) return;  // too old: overwritten
  // RFC 4588 §4: the RTX payload is the original sequence number, then the original payload.
  auto slot = out.reserve();
  size_t header = write_header(slot, p.marker, kRtxPt, rtx_seq_++, p.timestamp, sdp_.params().rtx_ssrc, now);
  if (header == 0 || header + 2 + p.size > slot.size()) return;
  util::store_be16(&slot[header], seq);
  std::copy_n(p.payload.data(), p.size, &slot[header + 2]);
  if (transport_->send_rtp_in_place(out, slot, header + 2 + p.size)) ++stats_.retransmissions_sent;
}

void VirtualPeer::send_sender_reports(util::Timestamp now, util::DatagramSink& out) {
  namespace rtcp = rtp::rtcp;
  uint8_t buf[kRtcpBuffer];
  size_t n = 0;
  // RFC 3550 §6.4.1: NTP wall clock and the RTP time of the same instant.
  auto ntp = rtp::NtpTime::from_system_time(std::chrono::system_clock::now());
  util::Duration elapsed = now - media_start_;
  rtcp::SenderInfo video{ntp, video_ts_base_ + ticks(elapsed, kVideoClock), video_packets_sent_, video_octets_sent_};
  n += rtcp::SenderReport::write(buf, rtp::Ssrc{sdp_.params().video_ssrc}, video);
  std::array<rtcp::Sdes::Chunk, 2> chunks{rtcp::Sdes::Chunk{rtp::Ssrc{sdp_.params().video_ssrc}, cname_},
                                          rtcp::Sdes::Chunk{rtp::Ssrc{sdp_.params().audio_ssrc}, cname_}};
  size_t nchunks = 1;
  if (config_.audio) {
    rtcp::SenderInfo audio{ntp, audio_ts_base_ + ticks(elapsed, kAudioClock), audio_packets_sent_,
                           audio_octets_sent_};
    n += rtcp::SenderReport::write(util::MutableBytes(buf).subspan(n), rtp::Ssrc{sdp_.params().audio_ssrc}, audio);
    nchunks = 2;
  }
  n += rtcp::Sdes::write(util::MutableBytes(buf).subspan(n), {chunks.data(), nchunks});
  send_rtcp(out, {buf, n});
}

bool VirtualPeer::send_rtcp(util::DatagramSink& out, util::ByteView rtcp) {
  if (rtcp.empty() || !transport_->send_rtcp(out, rtcp)) return false;
  ++stats_.rtcp_sent;
  return true;
}

// ---------------------------------------------------------------------------
// Receiving

VirtualPeer::ReceiveStream* VirtualPeer::stream_for(uint32_t ssrc, bool video) {
  if (last_stream_ != nullptr && last_stream_->ssrc == ssrc) return last_stream_;
  auto it = streams_.find(ssrc);
  if (it != streams_.end()) return last_stream_ = it->second.get();
  if (streams_.size() >= kMaxReceiveStreams) return nullptr;
  auto s = std::make_unique<ReceiveStream>(ssrc, video, video ? kVideoClock : kAudioClock);
  auto* raw = s.get();
  streams_.emplace(ssrc, std::move(s));
  if (next_receiver_report_ == util::kNever) {
    next_receiver_report_ = util::Clock::now() + config_.receiver_report_interval;
    deadline_ = util::earliest(deadline_, next_receiver_report_);
  }
  return last_stream_ = raw;
}

void VirtualPeer::on_rtp(util::Timestamp now, util::ByteView data) {
  auto packet = rtp::PacketView::parse(data);
  if (!packet) return;
  uint8_t pt = uint8_t(packet->payload_type());
  PayloadKind kind = remote_recv_.payload_kinds[pt];
  if (config_.twcc_feedback && remote_recv_.transport_cc_id != 0)
    if (auto v = packet->extensions().find(remote_recv_.transport_cc_id))
      if (auto seq = rtp::read_transport_sequence(*v)) {
        twcc_.on_packet(now, *seq);
        deadline_ = util::earliest(deadline_, twcc_.poll_timeout());  // the first arrival starts the clock
      }
  uint32_t ssrc = uint32_t(packet->ssrc());
  if (kind == PayloadKind::kVideoRtx) {
    auto payload = packet->payload();
    if (payload.size() <= 2) return;  // padding
    ++stats_.rtx_received;
    for (auto [rtx, primary] : remote_recv_.rtx_ssrcs)
      if (rtx == ssrc) {
        if (auto it = streams_.find(primary); it != streams_.end()) {
          uint16_t osn = util::load_be16(payload.data());
          it->second->nack.on_packet(now, osn);
          it->second->stats.on_packet(osn, packet->timestamp(), now);
        }
        break;
      }
    return;
  }
  if (kind != PayloadKind::kAudio && kind != PayloadKind::kVideo) {
    ++stats_.unknown_payload;
    return;
  }
  bool video = kind == PayloadKind::kVideo;
  ReceiveStream* s = stream_for(ssrc, video);
  if (s == nullptr) return;
  s->stats.on_packet(*packet, now);
  if (video) {
    // A gap marks sequence numbers missing, due for a NACK at once (poll_timeout()
    // would look at every missing entry: too much for every packet).
    const size_t missing = s->nack.missing_count();
    s->nack.on_packet(now, packet->sequence());
    if (s->nack.missing_count() > missing || s->nack.missing_count() == rtp::NackGenerator::kMaxMissing)
      deadline_ = util::earliest(deadline_, now);
  }
  ++stats_.received_packets;
  stats_.received_bytes += data.size();
  if (!first_media_) first_media_ = now;
  // The generator's publishers send VP8 (MediaFormat.hpp).
  if (video && !first_keyframe_ && rtp::is_keyframe(rtp::VideoCodec::kVp8, packet->payload())) first_keyframe_ = now;
  auto sent = video ? read_vp8_send_time(packet->payload()) : read_audio_send_time(packet->payload());
  uint64_t now_us = send_time_us(now);
  // Delay through the server is measured on what was sent while this
  // subscriber could receive: a packet sent before it connected reaches it
  // only as Switchboard's replay of a recent keyframe (a join), old by design.
  if (sent && *sent <= now_us && connected_at_ && *sent >= send_time_us(*connected_at_)) {
    stats_.delay_us.record(now_us - *sent);
    stats_.delay_interval_us.record(now_us - *sent);
    stats_.delay_window_us.record(now_us - *sent);
  }
}

void VirtualPeer::on_rtcp(util::Timestamp now, util::ByteView data, util::DatagramSink& out) {
  namespace rtcp = rtp::rtcp;
  ++stats_.rtcp_received;
  const uint32_t video_ssrc = sdp_.params().video_ssrc;
  rtcp::for_each(data, [&](const rtcp::PacketView& pv) {
    if (pv.is(rtcp::PacketType::kRtpfb, rtcp::kFmtNack)) {
      if (auto nack = rtcp::Nack::parse(pv); nack && uint32_t(nack->media_ssrc()) == video_ssrc)
        nack->for_each_lost([&](uint16_t seq) {
          ++stats_.nacks_received;
          retransmit(now, seq, out);
        });
    } else if (pv.is(rtcp::PacketType::kPsfb, rtcp::kFmtPli)) {
      if (auto pli = rtcp::Pli::parse(pv); pli && uint32_t(pli->media_ssrc()) == video_ssrc) {
        ++stats_.keyframe_requests_received;
        keyframe_requested_ = true;
      }
    } else if (pv.is(rtcp::PacketType::kPsfb, rtcp::kFmtFir)) {
      if (auto fir = rtcp::Fir::parse(pv))
        for (auto e : fir->entries())
          if (uint32_t(e.ssrc) == video_ssrc) {
            ++stats_.keyframe_requests_received;
            keyframe_requested_ = true;
          }
    } else if (pv.type() == rtcp::PacketType::kSr) {
      if (auto sr = rtcp::SenderReport::parse(pv))
        if (auto it = streams_.find(uint32_t(sr->sender_ssrc())); it != streams_.end())
          it->second->stats.on_sender_report(sr->sender_info().ntp, now);
    }
  });
}

void VirtualPeer::send_receiver_feedback(util::Timestamp now, util::DatagramSink& out) {
  namespace rtcp = rtp::rtcp;
  uint8_t buf[kRtcpBuffer];
  uint32_t media = streams_.empty() ? 0 : streams_.begin()->first;
  // Transport-wide feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1).
  while (twcc_.poll_timeout() <= now) {
    size_t n = twcc_.poll_feedback(now, rtcp_ssrc_, media, buf);
    if (n == 0) break;
    send_rtcp(out, {buf, n});
  }
  // Generic NACKs for video losses (RFC 4585 §6.2.1).
  for (auto& [ssrc, s] : streams_) {
    // poll_nacks() finds nothing when nothing is due: asking poll_timeout() first
    // would only walk the missing entries twice.
    if (!s->video || s->nack.missing_count() == 0) continue;
    uint16_t seqs[kMaxNacksPerRound];
    size_t count = s->nack.poll_nacks(now, seqs);
    if (count == 0) continue;
    size_t n = rtcp::Nack::write(buf, rtp::Ssrc{rtcp_ssrc_}, rtp::Ssrc{ssrc}, {seqs, count});
    if (send_rtcp(out, {buf, n})) stats_.nacks_sent += count;
  }
  // Receiver reports (RFC 3550 §6.4.2), at most 31 blocks per RR.
  if (now >= next_receiver_report_ && !streams_.empty()) {
    next_receiver_report_ = now + config_.receiver_report_interval;
    std::array<rtcp::ReportBlock, rtcp::kMaxReportBlocks> blocks;
    size_t count = 0;
    auto flush = [&] {
      size_t n = rtcp::ReceiverReport::write(buf, rtp::Ssrc{rtcp_ssrc_}, {blocks.data(), count});
      rtcp::Sdes::Chunk chunk{rtp::Ssrc{rtcp_ssrc_}, cname_};
      if (n > 0) n += rtcp::Sdes::write(util::MutableBytes(buf).subspan(n), {&chunk, 1});
      send_rtcp(out, {buf, n});
      count = 0;
    };
    for (auto& [ssrc, s] : streams_) {
      if (!s->stats.started()) continue;
      blocks[count++] = s->stats.report_block(now);
      if (count == blocks.size()) flush();
    }
    if (count > 0) flush();
  }
}

// ---------------------------------------------------------------------------
// Observation

std::optional<util::Duration> VirtualPeer::join_time() const {
  if (!join_sent_ || !first_media_) return std::nullopt;
  return *first_media_ - *join_sent_;
}

std::optional<util::Duration> VirtualPeer::keyframe_time() const {
  if (!join_sent_ || !first_keyframe_) return std::nullopt;
  return *first_keyframe_ - *join_sent_;
}

std::optional<util::Duration> VirtualPeer::connect_time() const {
  if (!join_sent_ || !connected_at_) return std::nullopt;
  return *connected_at_ - *join_sent_;
}

const char* VirtualPeer::srtp_profile() const {
  if (!transport_ || transport_->srtp() == nullptr) return "";
  return transport_->srtp()->profile() == srtp::Profile::AeadAes128Gcm ? "gcm" : "cm";
}

int64_t VirtualPeer::packets_expected() const {
  int64_t n = 0;
  for (const auto& [ssrc, s] : streams_) n += s->stats.packets_expected();
  return n;
}

int64_t VirtualPeer::packets_received() const {
  int64_t n = 0;
  for (const auto& [ssrc, s] : streams_) n += int64_t(s->stats.packets_received());
  return n;
}

}  // namespace sb::load
