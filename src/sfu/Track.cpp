#include "sfu/Track.hpp"

#include "util/SeqUnwrapper.hpp"

namespace sb::sfu {

Track::Track(Participant& publisher, const rtc::MediaLine& line, std::string id)
    : publisher_(&publisher), mid_(line.mid), id_(std::move(id)), kind_(line.kind),
      extmaps_(line.extmaps), cache_(line.kind == sdp::MediaKind::Video ? kVideoCachePackets : kAudioCachePackets) {
  for (const auto& c : line.codecs) {
    if (c.is_rtx()) {
      if (auto apt = c.apt()) rtx_apt_.emplace_back(c.pt, *apt);
    } else {
      codecs_.push_back(c);
    }
  }
  if (!codecs_.empty()) clock_rate_ = codecs_.front().clock_rate;
  video_codec_by_pt_.fill(rtp::VideoCodec::kOther);
  for (auto c = codecs_.rbegin(); c != codecs_.rend(); ++c)  // the first of a repeated pt wins, as in codec()
    if (c->pt < video_codec_by_pt_.size()) video_codec_by_pt_[c->pt] = rtp::codec_from_name(c->name);
  for (const auto& c : codecs_) nack_enabled_ |= c.has_feedback("nack");
  simulcast_ = !line.remote_rids.empty();
  if (!line.remote_ssrcs.empty()) ssrc_ = line.remote_ssrcs.front();
  for (auto [primary, rtx] : line.remote_rtx)
    if (primary == ssrc_) rtx_ssrc_ = rtx;
}

const sdp::Codec* Track::codec(uint8_t pt) const {
  for (const auto& c : codecs_)
    if (c.pt == pt) return &c;
  return nullptr;
}

std::optional<uint8_t> Track::apt_of(uint8_t rtx_pt) const {
  for (auto [rtx, apt] : rtx_apt_)
    if (rtx == rtx_pt) return apt;
  return std::nullopt;
}

void Track::bind_ssrc(uint32_t ssrc, uint32_t clock_rate) {
  if (ssrc_ == ssrc && stats_) return;
  ssrc_ = ssrc;
  stats_.emplace(rtp::Ssrc{ssrc}, clock_rate ? clock_rate : clock_rate_);
}

void Track::rebind_source(uint32_t ssrc) {
  retired_ssrc_ = ssrc_;
  ssrc_ = ssrc;
  stats_.emplace(rtp::Ssrc{ssrc}, clock_rate_);
  nack_.reset();
  sender_clock_.reset();
}

void Track::on_packet(util::Timestamp now, const rtp::PacketView& packet, util::ByteView raw) {
  ++packets_;
  if (!stats_) stats_.emplace(packet.ssrc(), clock_rate_);
  stats_->on_packet(packet, now);
  if (nack_enabled_) nack_.on_packet(now, packet.sequence());
  cache_.insert(now, packet.sequence(), raw);
  cache_check_.reset();
}

void Track::on_sender_report(util::Timestamp now, rtp::NtpTime ntp, uint32_t rtp_timestamp) {
  sender_clock_ = SenderClock{ntp, rtp_timestamp, now};
  if (stats_) stats_->on_sender_report(ntp, now);
}

bool Track::want_keyframe(util::Timestamp now, bool first) {
  if (kind_ != sdp::MediaKind::Video) return false;
  if (last_keyframe_request_ != util::Timestamp{}) {
    const auto since = now - last_keyframe_request_;
    if (since < (first ? kKeyframeRequestSpacing : kKeyframeRequestInterval)) return false;
    if (keyframe_pending_ && since < kKeyframeRequestRetry) return false;
  }
  last_keyframe_request_ = now;
  keyframe_pending_ = true;
  ++keyframe_requests_;
  return true;
}

void Track::on_keyframe(util::Timestamp now, const rtp::PacketView& packet) {
  keyframe_pending_ = false;
  const uint32_t ssrc = uint32_t(packet.ssrc());
  const uint16_t seq = packet.sequence();
  if (last_keyframe_ && last_keyframe_->ssrc == ssrc) {
    // A repair of an older keyframe (RTX) must not move the mark back, nor
    // a later packet of the same keyframe move it on: an H.264 IDR slice
    // after the SPS and PPS that start its access unit (RFC 6184 §5.6)
    // cannot be decoded without them.
    if (!util::seq_newer(seq, last_keyframe_->seq) || packet.timestamp() == last_keyframe_->timestamp) return;
  }
  last_keyframe_ = KeyframeMark{ssrc, seq, packet.timestamp(), now};
}

std::optional<Track::KeyframeMark> Track::replayable_keyframe(util::Timestamp now) const {
  if (!last_keyframe_ || last_keyframe_->ssrc != ssrc_ || now - last_keyframe_->arrival >= kKeyframeReplayWindow)
    return std::nullopt;
  return last_keyframe_;
}

bool Track::cache_holds(util::Timestamp now, const KeyframeMark& mark, uint16_t newest) {
  if (cache_check_ && cache_check_->from == mark.seq && cache_check_->through == newest) return cache_check_->holds;
  const uint16_t count = uint16_t(newest - mark.seq + 1);
  bool holds = count != 0 && count <= kMaxReplayPackets;
  for (uint16_t i = 0; holds && i < count; ++i) {
    auto raw = cache_.find(now, uint16_t(mark.seq + i));
    if (!raw) holds = false;
    else if (auto packet = rtp::PacketView::parse(*raw)) holds = uint32_t(packet->ssrc()) == mark.ssrc;
    else holds = false;
  }
  cache_check_ = CacheCheck{mark.seq, newest, holds};
  return holds;
}

rtp::VideoCodec Track::video_codec(uint8_t pt) const {
  return pt < video_codec_by_pt_.size() ? video_codec_by_pt_[pt] : rtp::VideoCodec::kOther;
}

}  // namespace sb::sfu
