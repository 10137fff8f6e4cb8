#include "sdp/Attribute.hpp"

namespace sb::sdp {

namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
}  // namespace

std::vector<Param> parse_param_list(std::string_view s) {
  std::vector<Param> out;
  while (!s.empty()) {
    size_t semi = s.find(';');
    std::string_view item = trim(s.substr(0, semi));
    s = semi == std::string_view::npos ? std::string_view{} : s.substr(semi + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      out.push_back({std::string(item), {}});
    } else {
      out.push_back({std::string(trim(item.substr(0, eq))), std::string(trim(item.substr(eq + 1)))});
    }
  }
  return out;
}

std::string format_param_list(const std::vector<Param>& params) {
  std::string out;
  for (const auto& p : params) {
    if (!out.empty()) out += ';';
    out += p.key;
    if (!p.value.empty()) {
      out += '=';
      out += p.value;
    }
  }
  return out;
}

std::optional<std::string_view> find_param(const std::vector<Param>& params, std::string_view key) {
  for (const auto& p : params)
    if (p.key == key) return std::string_view(p.value);
  return std::nullopt;
}

}  // namespace sb::sdp
