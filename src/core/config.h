// Configuration: a flat set of dotted keys ("lake.url", "s3.endpoint", "log.level") with typed,
// validated values, read from (lowest to highest precedence) built-in defaults, a YAML file,
// PULSE_* environment variables (PULSE_LAKE_URL -> "lake.url": upper-case, '_' for '.'), and
// command-line overrides ("--set lake.url=..." or dedicated flags).
//
// Every key is declared with a type, a default, a description and an optional validator; unknown
// keys in a file or the environment are errors that name the key (and the file and line for YAML)
// and list the nearest known key. Values keep their origin for `pulse config show`.
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
  Status LoadEnvironment(char** envp);                // only PULSE_* variables are read
  Status Set(std::string_view key, std::string_view value, std::string_view origin = "command line");

  std::string GetString(std::string_view key) const;  // keys must be declared (asserts)
  int64_t GetInt(std::string_view key) const;
  double GetDouble(std::string_view key) const;
  bool GetBool(std::string_view key) const;
  // Where the value came from: "default", "file pulse.yaml:12", "env PULSE_LAKE_URL", "command line".
  std::string Origin(std::string_view key) const;
  std::vector<std::string> Keys() const;              // sorted

 private:
  struct Entry {
    ConfigKey key;
    std::string value;
    std::string origin = "default";
  };
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace pulse
