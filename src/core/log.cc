#include "core/log.h"

#include <atomic>
#include <mutex>

#include "core/time.h"

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
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};

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

void Configure(Options options) {
  std::lock_guard<std::mutex> lock(Mutex());
  g_level = static_cast<int>(options.level);
  Current() = std::move(options);
}

bool Enabled(Level level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

void Write(Level level, std::string_view module, std::string_view msg, const nlohmann::json& fields) {
  if (!Enabled(level)) return;
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
