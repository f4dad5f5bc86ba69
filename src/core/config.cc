#include "core/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <type_traits>

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
      "PULSE_VENV",         "PULSE_CACHE",       "PULSE_BUILD_DIR",       "PULSE_BIN",           "PULSE_DATA_DIR",
      "PULSE_SERVER",       "PULSE_SINK",        "PULSE_SOURCE",          "PULSE_COOKIE",        "PULSE_RUNTIME_PATH",
      "PULSE_STATE_PATH",   "PULSE_CONFIG",      "PULSE_CONFIG_PATH",     "PULSE_CLIENTCONFIG",  "PULSE_SYSTEM",
      "PULSE_LATENCY_MSEC", "PULSE_PROP",        "PULSE_DLOPEN",          "PULSE_NO_SIMD",       "PULSE_LOG",
      "PULSE_LOG_TARGET",   "PULSE_LOG_META",    "PULSE_LOG_TIME",        "PULSE_LOG_BACKTRACE", "PULSE_LOG_COLORS",
      "PULSE_LOG_SYSLOG",   "PULSE_LOG_JOURNAL", "PULSE_MEMPOOL_DISABLE", "PULSE_DIR",           "PULSE_PASSED_FD"};
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

std::optional<int64_t> ParseInt64(std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<uint64_t> ParseUint64(std::string_view text) {
  if (text.empty() || text.front() < '0' || text.front() > '9') return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<double> ParseFiniteDouble(std::string_view text) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) return std::nullopt;
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

std::string NotEmpty(std::string_view v) { return v.empty() ? std::string("must not be empty") : std::string(); }

// Where a key's value lives: `section` of Settings, then `field` of it (or a top-level field).
template <class Section, class T>
struct FieldRef {
  Section Settings::*section;
  T Section::*field;
  T& operator()(Settings& s) const { return s.*section.*field; }
  const T& operator()(const Settings& s) const { return s.*section.*field; }
};
template <class T>
struct TopField {
  T Settings::*field;
  T& operator()(Settings& s) const { return s.*field; }
  const T& operator()(const Settings& s) const { return s.*field; }
};

// A key bound to a field: the key's type follows the field's (std::string, bool, a floating or
// integral type). Integer ranges must fit the field's type; the assert catches a table mistake.
template <class Ref>
Config::Key Bind(std::string name, Ref ref, std::string description,
                 std::function<std::string(std::string_view)> validate = {}, int64_t min = 0, int64_t max = 0) {
  using T = std::remove_cvref_t<decltype(ref(std::declval<Settings&>()))>;
  Config::Key k{std::move(name), ConfigType::kString, std::move(description), std::move(validate), {}};
  if constexpr (std::is_same_v<T, std::string>) {
    k.assign = [ref](Settings& s, std::string_view v) { ref(s) = std::string(v); };
  } else if constexpr (std::is_same_v<T, bool>) {
    k.type = ConfigType::kBool;
    k.assign = [ref](Settings& s, std::string_view v) { ref(s) = ParseBool(v).value_or(false); };
  } else if constexpr (std::is_floating_point_v<T>) {
    k.type = ConfigType::kDouble;
    k.assign = [ref](Settings& s, std::string_view v) { ref(s) = ParseFiniteDouble(v).value_or(0); };
  } else {
    static_assert(std::is_integral_v<T>);
    assert(min >= 0 || std::is_signed_v<T>);
    assert(static_cast<uint64_t>(max) <= static_cast<uint64_t>(std::numeric_limits<T>::max()));
    assert(min >= static_cast<int64_t>(std::numeric_limits<T>::lowest()) || std::is_unsigned_v<T>);
    k.type = ConfigType::kInt;
    if (!k.validate) k.validate = IntIn(min, max);
    k.assign = [ref](Settings& s, std::string_view v) { ref(s) = static_cast<T>(ParseInt64(v).value_or(0)); };
  }
  return k;
}

template <class Section, class T>
Config::Key Bind(std::string name, Section Settings::*section, T Section::*field, std::string description,
                 std::function<std::string(std::string_view)> validate = {}) {
  return Bind(std::move(name), FieldRef<Section, T>{section, field}, std::move(description), std::move(validate));
}
template <class Section, class T>
Config::Key BindInt(std::string name, Section Settings::*section, T Section::*field, int64_t min, int64_t max,
                    std::string description) {
  return Bind(std::move(name), FieldRef<Section, T>{section, field}, std::move(description), {}, min, max);
}

// A key whose text maps to a field through `parse` (enums, lists): a string key.
template <class Ref, class Parse>
Config::Key BindText(std::string name, Ref ref, std::string description,
                     std::function<std::string(std::string_view)> validate, Parse parse) {
  Config::Key k{std::move(name), ConfigType::kString, std::move(description), std::move(validate), {}};
  k.assign = [ref, parse](Settings& s, std::string_view v) { ref(s) = parse(v); };
  return k;
}

// lake.* and s3.*: where the tables live.
void AddStorageKeys(std::vector<Config::Key>& keys) {
  keys.push_back(Bind("lake.url", &Settings::lake, &LakeSettings::url,
                      "Where the Delta tables live: a folder, file://… or s3://bucket/prefix", NotEmpty));
  keys.push_back(BindInt("lake.checkpoint_interval", &Settings::lake, &LakeSettings::checkpoint_interval, 0, 1000000,
                         "Write a Delta checkpoint every N commits (0 = never)"));
  keys.push_back(Bind("s3.endpoint", &Settings::s3, &S3Settings::endpoint,
                      "S3-compatible endpoint URL, e.g. http://127.0.0.1:9000"));
  keys.push_back(Bind("s3.region", &Settings::s3, &S3Settings::region, "S3 region used for request signing"));
  keys.push_back(Bind("s3.access_key", &Settings::s3, &S3Settings::access_key, "S3 access key id"));
  keys.push_back(Bind("s3.secret_key", &Settings::s3, &S3Settings::secret_key, "S3 secret access key"));
  keys.push_back(Bind("s3.path_style", &Settings::s3, &S3Settings::path_style,
                      "Path-style S3 URLs (MinIO and most S3-compatible servers)"));
}

// log.* and threads.
void AddProcessKeys(std::vector<Config::Key>& keys) {
  keys.push_back(BindText(
      "log.level", FieldRef<LogSettings, log::Level>{&Settings::log, &LogSettings::level},
      "Lowest log level written: trace, debug, info, warn, error",
      [](std::string_view v) {
        return OneOf({"trace", "debug", "info", "warn", "error"}, v);
      },
      [](std::string_view v) { return log::ParseLevel(v).value_or(log::Level::kInfo); }));
  keys.push_back(BindText(
      "log.format", FieldRef<LogSettings, log::Format>{&Settings::log, &LogSettings::format},
      "Log line format: json or text",
      [](std::string_view v) {
        return OneOf({"json", "text"}, v);
      },
      [](std::string_view v) { return v == "text" ? log::Format::kText : log::Format::kJson; }));
  keys.push_back(BindText(
      "log.modules",
      FieldRef<LogSettings, std::map<std::string, log::Level, std::less<>>>{&Settings::log, &LogSettings::modules},
      "Per-module log levels overriding log.level, e.g. lake=debug,jobs=warn",
      [](std::string_view v) {
        auto parsed = log::ParseModuleLevels(v);
        return parsed.ok() ? std::string() : parsed.status().message();
      },
      [](std::string_view v) {
        return log::ParseModuleLevels(v).value_or(std::map<std::string, log::Level, std::less<>>{});
      }));
  keys.push_back(Bind("telemetry.otlp_endpoint", &Settings::telemetry, &TelemetrySettings::otlp_endpoint,
                      "OTLP/HTTP collector base URL for traces, e.g. http://127.0.0.1:4318 (empty: no export)",
                      [](std::string_view v) {
                        return v.empty() || v.rfind("http://", 0) == 0 || v.rfind("https://", 0) == 0
                                   ? std::string()
                                   : std::string("must be empty, http://… or https://…");
                      }));
  keys.push_back(Bind("telemetry.otlp_protocol", &Settings::telemetry, &TelemetrySettings::otlp_protocol,
                      "OTLP/HTTP encoding: protobuf or json", [](std::string_view v) {
                        return OneOf({"protobuf", "json"}, v);
                      }));
  keys.push_back(Bind("telemetry.service_name", &Settings::telemetry, &TelemetrySettings::service_name,
                      "service.name of exported spans (empty: pulse-<role>, e.g. pulse-serve, pulse-worker)"));
  keys.push_back(Bind("threads", TopField<int>{&Settings::threads}, "Worker threads (0 = all cores)", {}, 0, 4096));
}

// ingest.*.
void AddIngestKeys(std::vector<Config::Key>& keys) {
  keys.push_back(BindInt("ingest.max_field_bytes", &Settings::ingest, &IngestSettings::max_field_bytes, 1,
                         int64_t{1} << 30, "Longest accepted field in an ingested record"));
  keys.push_back(BindInt("ingest.max_file_bytes", &Settings::ingest, &IngestSettings::max_file_bytes, 1,
                         int64_t{1} << 40,
                         "Largest input pulse ingest and the pulse.ingest task read (a file, or an object by url; "
                         "read once into memory); more is refused"));
  keys.push_back(Bind("ingest.kind", &Settings::ingest, &IngestSettings::kind,
                      "Signal kind for files without a kind column", NotEmpty));
  keys.push_back(Bind("ingest.inbox", &Settings::ingest, &IngestSettings::inbox,
                      "The only folder pulse.ingest tasks may read files from (relative task paths resolve in it); "
                      "empty: the worker refuses to ingest local files sent as tasks"));
  keys.push_back(Bind("ingest.scoring_rules", &Settings::ingest, &IngestSettings::scoring_rules,
                      "Scoring and gating rules YAML applied to every ingested signal (docs/signals.md); "
                      "empty: the bundled data/signals/scoring.yaml"));
}

// sim.*.
void AddSimKeys(std::vector<Config::Key>& keys) {
  const auto unit_interval = NumberIn(0, 1);
  keys.push_back(BindInt("sim.max_runs", &Settings::sim, &SimSettings::max_runs, 1, int64_t{1000000000000},
                         "Largest Monte Carlo batch (runs) a command accepts"));
  keys.push_back(BindInt("sim.max_turns", &Settings::sim, &SimSettings::max_turns, 1, 1000000000,
                         "Most turns a simulation accepts"));
  keys.push_back(Bind("sim.decay_rate", &Settings::sim, &SimSettings::decay_rate,
                      "Overlay decay per turn (the original's run_turn default)", unit_interval));
  keys.push_back(Bind("sim.symbolic", &Settings::sim, &SimSettings::symbolic,
                      "Apply rule effects on overlays (false reproduces the original as shipped)"));
}

// jobs.*.
void AddJobsKeys(std::vector<Config::Key>& keys) {
  keys.push_back(Bind("jobs.broker", &Settings::jobs, &JobsSettings::broker,
                      "Where pulse run sends its stage jobs: inproc (worker threads in this process; also spelt "
                      "memory) or redis://host:port/db",
                      [](std::string_view v) {
                        return v == "inproc" || v == "memory" || v.rfind("redis://", 0) == 0
                                   ? std::string()
                                   : std::string("must be inproc, memory or redis://…");
                      }));
  keys.push_back(Bind("jobs.cache", &Settings::jobs, &JobsSettings::cache,
                      "Where workers cache deterministic task results: memory (this process) or "
                      "redis://host:port/db; empty: where the broker is (memory for an in-process broker)",
                      [](std::string_view v) {
                        return v.empty() || v == "memory" || v.rfind("redis://", 0) == 0
                                   ? std::string()
                                   : std::string("must be memory or redis://…");
                      }));
  keys.push_back(BindText(
      "jobs.lake_roots", FieldRef<JobsSettings, std::vector<std::string>>{&Settings::jobs, &JobsSettings::lake_roots},
      "Comma-separated folders (or s3://bucket/prefix) under which tasks may name a lake of their own; "
      "a task's lake must be lake.url or lie under one of these",
      {}, [](std::string_view v) { return SplitCommas(v); }));
  keys.push_back(BindInt("jobs.max_deaths", &Settings::jobs, &JobsSettings::max_deaths, 1, 1000000,
                         "Times a worker may die while running one message before it is dead-lettered (pulse worker)"));
  keys.push_back(BindInt("jobs.timeout_seconds", &Settings::jobs, &JobsSettings::timeout_seconds, 1,
                         int64_t{366} * 86400, "How long pulse run waits for one stage's job (at most a year)"));
}

// run.*: pulse run.
void AddRunKeys(std::vector<Config::Key>& keys) {
  const auto unit_interval = NumberIn(0, 1);
  keys.push_back(Bind("run.dataset", &Settings::run, &RunSettings::dataset,
                      "pulse run's input (default: the bundled us-macro-quarterly.csv)"));
  keys.push_back(Bind("run.mapping", &Settings::run, &RunSettings::mapping,
                      "Signal -> world-state mapping of pulse run (default: the bundled us-macro-world.yaml)"));
  keys.push_back(Bind("run.out", &Settings::run, &RunSettings::out,
                      "Folder for pulse run's report.html and summary.json", NotEmpty));
  keys.push_back(BindInt("run.sim_runs", &Settings::run, &RunSettings::sim_runs, 1, int64_t{1000000000000},
                         "Monte Carlo runs of pulse run's world simulation (at most sim.max_runs)"));
  keys.push_back(BindInt("run.sim_turns", &Settings::run, &RunSettings::sim_turns, 1, 1000000000,
                         "Turns of pulse run's world simulation (at most sim.max_turns)"));
  keys.push_back(
      BindInt("run.seed", &Settings::run, &RunSettings::seed, 0, INT64_MAX, "Seed of pulse run's world simulation"));
  keys.push_back(Bind("run.noise", &Settings::run, &RunSettings::noise,
                      "Noise scale of pulse run's world simulation (x range width)", unit_interval));
}

// stream.*: Kafka streams (pulse ingest --stream, pulse publish; read into stream::StreamOptions
// in one place: apps/pulse/cmd_stream.cc).
void AddStreamKeys(std::vector<Config::Key>& keys) {
  keys.push_back(Bind(
      "stream.url", &Settings::stream, &StreamSettings::url,
      "Kafka topics pulse ingest --stream reads: kafka://HOST:PORT[,HOST:PORT]/TOPICS (names, a glob or ^regex)",
      [](std::string_view v) {
        return v.empty() || v.rfind("kafka://", 0) == 0 ? std::string() : std::string("must be kafka://… or empty");
      }));
  keys.push_back(Bind("stream.group", &Settings::stream, &StreamSettings::group,
                      "Kafka consumer group of pulse ingest --stream", NotEmpty));
  keys.push_back(Bind("stream.start", &Settings::stream, &StreamSettings::start,
                      "Where a partition the signals table has no offset for starts: earliest or latest",
                      [](std::string_view v) {
                        return OneOf({"earliest", "latest"}, v);
                      }));
  keys.push_back(BindInt("stream.batch_max_records", &Settings::stream, &StreamSettings::batch_max_records, 1,
                         int64_t{1} << 32, "A stream micro-batch commits at this many records"));
  keys.push_back(BindInt("stream.batch_max_bytes", &Settings::stream, &StreamSettings::batch_max_bytes, 1,
                         int64_t{1} << 40, "... or at this many record bytes"));
  keys.push_back(BindInt("stream.batch_max_ms", &Settings::stream, &StreamSettings::batch_max_ms, 1,
                         int64_t{3600} * 1000, "... or this many milliseconds after its first record"));
  keys.push_back(Bind("stream.format", &Settings::stream, &StreamSettings::format,
                      "Format of records without a pulse-format header: json (one object) or csv (one line under "
                      "stream.csv_header)",
                      [](std::string_view v) {
                        return OneOf({"json", "csv"}, v);
                      }));
  keys.push_back(Bind("stream.csv_header", &Settings::stream, &StreamSettings::csv_header,
                      "Header line of CSV stream records, e.g. name,ts,value"));
  keys.push_back(BindInt("stream.max_record_bytes", &Settings::stream, &StreamSettings::max_record_bytes, 1,
                         int64_t{1} << 31, "Larger stream records are rejected unparsed"));
  keys.push_back(Bind("stream.dead_letter_topic", &Settings::stream, &StreamSettings::dead_letter_topic,
                      "Kafka topic that also receives rejected records (empty: the signal_rejects table only)"));
  keys.push_back(BindInt("stream.queue_kbytes", &Settings::stream, &StreamSettings::queue_kbytes, 1, 2097151,
                         "Bound on records fetched ahead of the batch (librdkafka queued.max.messages.kbytes)"));
  keys.push_back(BindInt("stream.session_timeout_ms", &Settings::stream, &StreamSettings::session_timeout_ms, 1000,
                         int64_t{3600} * 1000,
                         "A stream consumer silent this long (killed) loses its partitions to the rest of its group"));
  keys.push_back(Bind("stream.publish_topic", &Settings::stream, &StreamSettings::publish_topic,
                      "Topic pulse publish writes to when --to names none (empty: pulse.signals.<kind>)"));
}

void AddServeKeys(std::vector<Config::Key>& keys) {
  // pulse serve (read into service::ServeOptions in one place: service/serve.h ServeOptionsFrom).
  keys.push_back(Bind("serve.host", &Settings::serve, &ServeSettings::host,
                      "Address pulse serve listens on (127.0.0.1: this machine only; 0.0.0.0: every interface)",
                      NotEmpty));
  keys.push_back(BindInt("serve.port", &Settings::serve, &ServeSettings::port, 0, 65535,
                         "Port pulse serve listens on (0: any free port, printed at start)"));
  keys.push_back(BindInt("serve.threads", &Settings::serve, &ServeSettings::threads, 1, 1024,
                         "Threads serving HTTP requests (each holds one connection at a time)"));
  keys.push_back(BindInt("serve.max_body_bytes", &Settings::serve, &ServeSettings::max_body_bytes, 1, int64_t{1} << 31,
                         "Largest request body pulse serve accepts (larger: 413)"));
  keys.push_back(BindInt("serve.request_timeout_ms", &Settings::serve, &ServeSettings::request_timeout_ms, 1,
                         int64_t{3600} * 1000, "Time limit of one request: reading it, and handling it (then 503)"));
  keys.push_back(Bind("serve.rate_per_second", &Settings::serve, &ServeSettings::rate_per_second,
                      "Requests per second each API token (or client address without one) may make, on average",
                      [](std::string_view v) {
                        auto d = ParseFiniteDouble(v);
                        return d && *d > 0 && *d <= 1e6 ? std::string() : std::string("must lie in (0, 1e6]");
                      }));
  keys.push_back(BindInt("serve.rate_burst", &Settings::serve, &ServeSettings::rate_burst, 1, 1000000000,
                         "Requests a token (or client address) may make at once before the rate applies"));
  keys.push_back(Bind("serve.tokens_file", &Settings::serve, &ServeSettings::tokens_file,
                      "File of hashed API tokens (written by pulse token create)", NotEmpty));
  keys.push_back(BindInt("serve.shutdown_grace_ms", &Settings::serve, &ServeSettings::shutdown_grace_ms, 0,
                         int64_t{3600} * 1000, "On SIGTERM, how long in-flight requests may take to finish"));
  keys.push_back(BindInt("serve.probe_timeout_ms", &Settings::serve, &ServeSettings::probe_timeout_ms, 1, 60000,
                         "/readyz: how long each dependency (lake, broker) has to answer"));
  keys.push_back(BindInt("serve.read_cache_mb", &Settings::serve, &ServeSettings::read_cache_mb, 0, int64_t{1} << 20,
                         "MiB of table rows (recent versions) pulse serve keeps for its read routes (0: none)"));
  keys.push_back(Bind("serve.tls_cert_file", &Settings::serve, &ServeSettings::tls_cert_file,
                      "PEM certificate (chain) pulse serve presents: HTTPS instead of HTTP (with serve.tls_key_file)"));
  keys.push_back(Bind("serve.tls_key_file", &Settings::serve, &ServeSettings::tls_key_file,
                      "PEM private key of serve.tls_cert_file (readable by pulse serve only)"));
}

// drift.*: pulse drift.
void AddDriftKeys(std::vector<Config::Key>& keys) {
  keys.push_back(BindInt("drift.reference_points", &Settings::drift, &DriftSettings::reference_points, 1, 10000000,
                         "pulse drift: observations in the reference window (those before the current window)"));
  keys.push_back(BindInt("drift.current_points", &Settings::drift, &DriftSettings::current_points, 1, 10000000,
                         "pulse drift: observations in the current window (the latest)"));
  keys.push_back(BindInt("drift.min_coverage_outcomes", &Settings::drift, &DriftSettings::min_coverage_outcomes, 1,
                         1000000000, "pulse drift: forecast outcomes a series needs before its coverage is tested"));
  keys.push_back(BindInt("drift.trigger.consecutive", &Settings::drift, &DriftSettings::trigger_consecutive, 0, 1000,
                         "Retrain a series after its input drift test said drift this many runs in a row (0 = never)"));
  keys.push_back(Bind("drift.trigger.coverage", &Settings::drift, &DriftSettings::trigger_coverage,
                      "Retrain a series whose 80% or 95% band coverage test fails"));
  keys.push_back(Bind("drift.trigger.streaming", &Settings::drift, &DriftSettings::trigger_streaming,
                      "Retrain a series when ADWIN, Page-Hinkley or DDM detects drift in its latest forecast errors"));
  keys.push_back(Bind(
      "drift.trigger.broker", &Settings::drift, &DriftSettings::trigger_broker,
      "Where pulse drift enqueues pulse.train tasks: redis://host:port/db; empty: report only", [](std::string_view v) {
        return v.empty() || v.rfind("redis://", 0) == 0 ? std::string() : std::string("must be empty or redis://…");
      }));
  keys.push_back(Bind("drift.trigger.queue", &Settings::drift, &DriftSettings::trigger_queue,
                      "The queue pulse drift's pulse.train tasks go to", NotEmpty));
}

// registry.*: the model registry.
void AddRegistryKeys(std::vector<Config::Key>& keys) {
  keys.push_back(Bind("registry.url", &Settings::registry, &RegistrySettings::url,
                      "Model registry: a folder, file://… (embedded) or http(s)://… (an MLflow tracking server); "
                      "empty: none (pulse forecast fits every series)",
                      [](std::string_view v) {
                        return v.find("://") == std::string_view::npos || v.rfind("file://", 0) == 0 ||
                                       v.rfind("http://", 0) == 0 || v.rfind("https://", 0) == 0
                                   ? std::string()
                                   : std::string("must be a folder, file://…, http://… or https://…");
                      }));
  keys.push_back(Bind("registry.model_prefix", &Settings::registry, &RegistrySettings::model_prefix,
                      "Registered model of a series: <prefix>.<kind>.<series>", [](std::string_view v) {
                        bool ok = !v.empty() && v.size() <= 64;
                        for (char c : v)
                          ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
                        return ok ? std::string() : std::string("must be 1..64 letters, digits, '.', '_' or '-'");
                      }));
  keys.push_back(Bind("registry.experiment", &Settings::registry, &RegistrySettings::experiment,
                      "MLflow experiment (or folder experiment) of pulse train's runs", NotEmpty));
  keys.push_back(Bind("registry.promotion_margin", &Settings::registry, &RegistrySettings::promotion_margin,
                      "A challenger becomes champion only if its backtest MASE is at most the champion's times "
                      "(1 - margin)",
                      [](std::string_view v) {
                        auto d = ParseFiniteDouble(v);
                        return d && *d >= 0 && *d < 1 ? std::string() : std::string("must lie in [0, 1)");
                      }));
  keys.push_back(Bind("registry.coverage_tolerance", &Settings::registry, &RegistrySettings::coverage_tolerance,
                      "... and its calibrated 80% band covers at least 0.8 - tolerance of its backtest outcomes",
                      NumberIn(0, 0.8)));
  keys.push_back(
      Bind("registry.serve_champion", &Settings::registry, &RegistrySettings::serve_champion,
           "pulse forecast and pulse run forecast each series with its registered champion when it has one"));
}

// Every key of Settings, in file order of config_sections.h.
std::vector<Config::Key> AllKeys() {
  std::vector<Config::Key> keys;
  AddStorageKeys(keys);
  AddProcessKeys(keys);
  AddIngestKeys(keys);
  AddSimKeys(keys);
  AddJobsKeys(keys);
  AddRunKeys(keys);
  AddStreamKeys(keys);
  AddServeKeys(keys);
  AddDriftKeys(keys);
  AddRegistryKeys(keys);
  return keys;
}
}  // namespace

