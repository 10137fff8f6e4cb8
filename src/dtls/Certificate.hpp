#pragma once
// The server's DTLS identity: an ECDSA P-256 key and a self-signed X.509 certificate,
// generated once at start-up and shared (read-only) by every Session. WebRTC peers
// authenticate it by the fingerprint in our SDP, not by a CA (RFC 8827 §6.5).
#include <openssl/types.h>

#include <chrono>
#include <memory>
#include <string>

#include "dtls/Fingerprint.hpp"
#include "util/Result.hpp"

namespace sb::dtls {

class Certificate {
 public:
  /// Validity runs from a day before `now` (clock skew at the peer) to 30 days after.
  static constexpr int kValidityDaysBefore = 1;
  static constexpr int kValidityDaysAfter = 30;
  static constexpr const char* kCommonName = "switchboard";

  /// Generates a fresh key and certificate. `now` is wall-clock time (validity dates).
  static util::Result<std::shared_ptr<const Certificate>> generate(std::chrono::system_clock::time_point now);

  ~Certificate();
  Certificate(const Certificate&) = delete;
  Certificate& operator=(const Certificate&) = delete;

  /// SHA-256 fingerprint in SDP form "AB:CD:..." (a=fingerprint:sha-256 <this>).
  const std::string& fingerprint() const { return fingerprint_sdp_; }
  const Fingerprint& sha256() const { return fingerprint_; }
  /// Borrowed OpenSSL handles, valid as long as this object.
  X509* x509() const { return x509_; }
  EVP_PKEY* private_key() const { return key_; }
  /// PEM of the certificate (for logs and tests).
  std::string pem() const;

 private:
  Certificate(X509* x509, EVP_PKEY* key, Fingerprint fp);

  X509* x509_;
  EVP_PKEY* key_;
  Fingerprint fingerprint_;
  std::string fingerprint_sdp_;
};

}  // namespace sb::dtls
