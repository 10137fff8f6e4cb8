#include "dtls/Session.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <deque>
#include <string>
#include <utility>

#include "util/Log.hpp"

namespace sb::dtls {

namespace {

using util::Bytes;
using util::ByteView;
using util::Timestamp;

/// What OpenSSL's own retransmission timer is set to: far beyond any handshake, so
/// it never fires and our clock alone decides (see Session.hpp).
constexpr unsigned int kParkedTimerUs = 3600u * 1000000u;
constexpr size_t kRecordHeaderSize = 13;  // RFC 6347 §4.1: type, version, epoch, seq, length
constexpr uint8_t kContentTypeHandshake = 22;
constexpr uint8_t kContentTypeAlert = 21;

/// Once the association is released an alert can no longer be decrypted, so only
/// one shaped like the peer's encrypted alert after its Finished is believed:
/// one record of DTLS 1.0/1.2 (RFC 6347 §4.1), epoch 1, one of the first record
/// numbers of that epoch (the Finished was number 0), and short (an alert is
/// 2 bytes of plaintext plus the cipher's overhead). Stray or random datagrams
/// from the peer's address then do not end the session.
bool plausible_peer_alert(util::ByteView d) {
  constexpr uint64_t kMaxEpoch1Record = 16;
  constexpr size_t kMaxAlertRecord = 128;
  if (d.size() < kRecordHeaderSize || d.size() > kRecordHeaderSize + kMaxAlertRecord) return false;
  bool version = d[1] == 0xfe && (d[2] == 0xfd || d[2] == 0xff);
  uint64_t seq = uint64_t(util::load_be16(&d[5])) << 32 | util::load_be32(&d[7]);
  return version && util::load_be16(&d[3]) == 1 && seq >= 1 && seq <= kMaxEpoch1Record &&
         util::load_be16(&d[11]) == d.size() - kRecordHeaderSize;
}
constexpr size_t kMaxDatagramSize = 65535;
constexpr size_t kReadChunk = 4096;
/// RFC 5764 §4.2 exporter label for SRTP master keys.
constexpr std::string_view kExporterLabel = "EXTRACTOR-dtls_srtp";
/// ECDHE with AEAD first, as browsers negotiate it; ECDSA suites serve our own
/// certificate, the RSA ones only matter when a peer's certificate is RSA.
constexpr const char* kCipherList =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA";
constexpr const char* kGroups = "X25519:P-256";

unsigned int park_timer(SSL*, unsigned int) { return kParkedTimerUs; }

/// Everything on OpenSSL's error queue, joined; clears it.
std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown error" : out;
}

/// One SSL_CTX for all sessions: version, options, ciphers and groups are the same
/// for everyone; certificate, verification and SRTP profiles are set per SSL.
struct SharedContext {
  SSL_CTX* ctx = nullptr;
  int ex_index = -1;
};

const SharedContext& shared_context() {
  static const SharedContext shared = [] {
    SharedContext c;
    c.ctx = SSL_CTX_new(DTLS_method());
    if (c.ctx == nullptr) return c;
    // DTLS 1.2 only (RFC 8827 §6.5 requires ≥ 1.2); no resumption, so the server
    // always sends the final flight (see the resend rule in Session.hpp).
    bool ok = SSL_CTX_set_min_proto_version(c.ctx, DTLS1_2_VERSION) == 1 &&
              SSL_CTX_set_max_proto_version(c.ctx, DTLS1_2_VERSION) == 1 &&
              SSL_CTX_set_cipher_list(c.ctx, kCipherList) == 1 && SSL_CTX_set1_groups_list(c.ctx, kGroups) == 1;
    SSL_CTX_set_options(c.ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
                                   SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_cache_mode(c.ctx, SSL_SESS_CACHE_OFF);
    c.ex_index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    if (!ok || c.ex_index < 0) {
      util::logger("dtls")->error("DTLS context setup failed: {}", openssl_errors());
      SSL_CTX_free(c.ctx);
      c.ctx = nullptr;
    }
    return c;
  }();
  return shared;
}

}  // namespace

struct Session::Impl {
  Impl(std::shared_ptr<const Certificate> cert, Role r, std::optional<Fingerprint> remote, SessionConfig cfg)
      : certificate(std::move(cert)), role(r), remote_fingerprint(std::move(remote)), config(std::move(cfg)),
        rto(config.initial_rto), log(util::logger("dtls")) {
    setup();
  }

