#include "core/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstring>

namespace pulse {
namespace {

std::string_view TypeName(ConfigType t) {
  switch (t) {
    case ConfigType::kString: return "a string";
    case ConfigType::kInt: return "an integer";
    case ConfigType::kDouble: return "a number";
    case ConfigType::kBool: return "true or false";
  }
  return "?";
}

std::optional<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<double> ParseDouble(std::string_view s) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<bool> ParseBool(std::string_view s) {
  std::string l(s);
  std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (l == "true" || l == "yes" || l == "on" || l == "1") return true;
  if (l == "false" || l == "no" || l == "off" || l == "0") return false;
  return std::nullopt;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string EnvName(std::string_view key) {
  std::string out = "PULSE_";
  for (char c : key) out += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Variables read by Pulse's scripts, not configuration keys.
bool IgnoredEnv(std::string_view name) {
  return name.starts_with("PULSE_TEST_") || name == "PULSE_VENV" || name == "PULSE_CACHE" ||
         name == "PULSE_BUILD_DIR" || name == "PULSE_BIN" || name == "PULSE_DATA_DIR";
}

std::string OneOf(std::initializer_list<std::string_view> allowed, std::string_view v) {
  for (auto a : allowed)
    if (a == v) return "";
  std::string msg = "must be one of";
  for (auto a : allowed) msg += std::string(" ") + std::string(a);
  return msg;
}

}  // namespace

Config Config::Defaults() {
  Config c;
  auto at_least = [](int64_t min) {
    return [min](std::string_view v) {
      auto n = ParseInt(v);
      return n && *n < min ? "must be >= " + std::to_string(min) : std::string();
    };
  };
  auto declare = [&](ConfigKey key) {
    Status st = c.Declare(std::move(key));
    assert(st.ok());
    (void)st;
  };
  auto not_empty = [](std::string_view v) { return v.empty() ? std::string("must not be empty") : std::string(); };
  auto unit_interval = [](std::string_view v) {
    const double d = std::strtod(std::string(v).c_str(), nullptr);
    return d >= 0 && d <= 1 ? std::string() : std::string("must lie in [0, 1]");
  };
  declare({"lake.url", ConfigType::kString, "pulse-lake", "Where the Delta tables live: a folder, file://… or s3://bucket/prefix",
           not_empty});
  declare({"lake.checkpoint_interval", ConfigType::kInt, "10", "Write a Delta checkpoint every N commits (0 = never)", at_least(0)});
  declare({"s3.endpoint", ConfigType::kString, "", "S3-compatible endpoint URL, e.g. http://127.0.0.1:9000", {}});
  declare({"s3.region", ConfigType::kString, "us-east-1", "S3 region used for request signing", {}});
  declare({"s3.access_key", ConfigType::kString, "", "S3 access key id", {}});
  declare({"s3.secret_key", ConfigType::kString, "", "S3 secret access key", {}});
  declare({"s3.path_style", ConfigType::kBool, "true", "Path-style S3 URLs (MinIO and most S3-compatible servers)", {}});
  declare({"log.level", ConfigType::kString, "info", "Lowest log level written: trace, debug, info, warn, error",
           [](std::string_view v) { return OneOf({"trace", "debug", "info", "warn", "error"}, v); }});
  declare({"log.format", ConfigType::kString, "json", "Log line format: json or text",
           [](std::string_view v) { return OneOf({"json", "text"}, v); }});
  declare({"threads", ConfigType::kInt, "0", "Worker threads (0 = all cores)", at_least(0)});
  declare({"ingest.max_field_bytes", ConfigType::kInt, "65536", "Longest accepted field in an ingested record", at_least(1)});
  declare({"ingest.kind", ConfigType::kString, "signal", "Signal kind for files without a kind column",
           not_empty});
  declare({"sim.max_runs", ConfigType::kInt, "10000000", "Largest Monte Carlo batch (runs) a command accepts", at_least(1)});
  declare({"sim.max_turns", ConfigType::kInt, "100000", "Most turns a simulation accepts", at_least(1)});
  declare({"sim.decay_rate", ConfigType::kDouble, "0.01", "Overlay decay per turn (the original's run_turn default)",
           unit_interval});
  declare({"sim.symbolic", ConfigType::kBool, "false",
           "Apply rule effects on overlays (false reproduces the original as shipped)", {}});
  declare({"jobs.broker", ConfigType::kString, "inproc",
           "Where pulse run sends its stage jobs: inproc (worker threads in this process) or redis://host:port/db",
           [](std::string_view v) {
             return v == "inproc" || v.rfind("redis://", 0) == 0 ? std::string() : std::string("must be inproc or redis://…");
           }});
  declare({"jobs.max_deaths", ConfigType::kInt, "3",
           "Times a worker may die while running one message before it is dead-lettered (pulse worker)",
           at_least(1)});
  declare({"jobs.timeout_seconds", ConfigType::kInt, "600", "How long pulse run waits for one stage's job", at_least(1)});
  declare({"run.dataset", ConfigType::kString, "", "pulse run's input (default: the bundled us-macro-quarterly.csv)", {}});
  declare({"run.mapping", ConfigType::kString, "",
           "Signal -> world-state mapping of pulse run (default: the bundled us-macro-world.yaml)", {}});
  declare({"run.out", ConfigType::kString, "pulse-report", "Folder for pulse run's report.html and summary.json", not_empty});
  declare({"run.sim_runs", ConfigType::kInt, "10000", "Monte Carlo runs of pulse run's world simulation", at_least(1)});
  declare({"run.sim_turns", ConfigType::kInt, "12", "Turns of pulse run's world simulation", at_least(1)});
  declare({"run.seed", ConfigType::kInt, "0", "Seed of pulse run's world simulation", at_least(0)});
  declare({"run.noise", ConfigType::kDouble, "0.01", "Noise scale of pulse run's world simulation (x range width)",
           unit_interval});
  return c;
}

Status Config::Declare(ConfigKey key) {
  if (entries_.count(key.name)) return Status::AlreadyExists("config key '" + key.name + "' declared twice");
  std::string name = key.name;
  Entry e{std::move(key), "", "default"};
  e.value = e.key.default_value;
  entries_.emplace(std::move(name), std::move(e));
  return Status::Ok();
}

Status Config::Set(std::string_view key, std::string_view value, std::string_view origin) {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    std::string best;
    size_t best_d = SIZE_MAX;
    for (const auto& [name, e] : entries_) {
      size_t d = EditDistance(key, name);
      if (d < best_d) best_d = d, best = name;
    }
    std::string msg = std::string(origin) + ": unknown config key '" + std::string(key) + "'";
    if (best_d <= 3) msg += " (did you mean '" + best + "'?)";
    return Status::InvalidArgument(msg);
  }
  const ConfigKey& k = it->second.key;
  bool ok = true;
  switch (k.type) {
    case ConfigType::kString: break;
    case ConfigType::kInt: ok = ParseInt(value).has_value(); break;
    case ConfigType::kDouble: ok = ParseDouble(value).has_value(); break;
    case ConfigType::kBool: ok = ParseBool(value).has_value(); break;
  }
  if (!ok)
    return Status::InvalidArgument(std::string(origin) + ": config key '" + k.name + "' must be " +
                                   std::string(TypeName(k.type)) + ", got '" + std::string(value) + "'");
  if (k.validate) {
    std::string why = k.validate(value);
    if (!why.empty())
      return Status::InvalidArgument(std::string(origin) + ": config key '" + k.name + "' " + why + ", got '" +
                                     std::string(value) + "'");
  }
  it->second.value = std::string(value);
  it->second.origin = std::string(origin);
  return Status::Ok();
}

namespace {
Status Flatten(Config& config, const YAML::Node& node, const std::string& prefix, std::string_view origin) {
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node name = it->first;
    const YAML::Node value = it->second;
    std::string key = prefix.empty() ? name.as<std::string>() : prefix + "." + name.as<std::string>();
    std::string where = std::string(origin) + ":" + std::to_string(name.Mark().line + 1);
    if (value.IsMap()) {
      PULSE_RETURN_IF_ERROR(Flatten(config, value, key, origin));
    } else if (value.IsScalar()) {
      PULSE_RETURN_IF_ERROR(config.Set(key, value.Scalar(), where));
    } else if (value.IsNull()) {
      PULSE_RETURN_IF_ERROR(config.Set(key, "", where));
    } else {
      return Status::InvalidArgument(where + ": config key '" + key + "' must be a single value, not a list");
    }
  }
  return Status::Ok();
}
}  // namespace

Status Config::LoadYamlText(std::string_view text, std::string_view origin) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Status::ParseError(std::string(origin) + ":" + std::to_string(e.mark.line + 1) + ":" +
                              std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  if (root.IsNull()) return Status::Ok();  // empty file
  if (!root.IsMap()) return Status::InvalidArgument(std::string(origin) + ": the top level must be a mapping of keys");
  try {
    return Flatten(*this, root, "", origin);
  } catch (const YAML::Exception& e) {
    return Status::ParseError(std::string(origin) + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

Status Config::LoadYamlFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status::NotFound("cannot open config file '" + path + "': " + std::strerror(errno));
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return Status::IoError("cannot read config file '" + path + "'");
  return LoadYamlText(text, path);
}

Status Config::LoadEnvironment(char** envp) {
  for (char** e = envp; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (!entry.starts_with("PULSE_")) continue;
    size_t eq = entry.find('=');
    std::string_view name = entry.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view() : entry.substr(eq + 1);
    if (IgnoredEnv(name)) continue;
    const Entry* match = nullptr;
    for (const auto& [key, entry_] : entries_)
      if (EnvName(key) == name) match = &entry_;
    if (match == nullptr) {
      std::string known;
      for (const auto& [key, entry_] : entries_) known += " " + EnvName(key);
      return Status::InvalidArgument("environment variable " + std::string(name) +
                                     " is not a Pulse setting (known:" + known + ")");
    }
    PULSE_RETURN_IF_ERROR(Set(match->key.name, value, "env " + std::string(name)));
  }
  return Status::Ok();
}

std::string Config::GetString(std::string_view key) const {
  auto it = entries_.find(key);
  assert(it != entries_.end() && "undeclared config key");
  return it == entries_.end() ? std::string() : it->second.value;
}

int64_t Config::GetInt(std::string_view key) const { return ParseInt(GetString(key)).value_or(0); }
double Config::GetDouble(std::string_view key) const { return ParseDouble(GetString(key)).value_or(0); }
bool Config::GetBool(std::string_view key) const { return ParseBool(GetString(key)).value_or(false); }

std::string Config::Origin(std::string_view key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? std::string() : it->second.origin;
}

std::vector<std::string> Config::Keys() const {
  std::vector<std::string> out;
  for (const auto& [k, e] : entries_) out.push_back(k);
  return out;
}

}  // namespace pulse
