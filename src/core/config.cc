#include "core/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
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

// PULSE_* variables that are known not to be settings, never warned about: those of Pulse's own
// scripts and tests, and PulseAudio's (its client library reads them; WSLg sets PULSE_SERVER).
bool ForeignEnv(std::string_view name) {
  static constexpr std::string_view kExact[] = {
      "PULSE_VENV", "PULSE_CACHE", "PULSE_BUILD_DIR", "PULSE_BIN", "PULSE_DATA_DIR",
      "PULSE_SERVER", "PULSE_SINK", "PULSE_SOURCE", "PULSE_COOKIE", "PULSE_RUNTIME_PATH", "PULSE_STATE_PATH",
      "PULSE_CONFIG", "PULSE_CONFIG_PATH", "PULSE_CLIENTCONFIG", "PULSE_SYSTEM", "PULSE_LATENCY_MSEC",
      "PULSE_PROP", "PULSE_DLOPEN", "PULSE_NO_SIMD", "PULSE_LOG", "PULSE_LOG_TARGET", "PULSE_LOG_META",
      "PULSE_LOG_TIME", "PULSE_LOG_BACKTRACE", "PULSE_LOG_COLORS", "PULSE_LOG_SYSLOG", "PULSE_LOG_JOURNAL",
      "PULSE_MEMPOOL_DISABLE", "PULSE_DIR", "PULSE_PASSED_FD"};
  if (name.starts_with("PULSE_TEST_") || name.starts_with("PULSE_PROP_")) return true;
  for (auto e : kExact)
    if (e == name) return true;
  return false;
}

// A value as it appears in a message: quoted, control bytes escaped (a NUL does not cut the
// message), at most 80 bytes; "an empty value" for "".
std::string Quote(std::string_view value) {
  if (value.empty()) return "an empty value";
  std::string out = "'";
  for (size_t i = 0; i < value.size(); ++i) {
    if (i == 80) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "'";
}

constexpr size_t kMaxConfigFileBytes = 16u << 20;
constexpr int kMaxYamlDepth = 16;  // keys have at most a few dots; deeper nesting is a mistake

std::string OneOf(std::initializer_list<std::string_view> allowed, std::string_view v) {
  for (auto a : allowed)
    if (a == v) return "";
  std::string msg = "must be one of";
  for (auto a : allowed) msg += std::string(" ") + std::string(a);
  return msg;
}

}  // namespace

