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
//
// Chunked (pulse forecast --broker, pipeline/forecast_chunks.h): the same forecasts in two passes
// over chunks of the series. ForecastChunkScores fits a chunk, stages the fits in the lake
// (pipeline/internal/forecast_staging.h) and returns its backtest scores (writes no table); the
// coordinator pools every chunk's scores with CalibrateScores into exactly the multipliers the
// one-process run computes; ForecastChunkSeries reads the chunk's staged fits (fitting again only
// when they are missing or unusable) and appends its rows with those multipliers in one commit
// whose app id adds ":<index>/<count>", so a redelivered or rerun chunk writes nothing (and,
// without a registry, does not even read its fits). The rows equal the one-process run's except
// `created`, whether staged or refitted.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
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
  // The signals table version to forecast (-1: the latest). Not part of the options hash: it is
  // the commit's app version.
  int64_t signals_version = -1;
};

// A share of the series: chunk `index` of `count` holds the series (kind, name) for which
// ChunkOfSeries(kind, name, count) == index. {0, 1} is every series.
struct ForecastChunk {
  int index = 0;
  int count = 1;
};

// FNV-1a (64 bits) of kind, a NUL byte and name, modulo count (>= 1): stable across processes,
// machines and builds, so every worker assigns a series to the same chunk.
int ChunkOfSeries(std::string_view kind, std::string_view name, int count);

// A run's interval band for one level: the split-conformal multiplier of the model sd, or the
// Gaussian one with calibrated = false where the pooled scores were too few.
struct LevelBand {
  double level, multiplier;
  bool calibrated;
};

// The interval multipliers of a run, per level, and the 80% one the trust evidence uses.
struct ForecastCalibration {
  std::vector<LevelBand> bands;
  double multiplier80 = 0;
};

// Split-conformal multipliers over the pooled scores (in any order: the result depends only on
// the multiset), per level; Gaussian (calibrated = false) where too few scores.
ForecastCalibration CalibrateScores(const std::vector<double>& scores, const std::vector<double>& levels);

struct ForecastReport {
  int64_t signals_version = -1;
  int64_t forecasts_version = -1;
  bool duplicate = false;  // this data version was already forecast
  size_t series = 0;
  std::vector<std::string> skipped;  // "<kind>/<name>: reason"
  int64_t rows = 0;
  std::vector<std::pair<double, double>> multipliers;  // (level, calibrated multiplier)
  size_t champions = 0;                                // series forecast with their registered champion
  // Chunk pass 2 (ForecastChunkSeries) only: the series fitted again because pass 1's staged fits
  // were missing or unusable, and why (empty when they were used or nothing was fitted).
  size_t refitted = 0;
  std::string staging_problem;
};

Result<ForecastReport> ForecastSignals(lake::Lake& lake, const ForecastOptions& options);

// Pass 1 of a chunked run: the chunk's series fitted, nothing written.
struct ChunkScores {
  int64_t signals_version = -1;
  size_t series = 0;                 // fitted series of the chunk
  std::vector<std::string> skipped;  // "<kind>/<name>: reason"
  std::vector<double> scores;        // their ensemble backtest scores (may hold +inf)
  bool staged = false;               // the fits were staged for pass 2 (ForecastStagingKey)
  std::string staging_error;         // why not, when the chunk has series and staging failed
};
// kInvalidArgument for bad options or a chunk outside 0 <= index < count; a chunk without series
// is no error (series = 0, nothing staged). A failure to stage is no error either (pass 2 then
// fits again): it is reported in staging_error.
Result<ChunkScores> ForecastChunkScores(lake::Lake& lake, const ForecastOptions& options, const ForecastChunk& chunk);

// Pass 2: the chunk's series forecast with `calibration` (the pooled one) and appended in one
// commit (app id "pulse-forecast:<options hash>:<index>/<count>", app version the signals version);
// duplicate = true when that commit exists already. options.signals_version must be set (>= 0).
// Without series in the chunk nothing is written (forecasts_version -1). The fits come from the
// chunk's staging object when it is there and intact (with a registry the series' values are
// read too, for the champions); otherwise the chunk is fitted again (report.refitted,
// staging_problem): the rows are the same either way. After the commit (or on finding it already
// there) the staging object is deleted; a failure to delete it is ignored (see
// RemoveStaleForecastStaging).
Result<ForecastReport> ForecastChunkSeries(lake::Lake& lake, const ForecastOptions& options, const ForecastChunk& chunk,
                                           const ForecastCalibration& calibration);

// The key of a chunk's staging object in the lake's store (pipeline/internal/forecast_staging.h),
// for options (their hash, as in the app id) and options.signals_version.
std::string ForecastStagingKey(const ForecastOptions& options, const ForecastChunk& chunk);

// Removes the staging objects last modified more than `max_age` ago (left by runs whose pass 2
// never came, or whose delete failed); returns how many. The coordinator calls it at the start of
// every chunked run.
Result<size_t> RemoveStaleForecastStaging(lake::Lake& lake, std::chrono::seconds max_age);

// The forecasts table's schema (partitioned by kind).
std::shared_ptr<arrow::Schema> ForecastSchema();

// The forecasts table read back (ForecastsByVersion, ReadForecasts) is in report/forecast_table.h:
// the report and trust scoring both read it.

}  // namespace pulse::pipeline
