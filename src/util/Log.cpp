#include "util/Log.hpp"

#include <spdlog/sinks/stdout_sinks.h>

#include <mutex>

namespace sb::util {

namespace {

std::mutex g_mu;
LogConfig g_cfg;

const char* pattern(bool json) {
  // In JSON mode the message is escaped by the caller's format only in the common
  // case; spdlog escapes nothing, so messages avoid raw quotes where they can.
  return json ? R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","module":"%n","msg":"%v"})"
              : "%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%n] %v";
}

void apply(spdlog::logger& l) {
  l.set_level(g_cfg.level);
  l.set_pattern(pattern(g_cfg.json), spdlog::pattern_time_type::utc);
}

}  // namespace

void configure_logging(const LogConfig& cfg) {
  std::lock_guard lk(g_mu);
  g_cfg = cfg;
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { apply(*l); });
}

bool parse_log_level(std::string_view name, spdlog::level::level_enum& out) {
  static constexpr std::pair<std::string_view, spdlog::level::level_enum> kLevels[] = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug}, {"info", spdlog::level::info},
      {"warn", spdlog::level::warn},   {"error", spdlog::level::err},   {"off", spdlog::level::off}};
  for (auto& [n, l] : kLevels)
    if (n == name) { out = l; return true; }
  return false;
}

std::shared_ptr<spdlog::logger> logger(const std::string& module) {
  std::lock_guard lk(g_mu);
  if (auto l = spdlog::get(module)) return l;
  // stderr, so that stdout stays free for tools that print results (load generator).
  auto l = std::make_shared<spdlog::logger>(module, std::make_shared<spdlog::sinks::stderr_sink_mt>());
  apply(*l);
  spdlog::register_logger(l);
  return l;
}

}  // namespace sb::util