std::optional<int64_t> ParseInt64(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<uint64_t> ParseUint64(std::string_view s) {
  if (s.empty() || s.front() < '0' || s.front() > '9') return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> ParseFiniteDouble(std::string_view s) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string Config::EnvName(std::string_view key) {
  std::string out = "PULSE_";
  for (char c : key) out += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

namespace {
// Validators of numeric keys: the range the program can convert the value into.
std::function<std::string(std::string_view)> IntIn(int64_t min, int64_t max) {
  return [min, max](std::string_view v) {
    auto n = ParseInt64(v);
    if (!n) return std::string();  // the type check reports it
    if (*n < min) return "must be >= " + std::to_string(min);
    if (*n > max) return "must be <= " + std::to_string(max);
    return std::string();
  };
}

std::function<std::string(std::string_view)> NumberIn(double min, double max) {
  return [min, max](std::string_view v) {
    auto d = ParseFiniteDouble(v);
    if (!d) return std::string();
    if (*d < min || *d > max) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "must lie in [%g, %g]", min, max);
      return std::string(buf);
    }
    return std::string();
  };
}
}  // namespace

Config Config::Defaults() {
  Config c;
  auto declare = [&](ConfigKey key) {
    Status st = c.Declare(std::move(key));
    assert(st.ok());
    (void)st;
  };
  auto not_empty = [](std::string_view v) { return v.empty() ? std::string("must not be empty") : std::string(); };
  const auto unit_interval = NumberIn(0, 1);
  declare({"lake.url", ConfigType::kString, "pulse-lake", "Where the Delta tables live: a folder, file://… or s3://bucket/prefix",
           not_empty});
  declare({"lake.checkpoint_interval", ConfigType::kInt, "10", "Write a Delta checkpoint every N commits (0 = never)", IntIn(0, 1000000)});
  declare({"s3.endpoint", ConfigType::kString, "", "S3-compatible endpoint URL, e.g. http://127.0.0.1:9000", {}});
  declare({"s3.region", ConfigType::kString, "us-east-1", "S3 region used for request signing", {}});
  declare({"s3.access_key", ConfigType::kString, "", "S3 access key id", {}});
  declare({"s3.secret_key", ConfigType::kString, "", "S3 secret access key", {}});
  declare({"s3.path_style", ConfigType::kBool, "true", "Path-style S3 URLs (MinIO and most S3-compatible servers)", {}});
  declare({"log.level", ConfigType::kString, "info", "Lowest log level written: trace, debug, info, warn, error",
           [](std::string_view v) { return OneOf({"trace", "debug", "info", "warn", "error"}, v); }});
  declare({"log.format", ConfigType::kString, "json", "Log line format: json or text",
           [](std::string_view v) { return OneOf({"json", "text"}, v); }});
  declare({"threads", ConfigType::kInt, "0", "Worker threads (0 = all cores)", IntIn(0, 4096)});
  declare({"ingest.max_field_bytes", ConfigType::kInt, "65536", "Longest accepted field in an ingested record", IntIn(1, int64_t{1} << 30)});
  declare({"ingest.max_file_bytes", ConfigType::kInt, "1073741824",
           "Largest input pulse ingest reads (it is read once into memory); more is refused",
           IntIn(1, int64_t{1} << 40)});
  declare({"ingest.kind", ConfigType::kString, "signal", "Signal kind for files without a kind column",
           not_empty});
  declare({"ingest.inbox", ConfigType::kString, "",
           "The only folder pulse.ingest tasks may read files from (relative task paths resolve in it); "
           "empty: the worker refuses to ingest local files sent as tasks",
           {}});
  declare({"sim.max_runs", ConfigType::kInt, "10000000", "Largest Monte Carlo batch (runs) a command accepts",
           IntIn(1, int64_t{1000000000000})});
  declare({"sim.max_turns", ConfigType::kInt, "100000", "Most turns a simulation accepts", IntIn(1, 1000000000)});
  declare({"sim.decay_rate", ConfigType::kDouble, "0.01", "Overlay decay per turn (the original's run_turn default)",
           unit_interval});
  declare({"sim.symbolic", ConfigType::kBool, "false",
           "Apply rule effects on overlays (false reproduces the original as shipped)", {}});
  declare({"jobs.broker", ConfigType::kString, "inproc",
           "Where pulse run sends its stage jobs: inproc (worker threads in this process) or redis://host:port/db",
           [](std::string_view v) {
             return v == "inproc" || v.rfind("redis://", 0) == 0 ? std::string() : std::string("must be inproc or redis://…");
           }});
  declare({"jobs.lake_roots", ConfigType::kString, "",
           "Comma-separated folders (or s3://bucket/prefix) under which tasks may name a lake of their own; "
           "a task's lake must be lake.url or lie under one of these",
           {}});
  declare({"jobs.max_deaths", ConfigType::kInt, "3",
           "Times a worker may die while running one message before it is dead-lettered (pulse worker)",
           IntIn(1, 1000000)});
  declare({"jobs.timeout_seconds", ConfigType::kInt, "600", "How long pulse run waits for one stage's job (at most a year)",
           IntIn(1, 366 * 86400)});
  declare({"run.dataset", ConfigType::kString, "", "pulse run's input (default: the bundled us-macro-quarterly.csv)", {}});
  declare({"run.mapping", ConfigType::kString, "",
           "Signal -> world-state mapping of pulse run (default: the bundled us-macro-world.yaml)", {}});
  declare({"run.out", ConfigType::kString, "pulse-report", "Folder for pulse run's report.html and summary.json", not_empty});
  declare({"run.sim_runs", ConfigType::kInt, "10000", "Monte Carlo runs of pulse run's world simulation (at most sim.max_runs)",
           IntIn(1, int64_t{1000000000000})});
  declare({"run.sim_turns", ConfigType::kInt, "12", "Turns of pulse run's world simulation (at most sim.max_turns)", IntIn(1, 1000000000)});
  declare({"run.seed", ConfigType::kInt, "0", "Seed of pulse run's world simulation", IntIn(0, INT64_MAX)});
  declare({"run.noise", ConfigType::kDouble, "0.01", "Noise scale of pulse run's world simulation (x range width)",
           unit_interval});
  // Kafka streams (pulse ingest --stream, pulse publish; read into stream::StreamOptions in one
  // place: apps/pulse/cmd_stream.cc).
  declare({"stream.url", ConfigType::kString, "",
           "Kafka topics pulse ingest --stream reads: kafka://HOST:PORT[,HOST:PORT]/TOPICS (names, a glob or ^regex)",
           [](std::string_view v) {
             return v.empty() || v.rfind("kafka://", 0) == 0 ? std::string() : std::string("must be kafka://… or empty");
           }});
  declare({"stream.group", ConfigType::kString, "pulse", "Kafka consumer group of pulse ingest --stream", not_empty});
  declare({"stream.start", ConfigType::kString, "earliest",
           "Where a partition the signals table has no offset for starts: earliest or latest",
           [](std::string_view v) { return OneOf({"earliest", "latest"}, v); }});
  declare({"stream.batch_max_records", ConfigType::kInt, "100000", "A stream micro-batch commits at this many records",
           IntIn(1, int64_t{1} << 32)});
  declare({"stream.batch_max_bytes", ConfigType::kInt, "67108864", "... or at this many record bytes",
           IntIn(1, int64_t{1} << 40)});
  declare({"stream.batch_max_ms", ConfigType::kInt, "1000", "... or this many milliseconds after its first record",
           IntIn(1, 3600 * 1000)});
  declare({"stream.format", ConfigType::kString, "json",
           "Format of records without a pulse-format header: json (one object) or csv (one line under stream.csv_header)",
           [](std::string_view v) { return OneOf({"json", "csv"}, v); }});
  declare({"stream.csv_header", ConfigType::kString, "", "Header line of CSV stream records, e.g. name,ts,value", {}});
  declare({"stream.max_record_bytes", ConfigType::kInt, "1048576", "Larger stream records are rejected unparsed",
           IntIn(1, int64_t{1} << 31)});
  declare({"stream.dead_letter_topic", ConfigType::kString, "",
           "Kafka topic that also receives rejected records (empty: the signal_rejects table only)", {}});
  declare({"stream.queue_kbytes", ConfigType::kInt, "16384",
           "Bound on records fetched ahead of the batch (librdkafka queued.max.messages.kbytes)", IntIn(1, 2097151)});
  declare({"stream.session_timeout_ms", ConfigType::kInt, "10000",
           "A stream consumer silent this long (killed) loses its partitions to the rest of its group",
           IntIn(1000, 3600 * 1000)});
  declare({"stream.publish_topic", ConfigType::kString, "",
           "Topic pulse publish writes to when --to names none (empty: pulse.signals.<kind>)", {}});
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
    std::string msg = std::string(origin) + ": unknown config key " + Quote(key);
    if (best_d <= 3) msg += " (did you mean '" + best + "'?)";
    return Status::InvalidArgument(msg);
  }
  const ConfigKey& k = it->second.key;
  bool ok = true;
  switch (k.type) {
    case ConfigType::kString: break;
    case ConfigType::kInt: ok = ParseInt64(value).has_value(); break;
    case ConfigType::kDouble: ok = ParseFiniteDouble(value).has_value(); break;
    case ConfigType::kBool: ok = ParseBool(value).has_value(); break;
  }
  const std::string where = std::string(origin) + ": " + k.name + ": ";
  if (!ok) {
    std::string expected(TypeName(k.type));
    if (k.type == ConfigType::kInt) {
      const std::string_view digits = value.starts_with('-') ? value.substr(1) : value;
      const bool all_digits = !digits.empty() && digits.find_first_not_of("0123456789") == std::string_view::npos;
      expected += all_digits ? " that fits in 64 bits" : " (decimal digits)";
    }
    if (k.type == ConfigType::kDouble) expected += " (finite)";
    return Status::InvalidArgument(where + "expected " + expected + ", got " + Quote(value));
  }
  if (k.validate) {
    std::string why = k.validate(value);
    if (!why.empty()) return Status::InvalidArgument(where + why + ", got " + Quote(value));
  }
  it->second.value = std::string(value);
  it->second.origin = std::string(origin);
  return Status::Ok();
}

