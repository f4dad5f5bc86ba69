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
// Thread-safe: tasks on any worker thread update, the metrics thread reads.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/metrics.h"

namespace pulse::pipeline {

struct PipelineStats {
  std::atomic<int64_t> ingest_accepted{0}, ingest_rejected{0}, ingest_existing{0};
  std::atomic<int64_t> gate_accept{0}, gate_escalate{0}, gate_suppress{0};
  std::atomic<int64_t> files_ingested{0}, files_duplicate{0};
  std::atomic<int64_t> forecast_series{-1}, forecast_skipped{-1};  // -1: none written yet
  std::atomic<int64_t> forecast_rows{0}, trust_rows{0};
  std::atomic<int64_t> forecast_last_micros{0}, trust_last_micros{0};  // 0: none yet
};

// Binds the families above to `stats` in `registry` (both must outlive the registry's scrapes).
void ExportPipelineMetrics(const PipelineStats& stats, metrics::Registry& registry);

}  // namespace pulse::pipeline
