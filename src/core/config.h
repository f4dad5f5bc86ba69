// Configuration loader: reads Pulse's settings once into the typed sections of
// core/config_sections.h (Settings), from (lowest to highest precedence) built-in defaults, a YAML
// file, PULSE_* environment variables (PULSE_LAKE_URL -> "lake.url": upper-case, '_' for '.'), and
// command-line overrides ("--set lake.url=..." or dedicated flags). Code reads settings(); the
// dotted keys exist only here, at the edge where text comes in.
//
// Every key has a type, a default (its field's initial value in Settings), a description and a range or
// other check. Errors never throw; each names where the value came from (file:line for YAML, the
// variable's name for the environment), the key, what was expected and what was found, e.g.
//   pulse.yaml:3: sim.max_runs: expected an integer, got 'abc'
// Integers are decimal (an optional '-'), numbers are finite decimals (no nan, inf or overflow);
// every numeric key has a range that fits its field's type. A key given twice in one YAML mapping
// is an error. Unknown keys in a file or on the command line are errors naming the nearest known
// key, in every build. Unknown PULSE_* environment variables are ignored (other software shares the
// prefix: PulseAudio's PULSE_SERVER, PULSE_SINK, ...), but one within edit distance 2 of a
// setting's variable gets a warning (Warnings()) naming that setting. Values keep their origin
// for messages (Origin).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config_sections.h"
#include "core/status.h"

namespace pulse {

// The list syntax of configuration values and command-line flags: "a,b,c" -> {"a", "b", "c"};
// "" -> {}; items are kept as written (no trimming): "a,,b" -> {"a", "", "b"}, "a," -> {"a"}.
std::vector<std::string> SplitCommas(std::string_view text);

enum class ConfigType { kString, kInt, kDouble, kBool };

class Config {
 public:
  // Every key of Settings declared, each at its default.
  static Config Defaults();

  // Layers, each validating every value it sets before it changes settings(). Call in precedence
  // order; a failed layer may have applied the values before the bad one (callers stop on error).
  Status LoadYamlFile(const std::string& path);  // nested maps flatten to dotted keys
  Status LoadYamlText(std::string_view text, std::string_view origin);
  // Only PULSE_* variables that name a key are read; others are ignored, with a warning for near
  // misses ("PULSE_LAKE_UR ... did you mean PULSE_LAKE_URL?").
  Status LoadEnvironment(char** envp);
  Status Set(std::string_view key, std::string_view value, std::string_view origin = "command line");

  // The typed settings, every value validated.
  const Settings& settings() const { return settings_; }

  // Where a key's value came from, for messages: "default", "pulse.yaml:12", "env PULSE_LAKE_URL",
  // "--set". "" for a key that does not exist.
  std::string Origin(std::string_view key) const;
  std::vector<std::string> Keys() const;  // sorted
  // Non-fatal findings of the layers loaded so far (near-miss environment variables), in order.
  const std::vector<std::string>& Warnings() const { return warnings_; }

  // The PULSE_* environment variable of a key: "lake.url" -> "PULSE_LAKE_URL".
  static std::string EnvName(std::string_view key);

  // One key: its type, description, check, and where its value goes in Settings.
  struct Key {
    std::string name;  // dotted, e.g. "lake.url"
    ConfigType type = ConfigType::kString;
    std::string description;
    // Extra check on text that already has the key's type; returns an error message or "".
    std::function<std::string(std::string_view)> validate;
    std::function<void(Settings&, std::string_view)> assign;  // stores validated text in its field
  };

 private:
  struct Entry {
    Key key;
    std::string origin = "default";
  };
  std::map<std::string, Entry, std::less<>> entries_;
  Settings settings_;
  std::vector<std::string> warnings_;
};

// Strict number parsing shared by the configuration and the command line: the whole text must be
// the number, decimal only (no hex or octal, no leading '+', no surrounding spaces).
std::optional<int64_t> ParseInt64(std::string_view text);
// Digits only: "-1" is refused rather than wrapped to 2^64-1.
std::optional<uint64_t> ParseUint64(std::string_view text);
// A finite decimal number: "nan", "inf" and values that overflow a double are refused.
std::optional<double> ParseFiniteDouble(std::string_view text);

}  // namespace pulse