namespace {
// Sets every scalar of `node` (a map) under its dotted key. Never throws: only the node
// accessors that cannot throw are used (Scalar(), Mark(), Is*()).
// A key given twice in one mapping is an error (YAML forbids it; yaml-cpp keeps both, and the
// later one used to win silently).
Status Flatten(Config& config, const YAML::Node& node, const std::string& prefix, std::string_view origin, int depth) {
  std::map<std::string, int> seen;  // key -> its line
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node name = it->first;
    const YAML::Node value = it->second;
    const std::string where = std::string(origin) + ":" + std::to_string(name.Mark().line + 1);
    if (!name.IsScalar() || name.Scalar().empty())
      return Status::InvalidArgument(where + ": a key must be a plain name" +
                                     (prefix.empty() ? std::string() : " (under '" + prefix + "')"));
    const std::string key = prefix.empty() ? name.Scalar() : prefix + "." + name.Scalar();
    if (auto [first, fresh] = seen.emplace(name.Scalar(), name.Mark().line + 1); !fresh)
      return Status::InvalidArgument(where + ": " + key + ": the key is given twice (first on line " +
                                     std::to_string(first->second) + ")");
    if (value.IsMap()) {
      if (depth + 1 >= kMaxYamlDepth) return Status::InvalidArgument(where + ": " + key + ": nested too deep");
      PULSE_RETURN_IF_ERROR(Flatten(config, value, key, origin, depth + 1));
    } else if (value.IsScalar()) {
      PULSE_RETURN_IF_ERROR(config.Set(key, value.Scalar(), where));
    } else if (value.IsNull()) {
      PULSE_RETURN_IF_ERROR(config.Set(key, "", where));
    } else {
      return Status::InvalidArgument(where + ": " + key + ": expected a single value, got a list");
    }
  }
  return Status::Ok();
}
}  // namespace

