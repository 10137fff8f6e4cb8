#include "srtp/LibSrtpSession.hpp"

#include <arpa/inet.h>

#include <array>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

#include "util/Log.hpp"

namespace sb::srtp {

namespace {

constexpr size_t kRtpHeaderSize = 12;   // RFC 3550 §5.1
constexpr size_t kRtcpHeaderSize = 8;   // RFC 3550 §6.4: V/P/RC, PT, length, SSRC
constexpr size_t kSrtcpIndexSize = 4;   // RFC 3711 §3.4: E flag + 31-bit index

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

void set_crypto_policy(Profile profile, srtp_crypto_policy_t& policy) {
  if (profile == Profile::AeadAes128Gcm) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy);
  } else {
    srtp_crypto_policy_set_rtp_default(&policy);  // AES-128-CM + HMAC-SHA1-80
  }
}

util::Result<srtp_t> make_context(Profile profile, const SrtpKeys& keys, srtp_ssrc_type_t direction) {
  // libsrtp takes the master key followed by the master salt in one buffer.
  std::array<uint8_t, 32> master{};
  std::copy(keys.key.begin(), keys.key.end(), master.begin());
  std::copy(keys.salt.begin(), keys.salt.end(), master.begin() + keys.key.size());

  srtp_policy_t policy{};
  set_crypto_policy(profile, policy.rtp);
  set_crypto_policy(profile, policy.rtcp);
  policy.ssrc.type = direction;
  policy.key = master.data();
  policy.window_size = LibSrtpSession::kReplayWindow;
  // The SFU may resend an already protected packet unchanged when answering a NACK
  // without RTX (RFC 4585 §6.2.1); the receiver's replay window drops true duplicates.
  policy.allow_repeat_tx = direction == ssrc_any_outbound ? 1 : 0;
  policy.next = nullptr;

  srtp_t ctx = nullptr;
  srtp_err_status_t st = srtp_create(&ctx, &policy);
  if (st != srtp_err_status_ok) return util::make_error("srtp_create failed: status " + std::to_string(st));
  return ctx;
}

}  // namespace

void init() {
  static std::once_flag once;
  std::call_once(once, [] {
    srtp_err_status_t st = srtp_init();
    if (st != srtp_err_status_ok) util::logger("srtp")->error("srtp_init failed: status {}", int(st));
  });
}

LibSrtpSession::LibSrtpSession(Profile profile, const SrtpKeys& local, const SrtpKeys& remote) {
  auto r = init_contexts(profile, local, remote);
  if (!r) throw std::invalid_argument(r.error());
}

util::Result<LibSrtpSession> LibSrtpSession::create(Profile profile, const SrtpKeys& local, const SrtpKeys& remote) {
  LibSrtpSession s;
  auto r = s.init_contexts(profile, local, remote);
  if (!r) return util::make_error(r.error());
  return s;
}

util::Result<void> LibSrtpSession::init_contexts(Profile profile, const SrtpKeys& local, const SrtpKeys& remote) {
  init();
  if (!keys_fit(profile, local) || !keys_fit(profile, remote)) {
    return util::make_error("SRTP key/salt length does not fit " + std::string(to_string(profile)));
  }
  profile_ = profile;
  auto out = make_context(profile, local, ssrc_any_outbound);
  if (!out) return util::make_error(out.error());
  outbound_ = *out;
  auto in = make_context(profile, remote, ssrc_any_inbound);
  if (!in) {
    release();
    return util::make_error(in.error());
  }
  inbound_ = *in;
  return {};
}

LibSrtpSession::~LibSrtpSession() { release(); }

void LibSrtpSession::release() {
  if (outbound_ != nullptr) srtp_dealloc(outbound_);
  if (inbound_ != nullptr) srtp_dealloc(inbound_);
  outbound_ = nullptr;
  inbound_ = nullptr;
}

LibSrtpSession::LibSrtpSession(LibSrtpSession&& other) noexcept
    : profile_(other.profile_),
      outbound_(std::exchange(other.outbound_, nullptr)),
      inbound_(std::exchange(other.inbound_, nullptr)),
      out_ssrcs_(std::move(other.out_ssrcs_)),
      in_ssrcs_(std::move(other.in_ssrcs_)),
      stats_(other.stats_),
      last_error_(other.last_error_) {}

LibSrtpSession& LibSrtpSession::operator=(LibSrtpSession&& other) noexcept {
  if (this != &other) {
    release();
    profile_ = other.profile_;
    outbound_ = std::exchange(other.outbound_, nullptr);
    inbound_ = std::exchange(other.inbound_, nullptr);
    out_ssrcs_ = std::move(other.out_ssrcs_);
    in_ssrcs_ = std::move(other.in_ssrcs_);
    stats_ = other.stats_;
    last_error_ = other.last_error_;
  }
  return *this;
}

