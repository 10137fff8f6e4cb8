#pragma once
// `c=<nettype> <addrtype> <address>` (RFC 8866 §5.7).
#include <string>

namespace sb::sdp {

struct Connection {
  std::string net_type = "IN";
  std::string addr_type = "IP4";
  std::string address = "0.0.0.0";  ///< may carry "/ttl" for multicast; kept as written
  bool operator==(const Connection&) const = default;
};

}  // namespace sb::sdp
