// pulse train: fit, backtest and register a forecasting model version per series, and promote a
// challenger to champion only when it is better (registry/registry.h, registry/model_artifact.h).
//
// Per series (kind, name) of the signals table at its latest version, fitted exactly as
// ForecastSignals fits it (the accuracy-weighted ensemble, or one benchmark method with
// `method`; split-conformal multipliers pooled over every series fitted in this call):
//   1. Identity: ContentId of (model format, method, horizon, period, levels, min points, kind,
//      series, SHA-256 of the series' usable observations). If a version of the series' registered
//      model (<prefix>.<kind>.<series>, SeriesModelName) carries that identity in its
//      `pulse.identity` tag, the series is unchanged: nothing is registered or written. Training
//      twice on the same signals version is therefore a no-op, and so is training after data
//      arrived only for other series.
//   2. Otherwise a run is logged (params: method, period, horizon, levels, frequency, signals
//      version, reason; metrics: backtest MASE, Naive1 MASE, 80% coverage, observations; artifacts:
//      model.json + manifest.json) and a new model version created from it.
//   3. Promotion. With no champion the new version becomes champion ("first version"). Otherwise
//      both are scored on the same rolling-origin window - the last `horizon` observations,
//      forecast from the data before them: the challenger by its out-of-sample backtest MASE there,
//      the champion by running its registered model (method, weights) on the same data. The
//      challenger is promoted only if its MASE <= champion's * (1 - promotion_margin) and its
//      calibrated 80% band covered at least 0.8 - coverage_tolerance of that window's outcomes;
//      otherwise it is refused and gets the `challenger` alias. A challenger without a backtest
//      (a series shorter than horizon + 4) is refused.
//   4. Every decision is recorded: version tags pulse.promotion (promoted | refused),
//      pulse.promotion.reason, .challenger_mase, .champion_mase, .champion_version, .coverage80;
//      the registered model's tag pulse.last_event; and one row of the `model_events` Delta table
//      (ModelEventSchema) with the same numbers, written in one commit after the registrations.
// Errors: kInvalidArgument for bad options (unknown method, a named series that is not in the lake
// is reported in `skipped`); registry errors are returned as they are, after writing the events
// of the series already decided.
#pragma once

#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/config_sections.h"
#include "core/status.h"
#include "lake/lake.h"
#include "pipeline/forecast_signals.h"
#include "registry/registry.h"

namespace pulse::pipeline {

// The registry.* settings pulse train and serving use (core/config_sections.h RegistrySettings).
struct ModelRegistryOptions {
  std::string model_prefix = "pulse";
  std::string experiment = "pulse";
  double promotion_margin = 0.05;
  double coverage_tolerance = 0.15;
};
ModelRegistryOptions ModelRegistryOptionsFrom(const RegistrySettings& settings);

// "<prefix>.<kind>.<series>"; kind and series characters outside [A-Za-z0-9._-] become '_' and
// such a name gets "-" + 8 hex digits of SHA-256 of the original pair, so names never collide.
std::string SeriesModelName(const std::string& prefix, const std::string& kind, const std::string& series);

struct TrainOptions {
  ForecastOptions forecast;         // horizon, period, levels, kinds, min_points (its registry is unused)
  std::vector<std::string> series;  // series names to train; empty: every series
  std::string method = "Ensemble";  // "Ensemble" or a benchmark method (forecast::MethodName)
  std::string reason = "manual";    // why this training ran (manual, drift, schedule): recorded
  ModelRegistryOptions registry;
};

struct SeriesTraining {
  std::string kind, series, model_name;
  bool unchanged = false;        // a version with this identity exists (`version`); nothing done
  int64_t version = 0;           // the new (or existing) version
  std::string decision;          // "promoted" or "refused"; "" when unchanged
  std::string reason;            // why
  int64_t champion_version = 0;  // the champion before this decision (0: none)
  double challenger_mase = std::nan(""), champion_mase = std::nan(""), coverage80 = std::nan("");
};

struct TrainReport {
  int64_t signals_version = -1;
  std::vector<SeriesTraining> series;
  std::vector<std::string> skipped;  // "<kind>/<name>: reason"
  int64_t events_version = -1;       // model_events version written (-1: none)
};

Result<TrainReport> TrainModels(lake::Lake& lake, registry::Registry& registry, const TrainOptions& options);

// The report as JSON: {signals_version, events_version, skipped, series: [{kind, series, model_name,
// unchanged, version, decision, reason, champion_version, challenger_mase, champion_mase,
// coverage80}]} (non-finite numbers as null). The pulse.train task's result and `pulse train --json`.
nlohmann::json TrainReportJson(const TrainReport& report);

// The model_events table: one row per promotion or refusal.
std::shared_ptr<arrow::Schema> ModelEventSchema();
inline constexpr const char* kModelEventsTable = "model_events";

}  // namespace pulse::pipeline
