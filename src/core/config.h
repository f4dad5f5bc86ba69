// Configuration: a flat set of dotted keys ("lake.url", "s3.endpoint", "log.level") with typed,
// validated values, read from (lowest to highest precedence) built-in defaults, a YAML file,
// PULSE_* environment variables (PULSE_LAKE_URL -> "lake.url": upper-case, '_' for '.'), and
// command-line overrides ("--set lake.url=..." or dedicated flags).
//
// Every key is declared with a type, a default, a description and an optional validator. Errors
// never throw; each names where the value came from (file:line for YAML, the variable's name for
// the environment), the key, what was expected and what was found, e.g.
//   pulse.yaml:3: sim.max_runs: expected an integer, got 'abc'
// Integers are decimal (an optional '-'), numbers are finite decimals (no nan, inf or overflow);
// every numeric key has a range that fits the type the program converts it to.
// Unknown keys in a file or on the command line are errors naming the nearest known key. Unknown
// PULSE_* environment variables are ignored (other software shares the prefix: PulseAudio's
// PULSE_SERVER, PULSE_SINK, ...), but one within edit distance 2 of a setting's variable gets a
// warning (Warnings()) naming that setting. Values keep their origin for `pulse config show`.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pulse {

enum class ConfigType { kString, kInt, kDouble, kBool };

struct ConfigKey {
  std::string name;          // dotted, e.g. "lake.url"
  ConfigType type = ConfigType::kString;
  std::string default_value;  // as text
  std::string description;
  // Optional extra check on the parsed text; returns an error message or "" when valid.
  std::function<std::string(std::string_view)> validate;
};

class Config {
 public:
  // A config with Pulse's standard keys declared (see config.cc for the list: lake.url,
  // lake.checkpoint_interval, s3.endpoint, s3.region, s3.access_key, s3.secret_key,
  // log.level, log.format, threads, ...).
  static Config Defaults();

  // Declares an extra key (modules may add their own). kAlreadyExists on a duplicate name.
  Status Declare(ConfigKey key);

  // Layers, each validating every value it sets. Call in precedence order.
  Status LoadYamlFile(const std::string& path);       // nested maps flatten to dotted keys
  Status LoadYamlText(std::string_view text, std::string_view origin);
  // Only PULSE_* variables that name a declared key are read; others are ignored, with a
  // warning for near misses ("PULSE_LAKE_UR ... did you mean PULSE_LAKE_URL?").
  Status LoadEnvironment(char** envp);
  Status Set(std::string_view key, std::string_view value, std::string_view origin = "command line");

  std::string GetString(std::string_view key) const;  // keys must be declared (asserts)
  int64_t GetInt(std::string_view key) const;
  double GetDouble(std::string_view key) const;
  bool GetBool(std::string_view key) const;
  // Where the value came from: "default", "file pulse.yaml:12", "env PULSE_LAKE_URL", "command line".
  std::string Origin(std::string_view key) const;
  std::vector<std::string> Keys() const;              // sorted
  // Non-fatal findings of the layers loaded so far (near-miss environment variables), in order.
  const std::vector<std::string>& Warnings() const { return warnings_; }

  // The PULSE_* environment variable of a key: "lake.url" -> "PULSE_LAKE_URL".
  static std::string EnvName(std::string_view key);

 private:
  struct Entry {
    ConfigKey key;
    std::string value;
    std::string origin = "default";
  };
  std::map<std::string, Entry, std::less<>> entries_;
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
