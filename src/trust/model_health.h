// How a forecasting model's lifecycle feeds trust (issue 15): whether the series drifted, how long
// ago its model was trained and how well its 80% bands have covered recent outcomes. The original
// Pulse had two inputs for this in its confidence formula that nothing ever set (trust_engine.h,
// Evidence): `fragmented` (drift penalty 0.2) and `arc_volatility` (> 0.7: drift penalty 0.1).
// Pulse sets them from the model's facts:
//   fragmented     = drifted (the series' newest drift check decided "drift");
//   arc_volatility = instability = max(staleness, shortfall), in [0, 1], where
//     staleness = min(1, 0.7 * days_since_training / stale_after_days)        (absent days: 0)
//     shortfall = clip(0.7 * (0.8 - rolling_coverage80) / (0.8 - min_rolling_coverage80), 0, 1)
//                 when at least min_coverage_outcomes outcomes were checked, else 0;
//   so the 0.1 penalty applies exactly when the model is older than stale_after_days or its rolling
//   80% coverage fell below min_rolling_coverage80 (and the drift penalty 0.2, when drifted, wins).
// Pure: the pipeline (pipeline/trust_scores) gathers the facts from drift_events, model_events and
// the forecasts table's outcomes and passes them in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "trust/trust_engine.h"

namespace pulse::trust {

struct ModelHealth {
  bool drifted = false;                       // the newest drift check of the series said drift
  std::optional<double> days_since_training;  // absent: no registered model (fitted when forecast)
  std::optional<double> rolling_coverage80;   // share of recent outcomes inside their 80% band
  int64_t coverage_outcomes = 0;              // the outcomes that share is over
};

struct ModelHealthPolicy {
  double stale_after_days = 90;
  double min_rolling_coverage80 = 0.65;  // the registry's promotion floor: 0.8 - coverage tolerance 0.15
  int64_t min_coverage_outcomes = 5;     // fewer outcomes: coverage is not judged
};

struct ModelHealthAssessment {
  bool drifted = false, stale = false, under_covered = false;
  double instability = 0;  // the arc_volatility analogue, [0, 1]
  double penalty = 0;      // the confidence penalty it leads to: 0.2 drifted, 0.1 instability > 0.7, else 0
  // "drifted" | "stale" | "under-covered" | "ok" (the first that applies, in that order)
  std::string status = "ok";
};

// Non-finite or negative facts are treated as absent (never a NaN instability).
ModelHealthAssessment AssessModelHealth(const ModelHealth& health, const ModelHealthPolicy& policy = {});

// Sets evidence->fragmented and evidence->arc_volatility from the assessment (Score then applies
// the original's drift penalty).
void ApplyModelHealth(const ModelHealthAssessment& assessment, Evidence* evidence);

}  // namespace pulse::trust
