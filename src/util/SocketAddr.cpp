#include "util/SocketAddr.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

namespace sb::util {

SocketAddr SocketAddr::v4(std::array<uint8_t, 4> ip, uint16_t port) {
  SocketAddr a;
  a.family_ = Family::kV4;
  std::memcpy(a.ip_.data(), ip.data(), 4);
  a.port_ = port;
  return a;
}

SocketAddr SocketAddr::v6(std::array<uint8_t, 16> ip, uint16_t port) {
  SocketAddr a;
  a.family_ = Family::kV6;
  a.ip_ = ip;
  a.port_ = port;
  return a;
}

std::optional<SocketAddr> SocketAddr::parse_ip(std::string_view ip, uint16_t port) {
  if (ip.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN] = {};
  std::memcpy(buf, ip.data(), ip.size());
  std::array<uint8_t, 4> v4b{};
  if (inet_pton(AF_INET, buf, v4b.data()) == 1) return v4(v4b, port);
  std::array<uint8_t, 16> v6b{};
  if (inet_pton(AF_INET6, buf, v6b.data()) == 1) return v6(v6b, port);
  return std::nullopt;
}

std::optional<SocketAddr> SocketAddr::parse(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned p = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc{} || end != port.data() + port.size() || p > 65535) return std::nullopt;
  return parse_ip(host, uint16_t(p));
}

std::optional<SocketAddr> SocketAddr::from_sockaddr(const sockaddr* sa) {
  if (sa == nullptr) return std::nullopt;
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    std::array<uint8_t, 4> b{};
    std::memcpy(b.data(), &in->sin_addr, 4);
    return v4(b, ntohs(in->sin_port));
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    std::array<uint8_t, 16> b{};
    std::memcpy(b.data(), &in6->sin6_addr, 16);
    // A v4-mapped address from a dual-stack socket is reported as plain IPv4,
    // so that one peer has one name whichever socket it reached.
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) return v4({b[12], b[13], b[14], b[15]}, ntohs(in6->sin6_port));
    return v6(b, ntohs(in6->sin6_port));
  }
  return std::nullopt;
}

unsigned SocketAddr::to_sockaddr(sockaddr_storage& out) const {
  std::memset(&out, 0, sizeof(out));
  if (is_v4()) {
    auto* in = reinterpret_cast<sockaddr_in*>(&out);
    in->sin_family = AF_INET;
    in->sin_port = htons(port_);
    std::memcpy(&in->sin_addr, ip_.data(), 4);
    return sizeof(sockaddr_in);
  }
  if (is_v6()) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&out);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port_);
    std::memcpy(&in6->sin6_addr, ip_.data(), 16);
    return sizeof(sockaddr_in6);
  }
  return 0;
}

bool SocketAddr::is_loopback() const {
  if (is_v4()) return ip_[0] == 127;
  if (is_v6()) {
    for (int i = 0; i < 15; ++i)
      if (ip_[size_t(i)] != 0) return false;
    return ip_[15] == 1;
  }
  return false;
}

std::string SocketAddr::ip_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (is_v4()) inet_ntop(AF_INET, ip_.data(), buf, sizeof(buf));
  else if (is_v6()) inet_ntop(AF_INET6, ip_.data(), buf, sizeof(buf));
  else return "-";
  return buf;
}

std::string SocketAddr::to_string() const {
  if (is_v6()) return "[" + ip_string() + "]:" + std::to_string(port_);
  return ip_string() + ":" + std::to_string(port_);
}

size_t SocketAddr::hash() const {
  // FNV-1a over the significant bytes, port and family.
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](uint8_t b) { h = (h ^ b) * 1099511628211ull; };
  for (size_t i = 0; i < ip_size(); ++i) mix(ip_[i]);
  mix(uint8_t(port_ >> 8));
  mix(uint8_t(port_));
  mix(uint8_t(family_));
  return size_t(h);
}

}  // namespace sb::util
