#include "sfu/Subscription.hpp"

#include "rtc/Capabilities.hpp"
#include "rtp/ExtensionValues.hpp"
#include "rtp/ExtensionWriter.hpp"
#include "rtp/PacketWriter.hpp"
#include "rtp/rtcp/SenderReport.hpp"
#include "sfu/Participant.hpp"
#include "sfu/Track.hpp"
#include "srtp/Session.hpp"

namespace sb::sfu {

namespace {
/// Extensions whose value means the same to the subscriber as to the publisher
/// and can be copied. Transport-wide sequence, abs-send-time and mid are
/// rewritten by us; rid/repaired-rid describe the publisher's layers, not ours.
constexpr std::string_view kCopied[] = {rtc::ext::kAudioLevel, rtc::ext::kVideoOrientation, rtc::ext::kTimeOffset};
constexpr size_t kMaxExtensionBlock = 256;
}  // namespace

Subscription::Subscription(Track& track, Participant& subscriber, std::string mid, uint32_t ssrc, uint32_t rtx_ssrc)
    : subscriber_(&subscriber), transport_(&subscriber.transport()), track_(&track), ssrc_(ssrc),
      rtx_ssrc_(rtx_ssrc), next_seq_(uint16_t(ssrc ^ (ssrc >> 16))), rtx_seq_(uint16_t(rtx_ssrc)),
      mid_(std::move(mid)) {
  pt_map_.fill(kNoPayloadType);
  rtx_pt_map_.fill(kNoPayloadType);
}

bool Subscription::configure(const rtc::MediaLine& line) {
  pt_map_.fill(kNoPayloadType);
  rtx_pt_map_.fill(kNoPayloadType);
  bool any = false;
  for (const auto& c : track_->codecs()) {
    if (c.pt >= 128) continue;
    if (auto pt = line.payload_type_for(c)) {
      pt_map_[c.pt] = *pt;
      any = true;
      if (auto rtx = line.rtx_payload_type_for(c)) rtx_pt_map_[c.pt] = *rtx;
    }
  }
  ext_map_.fill(0);
  for (auto uri : kCopied) {
    auto to = line.extmap_id(uri);
    if (!to || *to > 14) continue;  // we write one-byte headers (RFC 8285 §4.2)
    for (const auto& e : track_->extmaps())
      if (e.uri == uri && e.id < ext_map_.size()) ext_map_[e.id] = uint8_t(*to);
  }
  auto small = [&](std::string_view uri) -> uint8_t {
    auto id = line.extmap_id(uri);
    return id && *id <= 14 ? uint8_t(*id) : 0;
  };
  twcc_id_ = small(rtc::ext::kTransportCc);
  abs_send_time_id_ = small(rtc::ext::kAbsSendTime);
  mid_id_ = small(rtc::ext::kMid);
  active_ = any;
  return any;
}

bool Subscription::send_rewritten(util::Timestamp now, const rtp::PacketView& packet, util::DatagramSink& out,
                                  bool as_rtx, uint16_t seq_out) {
  uint8_t pt = pt_map_[uint8_t(packet.payload_type())];
  uint8_t ext_buf[kMaxExtensionBlock];
  rtp::ExtensionWriter w(ext_buf, rtp::ExtensionProfile::kOneByte);
  for (auto e : packet.extensions())
    if (uint8_t to = ext_map_[e.id]) w.add(to, e.value);
  if (twcc_id_) w.add_transport_sequence(twcc_id_, subscriber_->next_transport_sequence());
  if (abs_send_time_id_) w.add_abs_send_time(abs_send_time_id_, rtp::abs_send_time_from(now.time_since_epoch()));
  if (mid_id_) w.add_string(mid_id_, mid_);
  size_t ext_len = w.finish();
  util::ByteView ext{ext_buf, ext_len};

  // Only the header is written here; the transport encrypts the payload from
  // where it is (the publisher's packet, or for RTX the staging buffer below)
  // straight into the slot behind it: one pass over the payload instead of a
  // copy and then an in-place encryption.
  auto slot = out.reserve();
  // Leave room for the SRTP trailer (auth tag / GCM tag + SRTCP index).
  auto room = slot.first(slot.size() - srtp::Session::kMaxTrailer);
  uint32_t ts_out = packet.timestamp() + ts_offset_;
  auto payload = packet.payload();
  if (!as_rtx) {
    rtp::RtpHeader h{packet.marker(), rtp::PayloadType{pt}, seq_out, ts_out, rtp::Ssrc{ssrc_}, {}};
    size_t header_len = rtp::write_packet(room, h, ext, {});
    if (header_len == 0 || room.size() - header_len < payload.size()) return false;
    return transport_->send_rtp_with_payload(out, slot, header_len, payload);
  }
  // RTX (RFC 4588 §4): own SSRC, PT and sequence; the original sequence number
  // leads the payload.
  uint8_t rtx_payload[util::kMaxDatagram];
  if (payload.size() + 2 > sizeof(rtx_payload)) return false;
  util::store_be16(rtx_payload, seq_out);
  std::copy(payload.begin(), payload.end(), rtx_payload + 2);
  uint8_t rtx_pt = rtx_pt_map_[uint8_t(packet.payload_type())];
  rtp::RtpHeader h{packet.marker(), rtp::PayloadType{rtx_pt}, rtx_seq_++, ts_out, rtp::Ssrc{rtx_ssrc_}, {}};
  size_t header_len = rtp::write_packet(room, h, ext, {});
  if (header_len == 0 || room.size() - header_len < payload.size() + 2) return false;
  return transport_->send_rtp_with_payload(out, slot, header_len, {rtx_payload, payload.size() + 2});
}

bool Subscription::forward(util::Timestamp now, const rtp::PacketView& packet, bool keyframe,
                           util::DatagramSink& out) {
  if (!active_) return false;
  auto& transport = *transport_;
  if (!transport.connected()) return false;
  uint8_t in_pt = uint8_t(packet.payload_type());
  if (pt_map_[in_pt] == kNoPayloadType) return false;
  if (replay_guard_) [[unlikely]] {
    // Just after a replay: what it sent (and anything older, which precedes
    // the keyframe it started from) must not go out again. Guarded for a
    // while only: the comparison is modulo 2^16.
    const auto ahead = int16_t(packet.sequence() - replayed_through_);
    if (uint32_t(packet.ssrc()) != source_ssrc_ || ahead > int16_t(kMaxReplayPackets)) {
      replay_guard_ = false;
    } else if (ahead <= 0) {
      return false;
    }
  }
  bool new_source = !started_ || uint32_t(packet.ssrc()) != source_ssrc_;
  if (new_source && started_ && track_->is_video()) need_keyframe_ = true;  // a new encoder: start clean
  if (need_keyframe_) {
    if (track_->is_video() && !keyframe) return false;
    need_keyframe_ = false;
  }
  if (new_source) start_source(now, packet);
  uint16_t seq_out = uint16_t(packet.sequence() + seq_offset_);
  if (!send_rewritten(now, packet, out, false, seq_out)) return false;
  if (util::seq_newer(uint16_t(seq_out + 1), next_seq_) || seq_out + 1 == next_seq_) next_seq_ = uint16_t(seq_out + 1);
  last_timestamp_ = packet.timestamp() + ts_offset_;
  last_sent_ = now;
  ++packets_sent_;
  octets_sent_ += packet.payload_size();
  return true;
}

size_t Subscription::replay_keyframe(util::Timestamp now, util::DatagramSink& out) {
  if (!active_ || started_ || !need_keyframe_ || !track_->is_video() || !transport_->connected()) return 0;
  auto mark = track_->replayable_keyframe(now);
  auto& cache = track_->cache();
  auto newest = cache.newest();
  if (!mark || !newest) return 0;
  // All or nothing: a hole would leave the picture undecodable until repaired,
  // and a fresh keyframe is the better start then.
  if (!track_->cache_holds(now, *mark, *newest)) return 0;
  // cache_holds() answers from its memo until the next insert; the lookups
  // below still check, so that a packet aged out since ends the replay there
  // instead of reading what is not there (the packet path never trusts a memo).
  auto cached = [&](uint16_t seq) -> std::optional<rtp::PacketView> {
    auto raw = cache.find(now, seq);
    if (!raw) return std::nullopt;
    auto packet = rtp::PacketView::parse(*raw);
    if (!packet) return std::nullopt;
    return *packet;
  };
  auto first = cached(mark->seq);
  if (!first || pt_map_[uint8_t(first->payload_type())] == kNoPayloadType) return 0;
  const uint16_t count = uint16_t(*newest - mark->seq + 1);
  size_t sent = 0;
  uint16_t through = mark->seq;
  for (uint16_t i = 0; i < count; ++i) {
    auto packet = cached(uint16_t(mark->seq + i));
    if (!packet) break;
    if (forward(now, *packet, i == 0, out)) ++sent;
    through = uint16_t(mark->seq + i);
  }
  replayed_through_ = through;
  replay_guard_ = true;
  return sent;
}

void Subscription::start_source(util::Timestamp now, const rtp::PacketView& packet) {
  // The subscriber must see one source: sequence numbers continue from our
  // last one, and timestamps continue by the time that passed (RFC 3550 §5.1),
  // however often the publisher restarts or changes its SSRC.
  seq_offset_ = uint16_t(next_seq_ - packet.sequence());
  if (started_) {
    auto elapsed_us = std::chrono::duration_cast<std::chrono::microseconds>(now - last_sent_).count();
    uint32_t ticks = uint32_t(std::max<int64_t>(1, elapsed_us * int64_t(track_->clock_rate()) / 1000000));
    ts_offset_ = last_timestamp_ + ticks - packet.timestamp();
  } else {
    ts_offset_ = 0;
  }
  source_ssrc_ = uint32_t(packet.ssrc());
  started_ = true;
}

bool Subscription::retransmit(util::Timestamp now, uint16_t seq, util::DatagramSink& out) {
  if (!active_ || !started_) return false;
  uint16_t publisher_seq = uint16_t(seq - seq_offset_);
  auto raw = track_->cache().find(now, publisher_seq);
  if (!raw) return false;
  auto packet = rtp::PacketView::parse(*raw);
  if (!packet || uint32_t(packet->ssrc()) != source_ssrc_) return false;
  uint8_t in_pt = uint8_t(packet->payload_type());
  if (pt_map_[in_pt] == kNoPayloadType) return false;
  bool as_rtx = rtx_ssrc_ != 0 && rtx_pt_map_[in_pt] != kNoPayloadType;
  if (!send_rewritten(now, *packet, out, as_rtx, seq)) return false;
  ++retransmissions_;
  return true;
}

size_t Subscription::write_sender_report(util::Timestamp now, util::MutableBytes out) const {
  const auto& clock = track_->sender_clock();
  if (!active_ || !started_ || !clock) return 0;
  // Carry the publisher's mapping forward to now: both clocks advance at the
  // same rate, so audio and video of one publisher stay in sync (RFC 3550 §6.4.1).
  auto elapsed = now - clock->arrival;
  auto elapsed_us = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
  rtp::rtcp::SenderInfo info;
  info.ntp = rtp::NtpTime{clock->ntp.value + uint64_t((elapsed_us * 4294967296.0) / 1e6)};
  info.rtp_timestamp =
      clock->rtp_timestamp + uint32_t(elapsed_us * int64_t(track_->clock_rate()) / 1000000) + ts_offset_;
  info.packet_count = uint32_t(packets_sent_);
  info.octet_count = uint32_t(octets_sent_);
  return rtp::rtcp::SenderReport::write(out, rtp::Ssrc{ssrc_}, info);
}

}  // namespace sb::sfu
