// What Pulse's tasks (pipeline/pulse_tasks.h) did in this process, kept as atomics by the tasks
// and exported as Prometheus metrics by the worker that runs them (TaskWorker::ExportMetrics):
//   pulse_ingest_rows_total{outcome="accepted|rejected|existing"}  rows of files ingested by
//       pulse.ingest (existing: rows the table already had, dropped by only_new)
//   pulse_ingest_gate_total{decision="accept|escalate|suppress"}  the scoring gate of accepted rows
//   pulse_ingest_files_total{outcome="ingested|duplicate"}  files (duplicate: same bytes as before)
//   pulse_forecast_series, pulse_forecast_skipped_series  series forecast / skipped by the latest
//       pulse.forecast that wrote forecasts (absent until one did)
//   pulse_forecast_rows_total, pulse_trust_rows_total  rows written to forecasts / trust_scores
//   pulse_forecast_last_success_timestamp_seconds, pulse_trust_last_success_timestamp_seconds
//       Unix time of the latest pulse.forecast / pulse.trust that succeeded (written or already
//       up to date; absent until one did): the freshness of what Pulse serves
//   pulse_drift_series  series checked by the latest pulse drift run that wrote drift_events
//   pulse_drift_rows_total  rows written to drift_events
//   pulse_drift_detections_total{detector}  drift_events rows whose decision is drift, by detector
//       (ks, psi, jensenshannon, wasserstein, chisquare, z, adwin, page_hinkley, ddm, coverage80,
//       coverage95)
//   pulse_drift_retrain_enqueued_total  pulse.train tasks enqueued by drift triggers
//   pulse_drift_last_success_timestamp_seconds  Unix time of the latest drift run that succeeded
// Thread-safe: tasks on any worker thread update, the metrics thread reads.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "core/metrics.h"

namespace pulse::pipeline {

struct PipelineStats {
  std::atomic<int64_t> ingest_accepted{0}, ingest_rejected{0}, ingest_existing{0};
  std::atomic<int64_t> gate_accept{0}, gate_escalate{0}, gate_suppress{0};
  std::atomic<int64_t> files_ingested{0}, files_duplicate{0};
  std::atomic<int64_t> forecast_series{-1}, forecast_skipped{-1};  // -1: none written yet
  std::atomic<int64_t> forecast_rows{0}, trust_rows{0};
  std::atomic<int64_t> forecast_last_micros{0}, trust_last_micros{0};  // 0: none yet
  std::atomic<int64_t> drift_series{-1};                               // -1: none written yet
  std::atomic<int64_t> drift_rows{0}, drift_retrain_enqueued{0}, drift_last_micros{0};
  std::array<std::atomic<int64_t>, 11> drift_detections{};  // by kDriftDetectors' index
};

// The detectors of drift_events, in the order of PipelineStats::drift_detections.
inline constexpr std::array<std::string_view, 11> kDriftDetectors = {
    "ks",    "psi",          "jensenshannon", "wasserstein", "chisquare", "z",
    "adwin", "page_hinkley", "ddm",           "coverage80",  "coverage95"};

// Binds the families above to `stats` in `registry` (both must outlive the registry's scrapes).
void ExportPipelineMetrics(const PipelineStats& stats, metrics::Registry& registry);

}  // namespace pulse::pipeline