  ~Impl() {
    if (ssl != nullptr) SSL_free(ssl);  // frees both BIOs
  }

  void setup() {
    const SharedContext& shared = shared_context();
    if (shared.ctx == nullptr) return fail("DTLS context unavailable");
    if (!certificate) return fail("DTLS session without a certificate");
    if (config.srtp_profiles.empty()) return fail("DTLS session without SRTP profiles");
    ssl = SSL_new(shared.ctx);
    if (ssl == nullptr) return fail("SSL_new failed: " + openssl_errors());
    // Once the handshake is over the association is idle (media runs on SRTP):
    // give its record buffers back instead of holding ~30 KB per participant.
    SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
    rbio = BIO_new(BIO_s_mem());
    wbio = BIO_new(BIO_s_mem());
    if (rbio == nullptr || wbio == nullptr) {
      BIO_free(rbio);
      BIO_free(wbio);
      return fail("BIO_new failed");
    }
    // An empty read BIO means "wait for more", not end of stream.
    BIO_set_mem_eof_return(rbio, -1);
    BIO_set_mem_eof_return(wbio, -1);
    SSL_set_bio(ssl, rbio, wbio);
    SSL_set_ex_data(ssl, shared.ex_index, this);

    std::string profiles;
    for (srtp::Profile p : config.srtp_profiles) {
      if (!profiles.empty()) profiles += ':';
      profiles += srtp::to_string(p);
    }
    // Peers authenticate by fingerprint, so any self-signed certificate is
    // acceptable to OpenSSL; the callback pins the leaf (RFC 8842 §5, RFC 5763 §5).
    SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, &Impl::verify_callback);
    bool ok = SSL_use_certificate(ssl, certificate->x509()) == 1 &&
              SSL_use_PrivateKey(ssl, certificate->private_key()) == 1 &&
              SSL_set_tlsext_use_srtp(ssl, profiles.c_str()) == 0 &&  // 0 means success here
              SSL_set_mtu(ssl, long(config.mtu)) > 0;  // returns the MTU set
    if (!ok) return fail("DTLS session setup failed: " + openssl_errors());
    DTLS_set_timer_cb(ssl, &park_timer);
    if (role == Role::kClient) SSL_set_connect_state(ssl);
    else SSL_set_accept_state(ssl);
  }

  static int verify_callback(int /*preverify_ok*/, X509_STORE_CTX* store) {
    auto* s = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    auto* self = s ? static_cast<Impl*>(SSL_get_ex_data(s, shared_context().ex_index)) : nullptr;
    if (self == nullptr) return 0;
    // Only the leaf is pinned by the fingerprint; whatever chain sits above it is irrelevant.
    if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
    return self->check_peer(X509_STORE_CTX_get_current_cert(store)) ? 1 : 0;
  }

  /// True unless the certificate contradicts a known fingerprint. An unknown one is
  /// checked again when the handshake completes.
  bool check_peer(X509* cert) {
    if (!remote_fingerprint) return true;
    auto got = compute_fingerprint(cert, remote_fingerprint->algorithm);
    if (!got) {
      verify_failure = "DTLS peer certificate unusable: " + got.error();
      return false;
    }
    if (got->digest != remote_fingerprint->digest) {
      verify_failure = "DTLS fingerprint mismatch: expected " + remote_fingerprint->to_sdp() + ", got " +
                       got->to_sdp();
      return false;
    }
    return true;
  }

  bool terminal() const { return state == State::kFailed || state == State::kClosed; }

  void fail(std::string reason) {
    if (terminal()) return;
    state = State::kFailed;
    deadline = util::kNever;
    log->warn("{}", reason);
    push_event(Failed{std::move(reason)});
  }

