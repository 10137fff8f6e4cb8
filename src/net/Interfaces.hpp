#pragma once
#include <vector>

#include "util/SocketAddr.hpp"

namespace sb::net {

/// Addresses of every interface that is up, loopback included (port 0). IPv6
/// link-local addresses are left out: they need a scope id browsers do not use.
std::vector<util::SocketAddr> local_interface_addresses();

}  // namespace sb::net
