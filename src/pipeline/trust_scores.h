// pulse run's trust stage: scores every forecast of one signals version with the original Pulse's
// heuristics (trust/trust_engine.h) next to the forecast engine's calibrated statistics, and
// appends one row per series to the `trust_scores` Delta table.
//
// How a statistical forecast feeds the original's formulas (the original scored turn records):
//   change (its "symbolic change") = the forecast's move at each step, (mean_k - last) / level,
//       keys "h1".."hN", where level = the series' mean absolute value (1 when that is 0);
//   fragility = FragilityIndex(the simulated world's mean tension at the last turn, change);
//   capital movement = sum over nvda, msft, ibit, spy of |mean at the last turn - mean at turn 0|
//       in the world simulation `sim_id`;
//   memory = this series' changes from up to 3 earlier signals versions (earlier trust rows).
// Statistical (calibrated) columns, from the forecasts table's backtest evidence:
//   coverage80 = share of the ensemble's out-of-sample backtest outcomes inside the calibrated 80%
//       band (null without a backtest); skill = 1 - MASE(ensemble) / MASE(Naive1) on that window;
//   band80_width = (upper - lower) / level of the next step's calibrated 80% band.
// Track record (the original's Bayesian tracker, trust/bayesian_trust.h): per series, Beta(1, 1)
// carried from its newest earlier row, decayed once per run, updated with each newly observed value
// that the previous run forecast - a success when it fell inside that run's 80% band; columns
// track_alpha, track_beta, track_hits, track_checked, track_record (the mean), track_low/high (its
// interval).
// Model lifecycle (trust/model_health.h, facts from pipeline/model_health_facts.h): the registered
// model that made the forecast (model_name, model_version; null when fitted on the spot), days since
// that version was trained, the series' newest drift decision (drift_status) and the rolling 80%
// coverage of the newest `rolling_window` outcomes set the original's drift penalty inputs
// (fragmented, arc_volatility) before scoring; columns model_health (drifted | stale |
// under-covered | ok), drift_penalty. These columns are nullable and appended last: a trust_scores
// table written before them gains them (schema evolution; its old rows read null).
// Idempotent: txn app id "pulse-trust:<sim_id>", app version = the signals version.
#pragma once

#include <arrow/type_fwd.h>

#include <memory>
#include <string>

#include "core/status.h"
#include "lake/lake.h"
#include "trust/model_health.h"
#include "trust/trust_engine.h"

namespace pulse::pipeline {

struct TrustOptions {
  int64_t signals_version = -1;  // -1: the newest version in the forecasts table
  std::string sim_id;            // the world simulation supplying tension and capital movement
  trust::Thresholds thresholds;
  trust::ModelHealthPolicy health;
  int64_t rolling_window = 20;  // outcomes in the rolling coverage
};

struct TrustReport {
  int64_t signals_version = -1;
  int64_t version = -1;  // trust_scores table version
  bool duplicate = false;
  int64_t rows = 0;
};

std::shared_ptr<arrow::Schema> TrustSchema();

// kInvalidArgument when the forecasts of that version or the simulation are missing.
Result<TrustReport> ScoreForecastTrust(lake::Lake& lake, const TrustOptions& options);

}  // namespace pulse::pipeline