  void push_event(Event e) {
    // Terminal events are few (one per session) and Connected at most one: the bound
    // only guards against a caller that never polls.
    if (events.size() < kMaxQueuedEvents) events.push_back(std::move(e));
  }

  /// Reads what OpenSSL wrote and cuts it into datagrams of whole records, each at
  /// most config.mtu (several records may share one, RFC 6347 §4.1.1).
  std::vector<Bytes> drain_output() {
    std::vector<Bytes> out;
    size_t pending = BIO_ctrl_pending(wbio);
    if (pending == 0) return out;
    Bytes raw(pending);
    int n = BIO_read(wbio, raw.data(), int(raw.size()));
    if (n <= 0) return out;
    ByteView rest(raw.data(), size_t(n));
    Bytes current;
    while (!rest.empty()) {
      size_t record = rest.size() >= kRecordHeaderSize ? kRecordHeaderSize + util::load_be16(&rest[11]) : rest.size();
      record = std::min(record, rest.size());
      if (!current.empty() && current.size() + record > config.mtu) out.push_back(std::exchange(current, {}));
      current.insert(current.end(), rest.begin(), rest.begin() + ptrdiff_t(record));
      rest = rest.subspan(record);
    }
    if (!current.empty()) out.push_back(std::move(current));
    return out;
  }

  /// RFC 6347 §4.2.4: the side that sent the last flight answers a
  /// retransmission of the peer's flight with its own again, a bounded number of times.
  void resend_final_flight() {
    if (role != Role::kServer || flight.empty() || final_flight_resends >= kMaxFinalFlightResends) return;
    ++final_flight_resends;
    ++stats.retransmitted_flights;
    queue(flight);
  }

  void queue(const std::vector<Bytes>& datagrams) {
    for (const Bytes& d : datagrams) {
      if (transmits.size() >= kMaxQueuedDatagrams) {
        ++stats.dropped_transmits;
        continue;
      }
      transmits.push_back(d);
    }
  }

