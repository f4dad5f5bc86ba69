// Forecast every series of the lake's signals table and append the forecasts to the "forecasts"
// Delta table: one row per (series, horizon step, interval level).
//
// Per series (kind, name): observations sorted by time; the sampling interval is inferred from
// the median spacing (hourly, daily, weekly, monthly, quarterly, yearly, else the median in
// seconds), which sets the default seasonal period and horizon. The model is the accuracy-
// weighted ensemble of the M4 benchmark methods (forecast/ensemble.h). Intervals are split-
// conformal: scores of every series' backtest window in this run are pooled per level;
// `confidence` is the calibrated probability that the outcome falls in [lower, upper] (the level,
// when at least ceil(1/(1-level)) - 1 scores were available, else the Gaussian nominal level with
// calibrated = false).
//
// Idempotent: the commit carries txn app id "pulse-forecast:<options hash>" (plus a hash of the
// champions used, when any) with the signals table version as app version, so forecasting the same
// data with the same models twice writes nothing.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "lake/lake.h"
#include "registry/registry.h"

namespace pulse::pipeline {

struct ForecastOptions {
  int horizon = 0;  // 0: by frequency (quarterly 8, monthly 18, ...)
  int period = 0;   // 0: by frequency (quarterly 4, monthly 12, ...)
  std::vector<double> levels = {0.5, 0.8, 0.95};
  std::vector<std::string> kinds;  // empty: every kind
  int min_points = 8;              // shorter series are skipped (and reported)
  // Serving from the model registry (pipeline/train_models.h): when set, a series whose registered
  // model (<model_prefix>.<kind>.<series>) has a `champion` alias is forecast with that version
  // (its method, weights, period, horizon unless `horizon` is set, and calibrated multipliers) and
  // its rows record model_name / model_version; other series are fitted as without a registry.
  registry::Registry* registry = nullptr;  // not owned
  std::string model_prefix = "pulse";
};

struct ForecastReport {
  int64_t signals_version = -1;
  int64_t forecasts_version = -1;
  bool duplicate = false;  // this data version was already forecast
  size_t series = 0;
  std::vector<std::string> skipped;  // "<kind>/<name>: reason"
  int64_t rows = 0;
  std::vector<std::pair<double, double>> multipliers;  // (level, calibrated multiplier)
  size_t champions = 0;                                // series forecast with their registered champion
};

Result<ForecastReport> ForecastSignals(lake::Lake& lake, const ForecastOptions& options);

// The forecasts table's schema (partitioned by kind).
std::shared_ptr<arrow::Schema> ForecastSchema();

// The forecasts table read back (ForecastsByVersion, ReadForecasts) is in report/forecast_table.h:
// the report and trust scoring both read it.

}  // namespace pulse::pipeline
