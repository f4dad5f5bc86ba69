#include "pipeline/forecast_signals.h"

#include <arrow/api.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/hash.h"
#include "core/thread_pool.h"
#include "core/time.h"
#include "forecast/calibration.h"
#include "forecast/ensemble.h"
#include "forecast/metrics.h"
#include "pipeline/internal/forecast_staging.h"
#include "pipeline/internal/series_fit.h"
#include "pipeline/train_models.h"

namespace pulse::pipeline {
namespace {

using internal::Calibrate;
using internal::Calibration;
using internal::FitAll;
using internal::LevelBand;
using internal::ReadSeries;
using internal::SeriesData;
using internal::SeriesForecast;

std::string OptionsKey(const ForecastOptions& o) {
  nlohmann::json j = {{"horizon", o.horizon}, {"period", o.period},         {"levels", o.levels},
                      {"kinds", o.kinds},     {"min_points", o.min_points}, {"model", "ensemble-v1"}};
  return std::to_string(std::hash<std::string>{}(j.dump()));
}

Status CheckOptions(const ForecastOptions& options) {
  if (options.horizon < 0 || options.horizon > 10000) return Status::InvalidArgument("horizon must be 0..10000");
  if (options.period < 0) return Status::InvalidArgument("period must be >= 0");
  for (double l : options.levels) {
    if (!(l > 0 && l < 1)) return Status::InvalidArgument("interval levels must be in (0, 1)");
  }
  return Status::Ok();
}

// The model_params column of a series: the ensemble weights, the period, and the out-of-sample
// evidence for trust scoring: the ensemble's backtest MASE next to Naive1's and the share of its
// backtest outcomes inside the calibrated 80% band (pipeline/trust_scores.h).
std::string ModelParams(const SeriesForecast& f, const ForecastOptions& options, double multiplier80) {
  nlohmann::json weights = nlohmann::json::object();
  for (size_t k = 0; k < forecast::kAllMethods.size(); ++k) {
    if (f.result.weights.weight[k] > 0) {
      weights[std::string(forecast::MethodName(forecast::kAllMethods[k]))] = f.result.weights.weight[k];
    }
  }
  const auto& ens_scores = f.result.scores.back();
  nlohmann::json backtest = {{"mase", f.result.backtest_mase.back()},
                             {"naive_mase", f.result.backtest_mase[static_cast<size_t>(forecast::Method::kNaive)]},
                             {"points", ens_scores.size()}};
  if (!ens_scores.empty()) {
    backtest["coverage80"] = static_cast<double>(std::count_if(ens_scores.begin(), ens_scores.end(),
                                                               [&](double z) { return z <= multiplier80; })) /
                             static_cast<double>(ens_scores.size());
  }
  return nlohmann::json{
      {"weights", weights}, {"period", options.period > 0 ? options.period : f.grid.period}, {"backtest", backtest}}
      .dump();
}

// Builds the forecasts table (ForecastSchema) one series at a time.
class ForecastRows {
 public:
  // Which model made a series' rows: its label for the model column, and a registered model's
  // name and version (version 0: fitted in this run; both columns null).
  struct RowModel {
    std::string label, name;
    int64_t version = 0;
  };
  // Appends a row per (horizon step, band) of a series forecast `fc` (mean and sd per step);
  // `params` is its model_params.
  Status AddSeries(const SeriesData& s, const SeriesForecast& f, const RowModel& model,
                   const forecast::MethodForecast& fc, const std::vector<LevelBand>& bands, const std::string& params,
                   int64_t signals_version) {
    const int64_t origin = s.ts.back();
    for (size_t j = 0; j < fc.mean.size(); ++j) {
      const int step = static_cast<int>(j) + 1;
      const double mean = fc.mean[j], sd = fc.sd[j];
      for (const auto& band : bands) {
        bool ok = series_b_.Append(s.name).ok() && kind_b_.Append(s.kind).ok() && model_b_.Append(model.label).ok() &&
                  origin_b_.Append(origin).ok() && target_b_.Append(f.grid.Target(origin, step)).ok() &&
                  step_b_.Append(step).ok() && mean_b_.Append(mean).ok() && level_b_.Append(band.level).ok() &&
                  lower_b_.Append(mean - forecast::BandHalfWidth(band.multiplier, sd)).ok() &&
                  upper_b_.Append(mean + forecast::BandHalfWidth(band.multiplier, sd)).ok() &&
                  conf_b_.Append(band.level).ok() && calibrated_b_.Append(band.calibrated).ok() &&
                  freq_b_.Append(f.grid.name).ok() && params_b_.Append(params).ok() &&
                  version_b_.Append(signals_version).ok() && created_b_.Append(now_).ok() &&
                  AppendModel(model.name, model.version);
        if (!ok) return Status::Internal("building the forecasts table");
        ++rows_;
      }
    }
    return Status::Ok();
  }
  int64_t rows() const { return rows_; }
  Result<std::shared_ptr<arrow::Table>> Finish() {
    std::vector<std::shared_ptr<arrow::Array>> cols(18);
    arrow::ArrayBuilder* builders[] = {&series_b_,  &kind_b_,       &model_b_,        &origin_b_, &target_b_,
                                       &step_b_,    &mean_b_,       &level_b_,        &lower_b_,  &upper_b_,
                                       &conf_b_,    &calibrated_b_, &freq_b_,         &params_b_, &version_b_,
                                       &created_b_, &model_name_b_, &model_version_b_};
    for (size_t c = 0; c < cols.size(); ++c) {
      if (!builders[c]->Finish(&cols[c]).ok()) return Status::Internal("building the forecasts table");
    }
    return arrow::Table::Make(ForecastSchema(), cols);
  }

