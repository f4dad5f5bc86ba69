// pulse drift : drift detection over the lake (pipeline/drift_job.h): input drift of every series
// (reference window vs the latest window), ADWIN / Page-Hinkley / DDM over forecast errors and the
// coverage test where outcomes exist; writes the drift_events table, and enqueues pulse.train for
// series whose drift decision asks for retraining when a broker is named (--broker or
// drift.trigger.broker). Settings: drift.* (core/config_sections.h DriftSettings).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli.h"
#include "cli_options.h"
#include "core/metrics.h"
#include "jobs/backends.h"
#include "pipeline/drift_job.h"

namespace pulse::cli {
namespace {

struct DriftArgs {
  int64_t reference = 0, current = 0;  // 0: drift.reference_points / drift.current_points
  std::string kinds, broker, metrics_file;
  bool json = false;
};

// The pulse_drift_* metrics of this run in the Prometheus text format (for a textfile collector),
// written to a temporary file and renamed over `path`.
Status WriteMetricsFile(const pipeline::DriftReport& report, const std::string& path) {
  pipeline::PipelineStats stats;
  pipeline::RecordDriftMetrics(report, stats);
  metrics::Registry registry;
  pipeline::ExportPipelineMetrics(stats, registry);
  std::string text;
  std::istringstream rendered(registry.Render());
  for (std::string line; std::getline(rendered, line);) {
    if (line.find("pulse_drift_") != std::string::npos) text += line + "\n";
  }
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) return Status::IoError("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status::IoError("cannot rename " + tmp + " to " + path + ": " + ec.message());
  return Status::Ok();
}

void PrintJson(const pipeline::DriftReport& report) {
  nlohmann::json retrain = nlohmann::json::array();
  for (const auto& r : report.retrain) {
    retrain.push_back({{"series", r.series}, {"reason", r.reason}, {"task_id", r.task_id}});
  }
  nlohmann::json out = {{"signals_version", report.signals_version},
                        {"drift_events_version", report.version},
                        {"duplicate", report.duplicate},
                        {"rows", report.rows},
                        {"series_checked", report.series_checked},
                        {"input_drift", report.input_drift},
                        {"detections", report.detections},
                        {"skipped", report.skipped},
                        {"retrain", retrain}};
  std::printf("%s\n", out.dump(2).c_str());
}

int RunDrift(const DriftArgs& args, const Context& ctx) {
  const DriftSettings& s = ctx.settings().drift;
  pipeline::DriftOptions options;
  options.reference_points = args.reference > 0 ? args.reference : s.reference_points;
  options.current_points = args.current > 0 ? args.current : s.current_points;
  options.kinds = SplitCommas(args.kinds);
  options.min_coverage_outcomes = s.min_coverage_outcomes;
  options.trigger_consecutive = s.trigger_consecutive;
  options.trigger_coverage = s.trigger_coverage;
  options.trigger_streaming = s.trigger_streaming;
  options.train_queue = s.trigger_queue;
  const std::string broker_url = args.broker.empty() ? s.trigger_broker : args.broker;
  std::unique_ptr<jobs::Broker> broker;
  if (!broker_url.empty()) {
    if (broker_url.rfind("redis://", 0) != 0) {
      return Fail(Status::InvalidArgument("--broker must be redis://… (an in-process queue would vanish on exit)"));
    }
    auto opened = jobs::OpenBroker(broker_url);
    if (!opened.ok()) return Fail(opened.status());
    broker = std::move(*opened);
  }
  auto lake = OpenLake(ctx, lake::OpenMode::kMustExist);
  if (!lake.ok()) return Fail(lake.status());
  auto report = pipeline::DetectDrift(**lake, options, broker.get());
  if (!report.ok()) return Fail(report.status());
  if (!args.metrics_file.empty()) {
    if (auto st = WriteMetricsFile(*report, args.metrics_file); !st.ok()) return Fail(st);
  }
  if (args.json) {
    PrintJson(*report);
    return kExitOk;
  }
  for (const auto& skipped : report->skipped) std::fprintf(stderr, "skipped %s\n", skipped.c_str());
  if (report->duplicate) {
    std::printf("signals version %lld was already checked with these windows; drift_events unchanged (version %lld)\n",
                static_cast<long long>(report->signals_version), static_cast<long long>(report->version));
    return kExitOk;
  }
  std::printf("checked %lld series of signals version %lld (reference %lld, current %lld points): %lld rows",
              static_cast<long long>(report->series_checked), static_cast<long long>(report->signals_version),
              static_cast<long long>(options.reference_points), static_cast<long long>(options.current_points),
              static_cast<long long>(report->rows));
  if (report->version >= 0) std::printf(", drift_events version %lld", static_cast<long long>(report->version));
  std::printf("\n");
  std::printf("input drift: %s\n", report->input_drift.empty() ? "none" : "");
  for (const auto& name : report->input_drift) std::printf("  %s\n", name.c_str());
  for (const auto& [detector, count] : report->detections) {
    std::printf("  %-14s %lld drift\n", detector.c_str(), static_cast<long long>(count));
  }
  for (const auto& r : report->retrain) {
    if (r.task_id.empty()) {
      std::printf("retrain %s (%s): not enqueued, no broker (--broker redis://… or drift.trigger.broker)\n",
                  r.series.c_str(), r.reason.c_str());
    } else {
      std::printf("retrain %s (%s): pulse.train task %s\n", r.series.c_str(), r.reason.c_str(), r.task_id.c_str());
    }
  }
  return kExitOk;
}

}  // namespace

void AddDriftCommand(CLI::App& app, Context& ctx, int& exit_code) {
  auto args = std::make_shared<DriftArgs>();
  auto* cmd =
      app.add_subcommand("drift", "Detect drift in every series and its forecast errors; write the drift_events table");
  AddNumberOption(cmd, "--reference", args->reference, "Points in the reference window (0: drift.reference_points)",
                  int64_t{0}, int64_t{10000000});
  AddNumberOption(cmd, "--current", args->current, "Points in the current window (0: drift.current_points)", int64_t{0},
                  int64_t{10000000});
  cmd->add_option("--kinds", args->kinds, "Only these signal kinds (comma-separated)");
  cmd->add_option("--broker", args->broker,
                  "Enqueue pulse.train for triggered series on this redis://… broker (default: drift.trigger.broker)");
  cmd->add_option("--metrics-file", args->metrics_file,
                  "Also write this run's pulse_drift_* metrics here (Prometheus text format)");
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([args, &ctx, &exit_code] { exit_code = RunDrift(*args, ctx); });
}

}  // namespace pulse::cli
