#include "util/Log.hpp"

#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <chrono>
#include <mutex>

namespace sb::util {

namespace {

std::mutex g_mu;
LogConfig g_cfg;

void append_json_string(spdlog::memory_buf_t& out, std::string_view s) {
  out.push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out.append(std::string_view("\\\"")); break;
      case '\\': out.append(std::string_view("\\\\")); break;
      case '\n': out.append(std::string_view("\\n")); break;
      case '\r': out.append(std::string_view("\\r")); break;
      case '\t': out.append(std::string_view("\\t")); break;
      default:
        if (c < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          const char esc[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
          out.append(esc, esc + 6);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

/// One JSON object per line: {"ts","level","module","msg"}, every string escaped.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
    std::time_t secs = std::time_t(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char ts[40];
    size_t n = std::strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(ts + n, sizeof(ts) - n, ".%03dZ", int(ms % 1000));
    dest.append(std::string_view(R"({"ts":")"));
    dest.append(std::string_view(ts));
    dest.append(std::string_view(R"(","level":)"));
    auto lvl = spdlog::level::to_string_view(msg.level);
    append_json_string(dest, std::string_view(lvl.data(), lvl.size()));
    dest.append(std::string_view(R"(,"module":)"));
    append_json_string(dest, std::string_view(msg.logger_name.data(), msg.logger_name.size()));
    dest.append(std::string_view(R"(,"msg":)"));
    append_json_string(dest, std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(std::string_view("}\n"));
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

void apply(spdlog::logger& l) {
  l.set_level(g_cfg.level);
  if (g_cfg.json) l.set_formatter(std::make_unique<JsonFormatter>());
  else l.set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%n] %v", spdlog::pattern_time_type::utc);
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
