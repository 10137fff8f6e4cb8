#include "http/StaticFiles.hpp"

#include <system_error>

namespace sb::http {

std::optional<std::filesystem::path> resolve_static(const std::filesystem::path& root, std::string_view target) {
  if (auto q = target.find_first_of("?#"); q != std::string_view::npos) target = target.substr(0, q);
  if (target.empty() || target.front() != '/') return std::nullopt;
  // Percent-encoding is not decoded: the web client's own file names need none,
  // and refusing '%' outright closes the encoded "../" route.
  for (char c : target)
    if (c == '\\' || c == '%' || c == '\0') return std::nullopt;
  std::filesystem::path rel;
  size_t start = 1;
  while (start <= target.size()) {
    size_t end = target.find('/', start);
    if (end == std::string_view::npos) end = target.size();
    std::string_view seg = target.substr(start, end - start);
    if (seg == "..") return std::nullopt;
    if (!seg.empty() && seg != ".") {
      if (seg.front() == '.') return std::nullopt;  // no dotfiles
      rel /= std::string(seg);
    }
    start = end + 1;
  }
  std::filesystem::path p = root / rel;
  std::error_code ec;
  if (std::filesystem::is_directory(p, ec)) p /= "index.html";
  if (!std::filesystem::is_regular_file(p, ec)) return std::nullopt;
  return p;
}

std::string_view mime_type(const std::filesystem::path& file) {
  auto ext = file.extension().string();
  if (ext == ".html" || ext == ".htm") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".txt" || ext == ".md") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

}  // namespace sb::http
