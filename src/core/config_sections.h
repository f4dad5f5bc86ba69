// Pulse's typed configuration: one plain struct per section of the configuration file, filled once
// at start-up by the loader in core/config.h (defaults < YAML file < PULSE_* environment <
// command-line flags), every value already validated there. Code reads these fields; nothing reads
// configuration by a string key, so a misspelt setting is a compile error, not an empty value.
//
// The YAML keys (and PULSE_* variables, upper-case with '_' for '.') are the section and field
// names: `lake.url` is Settings::lake.url, `s3.endpoint` is Settings::s3.endpoint, the top-level
// `threads` is Settings::threads. The defaults below are the defaults of the keys (the loader
// reads them from a default-constructed Settings: one place states each default).
//
// Why the sections live in core, as plain structs of primitives: the loader must know every key to
// refuse unknown ones (with file:line and the nearest known key) in every build, so the key table
// is in one place, below every module. Modules read the section they need and map it to their own
// options (lake::OpenLake in lake/open_lake.h takes Settings' lake + s3 sections; the pipeline
// builds a TaskEnvironment from Settings) - dependencies point downwards only, and the domain
// modules (signals, sim, forecast, trust) never see configuration at all.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/log.h"

namespace pulse {

// lake.*: where the Delta tables live.
struct LakeSettings {
  std::string url = "pulse-lake";  // a folder, file://… or s3://bucket/prefix; never empty
  int checkpoint_interval = 10;    // a Delta checkpoint every N commits (0 = never), 0..1000000
};

// s3.*: the S3-compatible store of an s3:// lake.
struct S3Settings {
  std::string endpoint;  // e.g. http://127.0.0.1:9000; empty = AWS for the region
  std::string region = "us-east-1";
  std::string access_key;
  std::string secret_key;
  bool path_style = true;  // http://endpoint/bucket/key (MinIO and most S3-compatible servers)
};

// log.*
struct LogSettings {
  log::Level level = log::Level::kInfo;     // trace, debug, info, warn, error
  log::Format format = log::Format::kJson;  // json or text
  // log.modules: "lake=debug,jobs=warn", levels of those modules (overriding level)
  std::map<std::string, log::Level, std::less<>> modules;
};

// telemetry.*: traces (core/trace.h), exported by OTLP/HTTP (core/otlp_exporter.h).
struct TelemetrySettings {
  std::string otlp_endpoint;               // http(s)://collector:4318 (/v1/traces is appended); "" = off
  std::string otlp_protocol = "protobuf";  // protobuf or json
  std::string service_name;                // "" = pulse-<role>: pulse-serve, pulse-worker, pulse-cli, ...
};

// ingest.*: limits and defaults of `pulse ingest` and the pulse.ingest task.
struct IngestSettings {
  int64_t max_field_bytes = 65536;            // longest accepted field, 1..2^30
  int64_t max_file_bytes = int64_t{1} << 30;  // largest input (read once into memory), 1..2^40
  std::string kind = "signal";                // kind of files without a kind column; never empty
  std::string inbox;                          // the only folder pulse.ingest tasks may read local files from; "" = none
  std::string scoring_rules;  // scoring and gating rules YAML; "" = the bundled data/signals/scoring.yaml
};

// sim.*: limits and rule options of every simulation.
struct SimSettings {
  uint64_t max_runs = 10000000;  // largest Monte Carlo batch a command accepts, 1..10^12
  uint32_t max_turns = 100000;   // most turns, 1..10^9
  double decay_rate = 0.01;      // overlay decay per turn, [0, 1]
  bool symbolic = false;         // apply rule effects on overlays (false: the original as shipped)
};

// jobs.*: the job system.
struct JobsSettings {
  std::string broker = "inproc";        // pulse run's stages: inproc (= memory) or redis://host:port/db
  std::string cache;                    // task result cache: memory or redis://…; "" = where the broker is
  std::vector<std::string> lake_roots;  // folders / s3:// prefixes under which a task may name a lake
                                        // (the key is comma-separated text)
  int max_deaths = 3;                   // worker deaths per message before dead-lettering, 1..10^6
  int64_t timeout_seconds = 600;        // pulse run's wait for one stage's job, 1..366 days
};

// run.*: pulse run (the main job).
struct RunSettings {
  std::string dataset;               // "" = the bundled us-macro-quarterly.csv
  std::string mapping;               // "" = the bundled us-macro-world.yaml
  std::string out = "pulse-report";  // folder of report.html and summary.json; never empty
  uint64_t sim_runs = 10000;         // 1..10^12 (at most sim.max_runs, checked by pulse run)
  uint32_t sim_turns = 12;           // 1..10^9 (at most sim.max_turns, checked by pulse run)
  uint64_t seed = 0;                 // 0..2^63-1
  double noise = 0.01;               // noise scale (x range width), [0, 1]
};

// stream.*: Kafka streams (pulse ingest --stream, pulse publish); mapped to stream::StreamOptions
// in one place (apps/pulse/cmd_stream.cc, StreamOptionsFrom).
struct StreamSettings {
  std::string url;                     // kafka://HOST:PORT[,HOST:PORT]/TOPICS, or "" (none)
  std::string group = "pulse";         // consumer group; never empty
  std::string start = "earliest";      // earliest or latest: partitions the table has no offset for
  int64_t batch_max_records = 100000;  // a micro-batch commits at this many records, 1..2^32
  int64_t batch_max_bytes = 67108864;  // ... or this many record bytes, 1..2^40
  int64_t batch_max_ms = 1000;         // ... or this long after its first record, 1..3600000
  std::string format = "json";         // records without a pulse-format header: json or csv
  std::string csv_header;              // header line of CSV records, e.g. name,ts,value
  int64_t max_record_bytes = 1048576;  // larger records are rejected unparsed, 1..2^31
  std::string dead_letter_topic;       // "" = rejects go to the signal_rejects table only
  int64_t queue_kbytes = 16384;        // librdkafka queued.max.messages.kbytes, 1..2097151
  int64_t session_timeout_ms = 10000;  // a silent (killed) consumer loses its partitions, 1000..3600000
  std::string publish_topic;           // pulse publish's topic when --to names none ("" = pulse.signals.<kind>)
};

// serve.*: pulse serve, the HTTP API (src/service; mapped to service::ServeOptions in one place,
// service::ServeOptionsFrom).
struct ServeSettings {
  std::string host = "127.0.0.1";                 // address to listen on (IPv4 or IPv6 literal, or a name)
  int port = 8080;                                // 0: any free port (printed), 0..65535
  int threads = 8;                                // request threads, 1..1024
  int64_t max_body_bytes = 16 << 20;              // larger request bodies are refused (413), 1..2^31
  int64_t request_timeout_ms = 30000;             // a request's time limit (reading it and handling it), 1..3600000
  double rate_per_second = 50;                    // token bucket per token (or client address): refill rate, (0, 10^6]
  int64_t rate_burst = 100;                       // ... and capacity, 1..10^9
  std::string tokens_file = "pulse-tokens.json";  // hashed API tokens (pulse token create); never empty
  int64_t shutdown_grace_ms = 10000;              // SIGTERM: in-flight requests get this long, 0..3600000
  int64_t probe_timeout_ms = 2000;                // /readyz: each dependency must answer within this, 1..60000
  int64_t read_cache_mb = 256;                    // rows of recent table versions kept for the read routes, 0..2^20
  std::string tls_cert_file;                      // PEM certificate (chain): HTTPS; "" = plain HTTP
  std::string tls_key_file;                       // PEM private key of tls_cert_file; set both or neither
};

// drift.*: pulse drift (mapped to pipeline::DriftOptions in one place: apps/pulse/cmd_drift.cc).
struct DriftSettings {
  int64_t reference_points = 40;       // observations before the current window, 1..10^7
  int64_t current_points = 8;          // the latest observations, 1..10^7
  int64_t min_coverage_outcomes = 10;  // outcomes before the coverage tests run, 1..10^9
  int trigger_consecutive =
      2;  // drift.trigger.consecutive: input-drift runs in a row that retrain (0 = never), 0..1000
  bool trigger_coverage = true;   // drift.trigger.coverage: a failed coverage test retrains
  bool trigger_streaming = true;  // drift.trigger.streaming: a recent ADWIN / Page-Hinkley / DDM detection retrains
  std::string trigger_broker;     // drift.trigger.broker: redis://… to enqueue pulse.train; "" = report only
  std::string trigger_queue = "celery";  // drift.trigger.queue: the queue pulse.train goes to; never empty
};

// registry.*: the model registry (src/registry; pulse train registers versions, pulse forecast and
// pulse run forecast with each series' champion), mapped to pipeline options in one place
// (pipeline/train_models.h).
struct RegistrySettings {
  std::string url = "pulse-registry";  // a folder, file://… or http(s)://MLflow-server; "" = no registry
  std::string model_prefix = "pulse";  // registered model of a series: <prefix>.<kind>.<series>
  std::string experiment = "pulse";    // MLflow experiment of the training runs; never empty
  double promotion_margin = 0.05;      // a challenger's backtest MASE must be <= champion's * (1 - margin), [0, 1)
  double coverage_tolerance = 0.15;    // ... and its calibrated 80% band must cover >= 0.8 - tolerance, [0, 0.8]
  bool serve_champion = true;          // pulse forecast / run: forecast with the champion when there is one
};

struct Settings {
  LakeSettings lake;
  S3Settings s3;
  LogSettings log;
  TelemetrySettings telemetry;
  IngestSettings ingest;
  SimSettings sim;
  JobsSettings jobs;
  RunSettings run;
  StreamSettings stream;
  ServeSettings serve;
  DriftSettings drift;
  RegistrySettings registry;
  int threads = 0;  // worker threads, 0 = all cores, 0..4096
};

}  // namespace pulse