  /// One step of the handshake; called after new input or at start.
  void step_handshake(Timestamp now) {
    ERR_clear_error();
    int r = SSL_do_handshake(ssl);
    std::vector<Bytes> out = drain_output();
    if (r == 1) {
      deadline = util::kNever;
      finish_handshake();
      // The server's final flight is withheld when its checks failed, so the peer
      // never believes it is connected to someone we rejected.
      if (state == State::kConnected && !out.empty()) {
        queue(out);
        flight = std::move(out);
      }
      return;
    }
    int err = SSL_get_error(ssl, r);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      if (state == State::kNew) state = State::kConnecting;
      if (!out.empty()) {
        // A whole new flight comes out of one call: the peer's previous flight is
        // complete, so restart the retransmission schedule for ours.
        queue(out);
        flight = std::move(out);
        retransmits = 0;
        rto = config.initial_rto;
        deadline = now + rto;
      }
      return;
    }
    queue(out);  // the alert that tells the peer why
    std::string reason = verify_failure ? *verify_failure : "DTLS handshake failed: " + openssl_errors();
    fail(std::move(reason));
  }

  void finish_handshake() {
    X509* peer = SSL_get0_peer_certificate(ssl);
    if (peer == nullptr) return fail("DTLS peer sent no certificate");
    if (!remote_fingerprint) return fail("DTLS handshake completed before the remote fingerprint was known");
    if (!check_peer(peer)) return fail(*verify_failure);

    const SRTP_PROTECTION_PROFILE* selected = SSL_get_selected_srtp_profile(ssl);
    auto profile = selected ? srtp::profile_from_id(uint16_t(selected->id)) : std::nullopt;
    if (!profile) return fail("DTLS peer negotiated no usable SRTP profile (use_srtp, RFC 5764 §4.1.1)");

    // RFC 5764 §4.2: client key | server key | client salt | server salt.
    size_t kl = srtp::master_key_length(*profile);
    size_t sl = srtp::master_salt_length(*profile);
    Bytes m(2 * (kl + sl));
    if (SSL_export_keying_material(ssl, m.data(), m.size(), kExporterLabel.data(), kExporterLabel.size(),
                                   nullptr, 0, 0) != 1) {
      return fail("DTLS-SRTP key export failed: " + openssl_errors());
    }
    auto at = [&](size_t off, size_t len) { return Bytes(m.begin() + ptrdiff_t(off), m.begin() + ptrdiff_t(off + len)); };
    srtp::SrtpKeys client{at(0, kl), at(2 * kl, sl)};
    srtp::SrtpKeys server{at(kl, kl), at(2 * kl + sl, sl)};
    OPENSSL_cleanse(m.data(), m.size());

    state = State::kConnected;
    negotiated = profile;
    log->info("DTLS connected as {}, cipher {}, SRTP profile {}", role == Role::kClient ? "client" : "server",
              SSL_get_cipher_name(ssl), srtp::to_string(*profile));
    if (role == Role::kClient) push_event(Connected{*profile, std::move(client), std::move(server)});
    else push_event(Connected{*profile, std::move(server), std::move(client)});
  }

  /// Reads records after the handshake: application data (no consumer yet),
  /// close_notify, alerts. Returns whether OpenSSL wrote anything in response.
  bool step_connected() {
    std::array<uint8_t, kReadChunk> buf;
    int err = SSL_ERROR_NONE;
    for (;;) {
      ERR_clear_error();
      int n = SSL_read(ssl, buf.data(), int(buf.size()));
      if (n > 0) {
        stats.app_data_bytes_dropped += uint64_t(n);
        log->debug("DTLS application data ({} bytes) dropped: no consumer", n);
        continue;
      }
      err = SSL_get_error(ssl, n);
      break;
    }
    std::vector<Bytes> out = drain_output();
    queue(out);
    if (err == SSL_ERROR_ZERO_RETURN) {
      state = State::kClosed;
      log->info("DTLS close_notify received");
      push_event(Closed{});
    } else if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      fail("DTLS connection failed: " + openssl_errors());
    }
    return !out.empty();
  }

  std::shared_ptr<const Certificate> certificate;
  Role role;
  std::optional<Fingerprint> remote_fingerprint;
  SessionConfig config;
  SSL* ssl = nullptr;
  BIO* rbio = nullptr;  // owned by ssl
  BIO* wbio = nullptr;  // owned by ssl
  State state = State::kNew;
  std::optional<srtp::Profile> negotiated;
  std::optional<std::string> verify_failure;

  std::deque<Bytes> transmits;
  std::deque<Event> events;
  Stats stats;

  std::vector<Bytes> flight;  ///< our last flight, as sent
  std::vector<Bytes> goodbye;  ///< our close_notify, made when the association is released
  bool released = false;      ///< the OpenSSL association was freed (release_association)
  Timestamp deadline = util::kNever;
  util::Duration rto;
  int retransmits = 0;
  int final_flight_resends = 0;

  std::shared_ptr<spdlog::logger> log;
};

Session::Session(std::shared_ptr<const Certificate> certificate, Role role,
                 std::optional<Fingerprint> remote_fingerprint, SessionConfig config)
    : impl_(std::make_unique<Impl>(std::move(certificate), role, std::move(remote_fingerprint), std::move(config))) {}

Session::~Session() = default;
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;

Role Session::role() const { return impl_->role; }
Session::State Session::state() const { return impl_->state; }
const Session::Stats& Session::stats() const { return impl_->stats; }
std::optional<srtp::Profile> Session::srtp_profile() const { return impl_->negotiated; }

void Session::set_remote_fingerprint(Fingerprint fp) { impl_->remote_fingerprint = std::move(fp); }

void Session::start(util::Timestamp now) {
  Impl& s = *impl_;
  if (s.state != State::kNew) return;
  s.state = State::kConnecting;
  if (s.role == Role::kClient) s.step_handshake(now);
}

