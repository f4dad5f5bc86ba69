#include "core/log.h"

#include <algorithm>
#include <atomic>
#include <mutex>

#include "core/time.h"
#include "core/trace.h"

namespace pulse::log {
namespace {

std::mutex& Mutex() {
  static std::mutex mu;
  return mu;
}
Options& Current() {
  static Options options;
  return options;
}
// The lowest level any module writes (a record below it costs one comparison), and whether some
// module has its own level (then Enabled looks the module up).
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::atomic<bool> g_per_module{false};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<Level> ParseLevel(std::string_view name) {
  for (Level l : {Level::kTrace, Level::kDebug, Level::kInfo, Level::kWarn, Level::kError})
    if (LevelName(l) == name) return l;
  return Status::InvalidArgument("unknown log level '" + std::string(name) + "' (trace, debug, info, warn, error)");
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kTrace: return "trace";
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

Result<std::map<std::string, Level, std::less<>>> ParseModuleLevels(std::string_view text) {
  std::map<std::string, Level, std::less<>> out;
  while (!Trim(text).empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = Trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos || Trim(item.substr(0, eq)).empty())
      return Status::InvalidArgument("log.modules item '" + std::string(item) + "' is not module=level");
    auto level = ParseLevel(Trim(item.substr(eq + 1)));
    if (!level.ok()) return level.status();
    out[std::string(Trim(item.substr(0, eq)))] = *level;
  }
  return out;
}

void Configure(Options options) {
  std::lock_guard<std::mutex> lock(Mutex());
  int lowest = static_cast<int>(options.level);
  for (const auto& [module, level] : options.module_levels) lowest = std::min(lowest, static_cast<int>(level));
  g_level = lowest;
  g_per_module = !options.module_levels.empty();
  Current() = std::move(options);
}

bool Enabled(Level level, std::string_view module) {
  if (static_cast<int>(level) < g_level.load(std::memory_order_relaxed)) return false;
  if (!g_per_module.load(std::memory_order_relaxed)) return true;
  std::lock_guard<std::mutex> lock(Mutex());
  const auto& options = Current();
  auto it = options.module_levels.find(module);
  return static_cast<int>(level) >= static_cast<int>(it != options.module_levels.end() ? it->second : options.level);
}

void Write(Level level, std::string_view module, std::string_view msg, const nlohmann::json& fields) {
  if (!Enabled(level, module)) return;
  const trace::SpanContext span = trace::Current();
  std::string time_text = time::FormatTimestamp(time::NowMicros());
  Format format;
  {
    std::lock_guard<std::mutex> lock(Mutex());
    format = Current().format;
  }
  std::string line;
  if (format == Format::kJson) {
    nlohmann::ordered_json record;
    record["time"] = time_text;
    record["level"] = LevelName(level);
    record["module"] = module;
    record["msg"] = msg;
    if (span.valid()) {
      record["trace_id"] = trace::HexId(span.trace_id);
      record["span_id"] = trace::HexId(span.span_id);
    }
    if (fields.is_object()) {
      for (auto it = fields.begin(); it != fields.end(); ++it)
        if (!record.contains(it.key())) record[it.key()] = it.value();
    }
    line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    std::string upper(LevelName(level));
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    upper.resize(5, ' ');
    line = time_text + " " + upper + " " + std::string(module) + ": " + std::string(msg);
    if (fields.is_object()) {
      for (auto it = fields.begin(); it != fields.end(); ++it)
        line += " " + it.key() + "=" + (it.value().is_string() ? it.value().get<std::string>() : it.value().dump());
    }
    if (span.valid()) line += " trace_id=" + trace::HexId(span.trace_id) + " span_id=" + trace::HexId(span.span_id);
  }
  line += '\n';
  std::lock_guard<std::mutex> lock(Mutex());
  if (Current().sink) {
    Current().sink(line);
  } else {
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
}

}  // namespace pulse::log
