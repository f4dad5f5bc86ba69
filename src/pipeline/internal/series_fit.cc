#include "pipeline/internal/series_fit.h"

#include <arrow/api.h>

#include <algorithm>
#include <map>

#include "core/thread_pool.h"
#include "forecast/calibration.h"
#include "forecast/metrics.h"
#include "pipeline/usable_signals.h"

namespace pulse::pipeline::internal {
namespace {
constexpr int64_t kSecond = 1000000;
constexpr int64_t kDay = 86400 * kSecond;
}  // namespace

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

// The usable rows of the signals table at `read.version` as series: grouped by (kind, name),
// sorted by time (a repeated timestamp keeps the latest row). Series with fewer than
// options.min_points points are listed in report.skipped instead.
Result<std::vector<SeriesData>> ReadSeries(lake::DeltaTable& signals, lake::ReadOptions& read,
                                           const ForecastOptions& options, ForecastReport& report,
                                           const ForecastChunk& chunk) {
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
    // Rows of a series mostly come together: its chunk is computed once per run of rows.
    std::string_view last_kind, last_name;
    bool mine = true;
    for (int64_t i = 0; i < batch.num_rows(); ++i) {
      if (chunk.count > 1) {
        const std::string_view k = kind->GetView(i), n = name->GetView(i);
        if (i == 0 || k != last_kind || n != last_name) {
          last_kind = k, last_name = n;
          mine = ChunkOfSeries(k, n, chunk.count) == chunk.index;
        }
        if (!mine) continue;
      }
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
    f.period = period;
    f.horizon = options.horizon > 0 ? options.horizon : f.grid.horizon;
    auto scale = forecast::MaseScale(s.values, 1);
    double sc = scale.ok() ? *scale : 1.0;  // a constant series: any positive scale
    f.scale = sc;
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

std::vector<double> PooledScores(const std::vector<SeriesForecast>& forecasts) {
  std::vector<double> scores;
  for (const auto& f : forecasts) {
    if (f.ok) scores.insert(scores.end(), f.result.scores.back().begin(), f.result.scores.back().end());
  }
  return scores;
}

Calibration Calibrate(const std::vector<SeriesForecast>& forecasts, const std::vector<double>& levels) {
  return CalibrateScores(PooledScores(forecasts), levels);
}

Result<size_t> MethodIndex(const std::string& name) {
  if (name == "Ensemble") return forecast::kAllMethods.size();
  for (size_t k = 0; k < forecast::kAllMethods.size(); ++k) {
    if (forecast::MethodName(forecast::kAllMethods[k]) == name) return k;
  }
  std::string known = "Ensemble";
  for (auto m : forecast::kAllMethods) known += ", " + std::string(forecast::MethodName(m));
  return Status::InvalidArgument("unknown forecasting method '" + name + "' (known: " + known + ")");
}

Result<forecast::MethodForecast> ModelForecast(const registry::ForecastModel& model, std::span<const double> values,
                                               int horizon) {
  PULSE_ASSIGN_OR_RETURN(size_t method, MethodIndex(model.method));
  PULSE_ASSIGN_OR_RETURN(forecast::AllForecasts members, forecast::M4Benchmarks(values, model.period, horizon));
  if (method < forecast::kAllMethods.size()) return std::move(members[method]);
  forecast::EnsembleWeights weights;
  for (const auto& [name, w] : model.weights) {
    PULSE_ASSIGN_OR_RETURN(size_t k, MethodIndex(name));
    if (k >= forecast::kAllMethods.size())
      return Status::InvalidArgument("an ensemble member cannot be 'Ensemble' itself");
    weights.weight[k] = w;
  }
  return forecast::Combine(members, weights);
}

}  // namespace pulse::pipeline::internal
