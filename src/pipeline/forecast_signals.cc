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
  if (options.horizon < 0 || options.horizon > 10000) return Status::InvalidArgument("horizon must be 0..10000");
  if (options.period < 0) return Status::InvalidArgument("period must be >= 0");
  for (double l : options.levels)
    if (!(l > 0 && l < 1)) return Status::InvalidArgument("interval levels must be in (0, 1)");
  ForecastReport report;
  PULSE_ASSIGN_OR_RETURN(auto signals, lake.OpenTable("signals"));
  PULSE_ASSIGN_OR_RETURN(report.signals_version, signals->LatestVersion());
  lake::ReadOptions read{.version = report.signals_version, .columns = {"kind", "name", "ts", "value"}};
  if (!options.kinds.empty()) read.partition_filters.push_back({"kind", options.kinds});
  PULSE_ASSIGN_OR_RETURN(auto usable, UsableSignals::Prepare(*signals, read));  // suppressed rows feed no forecast
  PULSE_ASSIGN_OR_RETURN(auto table, signals->Read(read));

  // Group by (kind, name), sorted by time; a repeated timestamp keeps the latest row.
  std::map<std::pair<std::string, std::string>, std::map<int64_t, double>> grouped;
  for (const auto& batch_or : arrow::TableBatchReader(*table)) {
    if (!batch_or.ok()) return Status::Internal(batch_or.status().ToString());
    const auto& batch = **batch_or;
    auto kind = std::static_pointer_cast<arrow::StringArray>(batch.column(0));
    auto name = std::static_pointer_cast<arrow::StringArray>(batch.column(1));
    auto ts = std::static_pointer_cast<arrow::TimestampArray>(batch.column(2));
    auto value = std::static_pointer_cast<arrow::DoubleArray>(batch.column(3));
    PULSE_RETURN_IF_ERROR(usable.Bind(batch));
    for (int64_t i = 0; i < batch.num_rows(); ++i)
      if (usable.Usable(i)) grouped[{kind->GetString(i), name->GetString(i)}][ts->Value(i)] = value->Value(i);
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
  if (series.empty())
    return Status::InvalidArgument("no series with at least " + std::to_string(options.min_points) +
                                   " points to forecast");

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

  forecast::ConformalCalibrator calibrator;
  for (const auto& f : forecasts)
    if (f.ok)
      for (double score : f.result.scores.back()) calibrator.Add(score);
  struct LevelBand {
    double level, multiplier;
    bool calibrated;
  };
  std::vector<LevelBand> bands;
  for (double level : options.levels) {
    auto q = calibrator.Multiplier(level);
    bands.push_back({level, q.ok() ? *q : forecast::GaussianMultiplier(level), q.ok()});
    report.multipliers.emplace_back(level, bands.back().multiplier);
  }

  const double multiplier80 =
      calibrator.Multiplier(0.8).ok() ? *calibrator.Multiplier(0.8) : forecast::GaussianMultiplier(0.8);

  auto ts_type = arrow::timestamp(arrow::TimeUnit::MICRO, "UTC");
  arrow::StringBuilder series_b, kind_b, model_b, freq_b, params_b;
  arrow::TimestampBuilder origin_b(ts_type, arrow::default_memory_pool()),
      target_b(ts_type, arrow::default_memory_pool()), created_b(ts_type, arrow::default_memory_pool());
  arrow::Int32Builder step_b;
  arrow::DoubleBuilder mean_b, level_b, lower_b, upper_b, conf_b;
  arrow::BooleanBuilder calibrated_b;
  arrow::Int64Builder version_b;
  const int64_t now = time::NowMicros();
  for (size_t i = 0; i < series.size(); ++i) {
    const auto& f = forecasts[i];
    if (!f.ok) {
      report.skipped.push_back(f.problem);
      continue;
    }
    ++report.series;
    nlohmann::json weights = nlohmann::json::object();
    for (size_t k = 0; k < forecast::kAllMethods.size(); ++k)
      if (f.result.weights.weight[k] > 0)
        weights[std::string(forecast::MethodName(forecast::kAllMethods[k]))] = f.result.weights.weight[k];
    // Out-of-sample evidence for trust scoring: the ensemble's backtest MASE next to Naive1's and
    // the share of its backtest outcomes inside the calibrated 80% band (pipeline/trust_scores.h).
    const auto& ens_scores = f.result.scores.back();
    nlohmann::json backtest = {{"mase", f.result.backtest_mase.back()},
                               {"naive_mase", f.result.backtest_mase[static_cast<size_t>(forecast::Method::kNaive)]},
                               {"points", ens_scores.size()}};
    if (!ens_scores.empty())
      backtest["coverage80"] = static_cast<double>(std::count_if(ens_scores.begin(), ens_scores.end(),
                                                                 [&](double z) { return z <= multiplier80; })) /
                               static_cast<double>(ens_scores.size());
    const std::string params = nlohmann::json{
        {"weights", weights},
        {"period", options.period > 0 ? options.period : f.grid.period},
        {"backtest", backtest}}.dump();
    const int64_t origin = series[i].ts.back();
    for (int step = 1; step <= f.horizon; ++step) {
      const size_t j = static_cast<size_t>(step - 1);
      const double mean = f.result.ensemble.mean[j], sd = f.result.ensemble.sd[j];
      for (const auto& band : bands) {
        bool ok = series_b.Append(series[i].name).ok() && kind_b.Append(series[i].kind).ok() &&
                  model_b.Append("Ensemble").ok() && origin_b.Append(origin).ok() &&
                  target_b.Append(f.grid.Target(origin, step)).ok() && step_b.Append(step).ok() &&
                  mean_b.Append(mean).ok() && level_b.Append(band.level).ok() &&
                  lower_b.Append(mean - forecast::BandHalfWidth(band.multiplier, sd)).ok() &&
                  upper_b.Append(mean + forecast::BandHalfWidth(band.multiplier, sd)).ok() &&
                  conf_b.Append(band.level).ok() && calibrated_b.Append(band.calibrated).ok() &&
                  freq_b.Append(f.grid.name).ok() && params_b.Append(params).ok() &&
                  version_b.Append(report.signals_version).ok() && created_b.Append(now).ok();
        if (!ok) return Status::Internal("building the forecasts table");
        ++report.rows;
      }
    }
  }
  std::vector<std::shared_ptr<arrow::Array>> cols(16);
  arrow::ArrayBuilder* builders[] = {&series_b, &kind_b,   &model_b,   &origin_b, &target_b, &step_b,
                                     &mean_b,   &level_b,  &lower_b,   &upper_b,  &conf_b,   &calibrated_b,
                                     &freq_b,   &params_b, &version_b, &created_b};
  for (size_t c = 0; c < cols.size(); ++c)
    if (!builders[c]->Finish(&cols[c]).ok()) return Status::Internal("building the forecasts table");
  auto rows = arrow::Table::Make(ForecastSchema(), cols);

  PULSE_ASSIGN_OR_RETURN(auto out, lake.OpenOrCreateTable("forecasts", ForecastSchema(), {"kind"}));
  lake::WriteOptions write;
  write.app_id = "pulse-forecast:" + OptionsKey(options);
  write.app_version = report.signals_version;
  write.operation = "FORECAST";
  write.operation_parameters = {{"signals_version", std::to_string(report.signals_version)},
                                {"series", std::to_string(report.series)}};
  PULSE_ASSIGN_OR_RETURN(auto commit, out->Append(*rows, write));
  report.forecasts_version = commit.version;
  report.duplicate = commit.skipped;
  return report;
}

}  // namespace pulse::pipeline