 private:
  // model_name and model_version: the registered model's, or null for a model fitted in this run.
  bool AppendModel(const std::string& name, int64_t version) {
    if (version <= 0) return model_name_b_.AppendNull().ok() && model_version_b_.AppendNull().ok();
    return model_name_b_.Append(name).ok() && model_version_b_.Append(version).ok();
  }

  std::shared_ptr<arrow::DataType> ts_type_ = arrow::timestamp(arrow::TimeUnit::MICRO, "UTC");
  arrow::StringBuilder series_b_, kind_b_, model_b_, freq_b_, params_b_, model_name_b_;
  arrow::TimestampBuilder origin_b_{ts_type_, arrow::default_memory_pool()};
  arrow::TimestampBuilder target_b_{ts_type_, arrow::default_memory_pool()};
  arrow::TimestampBuilder created_b_{ts_type_, arrow::default_memory_pool()};
  arrow::Int32Builder step_b_;
  arrow::DoubleBuilder mean_b_, level_b_, lower_b_, upper_b_, conf_b_;
  arrow::BooleanBuilder calibrated_b_;
  arrow::Int64Builder version_b_, model_version_b_;
  const int64_t now_ = time::NowMicros();
  int64_t rows_ = 0;
};

// A series' champion: the registered model, its version, and its forecast from the series' data.
struct Champion {
  std::string name;
  int64_t version = 0;
  registry::ForecastModel model;
  forecast::MethodForecast forecast;
};

// The champion of a series when options.registry is set and the series' registered model has one;
// std::nullopt otherwise (the series is fitted). Registry errors other than kNotFound are returned:
// a registry that cannot be read must not silently switch the models that forecast.
Result<std::optional<Champion>> FindChampion(const ForecastOptions& options, const SeriesData& s) {
  if (options.registry == nullptr) return std::optional<Champion>();
  Champion c;
  c.name = SeriesModelName(options.model_prefix, s.kind, s.name);
  auto version = options.registry->GetVersionByAlias(c.name, "champion");
  if (!version.ok()) {
    if (version.status().code() == StatusCode::kNotFound) return std::optional<Champion>();
    return version.status();
  }
  c.version = version->version;
  PULSE_ASSIGN_OR_RETURN(c.model, registry::LoadForecastModel(*options.registry, *version));
  if (c.model.kind != s.kind || c.model.series != s.name) {
    return Status::InvalidArgument("registered model " + c.name + " version " + std::to_string(c.version) +
                                   " is a model of " + c.model.kind + "/" + c.model.series + ", not " + s.kind + "/" +
                                   s.name);
  }
  const int horizon = options.horizon > 0 ? options.horizon : c.model.horizon;
  auto fc = internal::ModelForecast(c.model, s.values, horizon);
  if (!fc.ok()) {
    return Status(fc.status().code(), "forecasting " + s.kind + "/" + s.name + " with " + c.name + " version " +
                                          std::to_string(c.version) + ": " + fc.status().message());
  }
  c.forecast = std::move(*fc);
  return std::optional<Champion>(std::move(c));
}

// The champion's calibrated multipliers at the run's levels; a level it was not trained with
// takes this run's.
std::vector<LevelBand> ChampionBands(const registry::ForecastModel& model, const std::vector<LevelBand>& run) {
  std::vector<LevelBand> out = run;
  for (auto& band : out) {
    for (const auto& b : model.bands) {
      if (std::abs(b.level - band.level) < 1e-9) band = {b.level, b.multiplier, b.calibrated};
    }
  }
  return out;
}

std::string ChampionParams(const Champion& c) {
  nlohmann::json backtest = {
      {"mase", std::isfinite(c.model.backtest.mase) ? nlohmann::json(c.model.backtest.mase) : nlohmann::json(nullptr)},
      {"naive_mase", std::isfinite(c.model.backtest.naive_mase) ? nlohmann::json(c.model.backtest.naive_mase)
                                                                : nlohmann::json(nullptr)},
      {"points", c.model.backtest.points}};
  if (std::isfinite(c.model.backtest.coverage80)) backtest["coverage80"] = c.model.backtest.coverage80;
  return nlohmann::json{{"weights", c.model.weights}, {"period", c.model.period},
                        {"backtest", backtest},       {"model_name", c.name},
                        {"model_version", c.version}, {"trained_signals_version", c.model.signals_version}}
      .dump();
}

// The forecasts table, created when missing; one written before model_name / model_version
// existed gains them first (schema evolution: its old rows read them as null).
Result<std::unique_ptr<lake::DeltaTable>> OpenForecastsTable(lake::Lake& lake) {
  auto table = lake.OpenTable("forecasts");
  if (!table.ok() && table.status().code() == StatusCode::kNotFound)
    return lake.OpenOrCreateTable("forecasts", ForecastSchema(), {"kind"});
  if (!table.ok()) return table.status();
  const auto want = ForecastSchema();
  std::vector<std::shared_ptr<arrow::Field>> missing;
  for (const auto& field : want->fields()) {
    if ((*table)->schema()->GetFieldByName(field->name()) == nullptr) missing.push_back(field);
  }
  if (!missing.empty()) PULSE_RETURN_IF_ERROR((*table)->AddColumns(missing).status());
  return std::move(*table);
}

}  // namespace

std::shared_ptr<arrow::Schema> ForecastSchema() {
  auto ts = arrow::timestamp(arrow::TimeUnit::MICRO, "UTC");
  return arrow::schema({
      arrow::field("series", arrow::utf8(), false),
      arrow::field("kind", arrow::utf8(), false),
      arrow::field("model", arrow::utf8(), false),
      arrow::field("origin", ts, false),
      arrow::field("target", ts, false),
      arrow::field("step", arrow::int32(), false),
      arrow::field("mean", arrow::float64(), false),
      arrow::field("level", arrow::float64(), false),
      arrow::field("lower", arrow::float64(), false),
      arrow::field("upper", arrow::float64(), false),
      arrow::field("confidence", arrow::float64(), false),
      arrow::field("calibrated", arrow::boolean(), false),
      arrow::field("frequency", arrow::utf8(), false),
      arrow::field("model_params", arrow::utf8(), false),
      arrow::field("signals_version", arrow::int64(), false),
      arrow::field("created", ts, false),
      // The registered model that made the forecast (null: fitted in that run). Tables written before
      // these columns existed gain them (null in their old rows) on the next forecast.
      arrow::field("model_name", arrow::utf8(), true),
      arrow::field("model_version", arrow::int64(), true),
  });
}

int ChunkOfSeries(std::string_view kind, std::string_view name, int count) {
  uint64_t h = 14695981039346656037ULL;  // FNV-1a offset basis
  auto mix = [&h](unsigned char c) { h = (h ^ c) * 1099511628211ULL; };
  for (char c : kind) mix(static_cast<unsigned char>(c));
  mix(0);
  for (char c : name) mix(static_cast<unsigned char>(c));
  return count <= 1 ? 0 : static_cast<int>(h % static_cast<uint64_t>(count));
}

ForecastCalibration CalibrateScores(const std::vector<double>& scores, const std::vector<double>& levels) {
  forecast::ConformalCalibrator calibrator;
  for (double score : scores) calibrator.Add(score);
  ForecastCalibration out;
  for (double level : levels) {
    auto q = calibrator.Multiplier(level);
    out.bands.push_back({level, q.ok() ? *q : forecast::GaussianMultiplier(level), q.ok()});
  }
  auto q80 = calibrator.Multiplier(0.8);
  out.multiplier80 = q80.ok() ? *q80 : forecast::GaussianMultiplier(0.8);
  return out;
}

namespace {

// The series of `chunk` at options.signals_version (the latest when -1), which `report` records.
Result<std::vector<SeriesData>> ReadChunk(lake::Lake& lake, const ForecastOptions& options, const ForecastChunk& chunk,
                                          ForecastReport& report) {
  PULSE_RETURN_IF_ERROR(CheckOptions(options));
  if (chunk.count < 1 || chunk.index < 0 || chunk.index >= chunk.count) {
    return Status::InvalidArgument("a forecast chunk must be index/count with 0 <= index < count, got " +
                                   std::to_string(chunk.index) + "/" + std::to_string(chunk.count));
  }
  PULSE_ASSIGN_OR_RETURN(auto signals, lake.OpenTable("signals"));
  if (options.signals_version >= 0) {
    report.signals_version = options.signals_version;
  } else {
    PULSE_ASSIGN_OR_RETURN(report.signals_version, signals->LatestVersion());
  }
  lake::ReadOptions read{.version = report.signals_version, .columns = {"kind", "name", "ts", "value"}};
  if (!options.kinds.empty()) read.partition_filters.push_back({"kind", options.kinds});
  return ReadSeries(*signals, read, options, report, chunk);
}

// Appends the rows of the fitted `forecasts` of `series` with `calibration`'s bands (a champion's
// own where it has them) in one commit: app id `app_id` (plus the champions' hash when any served),
// app version report.signals_version. Fills report's series, skipped, rows and versions.
Status WriteForecasts(lake::Lake& lake, const ForecastOptions& options, const std::vector<SeriesData>& series,
                      const std::vector<SeriesForecast>& forecasts, const Calibration& calibration,
                      const std::string& app_id, ForecastReport& report) {
  for (const auto& band : calibration.bands) report.multipliers.emplace_back(band.level, band.multiplier);
  ForecastRows rows;
  nlohmann::json served = nlohmann::json::array();  // (model, version) of every champion used
  for (size_t i = 0; i < series.size(); ++i) {
    const auto& f = forecasts[i];
    if (!f.ok) {
      report.skipped.push_back(f.problem);
      continue;
    }
    ++report.series;
    PULSE_ASSIGN_OR_RETURN(std::optional<Champion> champion, FindChampion(options, series[i]));
    if (champion) {
      served.push_back({champion->name, champion->version});
      ++report.champions;
      PULSE_RETURN_IF_ERROR(rows.AddSeries(series[i], f, {champion->model.method, champion->name, champion->version},
                                           champion->forecast, ChampionBands(champion->model, calibration.bands),
                                           ChampionParams(*champion), report.signals_version));
      continue;
    }
    PULSE_RETURN_IF_ERROR(rows.AddSeries(series[i], f, {"Ensemble", "", 0}, f.result.ensemble, calibration.bands,
                                         ModelParams(f, options, calibration.multiplier80), report.signals_version));
  }
  report.rows = rows.rows();
  PULSE_ASSIGN_OR_RETURN(auto table, rows.Finish());

  PULSE_ASSIGN_OR_RETURN(auto out, OpenForecastsTable(lake));
  lake::WriteOptions write;
  // Forecasting with other champions is other work: their (name, version) list joins the key.
  write.app_id = app_id + (served.empty() ? "" : "+" + ContentId(served).substr(0, 16));
  write.app_version = report.signals_version;
  write.operation = "FORECAST";
  write.operation_parameters = {{"signals_version", std::to_string(report.signals_version)},
                                {"series", std::to_string(report.series)}};
  PULSE_ASSIGN_OR_RETURN(auto commit, out->Append(*table, write));
  report.forecasts_version = commit.version;
  report.duplicate = commit.skipped;
  return Status::Ok();
}

std::string ChunkAppId(const ForecastOptions& options, const ForecastChunk& chunk) {
  return "pulse-forecast:" + OptionsKey(options) + ":" + std::to_string(chunk.index) + "/" +
         std::to_string(chunk.count);
}

// The forecasts table's version when it already holds the commit of `app_id` for `version`.
Result<std::optional<int64_t>> AlreadyWritten(lake::Lake& lake, const std::string& app_id, int64_t version) {
  auto table = lake.OpenTable("forecasts");
  if (!table.ok() && table.status().code() == StatusCode::kNotFound) return std::optional<int64_t>();
  if (!table.ok()) return table.status();
  PULSE_ASSIGN_OR_RETURN(auto snapshot, (*table)->LoadSnapshot());
  auto it = snapshot.app_versions.find(app_id);
  if (it == snapshot.app_versions.end() || it->second < version) return std::optional<int64_t>();
  return std::optional<int64_t>(snapshot.version);
}

}  // namespace

Result<ForecastReport> ForecastSignals(lake::Lake& lake, const ForecastOptions& options) {
  ForecastReport report;
  PULSE_ASSIGN_OR_RETURN(const std::vector<SeriesData> series, ReadChunk(lake, options, {}, report));
  if (series.empty()) {
    return Status::InvalidArgument("no series with at least " + std::to_string(options.min_points) +
                                   " points to forecast");
  }
  const std::vector<SeriesForecast> forecasts = FitAll(series, options);
  PULSE_RETURN_IF_ERROR(WriteForecasts(lake, options, series, forecasts, Calibrate(forecasts, options.levels),
                                       "pulse-forecast:" + OptionsKey(options), report));
  return report;
}

Result<ChunkScores> ForecastChunkScores(lake::Lake& lake, const ForecastOptions& options, const ForecastChunk& chunk) {
  ForecastReport report;
  PULSE_ASSIGN_OR_RETURN(std::vector<SeriesData> series, ReadChunk(lake, options, chunk, report));
  std::vector<SeriesForecast> forecasts = FitAll(series, options);
  ChunkScores out;
  out.signals_version = report.signals_version;
  out.skipped = report.skipped;
  for (const auto& f : forecasts) {
    if (f.ok) {
      ++out.series;
    } else {
      out.skipped.push_back(f.problem);
    }
  }
  out.scores = internal::PooledScores(forecasts);
  if (series.empty()) return out;
  internal::StagedChunk staged{OptionsKey(options),       report.signals_version, chunk,
                               std::move(report.skipped), std::move(series),      std::move(forecasts)};
  const Status written = lake.filesystem().WriteFile(
      internal::StagingKey(staged.options_key, staged.signals_version, chunk), internal::EncodeStagedChunk(staged));
  out.staged = written.ok();
  if (!written.ok()) out.staging_error = written.message();
  return out;
}

std::string ForecastStagingKey(const ForecastOptions& options, const ForecastChunk& chunk) {
  return internal::StagingKey(OptionsKey(options), options.signals_version, chunk);
}

Result<size_t> RemoveStaleForecastStaging(lake::Lake& lake, std::chrono::seconds max_age) {
  auto objects = lake.filesystem().List(internal::kForecastStagingPrefix);
  if (!objects.ok() && objects.status().code() == StatusCode::kNotFound) return size_t{0};
  if (!objects.ok()) return objects.status();
  const int64_t cutoff_ms =
      time::NowMicros() / 1000 - std::chrono::duration_cast<std::chrono::milliseconds>(max_age).count();
  size_t removed = 0;
  for (const auto& object : *objects) {
    if (object.mtime_ms >= cutoff_ms) continue;
    PULSE_RETURN_IF_ERROR(lake.filesystem().Delete(object.key));
    ++removed;
  }
  return removed;
}

namespace {

// The chunk's staged fits when its object is there, intact and of this run (options, signals
// version, chunk); else why not.
Result<internal::StagedChunk> LoadStaged(lake::Lake& lake, const ForecastOptions& options, const ForecastChunk& chunk,
                                         const std::string& key) {
  PULSE_ASSIGN_OR_RETURN(std::string bytes, lake.filesystem().ReadFile(key));
  PULSE_ASSIGN_OR_RETURN(internal::StagedChunk staged, internal::DecodeStagedChunk(bytes));
  if (staged.options_key != OptionsKey(options) || staged.signals_version != options.signals_version ||
      staged.chunk.index != chunk.index || staged.chunk.count != chunk.count) {
    return Status::ParseError("staged forecast fits: " + key + " holds another run's fits");
  }
  return staged;
}

// Whether `read` are the series `staged` was fitted on (same kinds and names, in order).
bool SameSeries(const std::vector<SeriesData>& read, const std::vector<SeriesData>& staged) {
  if (read.size() != staged.size()) return false;
  for (size_t i = 0; i < read.size(); ++i) {
    if (read[i].kind != staged[i].kind || read[i].name != staged[i].name || read[i].ts.empty() ||
        read[i].ts.back() != staged[i].ts.back())
      return false;
  }
  return true;
}

}  // namespace

Result<ForecastReport> ForecastChunkSeries(lake::Lake& lake, const ForecastOptions& options, const ForecastChunk& chunk,
                                           const ForecastCalibration& calibration) {
  if (options.signals_version < 0) {
    return Status::InvalidArgument("a forecast chunk needs the run's signals version (>= 0)");
  }
  if (calibration.bands.size() != options.levels.size()) {
    return Status::InvalidArgument("the calibration has " + std::to_string(calibration.bands.size()) + " bands for " +
                                   std::to_string(options.levels.size()) + " levels");
  }
  ForecastReport report;
  const std::string app_id = ChunkAppId(options, chunk);
  if (options.registry == nullptr) {  // with champions the app id is known only after reading them
    PULSE_RETURN_IF_ERROR(CheckOptions(options));
    PULSE_ASSIGN_OR_RETURN(auto done, AlreadyWritten(lake, app_id, options.signals_version));
    if (done) {
      report.signals_version = options.signals_version;
      report.forecasts_version = *done;
      report.duplicate = true;
      for (const auto& band : calibration.bands) report.multipliers.emplace_back(band.level, band.multiplier);
      (void)lake.filesystem().Delete(ForecastStagingKey(options, chunk));  // a rerun's pass 1 staged it again
      return report;
    }
  }
  // The staged fits of pass 1; with a registry the champions need the series' values, so the
  // chunk is read as well (no fit) and must be the series the fits were made from.
  std::vector<SeriesData> series;
  std::vector<SeriesForecast> forecasts;
  const std::string key = ForecastStagingKey(options, chunk);
  auto staged = LoadStaged(lake, options, chunk, key);
  bool usable = staged.ok();
  if (usable) {
    report.signals_version = options.signals_version;
    report.skipped = std::move(staged->skipped);
    series = std::move(staged->series);
    forecasts = std::move(staged->forecasts);
    if (options.registry != nullptr) {
      ForecastReport read_report;
      PULSE_ASSIGN_OR_RETURN(std::vector<SeriesData> read, ReadChunk(lake, options, chunk, read_report));
      if (SameSeries(read, series)) {
        series = std::move(read);
      } else {
        report.staging_problem = "staged forecast fits: " + key + " does not match the chunk's series";
        usable = false;
      }
    }
  } else {
    report.staging_problem = staged.status().message();
  }
  if (!usable) {  // no usable staging: fit again (the same fits, as FitAll is deterministic)
    const std::string problem = std::move(report.staging_problem);
    report = ForecastReport();
    report.staging_problem = problem;
    PULSE_ASSIGN_OR_RETURN(series, ReadChunk(lake, options, chunk, report));
    if (series.empty()) return report;
    forecasts = FitAll(series, options);
    report.refitted = forecasts.size();
  }
  PULSE_RETURN_IF_ERROR(WriteForecasts(lake, options, series, forecasts, calibration, app_id, report));
  (void)lake.filesystem().Delete(key);  // best effort: RemoveStaleForecastStaging removes what stays
  return report;
}

}  // namespace pulse::pipeline
