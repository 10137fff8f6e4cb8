#include "ice/Credentials.hpp"

namespace sb::ice {

Credentials Credentials::generate(util::Random& rng) { return {rng.ice_chars(8), rng.ice_chars(24)}; }

bool is_ice_chars(std::string_view s) {
  for (char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (!ok) return false;
  }
  return true;
}

bool Credentials::valid() const {
  return ufrag.size() >= 4 && ufrag.size() <= 256 && pwd.size() >= 22 && pwd.size() <= 256 && is_ice_chars(ufrag) &&
         is_ice_chars(pwd);
}

bool Credentials::usable() const {
  return !ufrag.empty() && !pwd.empty() && ufrag.size() <= 256 && pwd.size() <= 256 &&
         ufrag.find(':') == std::string::npos;
}

}  // namespace sb::ice
