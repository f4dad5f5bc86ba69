// Structured logging: one line per record, JSON by default
//   {"time":"2026-11-28T20:50:01.123456Z","level":"info","module":"lake","msg":"committed","version":3}
// or text for people ("2026-11-28T20:50:01Z INFO  lake: committed version=3").
//
// Thread-safe: a record is formatted outside the lock and written with one fwrite under it, so
// lines never interleave. Records below the configured level cost one comparison.
#pragma once

#include <cstdio>
#include <functional>
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

struct Options {
  Level level = Level::kInfo;
  Format format = Format::kJson;
  // Where lines go; default: stderr. Tests install a capturing sink.
  std::function<void(std::string_view line)> sink;
};

void Configure(Options options);
bool Enabled(Level level);

// Writes a record. `fields` must be a JSON object (or null for none).
void Write(Level level, std::string_view module, std::string_view msg, const nlohmann::json& fields = nullptr);

inline void Debug(std::string_view module, std::string_view msg, const nlohmann::json& fields = nullptr) {
  if (Enabled(Level::kDebug)) Write(Level::kDebug, module, msg, fields);
}
inline void Info(std::string_view module, std::string_view msg, const nlohmann::json& fields = nullptr) {
  if (Enabled(Level::kInfo)) Write(Level::kInfo, module, msg, fields);
}
inline void Warn(std::string_view module, std::string_view msg, const nlohmann::json& fields = nullptr) {
  if (Enabled(Level::kWarn)) Write(Level::kWarn, module, msg, fields);
}
inline void Error(std::string_view module, std::string_view msg, const nlohmann::json& fields = nullptr) {
  if (Enabled(Level::kError)) Write(Level::kError, module, msg, fields);
}

}  // namespace pulse::log