Status Config::LoadYamlText(std::string_view text, std::string_view origin) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (root.IsNull()) return Status::Ok();  // empty file
    if (!root.IsMap())
      return Status::InvalidArgument(std::string(origin) + ":" + std::to_string(root.Mark().line + 1) +
                                     ": the top level must be a mapping of keys (key: value)");
    return Flatten(*this, root, "", origin, 0);
  } catch (const YAML::Exception& e) {
    // yaml-cpp's syntax errors (and its depth guard); the mark is where the parser stopped.
    std::string where = std::string(origin);
    if (!e.mark.is_null()) where += ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1);
    return Status::ParseError(where + ": " + (e.msg.empty() ? std::string("invalid YAML") : e.msg));
  } catch (const std::exception& e) {
    return Status::ParseError(std::string(origin) + ": cannot read the YAML: " + e.what());
  }
}

Status Config::LoadYamlFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status::NotFound("cannot open config file '" + path + "': " + std::strerror(errno));
  std::string text;
  char buf[4096];
  size_t n;
  int read_errno = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    text.append(buf, n);
    if (text.size() > kMaxConfigFileBytes) break;
  }
  if (std::ferror(f) != 0) read_errno = errno;
  std::fclose(f);
  if (read_errno != 0)
    return Status::IoError("cannot read config file '" + path + "': " + std::strerror(read_errno));
  if (text.size() > kMaxConfigFileBytes)
    return Status::InvalidArgument("config file '" + path + "' is larger than " +
                                   std::to_string(kMaxConfigFileBytes >> 20) + " MiB");
  return LoadYamlText(text, path);
}

Status Config::LoadEnvironment(char** envp) {
  for (char** e = envp; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (!entry.starts_with("PULSE_")) continue;
    size_t eq = entry.find('=');
    std::string_view name = entry.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view() : entry.substr(eq + 1);
    const Entry* match = nullptr;
    std::string nearest;
    size_t nearest_d = SIZE_MAX;
    for (const auto& [key, entry_] : entries_) {
      const std::string env = EnvName(key);
      if (env == name) {
        match = &entry_;
        break;
      }
      const size_t d = EditDistance(name, env);
      if (d < nearest_d) nearest_d = d, nearest = env;
    }
    if (match == nullptr) {
      // Not a setting: other software shares the prefix. A near miss is probably a typo.
      if (nearest_d <= 2 && !ForeignEnv(name))
        warnings_.push_back("environment variable " + std::string(name) +
                            " is not a Pulse setting and is ignored; did you mean " + nearest + "?");
      continue;
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

int64_t Config::GetInt(std::string_view key) const { return ParseInt64(GetString(key)).value_or(0); }
double Config::GetDouble(std::string_view key) const { return ParseFiniteDouble(GetString(key)).value_or(0); }
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
