#include "dtls/Fingerprint.hpp"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>

#include "util/Hex.hpp"

namespace sb::dtls {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return out;
}

/// The OpenSSL digest for an RFC 8122 hash name (RFC 8122 §5 "hash-func").
const EVP_MD* digest_for(std::string_view algorithm) {
  std::string name = lower(algorithm);
  if (name == "sha-1") return EVP_sha1();
  if (name == "sha-224") return EVP_sha224();
  if (name == "sha-256") return EVP_sha256();
  if (name == "sha-384") return EVP_sha384();
  if (name == "sha-512") return EVP_sha512();
  return nullptr;
}

}  // namespace

std::string Fingerprint::to_sdp() const {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(digest.size() * 3);
  for (size_t i = 0; i < digest.size(); ++i) {
    if (i != 0) out.push_back(':');
    out.push_back(kDigits[digest[i] >> 4]);
    out.push_back(kDigits[digest[i] & 0x0f]);
  }
  return out;
}

util::Result<Fingerprint> parse_fingerprint(std::string_view algorithm, std::string_view value) {
  const EVP_MD* md = digest_for(algorithm);
  if (md == nullptr) return util::make_error("unsupported fingerprint algorithm '" + std::string(algorithm) + "'");
  // Strictly "XX:XX:...": two hex digits per byte, colons between (RFC 8122 §5).
  size_t want = size_t(EVP_MD_get_size(md));
  if (value.size() != want * 3 - 1) return util::make_error("fingerprint has the wrong length for " + lower(algorithm));
  for (size_t i = 2; i < value.size(); i += 3) {
    if (value[i] != ':') return util::make_error("fingerprint is not colon-separated hex");
  }
  auto digest = util::from_hex(value);
  if (!digest || digest->size() != want) return util::make_error("fingerprint is not valid hex");
  return Fingerprint{lower(algorithm), std::move(*digest)};
}

util::Result<Fingerprint> compute_fingerprint(X509* cert, std::string_view algorithm) {
  const EVP_MD* md = digest_for(algorithm);
  if (md == nullptr) return util::make_error("unsupported fingerprint algorithm '" + std::string(algorithm) + "'");
  if (cert == nullptr) return util::make_error("no certificate");
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, md, buf, &len) != 1) return util::make_error("X509_digest failed");
  return Fingerprint{lower(algorithm), util::Bytes(buf, buf + len)};
}

}  // namespace sb::dtls
