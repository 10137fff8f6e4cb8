#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <cctype>

#include "dtls/Certificate.hpp"
#include "dtls/Fingerprint.hpp"

using namespace sb::dtls;

TEST(Certificate, FingerprintIsUpperCaseColonSeparatedSha256) {
  auto cert = Certificate::generate(std::chrono::system_clock::now());
  ASSERT_TRUE(cert.ok()) << cert.error();
  const std::string& fp = (*cert)->fingerprint();
  ASSERT_EQ(fp.size(), 32u * 3 - 1) << fp;
  for (size_t i = 0; i < fp.size(); ++i) {
    if (i % 3 == 2) EXPECT_EQ(fp[i], ':') << fp;
    else EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(fp[i])) && !std::islower(static_cast<unsigned char>(fp[i]))) << fp;
  }
  auto computed = compute_fingerprint((*cert)->x509());
  ASSERT_TRUE(computed.ok());
  EXPECT_EQ(computed->to_sdp(), fp);
  EXPECT_EQ((*cert)->sha256().algorithm, "sha-256");
  EXPECT_EQ((*cert)->sha256(), *computed);
}

TEST(Certificate, SelfSignedP256WithExpectedNameAndValidity) {
  auto now = std::chrono::system_clock::now();
  auto cert = Certificate::generate(now);
  ASSERT_TRUE(cert.ok());
  X509* x = (*cert)->x509();
  char cn[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn);
  EXPECT_STREQ(cn, "switchboard");
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)), 0);
  EXPECT_EQ(X509_verify(x, (*cert)->private_key()), 1);
  int days = 0, secs = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)), 1);
  EXPECT_EQ(days, 31);
  EXPECT_EQ(EVP_PKEY_get_base_id((*cert)->private_key()), EVP_PKEY_EC);
  EXPECT_NE((*cert)->pem().find("BEGIN CERTIFICATE"), std::string::npos);
}

TEST(Certificate, EachOneIsDistinct) {
  auto a = Certificate::generate(std::chrono::system_clock::now());
  auto b = Certificate::generate(std::chrono::system_clock::now());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE((*a)->fingerprint(), (*b)->fingerprint());
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber((*a)->x509()), X509_get0_serialNumber((*b)->x509())), 0);
}

TEST(Fingerprint, ParsesSdpForm) {
  std::string v = "AB:cd:01:23:45:67:89:AB:CD:EF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:10:20:30:40:50:60";
  auto fp = parse_fingerprint("SHA-256", v);
  ASSERT_TRUE(fp.ok()) << fp.error();
  EXPECT_EQ(fp->algorithm, "sha-256");
  ASSERT_EQ(fp->digest.size(), 32u);
  EXPECT_EQ(fp->digest[0], 0xab);
  EXPECT_EQ(fp->digest[1], 0xcd);
  EXPECT_EQ(fp->to_sdp().substr(0, 5), "AB:CD");
  auto sha1 = parse_fingerprint("sha-1", "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33");
  EXPECT_TRUE(sha1.ok());
}

TEST(Fingerprint, RejectsMalformedValues) {
  EXPECT_FALSE(parse_fingerprint("md5", "00:11").ok());
  EXPECT_FALSE(parse_fingerprint("sha-256", "").ok());
  EXPECT_FALSE(parse_fingerprint("sha-256", "AB:CD").ok());
  std::string v(95, 'A');
  for (size_t i = 2; i < v.size(); i += 3) v[i] = ':';
  EXPECT_TRUE(parse_fingerprint("sha-256", v).ok());
  std::string bad = v;
  bad[0] = 'G';
  EXPECT_FALSE(parse_fingerprint("sha-256", bad).ok());
  bad = v;
  bad[2] = '-';
  EXPECT_FALSE(parse_fingerprint("sha-256", bad).ok());
  EXPECT_FALSE(parse_fingerprint("sha-1", v).ok());  // length of a SHA-256 digest
}

TEST(Fingerprint, ComputeWithOtherAlgorithms) {
  auto cert = Certificate::generate(std::chrono::system_clock::now());
  ASSERT_TRUE(cert.ok());
  auto fp = compute_fingerprint((*cert)->x509(), "sha-384");
  ASSERT_TRUE(fp.ok());
  EXPECT_EQ(fp->digest.size(), 48u);
  EXPECT_FALSE(compute_fingerprint((*cert)->x509(), "crc32").ok());
  EXPECT_FALSE(compute_fingerprint(nullptr).ok());
}
