// Pulse's own tasks for the job system (jobs/worker.h), callable from Python Celery by name:
//   pulse.noop        returns its args (throughput and latency benchmarks)
//   pulse.simulate    kwargs: runs, turns, seed, first_run, symbolic, noise, quantiles (fractions),
//                     variables (names to return; default: overlays, capital, drivers, tension,
//                     fragility), summary (true: also return the exact serialised summary, which
//                     chunk results merge with - sim::Summary::Deserialize / Merge)
//                     -> {runs, turns, seed, first_run, quantile_levels, variables: {name: {mean: [...],
//                        sd: [...], quantiles: [[...], ...]}}, summary?}
//   pulse.ingest      kwargs: path (a signals CSV / JSON-lines file the worker can read) or url
//                     (an object of the lake's own store: s3://bucket/prefix/inbox/x.csv under the S3
//                     lake s3://bucket/prefix, read with the lake's credentials; file:///... or an
//                     absolute path under a local lake's folder), kind, lake (URL; default: the
//                     worker's) -> {accepted, rejected, version, duplicate} (idempotent: re-ingesting
//                     the same content is a no-op). The format comes from the file's or object's
//                     extension (.csv, .jsonl, .ndjson, .json); an object is read into memory, at
//                     most ingest_max_bytes (config ingest.max_file_bytes, default 1 GiB), the bound
//                     of a file too. A refused url fails with a message starting with a stable
//                     code (task_paths.h url_refusal): invalid-url, unsupported-url-scheme,
//                     url-outside-lake, object-not-found, object-too-large, object-not-a-file
//   pulse.ingest      also: wide (bool), time_columns (e.g. ["year", "quarter"]), source, only_new
//                     (append only rows the table lacks: ingest/file_ingest.h); the result adds
//                     existing (rows dropped by only_new), gate {accept, escalate, suppress}
//                     (signals/scoring.h) and up to 100 rejects {line, reason}
//   pulse.forecast    kwargs: lake, horizon, period, levels, kinds -> {series, rows, signals_version,
//                     forecasts_version, duplicate} (idempotent per signals version)
//   pulse.world       kwargs: lake, mapping ({signals: {name: {variable, scale}}, key_variables}),
//                     kind, signals_version, runs, turns, seed, noise, quantiles -> {sim_id,
//                     signals_version, version, rows, duplicate, initial: [...]} (pipeline/world_simulation.h)
//   pulse.retrodict   kwargs: lake, kinds, signals_version, grid (weekly | daily), mode (strict |
//                     free), symbolic, mapping ({signal: {variable, scale}}) -> the retrodiction
//                     report (pipeline/retrodiction_history.h RetroReportJson)
//   pulse.trust       kwargs: lake, signals_version, sim_id -> {signals_version, version, rows,
//                     duplicate} (pipeline/trust_scores.h)
//   pulse.drift       kwargs: lake, reference_points, current_points, kinds, min_coverage_outcomes
//                     -> {signals_version, version, rows, duplicate, series_checked, input_drift,
//                     detections, retrain: [{series, reason}]} (pipeline/drift_job.h; the retraining
//                     triggers are returned, not enqueued: `pulse drift --broker` enqueues them)
//   pulse.train       kwargs: series (names; default every series), reason (default "task"; e.g.
//                     "drift"), method, kinds, horizon, period, levels, lake -> the training report
//                     (pipeline/train_models.h TrainReportJson); registers in the worker's registry
//                     (registry.url), a no-op for series whose data and configuration are registered
//   pulse.forecast    forecasts each series with its registered champion when the worker has a
//                     registry (registry.url, registry.serve_champion), else fits it
//   pulse.forecast_scores  pass 1 of `pulse forecast --broker` (pipeline/forecast_chunks.h): kwargs
//                     lake, signals_version (required), chunk, chunks, horizon, period, levels, kinds,
//                     min_points -> {signals_version, series, skipped: [...], scores: base64 doubles};
//                     writes nothing
//   pulse.forecast_chunk   pass 2: the same kwargs plus calibration (CalibrationJson) -> {series,
//                     champions, rows, skipped, signals_version, forecasts_version, duplicate}; one
//                     commit per chunk, idempotent per (options, chunk, chunks, signals version)
// Tasks are deterministic: the same kwargs give the same result, so redelivery is harmless, and
// pulse.simulate results are cached under SHA-256(task, canonical kwargs, catalog + rules version,
// decay rate): a new rules or catalog file misses the cache.
// Bad kwargs fail the task with a clear message (kInvalidArgument: not retried): a negative
// number for a count or seed, a non-finite number, or a path outside what the worker allows.
// Paths are confined (pipeline/task_paths.h): `lake` must be the worker's lake_url or lie under
// one of lake_roots; pulse.ingest's `path` must be a file in ingest_inbox (relative paths resolve
// there) or one of ingest_files, its `url` an object under the root of the lake the task writes to.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/config_sections.h"
#include "core/status.h"
#include "jobs/worker.h"
#include "lake/delta_table.h"
#include "pipeline/pipeline_metrics.h"
#include "signals/scoring.h"
#include "sim/world.h"

namespace pulse::pipeline {

struct TaskEnvironment {
  std::shared_ptr<const sim::Catalog> catalog;
  std::shared_ptr<const sim::RuleSet> rules;
  std::string version;  // SHA-256 of the catalog and rules text: the model version of cache keys
  double decay_rate = 0.01;
  uint64_t max_runs = 10000000, max_turns = 100000;
  std::string lake_url;                         // default lake of every task, and a lake a task may always name
  std::vector<std::string> lake_roots;          // a task may also name any lake under these (jobs.lake_roots)
  std::string ingest_inbox;                     // pulse.ingest reads files only here (ingest.inbox; "" = none)
  std::vector<std::string> ingest_files;        // ... and these, by name (pulse run's in-process dataset)
  int64_t ingest_max_bytes = int64_t{1} << 30;  // largest file or object pulse.ingest reads (ingest.max_file_bytes)
  lake::S3Options s3;
  // Scoring and gating rules for pulse.ingest (signals/scoring.h); null = the built-in defaults.
  std::shared_ptr<const signals::ScoringRules> scoring;
  // What the tasks did (ingested rows, forecast freshness, ...), shared by every copy of the
  // environment; exported by TaskWorker::ExportMetrics (pipeline/pipeline_metrics.h).
  std::shared_ptr<PipelineStats> stats = std::make_shared<PipelineStats>();
  // The model registry (registry.*): pulse.train registers in it; pulse.forecast serves champions.
  RegistrySettings registry{.url = ""};
};

// Reads and parses the catalog and rules files once.
Result<TaskEnvironment> LoadTaskEnvironment(const std::string& catalog_path, const std::string& rules_path);

void RegisterPulseTasks(jobs::TaskRegistry& registry, const TaskEnvironment& environment);

}  // namespace pulse::pipeline