void Session::handle_datagram(util::Timestamp now, util::ByteView datagram) {
  Impl& s = *impl_;
  ++s.stats.datagrams_in;
  // RFC 7983 §7: DTLS owns first bytes 20..63; a record header is 13 bytes.
  if (datagram.size() < kRecordHeaderSize || datagram.size() > kMaxDatagramSize || datagram[0] < 20 ||
      datagram[0] > 63) {
    ++s.stats.dropped_not_dtls;
    return;
  }
  if (s.released) {
    // Without the association we cannot read records any more. A finished peer
    // still sends an alert (close_notify when it closes, or a fatal one), which
    // ends the association (RFC 5246 §7.2); a client that missed our final
    // flight sends its own again, and gets the kept copy of ours.
    if (s.state == State::kConnected && datagram[0] == kContentTypeAlert && plausible_peer_alert(datagram)) {
      s.state = State::kClosed;
      s.events.push_back(Closed{});
    } else if (s.state == State::kConnected && datagram[0] == kContentTypeHandshake) {
      s.resend_final_flight();
    }
    return;
  }
  if (s.terminal() || s.ssl == nullptr) return;
  if (BIO_write(s.rbio, datagram.data(), int(datagram.size())) != int(datagram.size())) return;

  if (!SSL_is_init_finished(s.ssl)) {
    s.step_handshake(now);
  } else {
    bool answered = s.step_connected();
    // Handshake records after we finished mean the client is still waiting for our
    // final flight (its resend may be dropped as a duplicate before OpenSSL sees it).
    if (!answered && s.state == State::kConnected && datagram[0] == kContentTypeHandshake) s.resend_final_flight();
  }
  // Datagram boundaries matter to DTLS: never let leftovers merge with the next one.
  (void)BIO_reset(s.rbio);
}

void Session::handle_timeout(util::Timestamp now) {
  Impl& s = *impl_;
  if (s.state != State::kConnecting || s.deadline == util::kNever || now < s.deadline) return;
  if (s.retransmits >= s.config.max_retransmits) {
    s.fail("DTLS handshake timed out after " + std::to_string(s.retransmits) + " retransmissions");
    return;
  }
  ++s.retransmits;
  ++s.stats.retransmitted_flights;
  s.queue(s.flight);
  s.rto = std::min(s.rto * 2, s.config.max_rto);  // RFC 6347 §4.2.4.1: double each time
  s.deadline = now + s.rto;
}

void Session::release_association() {
  Impl& s = *impl_;
  if (s.state != State::kConnected || s.released || s.ssl == nullptr) return;
  // Our close_notify, encrypted while the keys are still at hand; close() sends
  // it. Nothing else is sent under epoch 1, so its record number stays fresh.
  ERR_clear_error();
  if (SSL_shutdown(s.ssl) >= 0) s.goodbye = s.drain_output();
  SSL_free(s.ssl);  // frees both BIOs
  s.ssl = nullptr;
  s.rbio = s.wbio = nullptr;
  // A client's last flight needs no resend: it only finished on receiving ours.
  if (s.role == Role::kClient) forget_final_flight();
  s.released = true;
}

void Session::forget_final_flight() {
  Impl& s = *impl_;
  s.flight.clear();
  s.flight.shrink_to_fit();
}

bool Session::released() const { return impl_->released; }

void Session::close(util::Timestamp) {
  Impl& s = *impl_;
  if (s.terminal()) return;
  if (s.ssl != nullptr && SSL_is_init_finished(s.ssl)) {
    ERR_clear_error();
    (void)SSL_shutdown(s.ssl);
    s.queue(s.drain_output());
  } else if (s.released) {
    s.queue(s.goodbye);
  }
  s.state = State::kClosed;
  s.deadline = util::kNever;
}

std::optional<util::Bytes> Session::poll_transmit() {
  Impl& s = *impl_;
  if (s.transmits.empty()) return std::nullopt;
  Bytes d = std::move(s.transmits.front());
  s.transmits.pop_front();
  return d;
}

std::optional<Event> Session::poll_event() {
  Impl& s = *impl_;
  if (s.events.empty()) return std::nullopt;
  Event e = std::move(s.events.front());
  s.events.pop_front();
  return e;
}

util::Timestamp Session::poll_timeout() const {
  return impl_->state == State::kConnecting ? impl_->deadline : util::kNever;
}

}  // namespace sb::dtls
