#pragma once
// An IPv4 or IPv6 transport address (address + port), value type, hashable.
// Sans-IO code uses it to name peers; net/ converts it to and from sockaddr.
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

struct sockaddr;
struct sockaddr_storage;

namespace sb::util {

class SocketAddr {
 public:
  enum class Family : uint8_t { kNone, kV4, kV6 };

  SocketAddr() = default;
  static SocketAddr v4(std::array<uint8_t, 4> ip, uint16_t port);
  static SocketAddr v6(std::array<uint8_t, 16> ip, uint16_t port);
  /// Parses "1.2.3.4:5", "[::1]:5", or with `port` given, a bare address.
  static std::optional<SocketAddr> parse(std::string_view text);
  static std::optional<SocketAddr> parse_ip(std::string_view ip, uint16_t port);
  static std::optional<SocketAddr> from_sockaddr(const sockaddr* sa);

  /// Writes a sockaddr_in/sockaddr_in6; returns its length (0 if empty).
  unsigned to_sockaddr(sockaddr_storage& out) const;

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::kV4; }
  bool is_v6() const { return family_ == Family::kV6; }
  bool empty() const { return family_ == Family::kNone; }
  bool is_loopback() const;
  uint16_t port() const { return port_; }
  void set_port(uint16_t p) { port_ = p; }
  /// 4 or 16 significant bytes, network order.
  const std::array<uint8_t, 16>& ip_bytes() const { return ip_; }
  size_t ip_size() const { return is_v4() ? 4 : is_v6() ? 16 : 0; }

  std::string ip_string() const;
  std::string to_string() const;

  friend bool operator==(const SocketAddr&, const SocketAddr&) = default;
  size_t hash() const;

 private:
  std::array<uint8_t, 16> ip_{};
  uint16_t port_ = 0;
  Family family_ = Family::kNone;
};

}  // namespace sb::util

template <>
struct std::hash<sb::util::SocketAddr> {
  size_t operator()(const sb::util::SocketAddr& a) const noexcept { return a.hash(); }
};
