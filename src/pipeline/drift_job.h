// pulse drift: watches every series of the signals table and its forecasts for drift, writes what
// it found to the `drift_events` Delta table and, when a drift decision asks for it, enqueues a
// `pulse.train` task (Celery protocol) for the series.
//
// Per series (usable signals rows of the newest signals version, grouped by kind and name, sorted by
// time):
// - Input drift (drift/input_drift.h): the latest `current_points` observations against the
//   `reference_points` before them: KS, PSI, Jensen-Shannon, normed Wasserstein (one row each) and
//   chi-square / z where Evidently's rule picks them; the row of the test Evidently's rule picks has
//   default_test = true, and its decision is the series' input drift decision. Series shorter than
//   reference_points + current_points are skipped (listed in DriftReport::skipped).
// - Forecast errors, where outcomes exist: every forecasts-table step (any signals version) whose
//   target time has an observation now, ordered by (target, origin). Its error is standardised by
//   the step's own calibrated 80% band, z = (actual - mean) / ((upper80 - lower80) / (2 x 1.2816)),
//   so that river's default thresholds mean the same for every series: ADWIN and Page-Hinkley run on
//   z, DDM on the 80%-band misses (1 outside, 0 inside) (drift/streaming.h). Row: statistic = the
//   number of detections, threshold = the detector's parameter (ADWIN delta, PH lambda, DDM drift
//   multiplier), decision "drift" when a detection falls on one of the latest `current_points`
//   outcomes, detail = the target times of every detection.
// - Coverage: the binomial test of the 80% and 95% band hits over those outcomes against 0.8 and
//   0.95 (drift/coverage.h), when there are at least `min_coverage_outcomes`.
// Retraining (when `queue` is given): a series is sent for retraining when its default input test
// said drift in the newest `trigger_consecutive` signals versions in a row (this one and the ones
// before it in drift_events; 0 = never), when a coverage test fails (`trigger_coverage`), or when a
// streaming detector's decision is drift (`trigger_streaming`). One task per series:
//   pulse.train(series=[name], reason="<detector>: <statistic>")
// Idempotent: txn app id "pulse-drift:<reference_points>:<current_points>", app version = the
// signals version; a rerun on the same version writes nothing and enqueues nothing. Tasks are
// enqueued after the commit (a crash in between loses the trigger, never duplicates it).
#pragma once

#include <arrow/type_fwd.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "jobs/task_queue.h"
#include "lake/lake.h"
#include "pipeline/pipeline_metrics.h"

namespace pulse::pipeline {

struct DriftOptions {
  int64_t reference_points = 40;   // the reference window: this many observations before the current window
  int64_t current_points = 8;      // the current window: the latest observations
  std::vector<std::string> kinds;  // only these signal kinds (empty: all)
  int64_t min_coverage_outcomes = 10;
  int trigger_consecutive = 2;  // 0: input drift never triggers retraining
  bool trigger_coverage = true;
  bool trigger_streaming = true;
  std::string train_queue = "celery";  // where pulse.train tasks go
};

struct RetrainRequest {
  std::string series;
  std::string reason;   // "<detector>: <statistic>"
  std::string task_id;  // set once enqueued
};

struct DriftReport {
  int64_t signals_version = -1;
  int64_t version = -1;  // drift_events table version
  bool duplicate = false;
  int64_t rows = 0;
  int64_t series_checked = 0;
  std::vector<std::string> skipped;           // "kind/name: why"
  std::vector<std::string> input_drift;       // series whose default input test said drift
  std::map<std::string, int64_t> detections;  // detector -> rows with decision "drift"
  std::vector<RetrainRequest> retrain;        // triggered (enqueued when a queue was given)
};

std::shared_ptr<arrow::Schema> DriftEventsSchema();

// kNotFound when the lake has no signals table; kInvalidArgument for a window below 1 point. A null
// `queue` only skips enqueuing: the triggers are still reported. When enqueuing fails after the
// table was written, the error says so (and which version holds the events).
Result<DriftReport> DetectDrift(lake::Lake& lake, const DriftOptions& options, jobs::TaskQueue* queue = nullptr);

// Adds a successful run's counts to `stats` (pipeline_metrics.h: pulse_drift_*); a duplicate run
// only refreshes the last-success time.
void RecordDriftMetrics(const DriftReport& report, PipelineStats& stats);

}  // namespace pulse::pipeline
