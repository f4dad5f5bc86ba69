#include "pipeline/forecast_signals.h"

#include <arrow/api.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "core/thread_pool.h"
#include "core/time.h"
#include "forecast/calibration.h"
#include "forecast/ensemble.h"
#include "forecast/metrics.h"
#include "pipeline/usable_signals.h"

namespace pulse::pipeline {
namespace {

constexpr int64_t kSecond = 1000000;
constexpr int64_t kDay = 86400 * kSecond;

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

Grid InferGrid(const std::vector<int64_t>& ts) {
  std::vector<int64_t> gaps;
  for (size_t i = 1; i < ts.size(); ++i) gaps.push_back(ts[i] - ts[i - 1]);
  std::nth_element(gaps.begin(), gaps.begin() + static_cast<long>(gaps.size() / 2), gaps.end());
  const int64_t median = gaps[gaps.size() / 2];
  const double days = static_cast<double>(median) / static_cast<double>(kDay);
  if (median == 3600 * kSecond) return {"hourly", 0, median, 24, 48};
  if (median == kDay) return {"daily", 0, median, 7, 14};
  if (median == 7 * kDay) return {"weekly", 0, median, 1, 13};
  if (days >= 28 && days <= 31) return {"monthly", 1, 0, 12, 18};
  if (days >= 89 && days <= 92) return {"quarterly", 3, 0, 4, 8};
  if (days >= 365 && days <= 366) return {"yearly", 12, 0, 1, 6};
  return {"irregular", 0, median, 1, 8};
}

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
  forecast::BacktestedForecast result;
};

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

// The usable rows of the signals table at `read.version` as series: grouped by (kind, name),
// sorted by time (a repeated timestamp keeps the latest row). Series with fewer than
// options.min_points points are listed in report.skipped instead.
Result<std::vector<SeriesData>> ReadSeries(lake::DeltaTable& signals, lake::ReadOptions& read,
                                           const ForecastOptions& options, ForecastReport& report) {
  PULSE_ASSIGN_OR_RETURN(auto usable, UsableSignals::Prepare(signals, read));  // suppressed rows feed no forecast
  PULSE_ASSIGN_OR_RETURN(auto table, signals.Read(read));
  std::map<std::pair<std::string, std::string>, std::map<int64_t, double>> grouped;
  for (const auto& batch_or : arrow::TableBatchReader(*table)) {
    if (!batch_or.ok()) return Status::Internal(batch_or.status().ToString());
    const auto& batch = **batch_or;
    auto kind = std::static_pointer_cast<arrow::StringArray>(batch.column(0));
    auto name = std::static_pointer_cast<arrow::StringArray>(batch.column(1));
    auto ts = std::static_pointer_cast<arrow::TimestampArray>(batch.column(2));
    auto value = std::static_pointer_cast<arrow::DoubleArray>(batch.column(3));
    PULSE_RETURN_IF_ERROR(usable.Bind(batch));
    for (int64_t i = 0; i < batch.num_rows(); ++i) {
      if (usable.Usable(i)) grouped[{kind->GetString(i), name->GetString(i)}][ts->Value(i)] = value->Value(i);
    }
  }
  std::vector<SeriesData> series;
  for (auto& [key, points] : grouped) {
    SeriesData s{key.first, key.second, {}, {}};
    for (const auto& [t, v] : points) s.ts.push_back(t), s.values.push_back(v);
    if (static_cast<int>(s.values.size()) < options.min_points) {
      report.skipped.push_back(s.kind + "/" + s.name + ": " + std::to_string(s.values.size()) + " points, fewer than " +
                               std::to_string(options.min_points));
      continue;
    }
    series.push_back(std::move(s));
  }
  return series;
}

// Fits every series (in parallel): its grid, horizon and backtested ensemble, or the problem.
std::vector<SeriesForecast> FitAll(const std::vector<SeriesData>& series, const ForecastOptions& options) {
  std::vector<SeriesForecast> forecasts(series.size());
  DefaultThreadPool().ParallelFor(series.size(), [&](size_t i) {
    const SeriesData& s = series[i];
    SeriesForecast& f = forecasts[i];
    f.grid = InferGrid(s.ts);
    const int period = options.period > 0 ? options.period : f.grid.period;
    f.horizon = options.horizon > 0 ? options.horizon : f.grid.horizon;
    auto scale = forecast::MaseScale(s.values, 1);
    double sc = scale.ok() ? *scale : 1.0;  // a constant series: any positive scale
    auto r = forecast::ForecastWithBacktest(s.values, period, f.horizon, sc);
    if (!r.ok()) {
      f.problem = s.kind + "/" + s.name + ": " + r.status().message();
      return;
    }
    f.result = std::move(*r);
    f.ok = true;
  });
  return forecasts;
}

struct LevelBand {
  double level, multiplier;
  bool calibrated;
};

// The interval multipliers of this run: split-conformal over the pooled backtest scores of every
// fitted series, per level (Gaussian, calibrated = false, where too few scores), and the 80% one
// the trust evidence uses.
struct Calibration {
  std::vector<LevelBand> bands;
  double multiplier80 = 0;
};

Calibration Calibrate(const std::vector<SeriesForecast>& forecasts, const std::vector<double>& levels) {
  forecast::ConformalCalibrator calibrator;
  for (const auto& f : forecasts) {
    if (!f.ok) continue;
    for (double score : f.result.scores.back()) calibrator.Add(score);
  }
  Calibration out;
  for (double level : levels) {
    auto q = calibrator.Multiplier(level);
    out.bands.push_back({level, q.ok() ? *q : forecast::GaussianMultiplier(level), q.ok()});
  }
  out.multiplier80 = calibrator.Multiplier(0.8).ok() ? *calibrator.Multiplier(0.8) : forecast::GaussianMultiplier(0.8);
  return out;
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
  // Appends a row per (horizon step, band) of a fitted series; `params` is its model_params.
  Status AddSeries(const SeriesData& s, const SeriesForecast& f, const std::vector<LevelBand>& bands,
                   const std::string& params, int64_t signals_version) {
    const int64_t origin = s.ts.back();
    for (int step = 1; step <= f.horizon; ++step) {
      const auto j = static_cast<size_t>(step - 1);
      const double mean = f.result.ensemble.mean[j], sd = f.result.ensemble.sd[j];
      for (const auto& band : bands) {
        bool ok = series_b_.Append(s.name).ok() && kind_b_.Append(s.kind).ok() && model_b_.Append("Ensemble").ok() &&
                  origin_b_.Append(origin).ok() && target_b_.Append(f.grid.Target(origin, step)).ok() &&
                  step_b_.Append(step).ok() && mean_b_.Append(mean).ok() && level_b_.Append(band.level).ok() &&
                  lower_b_.Append(mean - forecast::BandHalfWidth(band.multiplier, sd)).ok() &&
                  upper_b_.Append(mean + forecast::BandHalfWidth(band.multiplier, sd)).ok() &&
                  conf_b_.Append(band.level).ok() && calibrated_b_.Append(band.calibrated).ok() &&
                  freq_b_.Append(f.grid.name).ok() && params_b_.Append(params).ok() &&
                  version_b_.Append(signals_version).ok() && created_b_.Append(now_).ok();
        if (!ok) return Status::Internal("building the forecasts table");
        ++rows_;
      }
    }
    return Status::Ok();
  }
  int64_t rows() const { return rows_; }
  Result<std::shared_ptr<arrow::Table>> Finish() {
    std::vector<std::shared_ptr<arrow::Array>> cols(16);
    arrow::ArrayBuilder* builders[] = {&series_b_, &kind_b_,   &model_b_,   &origin_b_, &target_b_, &step_b_,
                                       &mean_b_,   &level_b_,  &lower_b_,   &upper_b_,  &conf_b_,   &calibrated_b_,
                                       &freq_b_,   &params_b_, &version_b_, &created_b_};
    for (size_t c = 0; c < cols.size(); ++c) {
      if (!builders[c]->Finish(&cols[c]).ok()) return Status::Internal("building the forecasts table");
    }
    return arrow::Table::Make(ForecastSchema(), cols);
  }

 private:
  std::shared_ptr<arrow::DataType> ts_type_ = arrow::timestamp(arrow::TimeUnit::MICRO, "UTC");
  arrow::StringBuilder series_b_, kind_b_, model_b_, freq_b_, params_b_;
  arrow::TimestampBuilder origin_b_{ts_type_, arrow::default_memory_pool()};
  arrow::TimestampBuilder target_b_{ts_type_, arrow::default_memory_pool()};
  arrow::TimestampBuilder created_b_{ts_type_, arrow::default_memory_pool()};
  arrow::Int32Builder step_b_;
  arrow::DoubleBuilder mean_b_, level_b_, lower_b_, upper_b_, conf_b_;
  arrow::BooleanBuilder calibrated_b_;
  arrow::Int64Builder version_b_;
  const int64_t now_ = time::NowMicros();
  int64_t rows_ = 0;
};

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
  });
}

