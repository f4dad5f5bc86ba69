// The facts trust/model_health.h judges, gathered from the lake for one signals version (issue 15):
// which registered model made each series' forecast, when that version was trained, the series'
// newest drift decision and how well recent forecasts' 80% bands covered the outcomes.
//   model_name / model_version: from the forecast's model_params (set when a registered champion
//       made it; absent when the forecast was fitted on the spot);
//   trained: the `time` of that version's row in model_events (written when it was registered);
//   drift: the rows of drift_events of the newest signals version <= this one that checked the
//       series; drifted when one of them decided "drift" among the default input test (Evidently's
//       pick, default_test) and the outcome detectors (ADWIN, Page-Hinkley, DDM, coverage: rows
//       without a reference window); the other input measures are informative and do not count.
//       drift_status: "drift (<detectors>)", "ok", or "unchecked" when no check covered the series;
//   rolling coverage: the newest `window` outcomes (ordered by target time, then origin) among the
//       steps of earlier signals versions' forecasts whose target has an observation in `points`;
//       the share inside their 80% band.
// Missing drift_events / model_events tables are no facts (not errors); a table with a missing
// column or another type is kInvalidArgument naming it (lake/table_read.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "core/status.h"
#include "lake/lake.h"
#include "report/forecast_table.h"

namespace pulse::pipeline {

struct DriftStatus {
  bool drifted = false;
  std::string status = "unchecked";  // "drift (ks, adwin)" | "ok" | "unchecked"
};

// series name -> its newest drift decision at or before signals_version.
Result<std::map<std::string, DriftStatus>> ReadDriftStatus(lake::Lake& lake, int64_t signals_version);

// (model_name, version) -> when it was registered (microseconds since the epoch, UTC); the earliest
// row of the version counts.
Result<std::map<std::pair<std::string, int64_t>, int64_t>> ReadTrainingTimes(lake::Lake& lake);

struct RollingCoverage {
  int64_t hits = 0, outcomes = 0;
  double Share() const;  // hits / outcomes; NaN without outcomes
};

// Over the forecasts of versions before `signals_version` (pure: no lake access).
RollingCoverage RollingCoverage80(const report::ForecastsByVersion& forecasts, int64_t signals_version,
                                  const std::string& series, const std::map<int64_t, double>& points, int64_t window);

}  // namespace pulse::pipeline
