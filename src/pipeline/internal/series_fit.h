// Reading and fitting the series of the signals table: shared by ForecastSignals
// (pipeline/forecast_signals.h) and TrainModels (pipeline/train_models.h), so that a registered
// model is fitted exactly as pulse forecast fits it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "forecast/ensemble.h"
#include "lake/delta_table.h"
#include "pipeline/forecast_signals.h"
#include "registry/model_artifact.h"

namespace pulse::pipeline::internal {

// The sampling grid of a series: how to step forward, default period and horizon.
struct Grid {
  std::string name;
  int months = 0;       // calendar-month steps (monthly 1, quarterly 3, yearly 12), else 0
  int64_t step_us = 0;  // fixed steps otherwise
  int period = 1;
  int horizon = 8;
  int64_t Target(int64_t origin, int step) const {
    return months > 0 ? time::AddMonths(origin, months * step) : origin + step_us * step;
  }
};

// The grid of sorted timestamps (at least two) from their median spacing.
Grid InferGrid(const std::vector<int64_t>& ts);

struct SeriesData {
  std::string kind, name;
  std::vector<int64_t> ts;
  std::vector<double> values;
};

struct SeriesForecast {
  bool ok = false;
  std::string problem;
  Grid grid;
  int horizon = 0;
  int period = 1;      // seasonal period fitted with (the option, else the grid's)
  double scale = 1.0;  // the series' MASE scale (in-sample Naive1 errors; 1 for a constant series)
  forecast::BacktestedForecast result;
};

// The usable rows of the signals table at `read.version` as series: grouped by (kind, name),
// sorted by time (a repeated timestamp keeps the latest row). Series with fewer than
// options.min_points points are listed in report.skipped instead. Only the series of `chunk`
// (ChunkOfSeries) are kept: the rows of other series are skipped before grouping.
Result<std::vector<SeriesData>> ReadSeries(lake::DeltaTable& signals, lake::ReadOptions& read,
                                           const ForecastOptions& options, ForecastReport& report,
                                           const ForecastChunk& chunk = {});

// Fits every series (in parallel): its grid, horizon and backtested ensemble, or the problem.
std::vector<SeriesForecast> FitAll(const std::vector<SeriesData>& series, const ForecastOptions& options);

using LevelBand = pipeline::LevelBand;
using Calibration = pipeline::ForecastCalibration;

// The ensemble backtest scores of every fitted series, in series order (what Calibrate pools).
std::vector<double> PooledScores(const std::vector<SeriesForecast>& forecasts);

// The interval multipliers of this run: CalibrateScores (pipeline/forecast_signals.h) over the
// pooled backtest scores of every fitted series.
Calibration Calibrate(const std::vector<SeriesForecast>& forecasts, const std::vector<double>& levels);

// The forecast of a registered model for steps 1..horizon from `values`: the benchmark members
// fitted on `values` with the model's period, combined with its weights (an Ensemble) or its one
// method. kInvalidArgument for a method or member name Pulse does not know, or too few values.
Result<forecast::MethodForecast> ModelForecast(const registry::ForecastModel& model, std::span<const double> values,
                                               int horizon);

// The index of a benchmark method by name (forecast::MethodName), or kAllMethods.size() for
// "Ensemble"; kInvalidArgument otherwise.
Result<size_t> MethodIndex(const std::string& name);

}  // namespace pulse::pipeline::internal
