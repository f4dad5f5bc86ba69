// Kafka streams on the command line (the work is in src/stream):
//   pulse ingest --stream kafka://BROKERS/TOPICS [--group G] [--metrics-port P] [--metrics-host H]
//   (RunStreamIngestCommand) pulse publish FILE... --to kafka://BROKERS[/TOPIC] (AddPublishCommand)
// The stream.* settings (core/config_sections.h, StreamSettings) are read into
// stream::StreamOptions in one place, StreamOptionsFrom.
// SIGTERM / SIGINT stop the consumer: it commits its current batch, leaves the group, exits 0.
#include <atomic>
#include <csignal>

#include <nlohmann/json.hpp>

#include "cli.h"
#include "cli_options.h"
#include "core/printable.h"
#include "pipeline/bundled_data.h"
#include "stream/kafka_consumer.h"
#include "stream/kafka_producer.h"
#include "stream/topics.h"

namespace pulse::cli {
namespace {

std::atomic<bool> g_stop_stream{false};
void OnStopSignal(int) { g_stop_stream = true; }

// The stream.* (and ingest.*) settings as the consumer's options, with the scoring rules
// (ingest.scoring_rules, as pulse ingest FILE uses them); flags override the URL and group.
Result<stream::StreamOptions> StreamOptionsFrom(const Settings& settings, const std::string& exe_path) {
  const StreamSettings& s = settings.stream;
  stream::StreamOptions o;
  o.url = s.url;
  o.group = s.group;
  o.start = s.start;
  o.batch_max_records = s.batch_max_records;
  o.batch_max_bytes = s.batch_max_bytes;
  o.batch_max_latency_ms = s.batch_max_ms;
  o.queue_kbytes = s.queue_kbytes;
  o.session_timeout_ms = s.session_timeout_ms;
  o.dead_letter_topic = s.dead_letter_topic;
  o.batch.format = s.format == "csv" ? stream::RecordFormat::kCsv : stream::RecordFormat::kJson;
  o.batch.csv_header = s.csv_header;
  o.batch.max_record_bytes = s.max_record_bytes;
  o.batch.parse.kind = settings.ingest.kind;
  o.batch.parse.max_field_bytes = settings.ingest.max_field_bytes;
  PULSE_ASSIGN_OR_RETURN(o.scoring, pipeline::LoadScoringRules(settings.ingest.scoring_rules, exe_path));
  return o;
}

struct PublishArgs {
  std::vector<std::string> files;
  std::string to;
  FileLayoutArgs layout;
};

int RunPublish(const PublishArgs& args, const Context& ctx) {
  auto url = stream::ParseKafkaUrl(args.to);
  if (!url.ok()) return Fail(url.status());
  if (url->topics.size() > 1 || (!url->topics.empty() && url->topics[0].starts_with('^')))
    return Fail(Status::InvalidArgument("--to: pulse publish writes to one topic (or one per kind), not a pattern"));
  stream::PublishOptions options;
  options.brokers = url->brokers;
  options.topic = !url->topics.empty() ? url->topics[0] : ctx.settings().stream.publish_topic;
  if (Status st = ApplyFileLayout(args.layout, ctx.settings().ingest, options.parse); !st.ok()) return Fail(st);
  int exit_code = kExitOk;
  for (const auto& file : args.files) {
    const std::string shown = file == "-" ? std::string("stdin") : Printable(file, 4096);
    auto report = stream::PublishFile(file, options);
    if (!report.ok()) return Fail(report.status().WithContext(shown));
    for (const auto& r : report->parse.rejects) {
      std::fprintf(stderr, "%s:%lld: %s\n", shown.c_str(), static_cast<long long>(r.line),
                   Printable(r.reason, 4096).c_str());
    }
    if (report->parse.rejected > 0) exit_code = kExitRejects;
    std::string topics;
    for (const auto& [topic, n] : report->topics)
      topics += (topics.empty() ? "" : ", ") + topic + " " + std::to_string(n);
    std::printf("%s: published %lld, rejected %lld (%s) in %.2f s\n", shown.c_str(),
                static_cast<long long>(report->published), static_cast<long long>(report->parse.rejected),
                topics.empty() ? "nothing" : topics.c_str(), report->seconds);
  }
  return exit_code;
}

}  // namespace

int RunStreamIngestCommand(const StreamArgs& args, const Context& ctx) {
  auto options = StreamOptionsFrom(ctx.settings(), ctx.exe_path);
  if (!options.ok()) return Fail(options.status());
  if (!args.url.empty()) options->url = args.url;
  if (!args.group.empty()) options->group = args.group;
  if (options->url.empty())
    return Fail(Status::InvalidArgument("pulse ingest --stream: no kafka:// URL (give one, or set stream.url)"));
  options->metrics_port = args.metrics_port;
  options->metrics_host = args.metrics_host;
  options->idle_exit_ms = static_cast<int64_t>(args.idle_exit_seconds * 1000);
  options->max_records = args.max_records;
  options->test_crash_at = args.test_crash_at;
  options->test_crash_batch = args.test_crash_batch;
  if (Status st = stream::ValidateStreamOptions(*options); !st.ok()) return Fail(st);
  auto lake = OpenLake(ctx);
  if (!lake.ok()) return Fail(lake.status());
  std::signal(SIGTERM, OnStopSignal);
  std::signal(SIGINT, OnStopSignal);
  auto report = stream::RunStreamIngest(**lake, *options, g_stop_stream);
  if (!report.ok()) return Fail(report.status());
  const auto& r = *report;
  if (args.json) {
    nlohmann::json out = {
        {"records", r.records},
        {"rows", r.rows},
        {"rejected", r.rejected},
        {"duplicates", r.duplicates},
        {"batches", r.batches},
        {"dead_lettered", r.dead_lettered},
        {"gate", {{"accept", r.gate.accept}, {"escalate", r.gate.escalate}, {"suppress", r.gate.suppress}}},
        {"seconds", r.seconds}};
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf(
        "stream: %lld records, %lld rows appended, %lld rejected, %lld already in the table, %lld batches "
        "(%.2f s); gate: accept %lld, escalate %lld, suppress %lld\n",
        static_cast<long long>(r.records), static_cast<long long>(r.rows), static_cast<long long>(r.rejected),
        static_cast<long long>(r.duplicates), static_cast<long long>(r.batches), r.seconds,
        static_cast<long long>(r.gate.accept), static_cast<long long>(r.gate.escalate),
        static_cast<long long>(r.gate.suppress));
  }
  return kExitOk;
}

void AddStreamOptions(CLI::App* cmd, StreamArgs& args) {
  cmd->add_option(
      "--stream", args.url,
      "Consume Kafka instead of files: kafka://HOST:PORT/TOPICS (names, glob or ^regex; config stream.url)");
  cmd->add_option("--group", args.group, "Kafka consumer group (config stream.group)");
  AddNumberOption(cmd, "--metrics-port", args.metrics_port, "Serve Prometheus metrics here (0: any free port)", -1,
                  65535);
  cmd->add_option("--metrics-host", args.metrics_host, "Address for --metrics-port (0.0.0.0: every interface)")
      ->capture_default_str();
  AddNumberOption(cmd, "--idle-exit", args.idle_exit_seconds,
                  "Stop after this many seconds without a record (0: never)", 0.0, 1e9);
  AddNumberOption(cmd, "--max-records", args.max_records, "Stop after this many records (0: never)", int64_t{0});
  // Hidden (an empty group): the crash-recovery tests' way to die at an exact commit point.
  cmd->add_option("--test-crash-at", args.test_crash_at, "Tests only: abort() before-lake or after-lake")->group("");
  AddNumberOption(cmd, "--test-crash-batch", args.test_crash_batch, "Tests only: the batch --test-crash-at hits",
                  int64_t{1})
      ->group("");
}

void AddPublishCommand(CLI::App& app, Context& ctx, int& exit_code) {
  auto args = std::make_shared<PublishArgs>();
  auto* cmd =
      app.add_subcommand("publish", "Publish a signals file (CSV or JSON lines) to Kafka, one record per signal");
  cmd->add_option("files", args->files, "Files to publish ('-' for standard input)")->required();
  cmd->add_option("--to", args->to, "kafka://HOST:PORT[/TOPIC] (default topic: pulse.signals.<kind>)")->required();
  AddFileLayoutOptions(cmd, args->layout);
  cmd->callback([args, &ctx, &exit_code] { exit_code = RunPublish(*args, ctx); });
}

}  // namespace pulse::cli
