#include "core/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace pulse {
namespace {

TEST(Config, DefaultsAreDeclaredAndTyped) {
  Config c = Config::Defaults();
  const Settings& s = c.settings();
  EXPECT_EQ(s.lake.url, "pulse-lake");
  EXPECT_EQ(s.lake.checkpoint_interval, 10);
  EXPECT_EQ(s.s3.endpoint, "");
  EXPECT_EQ(s.s3.region, "us-east-1");
  EXPECT_TRUE(s.s3.path_style);
  EXPECT_EQ(s.log.level, log::Level::kInfo);
  EXPECT_EQ(s.log.format, log::Format::kJson);
  EXPECT_EQ(s.threads, 0);
  EXPECT_EQ(s.ingest.max_field_bytes, 65536);
  EXPECT_EQ(s.ingest.max_file_bytes, 1073741824);
  EXPECT_EQ(s.ingest.kind, "signal");
  EXPECT_EQ(s.ingest.inbox, "");
  EXPECT_EQ(s.ingest.scoring_rules, "");
  EXPECT_EQ(s.sim.max_runs, 10000000u);
  EXPECT_EQ(s.sim.max_turns, 100000u);
  EXPECT_EQ(s.sim.decay_rate, 0.01);
  EXPECT_FALSE(s.sim.symbolic);
  EXPECT_EQ(s.jobs.broker, "inproc");
  EXPECT_EQ(s.jobs.cache, "");
  EXPECT_TRUE(s.jobs.lake_roots.empty());
  EXPECT_EQ(s.jobs.max_deaths, 3);
  EXPECT_EQ(s.jobs.timeout_seconds, 600);
  EXPECT_EQ(s.run.dataset, "");
  EXPECT_EQ(s.run.mapping, "");
  EXPECT_EQ(s.run.out, "pulse-report");
  EXPECT_EQ(s.run.sim_runs, 10000u);
  EXPECT_EQ(s.run.sim_turns, 12u);
  EXPECT_EQ(s.run.seed, 0u);
  EXPECT_EQ(s.run.noise, 0.01);
  EXPECT_EQ(s.stream.url, "");
  EXPECT_EQ(s.stream.group, "pulse");
  EXPECT_EQ(s.stream.start, "earliest");
  EXPECT_EQ(s.stream.batch_max_records, 100000);
  EXPECT_EQ(s.stream.batch_max_bytes, 67108864);
  EXPECT_EQ(s.stream.batch_max_ms, 1000);
  EXPECT_EQ(s.stream.format, "json");
  EXPECT_EQ(s.stream.csv_header, "");
  EXPECT_EQ(s.stream.max_record_bytes, 1048576);
  EXPECT_EQ(s.stream.dead_letter_topic, "");
  EXPECT_EQ(s.stream.queue_kbytes, 16384);
  EXPECT_EQ(s.stream.session_timeout_ms, 10000);
  EXPECT_EQ(s.stream.publish_topic, "");
  EXPECT_EQ(s.registry.url, "pulse-registry");
  EXPECT_EQ(s.registry.model_prefix, "pulse");
  EXPECT_EQ(s.registry.experiment, "pulse");
  EXPECT_EQ(s.registry.promotion_margin, 0.05);
  EXPECT_EQ(s.registry.coverage_tolerance, 0.15);
  EXPECT_TRUE(s.registry.serve_champion);
  EXPECT_EQ(c.Origin("lake.url"), "default");
  EXPECT_EQ(c.Origin("lake.ulr"), "");
  // Every key of the file format, and nothing else (names and env variables stay as documented).
  const std::vector<std::string> keys = {"drift.current_points",
                                         "drift.min_coverage_outcomes",
                                         "drift.reference_points",
                                         "drift.trigger.broker",
                                         "drift.trigger.consecutive",
                                         "drift.trigger.coverage",
                                         "drift.trigger.queue",
                                         "drift.trigger.streaming",
                                         "ingest.inbox",
                                         "ingest.kind",
                                         "ingest.max_field_bytes",
                                         "ingest.max_file_bytes",
                                         "ingest.scoring_rules",
                                         "jobs.broker",
                                         "jobs.cache",
                                         "jobs.lake_roots",
                                         "jobs.max_deaths",
                                         "jobs.timeout_seconds",
                                         "lake.checkpoint_interval",
                                         "lake.url",
                                         "log.format",
                                         "log.level",
                                         "log.modules",
                                         "registry.coverage_tolerance",
                                         "registry.experiment",
                                         "registry.model_prefix",
                                         "registry.promotion_margin",
                                         "registry.serve_champion",
                                         "registry.url",
                                         "run.dataset",
                                         "run.mapping",
                                         "run.noise",
                                         "run.out",
                                         "run.seed",
                                         "run.sim_runs",
                                         "run.sim_turns",
                                         "s3.access_key",
                                         "s3.endpoint",
                                         "s3.path_style",
                                         "s3.region",
                                         "s3.secret_key",
                                         "serve.host",
                                         "serve.max_body_bytes",
                                         "serve.port",
                                         "serve.probe_timeout_ms",
                                         "serve.rate_burst",
                                         "serve.rate_per_second",
                                         "serve.read_cache_mb",
                                         "serve.request_timeout_ms",
                                         "serve.shutdown_grace_ms",
                                         "serve.threads",
                                         "serve.tls_cert_file",
                                         "serve.tls_key_file",
                                         "serve.tokens_file",
                                         "sim.decay_rate",
                                         "sim.max_runs",
                                         "sim.max_turns",
                                         "sim.symbolic",
                                         "stream.batch_max_bytes",
                                         "stream.batch_max_ms",
                                         "stream.batch_max_records",
                                         "stream.csv_header",
                                         "stream.dead_letter_topic",
                                         "stream.format",
                                         "stream.group",
                                         "stream.max_record_bytes",
                                         "stream.publish_topic",
                                         "stream.queue_kbytes",
                                         "stream.session_timeout_ms",
                                         "stream.start",
                                         "stream.url",
                                         "telemetry.otlp_endpoint",
                                         "telemetry.otlp_protocol",
                                         "telemetry.service_name",
                                         "threads"};
  EXPECT_EQ(c.Keys(), keys);
}

// registry.*: URLs by scheme, the promotion numbers by range, model names by character set.
TEST(Config, RegistryKeysAreChecked) {
  Config c = Config::Defaults();
  for (const char* ok : {"file:///tmp/r", "models", "http://127.0.0.1:5000", "https://mlflow.example", ""})
    EXPECT_TRUE(c.Set("registry.url", ok).ok()) << ok;
  EXPECT_EQ(c.Set("registry.url", "s3://bucket/models").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(c.Set("registry.promotion_margin", "0").ok());
  EXPECT_FALSE(c.Set("registry.promotion_margin", "1").ok());
  EXPECT_FALSE(c.Set("registry.promotion_margin", "-0.1").ok());
  EXPECT_TRUE(c.Set("registry.coverage_tolerance", "0.8").ok());
  EXPECT_FALSE(c.Set("registry.coverage_tolerance", "0.9").ok());
  EXPECT_TRUE(c.Set("registry.model_prefix", "team-a.v2").ok());
  EXPECT_FALSE(c.Set("registry.model_prefix", "a/b").ok());
  EXPECT_FALSE(c.Set("registry.model_prefix", "").ok());
  EXPECT_FALSE(c.Set("registry.experiment", "").ok());
  EXPECT_EQ(c.settings().registry.model_prefix, "team-a.v2");
  EXPECT_EQ(c.settings().registry.coverage_tolerance, 0.8);
}

// Each key lands in its typed field, converted once (the largest values of each range fit).
TEST(Config, EveryKeyFillsItsTypedField) {
  Config c = Config::Defaults();
  const std::pair<const char*, const char*> values[] = {{"lake.url", "s3://b/p"},
                                                        {"lake.checkpoint_interval", "1000000"},
                                                        {"s3.endpoint", "http://h:9000"},
                                                        {"s3.region", "eu-west-1"},
                                                        {"s3.access_key", "ak"},
                                                        {"s3.secret_key", "sk"},
                                                        {"s3.path_style", "off"},
                                                        {"log.level", "warn"},
                                                        {"log.format", "text"},
                                                        {"threads", "4096"},
                                                        {"ingest.max_field_bytes", "1073741824"},
                                                        {"ingest.max_file_bytes", "1099511627776"},
                                                        {"ingest.kind", "price"},
                                                        {"ingest.inbox", "/in"},
                                                        {"sim.max_runs", "1000000000000"},
                                                        {"sim.max_turns", "1000000000"},
                                                        {"sim.decay_rate", "1"},
                                                        {"sim.symbolic", "yes"},
                                                        {"jobs.broker", "redis://h:1/0"},
                                                        {"jobs.lake_roots", "/a,s3://b/c"},
                                                        {"jobs.max_deaths", "1000000"},
                                                        {"jobs.timeout_seconds", "31622400"},
                                                        {"run.dataset", "d.csv"},
                                                        {"run.mapping", "m.yaml"},
                                                        {"run.out", "o"},
                                                        {"run.sim_runs", "1000000000000"},
                                                        {"run.sim_turns", "1000000000"},
                                                        {"run.seed", "9223372036854775807"},
                                                        {"run.noise", "0.5"},
                                                        {"stream.url", "kafka://h:9092/t"},
                                                        {"stream.group", "g"},
                                                        {"stream.start", "latest"},
                                                        {"stream.batch_max_records", "4294967296"},
                                                        {"stream.batch_max_bytes", "1099511627776"},
                                                        {"stream.batch_max_ms", "3600000"},
                                                        {"stream.format", "csv"},
                                                        {"stream.csv_header", "name,ts,value"},
                                                        {"stream.max_record_bytes", "2147483648"},
                                                        {"stream.dead_letter_topic", "dlq"},
                                                        {"stream.queue_kbytes", "2097151"},
                                                        {"stream.session_timeout_ms", "3600000"},
                                                        {"stream.publish_topic", "p"},
                                                        {"serve.host", "0.0.0.0"},
                                                        {"serve.port", "65535"},
                                                        {"serve.threads", "1024"},
                                                        {"serve.max_body_bytes", "2147483648"},
                                                        {"serve.request_timeout_ms", "3600000"},
                                                        {"serve.rate_per_second", "1000000"},
                                                        {"serve.rate_burst", "1000000000"},
                                                        {"serve.tokens_file", "t.json"},
                                                        {"serve.shutdown_grace_ms", "0"},
                                                        {"serve.probe_timeout_ms", "60000"},
                                                        {"drift.reference_points", "10000000"},
                                                        {"drift.current_points", "10000000"},
                                                        {"drift.min_coverage_outcomes", "1000000000"},
                                                        {"drift.trigger.consecutive", "1000"},
                                                        {"drift.trigger.coverage", "no"},
                                                        {"drift.trigger.streaming", "no"},
                                                        {"drift.trigger.broker", "redis://h:1/2"},
                                                        {"drift.trigger.queue", "train"}};
  for (const auto& [key, value] : values) ASSERT_TRUE(c.Set(key, value, "--set").ok()) << key;
  const Settings& s = c.settings();
  EXPECT_EQ(s.lake.url, "s3://b/p");
  EXPECT_EQ(s.lake.checkpoint_interval, 1000000);
  EXPECT_EQ(s.s3.endpoint, "http://h:9000");
  EXPECT_EQ(s.s3.region, "eu-west-1");
  EXPECT_EQ(s.s3.access_key, "ak");
  EXPECT_EQ(s.s3.secret_key, "sk");
  EXPECT_FALSE(s.s3.path_style);
  EXPECT_EQ(s.log.level, log::Level::kWarn);
  EXPECT_EQ(s.log.format, log::Format::kText);
  EXPECT_EQ(s.threads, 4096);
  EXPECT_EQ(s.ingest.max_field_bytes, int64_t{1} << 30);
  EXPECT_EQ(s.ingest.max_file_bytes, int64_t{1} << 40);
  EXPECT_EQ(s.ingest.kind, "price");
  EXPECT_EQ(s.ingest.inbox, "/in");
  EXPECT_EQ(s.sim.max_runs, 1000000000000u);
  EXPECT_EQ(s.sim.max_turns, 1000000000u);
  EXPECT_EQ(s.sim.decay_rate, 1.0);
  EXPECT_TRUE(s.sim.symbolic);
  EXPECT_EQ(s.jobs.broker, "redis://h:1/0");
  EXPECT_EQ(s.jobs.lake_roots, (std::vector<std::string>{"/a", "s3://b/c"}));
  EXPECT_EQ(s.jobs.max_deaths, 1000000);
  EXPECT_EQ(s.jobs.timeout_seconds, 31622400);
  EXPECT_EQ(s.run.dataset, "d.csv");
  EXPECT_EQ(s.run.mapping, "m.yaml");
  EXPECT_EQ(s.run.out, "o");
  EXPECT_EQ(s.run.sim_runs, 1000000000000u);
  EXPECT_EQ(s.run.sim_turns, 1000000000u);
  EXPECT_EQ(s.run.seed, 9223372036854775807u);
  EXPECT_EQ(s.run.noise, 0.5);
  EXPECT_EQ(c.Origin("run.noise"), "--set");
  EXPECT_EQ(s.stream.url, "kafka://h:9092/t");
  EXPECT_EQ(s.stream.group, "g");
  EXPECT_EQ(s.stream.start, "latest");
  EXPECT_EQ(s.stream.batch_max_records, int64_t{1} << 32);
  EXPECT_EQ(s.stream.batch_max_bytes, int64_t{1} << 40);
  EXPECT_EQ(s.stream.batch_max_ms, 3600000);
  EXPECT_EQ(s.stream.format, "csv");
  EXPECT_EQ(s.stream.csv_header, "name,ts,value");
  EXPECT_EQ(s.stream.max_record_bytes, int64_t{1} << 31);
  EXPECT_EQ(s.stream.dead_letter_topic, "dlq");
  EXPECT_EQ(s.stream.queue_kbytes, 2097151);
  EXPECT_EQ(s.stream.session_timeout_ms, 3600000);
  EXPECT_EQ(s.stream.publish_topic, "p");
  EXPECT_EQ(s.serve.host, "0.0.0.0");
  EXPECT_EQ(s.serve.port, 65535);
  EXPECT_EQ(s.serve.threads, 1024);
  EXPECT_EQ(s.serve.max_body_bytes, int64_t{1} << 31);
  EXPECT_EQ(s.serve.request_timeout_ms, 3600000);
  EXPECT_EQ(s.serve.rate_per_second, 1e6);
  EXPECT_EQ(s.serve.rate_burst, 1000000000);
  EXPECT_EQ(s.serve.tokens_file, "t.json");
  EXPECT_EQ(s.serve.shutdown_grace_ms, 0);
  EXPECT_EQ(s.serve.probe_timeout_ms, 60000);
  EXPECT_EQ(s.drift.reference_points, 10000000);
  EXPECT_EQ(s.drift.current_points, 10000000);
  EXPECT_EQ(s.drift.min_coverage_outcomes, 1000000000);
  EXPECT_EQ(s.drift.trigger_consecutive, 1000);
  EXPECT_FALSE(s.drift.trigger_coverage);
  EXPECT_FALSE(s.drift.trigger_streaming);
  EXPECT_EQ(s.drift.trigger_broker, "redis://h:1/2");
  EXPECT_EQ(s.drift.trigger_queue, "train");
  // The drift keys' checks: window ranges, the broker scheme, a non-empty queue.
  EXPECT_FALSE(c.Set("drift.reference_points", "0").ok());
  EXPECT_FALSE(c.Set("drift.current_points", "10000001").ok());
  EXPECT_FALSE(c.Set("drift.trigger.consecutive", "-1").ok());
  EXPECT_FALSE(c.Set("drift.trigger.broker", "inproc").ok());
  EXPECT_TRUE(c.Set("drift.trigger.broker", "").ok());
  EXPECT_FALSE(c.Set("drift.trigger.queue", "").ok());
  // The serve keys' checks: ranges, a positive finite rate, a non-empty host and tokens file.
  EXPECT_FALSE(c.Set("serve.port", "65536").ok());
  EXPECT_FALSE(c.Set("serve.threads", "0").ok());
  EXPECT_FALSE(c.Set("serve.rate_per_second", "0").ok());
  EXPECT_FALSE(c.Set("serve.rate_per_second", "-1").ok());
  EXPECT_FALSE(c.Set("serve.host", "").ok());
  EXPECT_FALSE(c.Set("serve.tokens_file", "").ok());
  EXPECT_FALSE(c.Set("serve.max_body_bytes", "0").ok());
  EXPECT_FALSE(c.Set("serve.bogus", "1").ok());
  // The stream keys' checks: the URL scheme, the group, start, format and the ranges.
  EXPECT_FALSE(c.Set("stream.url", "http://h:9092/t").ok());
  EXPECT_TRUE(c.Set("stream.url", "").ok());
  EXPECT_FALSE(c.Set("stream.group", "").ok());
  EXPECT_FALSE(c.Set("stream.start", "middle").ok());
  EXPECT_FALSE(c.Set("stream.format", "xml").ok());
  EXPECT_FALSE(c.Set("stream.batch_max_records", "0").ok());
  EXPECT_FALSE(c.Set("stream.session_timeout_ms", "999").ok());
  EXPECT_FALSE(c.Set("stream.queue_kbytes", "2097152").ok());
  EXPECT_EQ(c.settings().stream.start, "latest");
  // A refused value leaves the field as it was.
  EXPECT_FALSE(c.Set("threads", "4097").ok());
  EXPECT_FALSE(c.Set("jobs.broker", "amqp://h").ok());
  EXPECT_FALSE(c.Set("lake.url", "").ok());
  EXPECT_EQ(c.settings().threads, 4096);
  EXPECT_EQ(c.settings().jobs.broker, "redis://h:1/0");
  EXPECT_EQ(c.settings().lake.url, "s3://b/p");
}

TEST(Config, PrecedenceDefaultFileEnvFlag) {
  Config c = Config::Defaults();
  ASSERT_TRUE(
      c.LoadYamlText("lake:\n  url: /from/file\n  checkpoint_interval: 5\nlog:\n  level: debug\n", "pulse.yaml").ok());
  EXPECT_EQ(c.settings().lake.url, "/from/file");
  EXPECT_EQ(c.Origin("lake.url"), "pulse.yaml:2");
  std::string env1 = "PULSE_LAKE_URL=/from/env", env2 = "HOME=/root", env3 = "PULSE_TEST_S3_ENDPOINT=x";
  char* envp[] = {env1.data(), env2.data(), env3.data(), nullptr};
  ASSERT_TRUE(c.LoadEnvironment(envp).ok());
  EXPECT_EQ(c.settings().lake.url, "/from/env");
  EXPECT_EQ(c.Origin("lake.url"), "env PULSE_LAKE_URL");
  ASSERT_TRUE(c.Set("lake.url", "/from/flag").ok());
  EXPECT_EQ(c.settings().lake.url, "/from/flag");
  EXPECT_EQ(c.settings().lake.checkpoint_interval, 5);  // untouched by later layers
  EXPECT_EQ(c.settings().log.level, log::Level::kDebug);
}

TEST(Config, ErrorsNameTheKeyTheOriginAndWhy) {
  Config c = Config::Defaults();
  Status unknown = c.LoadYamlText("lake:\n  ulr: x\n", "pulse.yaml");
  EXPECT_EQ(unknown.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.message().find("pulse.yaml:2"), std::string::npos) << unknown.message();
  EXPECT_NE(unknown.message().find("'lake.ulr'"), std::string::npos);
  EXPECT_NE(unknown.message().find("did you mean 'lake.url'"), std::string::npos);

  Status type = c.LoadYamlText("lake:\n  checkpoint_interval: often\n", "f.yaml");
  EXPECT_NE(type.message().find("f.yaml:2: lake.checkpoint_interval: expected an integer"), std::string::npos)
      << type.message();
  EXPECT_NE(type.message().find("got 'often'"), std::string::npos) << type.message();
  Status range = c.Set("lake.checkpoint_interval", "-1");
  EXPECT_NE(range.message().find("must be >= 0"), std::string::npos);
  Status choice = c.Set("log.level", "loud");
  EXPECT_NE(choice.message().find("one of"), std::string::npos);
  EXPECT_FALSE(c.Set("s3.path_style", "maybe").ok());
  EXPECT_TRUE(c.Set("s3.path_style", "no").ok());
  EXPECT_FALSE(c.settings().s3.path_style);

  Status syntax = c.LoadYamlText("lake: [unclosed\n", "bad.yaml");
  EXPECT_EQ(syntax.code(), StatusCode::kParseError);
  EXPECT_NE(syntax.message().find("bad.yaml:"), std::string::npos);
  EXPECT_FALSE(c.LoadYamlText("- a\n- b\n", "list.yaml").ok());
  EXPECT_FALSE(c.LoadYamlText("lake:\n  url: [a, b]\n", "seq.yaml").ok());
  EXPECT_TRUE(c.LoadYamlText("", "empty.yaml").ok());

  std::string bad_value = "PULSE_THREADS=many";
  char* envp[] = {bad_value.data(), nullptr};
  Status env = c.LoadEnvironment(envp);
  EXPECT_NE(env.message().find("env PULSE_THREADS: threads: expected an integer"), std::string::npos) << env.message();

  Status missing = c.LoadYamlFile("/no/such/pulse.yaml");
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("'/no/such/pulse.yaml': No such file or directory"), std::string::npos)
      << missing.message();
  Status directory = c.LoadYamlFile(std::filesystem::temp_directory_path().string());
  EXPECT_FALSE(directory.ok());
  EXPECT_NE(directory.message().find("Is a directory"), std::string::npos) << directory.message();
}

// Unknown PULSE_* variables belong to other software (PulseAudio: PULSE_SERVER, PULSE_SINK, ...;
// WSLg sets PULSE_SERVER in every shell): ignored. A near miss of a setting is probably a typo.
TEST(Config, UnknownEnvironmentVariablesAreIgnoredNearMissesWarn) {
  Config c = Config::Defaults();
  std::vector<std::string> vars = {"PULSE_SERVER=unix:/mnt/wslg/PulseServer",
                                   "PULSE_SINK=alsa_output.pci",
                                   "PULSE_COOKIE=/home/u/.config/pulse/cookie",
                                   "PULSE_RUNTIME_PATH=/run/user/1000/pulse",
                                   "PULSE_SOURCE=mic",
                                   "PULSE_PROP_application.name=x",
                                   "PULSE_LATENCY_MSEC=60",
                                   "PULSE_WHATEVER_ELSE=1",
                                   "PULSE_LAKE_UR=/typo",
                                   "PULSE_THREAD=2",
                                   "PULSE_LAKE_URL=/from/env"};
  std::vector<char*> envp;
  for (auto& v : vars) envp.push_back(v.data());
  envp.push_back(nullptr);
  ASSERT_TRUE(c.LoadEnvironment(envp.data()).ok());
  EXPECT_EQ(c.settings().lake.url, "/from/env");
  EXPECT_EQ(c.settings().threads, 0);  // PULSE_THREAD is not PULSE_THREADS
  ASSERT_EQ(c.Warnings().size(), 2u);
  EXPECT_NE(c.Warnings()[0].find("PULSE_LAKE_UR is not a Pulse setting"), std::string::npos) << c.Warnings()[0];
  EXPECT_NE(c.Warnings()[0].find("did you mean PULSE_LAKE_URL?"), std::string::npos) << c.Warnings()[0];
  EXPECT_NE(c.Warnings()[1].find("did you mean PULSE_THREADS?"), std::string::npos) << c.Warnings()[1];
  // Every variable PulseAudio documents, and every known setting's own name, passes silently.
  Config quiet = Config::Defaults();
  std::vector<std::string> pa = {"PULSE_SERVER=x",      "PULSE_SINK=x",         "PULSE_SOURCE=x",
                                 "PULSE_COOKIE=x",      "PULSE_RUNTIME_PATH=x", "PULSE_STATE_PATH=x",
                                 "PULSE_CONFIG_PATH=x", "PULSE_CLIENTCONFIG=x", "PULSE_SYSTEM=0",
                                 "PULSE_LOG=4",         "PULSE_DIR=x"};
  std::vector<char*> pa_envp;
  for (auto& v : pa) pa_envp.push_back(v.data());
  pa_envp.push_back(nullptr);
  ASSERT_TRUE(quiet.LoadEnvironment(pa_envp.data()).ok());
  EXPECT_TRUE(quiet.Warnings().empty()) << quiet.Warnings().front();
  EXPECT_EQ(Config::EnvName("ingest.max_field_bytes"), "PULSE_INGEST_MAX_FIELD_BYTES");
}

// YAML errors name file:line, the key, what was expected and what was found; nothing throws.
TEST(Config, YamlErrorsNameFileLineKeyAndExpectedType) {
  auto error = [](std::string_view yaml) {
    Config c = Config::Defaults();
    Status st = c.LoadYamlText(yaml, "pulse.yaml");
    EXPECT_FALSE(st.ok()) << yaml;
    return st.message();
  };
  EXPECT_EQ(error("lake:\n  url: x\nsim:\n  max_runs: abc\n"),
            "pulse.yaml:4: sim.max_runs: expected an integer (decimal digits), got 'abc'");
  EXPECT_EQ(error("run:\n  noise: nan\n"), "pulse.yaml:2: run.noise: expected a number (finite), got 'nan'");
  EXPECT_EQ(error("run:\n  noise: .inf\n"), "pulse.yaml:2: run.noise: expected a number (finite), got '.inf'");
  EXPECT_EQ(error("sim:\n  decay_rate: 1e400\n"),
            "pulse.yaml:2: sim.decay_rate: expected a number (finite), got '1e400'");
  EXPECT_EQ(error("threads: 99999999999999999999\n"),
            "pulse.yaml:1: threads: expected an integer that fits in 64 bits, got '99999999999999999999'");
  EXPECT_EQ(error("threads: 0x10\n"), "pulse.yaml:1: threads: expected an integer (decimal digits), got '0x10'");
  EXPECT_EQ(error("threads:\n"), "pulse.yaml:1: threads: expected an integer (decimal digits), got an empty value");
  EXPECT_EQ(error("? [a, b]\n: 1\n"), "pulse.yaml:1: a key must be a plain name");
  EXPECT_EQ(error("sim: [1, 2]\n"), "pulse.yaml:1: sim: expected a single value, got a list");
  EXPECT_EQ(error("s3:\n  path_style: maybe\n"), "pulse.yaml:2: s3.path_style: expected true or false, got 'maybe'");
  EXPECT_EQ(error("log:\n  level: \"loud\\0x\"\n"),
            "pulse.yaml:2: log.level: must be one of trace debug info warn error, got 'loud\\x00x'");
  EXPECT_NE(error("a:\n b:\n  c: [1,\n").find("pulse.yaml:"), std::string::npos);
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += std::string(static_cast<size_t>(i), ' ') + "k:\n";
  EXPECT_NE(error(deep).find("nested too deep"), std::string::npos);
  std::string flow(100000, '[');
  EXPECT_NE(error(flow).find("pulse.yaml"), std::string::npos);  // yaml-cpp's depth guard, not a crash
}

// A key given twice used to be accepted, the later value silently winning.
TEST(Config, AKeyGivenTwiceIsAnError) {
  auto load = [](std::string_view yaml) {
    Config c = Config::Defaults();
    return c.LoadYamlText(yaml, "pulse.yaml");
  };
  EXPECT_EQ(load("lake:\n  url: ./a\n  url: ./b\n").message(),
            "pulse.yaml:3: lake.url: the key is given twice (first on line 2)");
  EXPECT_EQ(load("threads: 2\nlog:\n  level: info\nthreads: 3\n").message(),
            "pulse.yaml:4: threads: the key is given twice (first on line 1)");
  EXPECT_EQ(load("lake:\n  url: ./a\nlake:\n  url: ./b\n").message(),
            "pulse.yaml:3: lake: the key is given twice (first on line 1)");
  Config c = Config::Defaults();
  ASSERT_TRUE(c.LoadYamlText("lake:\n  url: ./a\nlog:\n  level: warn\n", "pulse.yaml").ok());
  EXPECT_EQ(c.settings().lake.url, "./a");
}

// Every numeric key has a range that fits what the program converts it into.
TEST(Config, NumericKeysAreRangeChecked) {
  Config c = Config::Defaults();
  EXPECT_NE(c.Set("run.seed", "-1").message().find("run.seed: must be >= 0, got '-1'"), std::string::npos);
  EXPECT_NE(c.Set("run.sim_turns", "5000000000").message().find("must be <= 1000000000"), std::string::npos);
  EXPECT_NE(c.Set("lake.checkpoint_interval", "4294967297").message().find("must be <= 1000000"), std::string::npos);
  EXPECT_NE(c.Set("threads", "100000").message().find("must be <= 4096"), std::string::npos);
  EXPECT_NE(c.Set("jobs.timeout_seconds", "9223372036854775807").message().find("must be <="), std::string::npos);
  EXPECT_NE(c.Set("run.noise", "-0.5").message().find("must lie in [0, 1]"), std::string::npos);
  EXPECT_NE(c.Set("run.noise", "inf").message().find("expected a number (finite)"), std::string::npos);
  EXPECT_NE(c.Set("sim.decay_rate", "-nan").message().find("expected a number (finite)"), std::string::npos);
  EXPECT_TRUE(c.Set("run.seed", "9223372036854775807").ok());
  EXPECT_TRUE(c.Set("run.noise", "0.25").ok());
  EXPECT_EQ(c.settings().run.noise, 0.25);
  EXPECT_TRUE(c.Set("ingest.inbox", "/srv/pulse/inbox").ok());
  EXPECT_TRUE(c.Set("jobs.lake_roots", "/srv/lakes,s3://bucket/lakes").ok());
  EXPECT_EQ(c.settings().ingest.inbox, "/srv/pulse/inbox");
  EXPECT_EQ(Config::Defaults().settings().ingest.inbox, "");  // none: tasks may not read local files
}

TEST(Config, StrictNumberParsing) {
  EXPECT_EQ(ParseUint64("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(ParseUint64("18446744073709551616"));
  EXPECT_FALSE(ParseUint64("-1"));
  EXPECT_FALSE(ParseUint64("+1"));
  EXPECT_FALSE(ParseUint64(" 1"));
  EXPECT_FALSE(ParseUint64("0x10"));
  EXPECT_EQ(ParseUint64("010"), 10u);  // decimal, not octal
  EXPECT_FALSE(ParseUint64(""));
  EXPECT_EQ(ParseInt64("-9223372036854775808"), INT64_MIN);
  EXPECT_FALSE(ParseInt64("9223372036854775808"));
  EXPECT_FALSE(ParseInt64("1.5"));
  EXPECT_EQ(ParseFiniteDouble("-2.5e3"), -2500.0);
  for (const char* bad : {"nan", "NaN", "inf", "-inf", "infinity", "1e400", "", "1,5", "0x1p3", " 1"})
    EXPECT_FALSE(ParseFiniteDouble(bad)) << bad;
}

TEST(Config, LoadsAFile) {
  auto path = std::filesystem::temp_directory_path() / ("pulse_cfg_" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << "threads: 3\ns3:\n  endpoint: http://127.0.0.1:9000\n";
  Config c = Config::Defaults();
  ASSERT_TRUE(c.LoadYamlFile(path.string()).ok());
  EXPECT_EQ(c.settings().threads, 3);
  EXPECT_EQ(c.settings().s3.endpoint, "http://127.0.0.1:9000");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace pulse
