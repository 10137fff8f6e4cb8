#pragma once
// Module-tagged logging over spdlog. A disabled level costs one comparison:
// spdlog checks the level before formatting anything.
#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <string_view>

namespace sb::util {

struct LogConfig {
  spdlog::level::level_enum level = spdlog::level::info;
  bool json = false;  ///< one JSON object per line instead of text
};

/// Applies to every logger created before and after the call.
void configure_logging(const LogConfig& cfg);
/// Parses "trace|debug|info|warn|error|off"; nullopt-like false on unknown names.
bool parse_log_level(std::string_view name, spdlog::level::level_enum& out);

/// The logger for one module ("ice", "dtls", "signal", …). Cheap to call once
/// and keep; thread-safe.
std::shared_ptr<spdlog::logger> logger(const std::string& module);

}  // namespace sb::util