Config Config::Defaults() {
  Config c;
  for (Key& key : AllKeys()) {
    std::string name = key.name;
    const bool fresh = c.entries_.emplace(std::move(name), Entry{std::move(key), "default"}).second;
    assert(fresh && "config key declared twice");
    (void)fresh;
  }
  return c;
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
  const Key& k = it->second.key;
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
  k.assign(settings_, value);
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
    if (!name.IsScalar() || name.Scalar().empty()) {
      return Status::InvalidArgument(where + ": a key must be a plain name" +
                                     (prefix.empty() ? std::string() : " (under '" + prefix + "')"));
    }
    const std::string key = prefix.empty() ? name.Scalar() : prefix + "." + name.Scalar();
    if (auto [first, fresh] = seen.emplace(name.Scalar(), name.Mark().line + 1); !fresh) {
      return Status::InvalidArgument(where + ": " + key + ": the key is given twice (first on line " +
                                     std::to_string(first->second) + ")");
    }
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
    if (!root.IsMap()) {
      return Status::InvalidArgument(std::string(origin) + ":" + std::to_string(root.Mark().line + 1) +
                                     ": the top level must be a mapping of keys (key: value)");
    }
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
  if (read_errno != 0) return Status::IoError("cannot read config file '" + path + "': " + std::strerror(read_errno));
  if (text.size() > kMaxConfigFileBytes) {
    return Status::InvalidArgument("config file '" + path + "' is larger than " +
                                   std::to_string(kMaxConfigFileBytes >> 20) + " MiB");
  }
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
      if (nearest_d <= 2 && !ForeignEnv(name)) {
        warnings_.push_back("environment variable " + std::string(name) +
                            " is not a Pulse setting and is ignored; did you mean " + nearest + "?");
      }
      continue;
    }
    PULSE_RETURN_IF_ERROR(Set(match->key.name, value, "env " + std::string(name)));
  }
  return Status::Ok();
}

std::string Config::Origin(std::string_view key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? std::string() : it->second.origin;
}

std::vector<std::string> Config::Keys() const {
  std::vector<std::string> out;
  for (const auto& [k, e] : entries_) out.push_back(k);
  return out;
}

std::vector<std::string> SplitCommas(std::string_view text) {
  std::vector<std::string> out;
  for (size_t pos = 0; pos < text.size();) {
    size_t comma = text.find(',', pos);
    out.emplace_back(text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
    pos = comma == std::string_view::npos ? text.size() : comma + 1;
  }
  return out;
}

}  // namespace pulse
