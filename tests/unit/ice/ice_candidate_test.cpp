#include <gtest/gtest.h>

#include "ice/Candidate.hpp"
#include "ice/Credentials.hpp"
#include "util/Random.hpp"

namespace sb::ice {
namespace {

using util::SocketAddr;

TEST(IceCandidate, ParsesChromeHostCandidate) {
  auto c = parse_candidate(
      "candidate:842163049 1 udp 2122260223 192.168.1.7 54321 typ host generation 0 ufrag EsBc network-id 1 "
      "network-cost 10");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->foundation, "842163049");
  EXPECT_EQ(c->component, 1);
  EXPECT_TRUE(c->is_udp());
  EXPECT_EQ(c->priority, 2122260223u);
  EXPECT_EQ(c->type, CandidateType::kHost);
  EXPECT_EQ(c->addr, SocketAddr::parse("192.168.1.7:54321"));
  EXPECT_FALSE(c->is_mdns());
}

TEST(IceCandidate, WithoutPrefixAndWithAttributePrefix) {
  auto a = parse_candidate("1 1 UDP 2130706431 127.0.0.1 5000 typ host");
  ASSERT_TRUE(a) << a.error();
  EXPECT_EQ(a->transport, "udp");
  EXPECT_EQ(a->addr, SocketAddr::parse("127.0.0.1:5000"));
  auto b = parse_candidate("a=candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host\r\n");
  ASSERT_TRUE(b) << b.error();
  EXPECT_EQ(b->addr, a->addr);
}

TEST(IceCandidate, Ipv6AndServerReflexive) {
  auto c = parse_candidate("candidate:3 1 udp 1686052607 2001:db8::5 61000 typ srflx raddr fe80::1 rport 9 generation 2");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->type, CandidateType::kServerReflexive);
  EXPECT_EQ(c->addr, SocketAddr::parse("[2001:db8::5]:61000"));
  EXPECT_EQ(c->related, SocketAddr::parse("[fe80::1]:9"));
  EXPECT_EQ(c->generation, 2u);
}

TEST(IceCandidate, MdnsHostnameIsNotAnIp) {
  auto c = parse_candidate(
      "candidate:1467250027 1 udp 2122260223 4b1e2f6a-1c3d-4e5f-8a9b-0c1d2e3f4a5b.local 56143 typ host generation 0");
  ASSERT_TRUE(c) << c.error();
  EXPECT_FALSE(c->addr);
  EXPECT_TRUE(c->is_mdns());
  EXPECT_EQ(c->address, "4b1e2f6a-1c3d-4e5f-8a9b-0c1d2e3f4a5b.local");
  EXPECT_EQ(c->port, 56143);
}

TEST(IceCandidate, TcpCandidate) {
  auto c = parse_candidate("candidate:5 1 tcp 1518280447 10.0.0.2 9 typ host tcptype active generation 0");
  ASSERT_TRUE(c) << c.error();
  EXPECT_FALSE(c->is_udp());
  EXPECT_EQ(c->tcp_type, "active");
}

TEST(IceCandidate, RejectsGarbageWithReason) {
  const char* bad[] = {
      "",
      "candidate:",
      "hello world",
      "candidate:1 1 udp 2130706431 127.0.0.1 5000 host",          // no typ
      "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ magic",     // unknown type
      "candidate:1 1 udp 0 127.0.0.1 5000 typ host",               // priority 0
      "candidate:1 1 udp 4294967295 127.0.0.1 5000 typ host",      // priority > 2^31-1
      "candidate:1 1 udp 12x 127.0.0.1 5000 typ host",
      "candidate:1 0 udp 1 127.0.0.1 5000 typ host",               // component 0
      "candidate:1 1 sctp 1 127.0.0.1 5000 typ host",
      "candidate:1 1 udp 1 127.0.0.1 70000 typ host",              // port
      "candidate:1 1 udp 1 1.2.3.999 5000 typ host",               // not an IP, not a name
      "candidate:1 1 udp 1 bad_host! 5000 typ host",
      "candidate:1 1 udp 1 127.0.0.1 5000 typ host generation",    // dangling extension
      "candidate:f@o 1 udp 1 127.0.0.1 5000 typ host",             // foundation chars
  };
  for (const char* line : bad) {
    auto c = parse_candidate(line);
    EXPECT_FALSE(c) << line;
    if (!c) {
      EXPECT_FALSE(c.error().empty());
    }
  }
}

TEST(IceCandidate, FormatHostCandidate) {
  const auto addr = *SocketAddr::parse("203.0.113.5:40000");
  const uint32_t prio = candidate_priority(CandidateType::kHost, 65535, 1);
  EXPECT_EQ(prio, 2130706431u);
  const std::string line = format_host_candidate("1", prio, addr);
  EXPECT_EQ(line, "candidate:1 1 udp 2130706431 203.0.113.5 40000 typ host generation 0");
  auto back = parse_candidate(line);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->addr, addr);
  EXPECT_EQ(format_candidate(*back), line);

  const auto v6 = *SocketAddr::parse("[2001:db8::1]:3478");
  EXPECT_EQ(format_host_candidate("2", 100, v6), "candidate:2 1 udp 100 2001:db8::1 3478 typ host generation 0");
}

TEST(IceCandidate, FormatRoundTripsReflexive) {
  const std::string line = "candidate:3 1 udp 1686052607 198.51.100.9 61000 typ srflx raddr 10.0.0.1 rport 5000 generation 0";
  auto c = parse_candidate(line);
  ASSERT_TRUE(c);
  EXPECT_EQ(format_candidate(*c), line);
}

TEST(IceCredentials, GeneratedAreValid) {
  auto rng = util::make_seeded_random(11);
  for (int i = 0; i < 20; ++i) {
    auto c = Credentials::generate(*rng);
    EXPECT_TRUE(c.valid());
    EXPECT_GE(c.ufrag.size(), 4u);
    EXPECT_GE(c.pwd.size(), 22u);
  }
  EXPECT_FALSE((Credentials{"abc", "0123456789012345678901"}.valid()));
  EXPECT_FALSE((Credentials{"ab:c", "0123456789012345678901"}.valid()));
  EXPECT_FALSE((Credentials{"abcd", "short"}.valid()));
  EXPECT_TRUE((Credentials{"abcd", "0123456789012345678901"}.valid()));
}

}  // namespace
}  // namespace sb::ice
