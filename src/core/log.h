// Structured logging: one line per record, JSON by default
//   {"time":"2026-11-28T20:50:01.123456Z","level":"info","module":"lake","msg":"committed","version":3}
// or text for people ("2026-11-28T20:50:01Z INFO  lake: committed version=3").
//
// Thread-safe: a record is formatted outside the lock and written with one fwrite under it, so
// lines never interleave. Records below every configured level cost one comparison.
//
// When a span is current on the writing thread (core/trace.h), a JSON record carries its ids as
// "trace_id" (32 hex) and "span_id" (16 hex), and a text line ends with trace_id=… span_id=….
// Levels: Options::level for every module, except those named in Options::module_levels
// (config log.modules, e.g. "lake=debug,jobs=warn").
#pragma once

#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace pulse::log {

enum class Level { kTrace = 0, kDebug, kInfo, kWarn, kError };
enum class Format { kJson, kText };

// "trace" | "debug" | "info" | "warn" | "error"; kInvalidArgument otherwise.
Result<Level> ParseLevel(std::string_view name);
std::string_view LevelName(Level level);
// "module=level[,module=level...]" (spaces around items allowed; "" = none) -> the map;
// kInvalidArgument naming the bad item.
Result<std::map<std::string, Level, std::less<>>> ParseModuleLevels(std::string_view text);

struct Options {
  Level level = Level::kInfo;
  Format format = Format::kJson;
  // Where lines go; default: stderr. Tests install a capturing sink.
  std::function<void(std::string_view line)> sink;
  std::map<std::string, Level, std::less<>> module_levels;  // overrides `level` for these modules
};

void Configure(Options options);
// Whether a record of `level` from `module` is written.
bool Enabled(Level level, std::string_view module);

// Writes a record. `fields` must be a JSON object (or null for none).
void Write(Level level, std::string_view module, std::string_view msg, const nlohmann::json& fields = nullptr);

inline void Debug(std::string_view module, std::string_view msg, const nlohmann::json& fields = nullptr) {
  if (Enabled(Level::kDebug, module)) Write(Level::kDebug, module, msg, fields);
}
inline void Info(std::string_view module, std::string_view msg, const nlohmann::json& fields = nullptr) {
  if (Enabled(Level::kInfo, module)) Write(Level::kInfo, module, msg, fields);
}
inline void Warn(std::string_view module, std::string_view msg, const nlohmann::json& fields = nullptr) {
  if (Enabled(Level::kWarn, module)) Write(Level::kWarn, module, msg, fields);
}
inline void Error(std::string_view module, std::string_view msg, const nlohmann::json& fields = nullptr) {
  if (Enabled(Level::kError, module)) Write(Level::kError, module, msg, fields);
}

}  // namespace pulse::log