Result<ForecastReport> ForecastSignals(lake::Lake& lake, const ForecastOptions& options) {
  PULSE_RETURN_IF_ERROR(CheckOptions(options));
  ForecastReport report;
  PULSE_ASSIGN_OR_RETURN(auto signals, lake.OpenTable("signals"));
  PULSE_ASSIGN_OR_RETURN(report.signals_version, signals->LatestVersion());
  lake::ReadOptions read{.version = report.signals_version, .columns = {"kind", "name", "ts", "value"}};
  if (!options.kinds.empty()) read.partition_filters.push_back({"kind", options.kinds});
  PULSE_ASSIGN_OR_RETURN(const std::vector<SeriesData> series, ReadSeries(*signals, read, options, report));
  if (series.empty()) {
    return Status::InvalidArgument("no series with at least " + std::to_string(options.min_points) +
                                   " points to forecast");
  }
  const std::vector<SeriesForecast> forecasts = FitAll(series, options);
  const Calibration calibration = Calibrate(forecasts, options.levels);
  for (const auto& band : calibration.bands) report.multipliers.emplace_back(band.level, band.multiplier);

  ForecastRows rows;
  for (size_t i = 0; i < series.size(); ++i) {
    const auto& f = forecasts[i];
    if (!f.ok) {
      report.skipped.push_back(f.problem);
      continue;
    }
    ++report.series;
    PULSE_RETURN_IF_ERROR(rows.AddSeries(series[i], f, calibration.bands,
                                         ModelParams(f, options, calibration.multiplier80), report.signals_version));
  }
  report.rows = rows.rows();
  PULSE_ASSIGN_OR_RETURN(auto table, rows.Finish());

  PULSE_ASSIGN_OR_RETURN(auto out, lake.OpenOrCreateTable("forecasts", ForecastSchema(), {"kind"}));
  lake::WriteOptions write;
  write.app_id = "pulse-forecast:" + OptionsKey(options);
  write.app_version = report.signals_version;
  write.operation = "FORECAST";
  write.operation_parameters = {{"signals_version", std::to_string(report.signals_version)},
                                {"series", std::to_string(report.series)}};
  PULSE_ASSIGN_OR_RETURN(auto commit, out->Append(*table, write));
  report.forecasts_version = commit.version;
  report.duplicate = commit.skipped;
  return report;
}

}  // namespace pulse::pipeline