bool LibSrtpSession::admit(std::unordered_set<uint32_t>& known, uint32_t ssrc) {
  if (known.count(ssrc) != 0) return true;
  if (known.size() >= kMaxStreams) {
    ++stats_.stream_limit;
    last_error_ = srtp_err_status_alloc_fail;
    return false;
  }
  return true;
}

std::optional<size_t> LibSrtpSession::fail(srtp_err_status_t status) {
  last_error_ = status;
  switch (status) {
    case srtp_err_status_auth_fail: ++stats_.auth_failures; break;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old: ++stats_.replays; break;
    default: ++stats_.other; break;
  }
  return std::nullopt;
}

std::optional<size_t> LibSrtpSession::protect_rtp(util::MutableBytes buf, size_t len) {
  if (outbound_ == nullptr || len > buf.size() || !rtp_header_size(buf.data(), len) ||
      buf.size() - len < auth_tag_length(profile_) || len > size_t(std::numeric_limits<int>::max())) {
    ++stats_.malformed;
    last_error_ = srtp_err_status_bad_param;
    return std::nullopt;
  }
  uint32_t ssrc = util::load_be32(buf.data() + 8);
  if (!admit(out_ssrcs_, ssrc)) return std::nullopt;
  int n = int(len);
  srtp_err_status_t st = srtp_protect(outbound_, buf.data(), &n);
  if (st != srtp_err_status_ok) return fail(st);
  out_ssrcs_.insert(ssrc);
  ++stats_.protected_rtp;
  return size_t(n);
}

std::optional<size_t> LibSrtpSession::unprotect_rtp(util::MutableBytes buf, size_t len) {
  auto header = len <= buf.size() ? rtp_header_size(buf.data(), len) : std::nullopt;
  if (inbound_ == nullptr || !header || len - *header < auth_tag_length(profile_) ||
      len > size_t(std::numeric_limits<int>::max())) {
    ++stats_.malformed;
    last_error_ = srtp_err_status_bad_param;
    return std::nullopt;
  }
  uint32_t ssrc = util::load_be32(buf.data() + 8);
  if (!admit(in_ssrcs_, ssrc)) return std::nullopt;
  int n = int(len);
  srtp_err_status_t st = srtp_unprotect(inbound_, buf.data(), &n);
  if (st != srtp_err_status_ok) return fail(st);
  in_ssrcs_.insert(ssrc);
  ++stats_.unprotected_rtp;
  return size_t(n);
}

std::optional<size_t> LibSrtpSession::protect_rtcp(util::MutableBytes buf, size_t len) {
  if (outbound_ == nullptr || len > buf.size() || !rtcp_header_ok(buf.data(), len) ||
      buf.size() - len < auth_tag_length(profile_) + kSrtcpIndexSize ||
      len > size_t(std::numeric_limits<int>::max())) {
    ++stats_.malformed;
    last_error_ = srtp_err_status_bad_param;
    return std::nullopt;
  }
  uint32_t ssrc = util::load_be32(buf.data() + 4);
  if (!admit(out_ssrcs_, ssrc)) return std::nullopt;
  int n = int(len);
  srtp_err_status_t st = srtp_protect_rtcp(outbound_, buf.data(), &n);
  if (st != srtp_err_status_ok) return fail(st);
  out_ssrcs_.insert(ssrc);
  ++stats_.protected_rtcp;
  return size_t(n);
}

std::optional<size_t> LibSrtpSession::unprotect_rtcp(util::MutableBytes buf, size_t len) {
  if (inbound_ == nullptr || len > buf.size() || !rtcp_header_ok(buf.data(), len) ||
      len < kRtcpHeaderSize + kSrtcpIndexSize + auth_tag_length(profile_) ||
      len > size_t(std::numeric_limits<int>::max())) {
    ++stats_.malformed;
    last_error_ = srtp_err_status_bad_param;
    return std::nullopt;
  }
  uint32_t ssrc = util::load_be32(buf.data() + 4);
  if (!admit(in_ssrcs_, ssrc)) return std::nullopt;
  int n = int(len);
  srtp_err_status_t st = srtp_unprotect_rtcp(inbound_, buf.data(), &n);
  if (st != srtp_err_status_ok) return fail(st);
  in_ssrcs_.insert(ssrc);
  ++stats_.unprotected_rtcp;
  return size_t(n);
}

void LibSrtpSession::remove_ssrc(uint32_t ssrc) {
  // libsrtp wants the SSRC in network byte order here; a missing stream is not an error.
  if (out_ssrcs_.erase(ssrc) != 0 && outbound_ != nullptr) srtp_remove_stream(outbound_, htonl(ssrc));
  if (in_ssrcs_.erase(ssrc) != 0 && inbound_ != nullptr) srtp_remove_stream(inbound_, htonl(ssrc));
}

}  // namespace sb::srtp
