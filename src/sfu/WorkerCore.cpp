#include "sfu/WorkerCore.hpp"

#include <algorithm>
#include <array>

#include "ice/Candidate.hpp"
#include "ice/Credentials.hpp"
#include "rtc/Capabilities.hpp"
#include "rtp/ExtensionValues.hpp"
#include "rtp/PacketWriter.hpp"
#include "rtp/rtcp/Compound.hpp"
#include "rtp/rtcp/Fir.hpp"
#include "rtp/rtcp/Nack.hpp"
#include "rtp/rtcp/Pli.hpp"
#include "rtp/rtcp/ReceiverReport.hpp"
#include "rtp/rtcp/Remb.hpp"
#include "rtp/rtcp/Sdes.hpp"
#include "rtp/rtcp/SenderReport.hpp"
#include "stun/Message.hpp"
#include "util/Log.hpp"

namespace sb::sfu {

namespace {
const auto& log() {
  static auto l = util::logger("sfu");
  return l;
}
/// Source addresses remembered per worker; a bound on what ICE checks can make us keep.
constexpr size_t kMaxRoutes = 1 << 20;
/// RTCP reports (SR to subscribers, RR to publishers) and keyframe retries.
constexpr util::Duration kReportInterval = std::chrono::milliseconds(500);
/// NACKed sequence numbers gathered per timer round.
constexpr size_t kMaxNacksPerRound = 64;
/// Sequence numbers a subscriber's RTCP datagram may ask again (a browser asks
/// for a few dozen at most; a full 1200-byte NACK packet lists up to ~4,700).
constexpr size_t kMaxNackedPerDatagram = 256;
constexpr size_t kRtcpBuffer = 1200;
/// Timers are coalesced to this grid: a worker wakes at most 200 times a second
/// for housekeeping, however many participants it hosts.
constexpr util::Duration kTimerGranularity = std::chrono::milliseconds(5);
/// How late flexible timers may run, so that they usually ride on a wakeup for
/// media instead of causing one (a 30 fps publisher wakes the worker every
/// 33 ms). Transport-wide feedback 25–75 ms apart on its 50 ms grid, up to
/// 20 ms late, still suits the sender's estimator; RTCP report timing is
/// randomised by RFC 3550 §6.2 anyway.
/// NACKs and transport timers (DTLS, consent) get no slack.
constexpr util::Duration kFeedbackSlack = std::chrono::milliseconds(20);
constexpr util::Duration kReportSlack = std::chrono::milliseconds(100);
/// `t` rounded up to the timer grid.
util::Timestamp up_to_grid(util::Timestamp t) {
  if (t == util::kNever) return util::kNever;
  const auto rem = t.time_since_epoch() % kTimerGranularity;
  return rem == util::Duration::zero() ? t : t + (kTimerGranularity - rem);
}
/// The first time after `now` that is `phase` into a report interval.
util::Timestamp next_report_slot(util::Timestamp now, util::Duration phase) {
  util::Timestamp start = now - now.time_since_epoch() % kReportInterval;
  util::Timestamp t = start + phase;
  return t > now ? t : t + kReportInterval;
}
/// Media packets of one receive batch held for the fan-out at its end (a
/// worker's batch is 64 datagrams; past this, packets are forwarded at once).
constexpr size_t kMaxPendingMedia = 256;
}  // namespace

WorkerCore::WorkerCore(WorkerConfig config, std::unique_ptr<util::Random> rng)
    : config_(std::move(config)), rng_(std::move(rng)) {
  pending_media_.reserve(kMaxPendingMedia);
  uint16_t pref = 65535;
  int foundation = 1;
  for (auto addr : config_.announce) {
    addr.set_port(config_.udp_port);
    auto prio = ice::candidate_priority(ice::CandidateType::kHost, pref--);
    candidates_.push_back(ice::format_host_candidate(std::to_string(foundation++), prio, addr));
    if (default_address_.empty()) default_address_ = addr;
  }
}

WorkerCore::~WorkerCore() = default;

Participant* WorkerCore::find(ConnId conn) {
  auto it = by_conn_.find(conn);
  return it == by_conn_.end() ? nullptr : it->second.participant;
}

WorkerCore::Room* WorkerCore::room_of(ConnId conn) {
  auto it = by_conn_.find(conn);
  return it == by_conn_.end() ? nullptr : it->second.room;
}

void WorkerCore::emit(ConnId conn, decltype(SignalOut::message) m) { signals_.push_back({conn, std::move(m)}); }

void WorkerCore::emit_error(ConnId conn, std::string code, std::string message, std::string event) {
  emit(conn, ErrorOut{std::move(code), std::move(message), std::move(event)});
}

std::optional<SignalOut> WorkerCore::poll_signal() {
  if (signals_.empty()) return std::nullopt;
  auto s = std::move(signals_.front());
  signals_.pop_front();
  return s;
}

// ---------------------------------------------------------------------------
// Signaling commands

void WorkerCore::join(util::Timestamp now, ConnId conn, const std::string& room_id, const std::string& self_id) {
  if (by_conn_.contains(conn)) return;
  auto creds = ice::Credentials::generate(*rng_);
  while (by_ufrag_.contains(creds.ufrag)) creds = ice::Credentials::generate(*rng_);
  auto transport = rtc::Transport::make_server(creds, config_.certificate);
  rtc::LocalTransportInfo info{creds.ufrag, creds.pwd, config_.certificate->fingerprint(), candidates_,
                               default_address_};
  auto negotiator = std::make_unique<rtc::Negotiator>(std::move(info), *rng_);
  auto& room = rooms_[room_id];
  if (!room) {
    room = std::make_unique<Room>();
    room->id = room_id;
  }
  auto p = std::make_unique<Participant>(conn, self_id, std::move(transport), std::move(negotiator),
                                         rng_->u32() | 1, rng_->alnum(16));
  // Each participant reports in one of the interval's 5 ms timer slots, drawn
  // at random: a timer round serves the participants of its slot, and a
  // worker with a thousand participants builds and encrypts a few reports per
  // round instead of a thousand in one round every 500 ms, which held media
  // up for several ms each time. Spreading them also keeps the reports of
  // many participants from being synchronised (RFC 3550 §6.2).
  constexpr auto slots = uint32_t(kReportInterval / kTimerGranularity);
  p->report_phase = kTimerGranularity * (rng_->u32() % slots);
  p->next_report = next_report_slot(now, p->report_phase);
  Participant* raw = p.get();
  room->participants.emplace(conn, std::move(p));
  by_conn_[conn] = {room.get(), raw};
  raw->timer_slot = timers_.size();
  timers_.push_back({util::kNever, util::kNever, raw});
  by_ufrag_[creds.ufrag] = raw;
  touch(*raw);
  log()->debug("conn {}: \"{}\" joined room \"{}\" on this worker (ufrag {})", conn, self_id, room_id, creds.ufrag);
}

void WorkerCore::offer(util::Timestamp, ConnId conn, const std::string& sdp) {
  Participant* p = find(conn);
  if (p == nullptr || p->closing) return;
  bool first = !p->negotiated;
  // In glare the negotiator rolls our pending offer back first: the server is
  // the polite side (RFC 8829 §4.1.8.2); our changes go out in the next offer.
  auto answer = p->negotiator().handle_offer(sdp);
  if (!answer) {
    log()->info("conn {}: offer rejected: {}", conn, answer.error());
    emit_error(conn, "bad-sdp", answer.error(), "offer");
    return;
  }
  if (auto r = p->transport().set_remote_parameters(*p->negotiator().remote_parameters()); !r) {
    emit_error(conn, "negotiation-failed", r.error(), "offer");
    return;
  }
  emit(conn, AnswerOut{std::move(answer.value())});
  p->negotiated = true;
  if (first) {
    // Trickle our candidates too, as the seed's clients expect (they are also in
    // the SDP). They belong to the BUNDLE transport: the first accepted m-section.
    std::string mid;
    int index = 0;
    const auto& lines = p->negotiator().lines();
    for (size_t i = 0; i < lines.size(); ++i)
      if (!lines[i].rejected) {
        mid = lines[i].mid;
        index = int(i);
        break;
      }
    for (const auto& c : candidates_) emit(conn, CandidateOut{c, mid, index, p->transport().local_ufrag()});
  }
  // Header extension ids are shared by all m-sections in a BUNDLE (RFC 8843 §9.2).
  p->mid_ext_id = p->twcc_ext_id = 0;
  for (const auto& l : p->negotiator().lines()) {
    if (l.rejected) continue;
    if (auto id = l.extmap_id(rtc::ext::kMid); id && *id < 256 && !p->mid_ext_id) p->mid_ext_id = uint8_t(*id);
    if (auto id = l.extmap_id(rtc::ext::kTransportCc); id && *id < 256 && !p->twcc_ext_id)
      p->twcc_ext_id = uint8_t(*id);
  }
  Room* room = room_of(conn);
  sync_published_tracks(*p);
  if (first) {
    // A late joiner receives everything already published.
    for (auto& [other_conn, other] : room->participants)
      if (other.get() != p && !other->closing)
        for (auto& t : other->tracks) subscribe(*p, *t);
  }
  refresh_subscriptions(*p);
  maybe_offer_all(*room);
  touch(*p);
}

void WorkerCore::answer(util::Timestamp, ConnId conn, const std::string& sdp) {
  Participant* p = find(conn);
  if (p == nullptr || p->closing) return;
  if (p->negotiator().signaling_state() != rtc::SignalingState::kHaveLocalOffer) {
    emit_error(conn, "negotiation-failed", "there is no offer from the server to answer", "answer");
    return;
  }
  if (auto r = p->negotiator().handle_answer(sdp); !r) {
    log()->info("conn {}: answer rejected: {}", conn, r.error());
    emit_error(conn, "bad-sdp", r.error(), "answer");
  }
  refresh_subscriptions(*p);
  maybe_offer(*p);
}

void WorkerCore::candidate(util::Timestamp, ConnId conn, const std::string& candidate) {
  if (find(conn) == nullptr || candidate.empty()) return;  // empty: end-of-candidates
  // An ICE-lite agent learns addresses from the checks themselves (RFC 8445
  // §2.5); remote candidates are validated for the client's benefit and ignored.
  if (auto c = ice::parse_candidate(candidate); !c)
    emit_error(conn, "bad-candidate", "candidate is malformed: " + c.error(), "ice-candidate");
}

void WorkerCore::leave(util::Timestamp now, ConnId conn) {
  Participant* p = find(conn);
  if (p == nullptr || p->closing) return;
  p->transport().close(now);  // close_notify tells the browser at once
  p->closing = true;
  dead_.push_back(conn);
  touch(*p);
}

void WorkerCore::remove(ConnId conn) {
  auto it = by_conn_.find(conn);
  if (it == by_conn_.end()) return;
  Room* room = it->second.room;
  Participant* p = it->second.participant;
  // Everyone stops receiving this participant's tracks (their m-sections go inactive).
  while (!p->tracks.empty()) unpublish(*p, *p->tracks.back());
  for (auto& sub : p->subscriptions) std::erase(sub->track().subscriptions(), sub.get());
  p->subscriptions.clear();
  by_ufrag_.erase(p->transport().local_ufrag());
  by_addr_.erase_value(p);
  by_conn_.erase(it);
  // Swap-remove from the timer table.
  TimerSlot& slot = timers_[p->timer_slot];
  slot = timers_.back();
  slot.participant->timer_slot = p->timer_slot;
  timers_.pop_back();
  room->participants.erase(conn);
  if (room->participants.empty()) {
    std::string id = room->id;  // the key must outlive the node it names
    rooms_.erase(id);
  } else {
    maybe_offer_all(*room);
  }
}

// ---------------------------------------------------------------------------
// Publishing and subscribing

void WorkerCore::sync_published_tracks(Participant& p) {
  Room* room = room_of(p.conn());
  const auto& lines = p.negotiator().lines();
  // Tracks whose m-section stopped sending are withdrawn from everyone.
  for (size_t i = p.tracks.size(); i-- > 0;) {
    Track& t = *p.tracks[i];
    const auto* line = p.negotiator().find_line(t.mid());
    if (line == nullptr || line->rejected || !line->remote_sends) unpublish(p, t);
  }
  for (const auto& line : lines) {
    if (line.rejected || !line.remote_sends || line.origin != rtc::LineOrigin::kRemote) continue;
    if (line.kind != sdp::MediaKind::Audio && line.kind != sdp::MediaKind::Video) continue;
    if (p.find_track(line.mid) || p.tracks.size() >= kMaxTracksPerParticipant) continue;
    std::string id = line.remote_msid && !line.remote_msid->track_id.empty()
                         ? line.remote_msid->track_id
                         : p.self_id() + "-" + line.mid;
    auto track = std::make_unique<Track>(p, line, std::move(id));
    Track* t = track.get();
    p.tracks.push_back(std::move(track));
    for (uint32_t s : line.remote_ssrcs)
      if (p.ssrc_routes.size() < kMaxSsrcsPerParticipant) p.ssrc_routes[s] = {t, false};
    for (auto [primary, rtx] : line.remote_rtx)
      if (p.ssrc_routes.size() < kMaxSsrcsPerParticipant) p.ssrc_routes[rtx] = {t, true};
    log()->info("\"{}\" publishes {} track {} (mid {})", p.self_id(), line.media, t->id(), t->mid());
    for (auto& [conn, other] : room->participants)
      if (other.get() != &p && other->negotiated && !other->closing) subscribe(*other, *t);
  }
}

void WorkerCore::subscribe(Participant& subscriber, Track& track) {
  for (auto* s : track.subscriptions())
    if (&s->subscriber() == &subscriber) return;
  rtc::SendTrackSpec spec;
  spec.kind = track.kind();
  spec.codecs = track.codecs();
  spec.rtx = track.is_video();
  // No transport-wide sequence numbers towards subscribers: a receiver that
  // gets them sends transport-wide feedback every 50-100 ms
  // (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1), which only a
  // sender-side estimator would use, and the server has none. That feedback
  // was most of what subscribers sent and cost every viewer upstream
  // bandwidth and the worker a wakeup and an SRTCP decryption each. With
  // abs-send-time and goog-remb the receiver estimates its downlink itself
  // and reports it about once a second (draft-alvestrand-rmcat-remb-03).
  spec.extensions = {std::string(rtc::ext::kMid), std::string(rtc::ext::kAbsSendTime)};
  if (track.kind() == sdp::MediaKind::Audio) spec.extensions.emplace_back(rtc::ext::kAudioLevel);
  else spec.extensions.emplace_back(rtc::ext::kVideoOrientation);
  spec.stream_id = rtc::to_msid_token(track.publisher().self_id());
  spec.track_id = rtc::to_msid_token(track.id());
  spec.cname = track.publisher().cname();
  spec.ssrc = rng_->u32() | 1;
  spec.rtx_ssrc = spec.rtx ? (rng_->u32() | 1) : 0;
  auto mid = subscriber.negotiator().add_send_track(spec);
  if (!mid) {
    log()->warn("cannot forward {} to \"{}\": {}", track.id(), subscriber.self_id(), mid.error());
    return;
  }
  auto sub = std::make_unique<Subscription>(track, subscriber, std::move(mid.value()), spec.ssrc, spec.rtx_ssrc);
  track.subscriptions().push_back(sub.get());
  subscriber.subscriptions.push_back(std::move(sub));
}

void WorkerCore::unpublish(Participant& publisher, Track& track) {
  for (Subscription* s : track.subscriptions()) {
    Participant& sub = s->subscriber();
    sub.negotiator().remove_send_track(s->mid());
    std::erase_if(sub.subscriptions, [s](const auto& owned) { return owned.get() == s; });
  }
  track.subscriptions().clear();
  for (auto& pending : pending_media_)
    if (pending.track == &track) pending.track = nullptr;
  std::erase_if(publisher.ssrc_routes, [&track](const auto& kv) { return kv.second.track == &track; });
  log()->info("\"{}\" stopped publishing track {}", publisher.self_id(), track.id());
  std::erase_if(publisher.tracks, [&track](const auto& owned) { return owned.get() == &track; });
}

void WorkerCore::refresh_subscriptions(Participant& subscriber) {
  for (const auto& moved : subscriber.negotiator().take_moved_tracks())
    for (auto& s : subscriber.subscriptions)
      if (s->mid() == moved.old_mid && s->track().id() == moved.track_id) s->set_mid(moved.new_mid);
  for (size_t i = subscriber.subscriptions.size(); i-- > 0;) {
    Subscription& s = *subscriber.subscriptions[i];
    const auto* line = subscriber.negotiator().find_line(s.mid());
    if (line == nullptr) continue;  // not offered yet
    if (line->send && line->send->ssrc == s.ssrc() && line->sending()) {
      if (!s.active()) {
        if (s.configure(*line)) {
          s.request_keyframe();
          // Usually the transport is up already (the tracks come by a
          // renegotiation after the first answer): the video's start is
          // sought at the next flush, not with the publisher's next packet.
          if (std::find(starting_.begin(), starting_.end(), subscriber.conn()) == starting_.end())
            starting_.push_back(subscriber.conn());
          log()->debug("\"{}\" receives {} on mid {}", subscriber.self_id(), s.track().id(), s.mid());
        } else {
          log()->info("\"{}\" accepted no codec of {}", subscriber.self_id(), s.track().id());
        }
      }
    } else if (line->rejected || (line->send && line->send->ssrc == s.ssrc() && !line->rejection.empty())) {
      // The subscriber refused this track (port 0, no common codec): forget it.
      log()->info("\"{}\" refused {}: {}", subscriber.self_id(), s.track().id(), line->rejection);
      std::erase(s.track().subscriptions(), &s);
      subscriber.subscriptions.erase(subscriber.subscriptions.begin() + long(i));
    }
  }
}

void WorkerCore::maybe_offer(Participant& p) {
  if (p.closing || !p.negotiated) return;
  auto& n = p.negotiator();
  // One server offer at a time; changes made meanwhile go out together in the
  // next one, so the latest state wins.
  if (n.signaling_state() != rtc::SignalingState::kStable || !n.needs_offer()) return;
  auto offer = n.create_offer();
  if (!offer) {
    log()->warn("conn {}: cannot create an offer: {}", p.conn(), offer.error());
    return;
  }
  refresh_subscriptions(p);
  ++p.stats().offers_sent;
  emit(p.conn(), OfferOut{std::move(offer.value())});
}

void WorkerCore::maybe_offer_all(Room& room) {
  for (auto& [conn, p] : room.participants) maybe_offer(*p);
}

// ---------------------------------------------------------------------------
// Packet path

void WorkerCore::learn_address(Participant& p, const util::SocketAddr& from) {
  // An address now validated by another participant moves to it.
  by_addr_.assign(from, &p, kMaxRoutes);
}

void WorkerCore::handle_datagram(util::Timestamp now, const util::SocketAddr& from, util::MutableBytes data,
                                 util::DatagramSink& out) {
  ++stats_.datagrams;
  if (data.empty()) return;
  if (data[0] <= 3) {  // STUN (RFC 7983 §7)
    auto msg = stun::Message::parse(data);
    auto username = msg ? msg->username() : std::nullopt;
    if (!username) {
      ++stats_.dropped_malformed_stun;
      return;
    }
    auto colon = username->find(':');
    auto it = by_ufrag_.find(std::string(username->substr(0, colon)));
    if (it == by_ufrag_.end()) {
      ++stats_.dropped_unknown_ufrag;
      return;
    }
    Participant& p = *it->second;
    p.transport().handle_datagram(now, from, data);
    if (const auto* lite = p.transport().lite_agent(); lite && lite->is_validated(from)) learn_address(p, from);
    drain_events(now, p, out);
    touch(p);
    return;
  }
  Participant* sender = by_addr_.find(from);
  if (sender == nullptr) {
    ++stats_.dropped_unknown_source;
    return;
  }
  Participant& p = *sender;
  auto rx = p.transport().handle_datagram(now, from, data);
  if (rx.kind == rtc::Transport::Received::Kind::kRtp) {
    on_rtp(now, p, rx.packet, out);
    // Media only moves the participant's timers earlier when it starts a NACK
    // or feedback cycle; checking those two is cheaper than a full refresh.
    if (p.twcc && p.twcc->poll_timeout() < p.due) touch(p);
    return;
  }
  if (rx.kind == rtc::Transport::Received::Kind::kRtcp) on_rtcp(now, p, rx.packet, out);
  drain_events(now, p, out);
  touch(p);
}

std::unique_ptr<rtp::TwccRecorder> WorkerCore::make_twcc_recorder() {
  // First feedback 25–50 ms after the first packet: publishers whose first
  // packets came in one batch (joins handled together) still report on grids
  // of their own, not in one timer round.
  constexpr auto half = std::chrono::duration_cast<std::chrono::microseconds>(rtp::TwccRecorder::kInterval / 2);
  const auto delay = half + std::chrono::microseconds(rng_->u32() % uint32_t(half.count()));
  return std::make_unique<rtp::TwccRecorder>(std::chrono::duration_cast<util::Duration>(delay));
}

Participant::SsrcRoute* WorkerCore::resolve_ssrc(Participant& p, const rtp::PacketView& packet) {
  uint32_t ssrc = uint32_t(packet.ssrc());
  uint8_t pt = uint8_t(packet.payload_type());
  Track* track = nullptr;
  // 1. The mid header extension names the m-section (RFC 8843 §15.2).
  if (p.mid_ext_id != 0)
    if (auto v = packet.extensions().find(p.mid_ext_id))
      if (auto mid = rtp::read_string_value(*v)) track = p.find_track(*mid);
  // 2. SSRCs signalled in the SDP (a=ssrc, a=ssrc-group:FID).
  if (track == nullptr)
    if (const auto* line = p.negotiator().line_for_remote_ssrc(ssrc)) track = p.find_track(line->mid);
  // 3. A payload type only one published m-section uses.
  if (track == nullptr) {
    for (auto& t : p.tracks)
      if (t->codec(pt) || t->apt_of(pt)) {
        if (track != nullptr) return nullptr;  // ambiguous
        track = t.get();
      }
  }
  if (track == nullptr || p.ssrc_routes.size() >= kMaxSsrcsPerParticipant) return nullptr;
  bool rtx = track->apt_of(pt).has_value();
  auto& route = p.ssrc_routes[ssrc];
  route = {track, rtx};
  if (rtx) track->bind_rtx_ssrc(ssrc);
  else if (track->ssrc() == 0 || !track->stats()) track->bind_ssrc(ssrc, track->clock_rate());
  return &route;
}

void WorkerCore::on_rtp(util::Timestamp now, Participant& p, util::MutableBytes data, util::DatagramSink& out) {
  auto packet = rtp::PacketView::parse(data);
  if (!packet) {
    ++stats_.dropped_malformed_rtp;
    return;
  }
  ++p.stats().rtp_packets;
  // Transport-wide feedback covers every packet the publisher sent, padding and
  // retransmissions included, or its bandwidth estimate would see false loss.
  if (p.twcc_ext_id != 0)
    if (auto v = packet->extensions().find(p.twcc_ext_id))
      if (auto seq = rtp::read_transport_sequence(*v)) {
        if (!p.twcc) p.twcc = make_twcc_recorder();
        p.twcc->on_packet(now, *seq);
      }

  auto it = p.ssrc_routes.find(uint32_t(packet->ssrc()));
  Participant::SsrcRoute* route = it != p.ssrc_routes.end() ? &it->second : resolve_ssrc(p, *packet);
  if (route == nullptr) {
    ++p.stats().unknown_ssrc;
    return;
  }
  Track& track = *route->track;
  if (!route->rtx) {
    if (track.ssrc() != uint32_t(packet->ssrc()) && track.stats()) {
      // Simulcast: only the first layer is forwarded. Otherwise the publisher
      // restarted its encoder under a new SSRC; subscriptions continue seamlessly.
      if (track.simulcast() || uint32_t(packet->ssrc()) == track.retired_ssrc()) return;
      log()->info("\"{}\" track {} switched SSRC {} -> {}", p.self_id(), track.id(), track.ssrc(),
                  uint32_t(packet->ssrc()));
      track.rebind_source(uint32_t(packet->ssrc()));
    }
    if (packet->payload_size() == 0) {
      ++p.stats().padding_dropped;
      return;
    }
    on_publisher_packet(now, track, *packet, data, true, out);
    return;
  }
  // RTX (RFC 4588 §4): restore the original packet, then treat it as if it had
  // arrived in time. A payload without the OSN is padding (bandwidth probing).
  auto apt = track.apt_of(uint8_t(packet->payload_type()));
  auto payload = packet->payload();
  if (!apt || payload.size() <= 2) {
    ++p.stats().padding_dropped;
    return;
  }
  uint16_t osn = util::load_be16(payload.data());
  if (track.cache().find(now, osn)) {
    // We already have the original: this is a bandwidth probe or a repair that
    // raced the original. Forwarding it again would duplicate it everywhere.
    ++p.stats().rtx_duplicates;
    return;
  }
  ++p.stats().rtx_received;
  uint8_t restored[util::kMaxDatagram];
  size_t csrc_end = 12 + 4 * packet->csrc_count();
  util::ByteView ext_block = packet->data().subspan(csrc_end, packet->header_size() - csrc_end);
  rtp::RtpHeader h{packet->marker(), rtp::PayloadType{*apt}, osn, packet->timestamp(),
                   rtp::Ssrc{track.ssrc()}, {}};
  size_t len = rtp::write_packet(restored, h, ext_block, payload.subspan(2));
  auto original = rtp::PacketView::parse({restored, len});
  if (len == 0 || !original) return;
  on_publisher_packet(now, track, *original, {restored, len}, false, out);
}

void WorkerCore::on_publisher_packet(util::Timestamp now, Track& track, const rtp::PacketView& packet,
                                     util::ByteView raw, bool in_batch, util::DatagramSink& out) {
  track.on_packet(now, packet, raw);
  // Looked at even without subscribers: a keyframe answers an outstanding
  // request (Track::want_keyframe), whoever is there to receive it.
  bool keyframe = track.is_video() &&
                  rtp::is_keyframe(track.video_codec(uint8_t(packet.payload_type())), packet.payload());
  if (keyframe) track.on_keyframe(now, packet);
  if (track.subscriptions().empty()) return;
  if (in_batch && pending_media_.size() < kMaxPendingMedia) {
    pending_media_.push_back({&track, packet, keyframe, out.origin()});
    return;
  }
  // Forwarded at once: what the batch brought before it goes first, in order.
  forward_pending(now, out);
  PendingPacket one{&track, packet, keyframe, out.origin()};
  const PendingPacket* p = &one;
  fan_out(now, track, &p, 1, out);
}

// The fan-out waits for the end of the receive batch and then runs subscriber
// by subscriber: every packet of the batch that one track brought (a video
// frame arrives as a burst of a few packets) goes to one subscriber before the
// next. Each subscriber's state (subscription, transport, SRTP stream, cipher)
// is then brought into cache once per batch instead of once per packet, and
// the copies for one subscriber lie next to each other in the send queue,
// where UdpSocket::send merges a run of them into one GSO send: the kernel
// walks its UDP/IP path once per subscriber and frame instead of per packet.
void WorkerCore::forward_pending(util::Timestamp now, util::DatagramSink& out) {
  if (pending_media_.empty()) return;
  const int64_t origin = out.origin();
  std::array<const PendingPacket*, kMaxPendingMedia> group;
  for (size_t i = 0; i < pending_media_.size(); ++i) {
    Track* track = pending_media_[i].track;
    if (track == nullptr) continue;
    size_t n = 0;
    for (size_t j = i; j < pending_media_.size(); ++j) {
      if (pending_media_[j].track != track) continue;
      group[n++] = &pending_media_[j];
      if (j > i) pending_media_[j].track = nullptr;  // taken by this group
    }
    fan_out(now, *track, group.data(), n, out);
  }
  pending_media_.clear();
  out.set_origin(origin);
}

void WorkerCore::fan_out(util::Timestamp now, Track& track, const PendingPacket* const* packets, size_t count,
                         util::DatagramSink& out) {
  bool waiting = false;
  // With hundreds of subscribers none of a subscriber's state is still in
  // cache. A four-stage prefetch, one subscription apart per stage, overlaps
  // those misses with the previous subscribers' encryption instead of
  // stalling on each pointer in turn.
  const auto& subs = track.subscriptions();
  const size_t n = subs.size();
  const uint8_t pt = uint8_t(packets[0]->packet.payload_type());
  for (size_t i = 0; i < n && i < 4; ++i) subs[i]->prefetch_self(pt);
  for (size_t i = 0; i < n && i < 3; ++i) subs[i]->prefetch_transport();
  for (size_t i = 0; i < n && i < 2; ++i) subs[i]->prefetch_protect();
  if (n > 0) subs[0]->prefetch_cipher();
  int64_t origin = out.origin();
  for (size_t i = 0; i < n; ++i) {
    if (i + 4 < n) subs[i + 4]->prefetch_self(pt);
    if (i + 3 < n) subs[i + 3]->prefetch_transport();
    if (i + 2 < n) subs[i + 2]->prefetch_protect();
    if (i + 1 < n) subs[i + 1]->prefetch_cipher();
    Subscription* s = subs[i];
    uint64_t forwarded = 0;
    bool tried_cache = false;
    for (size_t k = 0; k < count; ++k) {
      const PendingPacket& p = *packets[k];
      if (p.origin_ns != origin) out.set_origin(origin = p.origin_ns);
      if (s->forward(now, p.packet, p.keyframe, out)) {
        ++forwarded;
      } else if (s->active() && s->waiting_for_keyframe() && s->subscriber().transport().connected()) {
        // Only a subscriber that can receive asks: a keyframe that arrives
        // while its DTLS handshake is still running would pass it by, and the
        // spacing would then hold back the request it really needs. A recent
        // keyframe still in the cache needs no request at all (looked for
        // once per subscriber and batch: the batch's packets are in it).
        if (tried_cache || !start_from_cache(now, *s, out)) waiting = true;
        tried_cache = true;
      }
    }
    s->subscriber().stats().forwarded += forwarded;
  }
  if (waiting) request_keyframe(now, track, true, out);
}

void WorkerCore::start_video(util::Timestamp now, Participant& p, util::DatagramSink& out) {
  // The subscriber can receive: its video starts now rather than with the
  // publisher's next packet (up to a frame later; 200 ms for a 5 fps screen
  // share), from a recent keyframe in the cache or else from one asked for.
  for (auto& s : p.subscriptions)
    if (s->active() && s->waiting_for_keyframe() && !start_from_cache(now, *s, out))
      request_keyframe(now, s->track(), true, out);
}

bool WorkerCore::start_from_cache(util::Timestamp now, Subscription& s, util::DatagramSink& out) {
  size_t sent = s.replay_keyframe(now, out);
  if (sent == 0) return false;
  auto& stats = s.subscriber().stats();
  stats.forwarded += sent;
  ++stats.keyframe_replays;
  return true;
}

void WorkerCore::request_keyframe(util::Timestamp now, Track& track, bool first, util::DatagramSink& out) {
  if (!track.want_keyframe(now, first) || track.ssrc() == 0) return;
  Participant& pub = track.publisher();
  uint8_t buf[64];
  size_t n = 0;
  bool pli = track.codecs().empty() || track.codecs().front().has_feedback("nack", "pli");
  if (pli) {
    n = rtp::rtcp::Pli::write(buf, rtp::Ssrc{pub.rtcp_ssrc()}, rtp::Ssrc{track.ssrc()});  // RFC 4585 §6.3.1
  } else {
    rtp::rtcp::FirEntry e{rtp::Ssrc{track.ssrc()}, uint8_t(track.keyframe_requests())};
    n = rtp::rtcp::Fir::write(buf, rtp::Ssrc{pub.rtcp_ssrc()}, {&e, 1});  // RFC 5104 §4.3.1
  }
  if (n > 0 && pub.transport().send_rtcp(out, {buf, n})) ++pub.stats().keyframe_requests_sent;
}

void WorkerCore::on_rtcp(util::Timestamp now, Participant& p, util::ByteView data, util::DatagramSink& out) {
  ++p.stats().rtcp_packets;
  namespace rtcp = rtp::rtcp;
  // Retransmission requests cost a cache lookup each: a datagram gets at most
  // kMaxNackedPerDatagram of them, so that a client flooding NACKs (or one
  // whose receiver fell far behind) cannot take the worker from everyone else.
  size_t nacked = 0;
  bool ok = rtcp::for_each(data, [&](const rtcp::PacketView& pv) {
    if (pv.type() == rtcp::PacketType::kSr) {
      if (auto sr = rtcp::SenderReport::parse(pv)) {
        auto it = p.ssrc_routes.find(uint32_t(sr->sender_ssrc()));
        if (it != p.ssrc_routes.end() && !it->second.rtx && it->second.track->ssrc() == uint32_t(sr->sender_ssrc()))
          it->second.track->on_sender_report(now, sr->sender_info().ntp, sr->sender_info().rtp_timestamp);
      }
    } else if (pv.is(rtcp::PacketType::kRtpfb, 1)) {  // generic NACK, RFC 4585 §6.2.1
      if (auto nack = rtcp::Nack::parse(pv)) {
        if (Subscription* s = p.find_subscription(uint32_t(nack->media_ssrc())))
          nack->for_each_lost([&](uint16_t seq) {
            ++p.stats().nacks_received;
            if (++nacked > kMaxNackedPerDatagram) {
              ++p.stats().nacks_ignored;
              return;
            }
            if (s->retransmit(now, seq, out)) ++p.stats().retransmitted;
          });
      }
    } else if (pv.is(rtcp::PacketType::kPsfb, 1)) {  // PLI, RFC 4585 §6.3.1
      if (auto pli = rtcp::Pli::parse(pv)) {
        ++p.stats().plis_received;
        if (Subscription* s = p.find_subscription(uint32_t(pli->media_ssrc())))
          request_keyframe(now, s->track(), s->waiting_for_keyframe(), out);
      }
    } else if (pv.is(rtcp::PacketType::kPsfb, rtcp::kFmtAfb)) {  // REMB, draft-alvestrand-rmcat-remb-03 §2.2
      if (auto remb = rtcp::Remb::parse(pv)) {
        ++p.stats().rembs_received;
        p.stats().downlink_estimate_bps = remb->bitrate_bps();
      }
    } else if (pv.is(rtcp::PacketType::kPsfb, 4)) {  // FIR, RFC 5104 §4.3.1
      if (auto fir = rtcp::Fir::parse(pv)) {
        ++p.stats().plis_received;
        for (auto e : fir->entries())
          if (Subscription* s = p.find_subscription(uint32_t(e.ssrc)))
            request_keyframe(now, s->track(), s->waiting_for_keyframe(), out);
      }
    }
  });
  if (!ok) ++stats_.dropped_malformed_rtcp;
}

void WorkerCore::drain_events(util::Timestamp now, Participant& p, util::DatagramSink& out) {
  while (auto ev = p.transport().poll_event()) {
    if (std::holds_alternative<rtc::TransportConnected>(*ev)) {
      // The handshake's last flight (our ChangeCipherSpec and Finished) goes
      // into the send queue now, ahead of any media: a copy queued before it
      // in the same round (the fan-out runs first in flush()) would reach a
      // peer that cannot decrypt yet and be lost, and a subscriber's first
      // keyframe with it.
      p.transport().flush(out);
      start_video(now, p, out);
    } else if (auto* f = std::get_if<rtc::TransportFailed>(&*ev)) {
      if (p.closing) continue;
      bool consent = f->reason.find("consent") != std::string::npos;
      log()->info("conn {}: \"{}\" transport failed: {}", p.conn(), p.self_id(), f->reason);
      emit(p.conn(), ClosedOut{consent ? "ice-timeout" : "transport-failed"});
      p.closing = true;
      dead_.push_back(p.conn());
    } else if (std::holds_alternative<rtc::TransportClosed>(*ev)) {
      if (p.closing) continue;
      emit(p.conn(), ClosedOut{"closed"});
      p.closing = true;
      dead_.push_back(p.conn());
    }
  }
}

// ---------------------------------------------------------------------------
// Timers

void WorkerCore::update_deadlines(Participant& p) {
  util::Timestamp due = p.transport().poll_timeout();
  util::Timestamp must = due;
  if (p.transport().connected() && !p.closing) {
    due = util::earliest(due, p.next_report);
    must = util::earliest(must, p.next_report + kReportSlack);
    if (p.twcc) {
      util::Timestamp t = p.twcc->poll_timeout();
      due = util::earliest(due, t);
      if (t != util::kNever) must = util::earliest(must, t + kFeedbackSlack);
    }
    for (const auto& track : p.tracks)
      if (track->nack_enabled()) {
        util::Timestamp t = track->nack().poll_timeout();
        due = util::earliest(due, t);
        must = util::earliest(must, t);
      }
  }
  p.due = due;
  p.deadline = must;
  timers_[p.timer_slot].due = due;
  timers_[p.timer_slot].deadline = must;
}

void WorkerCore::on_participant_timeout(util::Timestamp now, Participant& p, util::DatagramSink& out) {
  if (p.transport().poll_timeout() <= now) {
    p.transport().handle_timeout(now);
    drain_events(now, p, out);
  }
  if (!p.transport().connected() || p.closing) return;
  uint8_t buf[kRtcpBuffer];
  // Transport-wide feedback every 50–100 ms keeps the browser's bandwidth
  // estimate growing (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1).
  if (p.twcc && p.twcc->poll_timeout() <= now) {
    uint32_t media = p.tracks.empty() ? 0 : p.tracks.front()->ssrc();
    if (size_t n = p.twcc->poll_feedback(now, p.rtcp_ssrc(), media, buf); n > 0)
      if (p.transport().send_rtcp(out, {buf, n})) ++p.stats().twcc_feedback_sent;
  }
  // Losses on the publisher's path are NACKed (RFC 4585 §6.2.1).
  for (auto& track : p.tracks) {
    if (!track->nack_enabled() || track->nack().poll_timeout() > now || track->ssrc() == 0) continue;
    uint16_t seqs[kMaxNacksPerRound];
    size_t count = track->nack().poll_nacks(now, seqs);
    if (count == 0) continue;
    size_t n = rtp::rtcp::Nack::write(buf, rtp::Ssrc{p.rtcp_ssrc()}, rtp::Ssrc{track->ssrc()}, {seqs, count});
    if (n > 0 && p.transport().send_rtcp(out, {buf, n})) p.stats().nacks_sent += count;
  }
  if (now >= p.next_report) {
    p.next_report += kReportInterval;
    if (p.next_report <= now) p.next_report = next_report_slot(now, p.report_phase);
    send_reports(now, p, out);
  }
}

void WorkerCore::send_reports(util::Timestamp now, Participant& p, util::DatagramSink& out) {
  namespace rtcp = rtp::rtcp;
  uint8_t buf[kRtcpBuffer];
  // Receiver reports on what this participant publishes (RFC 3550 §6.4.2).
  // A fixed array: this runs every report interval for every participant.
  std::array<rtcp::ReportBlock, rtcp::kMaxReportBlocks> blocks;
  size_t block_count = 0;
  for (auto& t : p.tracks)
    if (t->stats() && t->stats()->started() && block_count < blocks.size())
      blocks[block_count++] = t->stats()->report_block(now);
  if (block_count > 0) {
    size_t n = rtcp::ReceiverReport::write(buf, rtp::Ssrc{p.rtcp_ssrc()}, {blocks.data(), block_count});
    rtcp::Sdes::Chunk chunk{rtp::Ssrc{p.rtcp_ssrc()}, p.cname()};
    if (n > 0) n += rtcp::Sdes::write(util::MutableBytes(buf).subspan(n), {&chunk, 1});
    if (n > 0) p.transport().send_rtcp(out, {buf, n});
  }
  // Sender reports for every stream forwarded to this participant (lip sync).
  for (auto& s : p.subscriptions) {
    size_t n = s->write_sender_report(now, buf);
    if (n == 0) continue;
    rtcp::Sdes::Chunk chunk{rtp::Ssrc{s->ssrc()}, s->track().publisher().cname()};
    n += rtcp::Sdes::write(util::MutableBytes(buf).subspan(n), {&chunk, 1});
    p.transport().send_rtcp(out, {buf, n});
  }
  // A subscriber still waiting for its first keyframe tries again.
  start_video(now, p, out);
}

void WorkerCore::touch(Participant& p) {
  update_deadlines(p);
  next_deadline_ = util::earliest(next_deadline_, p.deadline);
  next_due_ = util::earliest(next_due_, p.due);
  if (!p.flush_pending && p.transport().has_pending_output()) {
    p.flush_pending = true;
    pending_flush_.push_back(&p);
  }
}

void WorkerCore::handle_timeout(util::Timestamp now, util::DatagramSink& out) {
  forward_pending(now, out);  // timers (sender reports) see the batch's media sent
  util::Timestamp next = util::kNever;
  util::Timestamp next_due = util::kNever;
  // Participants are only removed after the round (dead_), so the table does
  // not change under this loop.
  for (const TimerSlot& t : timers_) {
    if (t.due <= now) {
      Participant& p = *t.participant;
      on_participant_timeout(now, p, out);
      update_deadlines(p);
      if (!p.flush_pending && p.transport().has_pending_output()) {
        p.flush_pending = true;
        pending_flush_.push_back(&p);
      }
    }
    next = util::earliest(next, t.deadline);
    next_due = util::earliest(next_due, t.due);
  }
  next_deadline_ = next;
  next_due_ = next_due;
}

util::Timestamp WorkerCore::poll_timeout() const {
  // Round up to the grid so that nearby deadlines share one wakeup.
  return up_to_grid(next_deadline_);
}

util::Timestamp WorkerCore::poll_due() const { return util::earliest(up_to_grid(next_due_), next_deadline_); }

void WorkerCore::flush(util::Timestamp now, util::DatagramSink& out) {
  forward_pending(now, out);
  for (ConnId c : starting_)
    if (Participant* p = find(c); p != nullptr && p->transport().connected()) start_video(now, *p, out);
  starting_.clear();
  for (Participant* p : pending_flush_) {
    p->flush_pending = false;
    p->transport().flush(out);
  }
  pending_flush_.clear();
  if (dead_.empty()) return;
  auto dead = std::move(dead_);
  dead_.clear();
  for (ConnId c : dead) remove(c);
}

std::vector<ParticipantSnapshot> WorkerCore::snapshot() const {
  std::vector<ParticipantSnapshot> out;
  for (const auto& [conn, e] : by_conn_) {
    const Participant& p = *e.participant;
    ParticipantSnapshot s;
    s.room_id = e.room->id;
    s.self_id = p.self_id();
    s.transport_state = rtc::to_string(p.transport().state());
    if (const auto* srtp = p.transport().srtp()) {
      s.srtp_profile = std::string(srtp::to_string(srtp->profile()));
      s.srtp_auth_failures = srtp->stats().auth_failures;
      s.srtp_replays = srtp->stats().replays;
    }
    if (auto r = p.transport().remote_address()) s.remote = r->to_string();
    s.transport = p.transport().stats();
    s.media = p.stats();
    s.published_tracks = p.tracks.size();
    s.subscriptions = p.subscriptions.size();
    for (const auto& sub : p.subscriptions) s.active_subscriptions += sub->active() ? 1 : 0;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace sb::sfu
