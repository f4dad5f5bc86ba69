#include "pipeline/pipeline_metrics.h"

#include <optional>
#include <string>

namespace pulse::pipeline {
namespace {

metrics::ReadFn Count(const std::atomic<int64_t>& v) {
  return [&v]() -> std::optional<double> { return static_cast<double>(v.load()); };
}

// A value that is absent until first set (-1 or 0 marks "not yet", as documented per field).
metrics::ReadFn Latest(const std::atomic<int64_t>& v, int64_t unset, double scale = 1) {
  return [&v, unset, scale]() -> std::optional<double> {
    const int64_t value = v.load();
    if (value == unset) return std::nullopt;
    return static_cast<double>(value) * scale;
  };
}

}  // namespace

void ExportPipelineMetrics(const PipelineStats& stats, metrics::Registry& registry) {
  auto& rows = registry.AddCounter("pulse_ingest_rows_total", "Rows of files ingested by pulse.ingest, by outcome.",
                                   {"outcome"});
  rows.Bind({"accepted"}, Count(stats.ingest_accepted));
  rows.Bind({"rejected"}, Count(stats.ingest_rejected));
  rows.Bind({"existing"}, Count(stats.ingest_existing));
  auto& gate = registry.AddCounter("pulse_ingest_gate_total", "Scoring gate decisions on rows ingested from files.",
                                   {"decision"});
  gate.Bind({"accept"}, Count(stats.gate_accept));
  gate.Bind({"escalate"}, Count(stats.gate_escalate));
  gate.Bind({"suppress"}, Count(stats.gate_suppress));
  auto& files =
      registry.AddCounter("pulse_ingest_files_total", "Files handled by pulse.ingest, by outcome.", {"outcome"});
  files.Bind({"ingested"}, Count(stats.files_ingested));
  files.Bind({"duplicate"}, Count(stats.files_duplicate));
  registry.AddGauge("pulse_forecast_series", "Series forecast by the latest pulse.forecast that wrote forecasts.")
      .Bind({}, Latest(stats.forecast_series, -1));
  registry
      .AddGauge("pulse_forecast_skipped_series",
                "Series skipped (too short, constant, ...) by the latest pulse.forecast that wrote forecasts.")
      .Bind({}, Latest(stats.forecast_skipped, -1));
  registry.AddCounter("pulse_forecast_rows_total", "Rows written to the forecasts table.")
      .Bind({}, Count(stats.forecast_rows));
  registry.AddCounter("pulse_trust_rows_total", "Rows written to the trust_scores table.")
      .Bind({}, Count(stats.trust_rows));
  registry
      .AddGauge("pulse_forecast_last_success_timestamp_seconds",
                "Unix time of the latest pulse.forecast that succeeded (forecasts written or already current).")
      .Bind({}, Latest(stats.forecast_last_micros, 0, 1e-6));
  registry
      .AddGauge("pulse_trust_last_success_timestamp_seconds",
                "Unix time of the latest pulse.trust that succeeded (scores written or already current).")
      .Bind({}, Latest(stats.trust_last_micros, 0, 1e-6));
  registry.AddGauge("pulse_drift_series", "Series checked by the latest pulse drift run that wrote drift_events.")
      .Bind({}, Latest(stats.drift_series, -1));
  registry.AddCounter("pulse_drift_rows_total", "Rows written to the drift_events table.")
      .Bind({}, Count(stats.drift_rows));
  auto& detections = registry.AddCounter("pulse_drift_detections_total",
                                         "drift_events rows whose decision is drift, by detector.", {"detector"});
  for (size_t i = 0; i < kDriftDetectors.size(); ++i) {
    detections.Bind({std::string(kDriftDetectors[i])}, Count(stats.drift_detections[i]));
  }
  registry.AddCounter("pulse_drift_retrain_enqueued_total", "pulse.train tasks enqueued by drift triggers.")
      .Bind({}, Count(stats.drift_retrain_enqueued));
  registry
      .AddGauge("pulse_drift_last_success_timestamp_seconds",
                "Unix time of the latest pulse drift run that succeeded (events written or already current).")
      .Bind({}, Latest(stats.drift_last_micros, 0, 1e-6));
}

}  // namespace pulse::pipeline
