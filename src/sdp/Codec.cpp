#include "sdp/Codec.hpp"

#include <charconv>

namespace sb::sdp {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool Codec::is(std::string_view encoding_name) const { return iequals(name, encoding_name); }

std::optional<PayloadType> Codec::apt() const {
  auto v = fmtp_param("apt");
  if (!v) return std::nullopt;
  unsigned n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size() || n > 127) return std::nullopt;
  return PayloadType(n);
}

bool Codec::has_feedback(std::string_view type, std::string_view parameter) const {
  for (const auto& fb : feedback)
    if (fb.type == type && fb.parameter == parameter) return true;
  return false;
}

void Codec::set_fmtp(std::vector<Param> params) {
  fmtp = format_param_list(params);
  fmtp_params = std::move(params);
}

}  // namespace sb::sdp
