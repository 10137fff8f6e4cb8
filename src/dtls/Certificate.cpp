#include "dtls/Certificate.hpp"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <ctime>

namespace sb::dtls {

namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;

/// A random positive 64-bit serial (RFC 5280 §4.1.2.2: unique, positive, ≤ 20 octets).
bool set_random_serial(X509* x) {
  unsigned char raw[8];
  if (RAND_bytes(raw, sizeof raw) != 1) return false;
  raw[0] &= 0x7f;
  raw[0] |= 0x01;  // never zero
  BnPtr bn(BN_bin2bn(raw, sizeof raw, nullptr));
  return bn && BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(x)) != nullptr;
}

}  // namespace

util::Result<std::shared_ptr<const Certificate>> Certificate::generate(std::chrono::system_clock::time_point now) {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return util::make_error("ECDSA P-256 key generation failed");

  X509Ptr x(X509_new());
  if (!x) return util::make_error("X509_new failed");
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  bool ok = X509_set_version(x.get(), 2) == 1 && set_random_serial(x.get()) &&
            X509_time_adj_ex(X509_getm_notBefore(x.get()), -kValidityDaysBefore, 0, &t) != nullptr &&
            X509_time_adj_ex(X509_getm_notAfter(x.get()), kValidityDaysAfter, 0, &t) != nullptr &&
            X509_set_pubkey(x.get(), key.get()) == 1;
  if (ok) {
    X509_NAME* name = X509_get_subject_name(x.get());
    ok = X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                    reinterpret_cast<const unsigned char*>(kCommonName), -1, -1, 0) == 1 &&
         X509_set_issuer_name(x.get(), name) == 1 && X509_sign(x.get(), key.get(), EVP_sha256()) > 0;
  }
  if (!ok) return util::make_error("building the self-signed certificate failed");

  auto fp = compute_fingerprint(x.get());
  if (!fp) return util::make_error(fp.error());
  return std::shared_ptr<const Certificate>(new Certificate(x.release(), key.release(), std::move(*fp)));
}

Certificate::Certificate(X509* x509, EVP_PKEY* key, Fingerprint fp)
    : x509_(x509), key_(key), fingerprint_(std::move(fp)), fingerprint_sdp_(fingerprint_.to_sdp()) {}

Certificate::~Certificate() {
  X509_free(x509_);
  EVP_PKEY_free(key_);
}

std::string Certificate::pem() const {
  std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), x509_) != 1) return {};
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, size_t(len)) : std::string();
}

}  // namespace sb::dtls
