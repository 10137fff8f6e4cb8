#include "net/Interfaces.hpp"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>

namespace sb::net {

std::vector<util::SocketAddr> local_interface_addresses() {
  std::vector<util::SocketAddr> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || !(i->ifa_flags & IFF_UP)) continue;
    auto a = util::SocketAddr::from_sockaddr(i->ifa_addr);
    if (!a) continue;
    if (a->is_v6() && a->ip_bytes()[0] == 0xfe && (a->ip_bytes()[1] & 0xc0) == 0x80) continue;
    a->set_port(0);
    if (std::find(out.begin(), out.end(), *a) == out.end()) out.push_back(*a);
  }
  ::freeifaddrs(list);
  // Non-loopback first: candidates are listed in the order clients should prefer.
  std::stable_partition(out.begin(), out.end(), [](const util::SocketAddr& a) { return !a.is_loopback(); });
  return out;
}

}  // namespace sb::net
