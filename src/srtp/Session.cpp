#include "srtp/Session.hpp"

#include <stdexcept>
#include <string>
#include <utility>

#include "srtp/KeyDerivation.hpp"

namespace sb::srtp {

namespace {

constexpr size_t kRtpHeaderSize = 12;  // RFC 3550 §5.1
constexpr size_t kRtcpHeaderSize = Transform::kRtcpHeaderSize;  // RFC 3550 §6.4: V/P/RC, PT, length, SSRC
constexpr size_t kSrtcpIndexSize = Transform::kRtcpIndexSize;  // RFC 3711 §3.4: E flag + 31-bit index
/// Far above any datagram; keeps lengths within what OpenSSL's int-sized calls take.
constexpr size_t kMaxPacket = size_t(1) << 24;

/// Bytes of the RTP header (fixed part, CSRCs, extension) if it fits in `len`.
std::optional<size_t> rtp_header_size(const uint8_t* p, size_t len) {
  if (len < kRtpHeaderSize || (p[0] >> 6) != 2) return std::nullopt;
  size_t size = kRtpHeaderSize + 4u * (p[0] & 0x0f);
  if ((p[0] & 0x10) != 0) {
    if (len < size + 4) return std::nullopt;
    size += 4 + 4u * util::load_be16(p + size + 2);
  }
  if (size > len) return std::nullopt;
  return size;
}

bool rtcp_header_ok(const uint8_t* p, size_t len) { return len >= kRtcpHeaderSize && (p[0] >> 6) == 2; }

/// The replay state of an SSRC not seen yet.
const ReplayWindow kNoHistory{};

}  // namespace

Session::Session(Profile profile, const SrtpKeys& local, const SrtpKeys& remote) {
  auto r = init_contexts(profile, local, remote);
  if (!r) throw std::invalid_argument(r.error());
}

util::Result<Session> Session::create(Profile profile, const SrtpKeys& local, const SrtpKeys& remote) {
  Session s;
  auto r = s.init_contexts(profile, local, remote);
  if (!r) return util::make_error(r.error());
  return s;
}

util::Result<void> Session::init_contexts(Profile profile, const SrtpKeys& local, const SrtpKeys& remote) {
  if (!keys_fit(profile, local) || !keys_fit(profile, remote)) {
    return util::make_error("SRTP key/salt length does not fit " + std::string(to_string(profile)));
  }
  profile_ = profile;
  for (auto [master, into] : {std::pair{&local, &outbound_}, std::pair{&remote, &inbound_}}) {
    auto keys = derive_session_keys(profile, *master);
    if (!keys) return util::make_error(keys.error());
    auto t = Transform::create(profile, *keys);
    keys->wipe();
    if (!t) return util::make_error(t.error());
    *into = std::move(t.value());
  }
  return {};
}

Session::~Session() = default;
Session::Session(Session&& other) noexcept = default;
Session& Session::operator=(Session&& other) noexcept = default;

std::optional<size_t> Session::fail(srtp_err_status_t status) {
  last_error_ = status;
  switch (status) {
    case srtp_err_status_auth_fail: ++stats_.auth_failures; break;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old: ++stats_.replays; break;
    case srtp_err_status_alloc_fail: ++stats_.stream_limit; break;
    default: ++stats_.other; break;
  }
  return std::nullopt;
}

std::optional<size_t> Session::malformed() {
  ++stats_.malformed;
  last_error_ = srtp_err_status_bad_param;
  return std::nullopt;
}

Stream* Session::outbound_stream(uint32_t ssrc) {
  if (Stream* s = out_streams_.find(ssrc)) return s;
  return out_streams_.insert(ssrc);  // nullptr when full
}

std::optional<size_t> Session::protect_rtp(util::MutableBytes buf, size_t len) {
  auto header = len <= buf.size() ? rtp_header_size(buf.data(), len) : std::nullopt;
  if (!outbound_ || !header || buf.size() - len < outbound_->tag_size() || len > kMaxPacket) return malformed();
  return protect_rtp_at(buf, len, *header, nullptr);
}

std::optional<size_t> Session::protect_rtp(util::MutableBytes buf, size_t header_len, util::ByteView payload) {
  // The header must be complete and exactly header_len long (a header that
  // claims more CSRCs or extension words than were written is malformed).
  auto header = header_len <= buf.size() ? rtp_header_size(buf.data(), header_len) : std::nullopt;
  size_t len = header_len + payload.size();
  if (!outbound_ || !header || *header != header_len || len > kMaxPacket || len > buf.size() ||
      buf.size() - len < outbound_->tag_size()) {
    return malformed();
  }
  const uint8_t* in = payload.data();
  const uint8_t* body = buf.data() + header_len;
  // Encryption reads `payload` while it writes buf: only the same bytes (in
  // place) or separate ones are safe.
  bool overlaps = in != body && in < buf.data() + buf.size() && buf.data() < in + payload.size();
  if (overlaps) return malformed();
  return protect_rtp_at(buf, len, header_len, payload.empty() ? nullptr : in);
}

std::optional<size_t> Session::protect_rtp_at(util::MutableBytes buf, size_t len, size_t header_len,
                                              const uint8_t* payload) {
  uint32_t ssrc = util::load_be32(buf.data() + 8);
  uint16_t seq = util::load_be16(buf.data() + 2);
  Stream* s = outbound_stream(ssrc);
  if (s == nullptr) return fail(srtp_err_status_alloc_fail);
  // The sender tracks its own ROC the way a receiver would (RFC 3711 §3.3.1), so
  // packets it protects slightly out of order (a retransmission) get the right index.
  uint64_t index = estimate_packet_index(s->rtp, seq);
  ReplayWindow::Verdict v = s->rtp.check(index);
  // An index that left the window can no longer be told from a key-stream reuse
  // with different content; an index already sent is an unchanged resend.
  if (v == ReplayWindow::Verdict::kTooOld) return fail(srtp_err_status_replay_old);
  if (!outbound_->protect_rtp(buf, len, header_len, ssrc, index, payload)) return fail(srtp_err_status_cipher_fail);
  if (v == ReplayWindow::Verdict::kFresh) s->rtp.accept(index);
  ++stats_.protected_rtp;
  return len + outbound_->tag_size();
}

std::optional<size_t> Session::unprotect_rtp(util::MutableBytes buf, size_t len) {
  auto header = len <= buf.size() ? rtp_header_size(buf.data(), len) : std::nullopt;
  if (!inbound_ || !header || len - *header < inbound_->tag_size() || len > kMaxPacket) return malformed();
  uint32_t ssrc = util::load_be32(buf.data() + 8);
  uint16_t seq = util::load_be16(buf.data() + 2);
  Stream* s = in_streams_.find(ssrc);
  if (s == nullptr && in_streams_.full()) return fail(srtp_err_status_alloc_fail);
  const ReplayWindow& window = s != nullptr ? s->rtp : kNoHistory;
  uint64_t index = estimate_packet_index(window, seq);
  switch (window.check(index)) {
    case ReplayWindow::Verdict::kDuplicate: return fail(srtp_err_status_replay_fail);
    case ReplayWindow::Verdict::kTooOld: return fail(srtp_err_status_replay_old);
    case ReplayWindow::Verdict::kFresh: break;
  }
  if (!inbound_->unprotect_rtp(buf, len, *header, ssrc, index)) return fail(srtp_err_status_auth_fail);
  // Only an authentic packet creates stream state.
  if (s == nullptr) s = in_streams_.insert(ssrc);
  s->rtp.accept(index);
  ++stats_.unprotected_rtp;
  return len - inbound_->tag_size();
}

std::optional<size_t> Session::protect_rtcp(util::MutableBytes buf, size_t len) {
  if (!outbound_ || len > buf.size() || !rtcp_header_ok(buf.data(), len) ||
      buf.size() - len < outbound_->tag_size() + kSrtcpIndexSize || len > kMaxPacket) {
    return malformed();
  }
  uint32_t ssrc = util::load_be32(buf.data() + 4);
  Stream* s = outbound_stream(ssrc);
  if (s == nullptr) return fail(srtp_err_status_alloc_fail);
  // 2^31 SRTCP packets per SSRC need new keys (RFC 3711 §9.2); DTLS-SRTP cannot re-key.
  if (s->next_rtcp_index > Transform::kMaxRtcpIndex) return fail(srtp_err_status_key_expired);
  if (!outbound_->protect_rtcp(buf, len, ssrc, s->next_rtcp_index)) return fail(srtp_err_status_cipher_fail);
  ++s->next_rtcp_index;
  ++stats_.protected_rtcp;
  return len + kSrtcpIndexSize + outbound_->tag_size();
}

std::optional<size_t> Session::unprotect_rtcp(util::MutableBytes buf, size_t len) {
  if (!inbound_ || len > buf.size() || !rtcp_header_ok(buf.data(), len) ||
      len < kRtcpHeaderSize + kSrtcpIndexSize + inbound_->tag_size() || len > kMaxPacket) {
    return malformed();
  }
  uint32_t ssrc = util::load_be32(buf.data() + 4);
  Stream* s = in_streams_.find(ssrc);
  if (s == nullptr && in_streams_.full()) return fail(srtp_err_status_alloc_fail);
  const ReplayWindow& window = s != nullptr ? s->rtcp : kNoHistory;
  uint32_t index = util::load_be32(buf.data() + inbound_->rtcp_index_offset(len)) & Transform::kMaxRtcpIndex;
  switch (window.check(index)) {
    case ReplayWindow::Verdict::kDuplicate: return fail(srtp_err_status_replay_fail);
    case ReplayWindow::Verdict::kTooOld: return fail(srtp_err_status_replay_old);
    case ReplayWindow::Verdict::kFresh: break;
  }
  if (!inbound_->unprotect_rtcp(buf, len, ssrc)) return fail(srtp_err_status_auth_fail);
  if (s == nullptr) s = in_streams_.insert(ssrc);
  s->rtcp.accept(index);
  ++stats_.unprotected_rtcp;
  return len - kSrtcpIndexSize - inbound_->tag_size();
}

void Session::remove_ssrc(uint32_t ssrc) {
  out_streams_.erase(ssrc);
  in_streams_.erase(ssrc);
}

}  // namespace sb::srtp
