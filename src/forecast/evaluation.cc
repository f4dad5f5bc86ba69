#include "forecast/evaluation.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/thread_pool.h"
#include "forecast/calibration.h"
#include "forecast/ensemble.h"
#include "forecast/metrics.h"

namespace pulse::forecast {

namespace {

constexpr size_t kMethods = kAllMethods.size();
constexpr size_t kRows = kMethods + 2;  // the benchmark methods, the weighted ensemble, the selection
using Clock = std::chrono::steady_clock;

// One series fitted on its training part: every row's forecast of the test period and normalised
// scores on the last training window (for calibration), or the problem that stopped it.
struct PerSeries {
  bool ok = false;
  std::string problem;
  double scale = 1;
  std::array<MethodForecast, kRows> test;           // forecasts of the test period
  std::array<std::vector<double>, kRows> backtest;  // normalised scores of the last train window
  double seconds = 0;
};

// Fits every series on the shared thread pool; each result depends only on its own series.
std::vector<PerSeries> FitAll(const std::vector<EvalSeries>& series, int m, int threads) {
  std::vector<PerSeries> results(series.size());
  DefaultThreadPool().ParallelFor(
      series.size(),
      [&](size_t i) {
        const EvalSeries& s = series[i];
        PerSeries& r = results[i];
        const size_t h = s.test.size();
        auto scale = MaseScale(s.train, m);
        if (!scale.ok()) {
          r.problem = s.id + ": " + scale.status().message();
          return;
        }
        r.scale = *scale;
        auto t0 = Clock::now();
        auto forecast = ForecastWithBacktest(s.train, m, static_cast<int>(h), r.scale, /*select=*/true);
        r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
        if (!forecast.ok()) {
          r.problem = s.id + ": " + forecast.status().message();
          return;
        }
        for (size_t k = 0; k < kMethods; ++k) r.test[k] = forecast->members[k];
        r.test[kMethods] = forecast->ensemble;
        r.test[kMethods + 1] = r.test[forecast->selected];
        for (size_t k = 0; k <= kMethods; ++k) r.backtest[k] = forecast->scores[k];
        r.backtest[kMethods + 1] = forecast->scores[forecast->selected];
        r.ok = true;
      },
      threads > 0 ? static_cast<size_t>(threads) : 0);
  return results;
}

// Row k's set-level scores over the fitted series (`count` of them): sMAPE, MASE, and per level
// the coverage of its analytic and calibrated bands, with MSIS at the widest level.
MethodScore ScoreRow(size_t k, const std::vector<EvalSeries>& series, const std::vector<PerSeries>& results,
                     const ConformalCalibrator& calibrator, const std::vector<double>& levels, double count) {
  const double widest = *std::max_element(levels.begin(), levels.end());
  MethodScore score;
  score.method = k < kMethods ? kAllMethods[k] : (k == kMethods ? Method::kEnsemble : Method::kSelected);
  std::vector<double> q_analytic, q_calibrated;
  for (double level : levels) {
    q_analytic.push_back(GaussianMultiplier(level));
    auto q = calibrator.Multiplier(level);
    q_calibrated.push_back(q.ok() ? *q : GaussianMultiplier(level));  // too few scores: analytic
  }
  std::vector<double> covered_a(levels.size(), 0), covered_c(levels.size(), 0);
  double points = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    if (!r.ok) continue;
    const auto& f = r.test[k];
    const auto& y = series[i].test;
    score.smape += Smape(y, f.mean) / count;
    score.fit_seconds += k < kMethods ? f.seconds : r.seconds;
    score.mase += Mase(y, f.mean, r.scale) / count;
    std::vector<double> lo(y.size()), hi(y.size());
    for (size_t l = 0; l < levels.size(); ++l) {
      for (int variant = 0; variant < 2; ++variant) {
        double q = variant == 0 ? q_analytic[l] : q_calibrated[l];
        for (size_t j = 0; j < y.size(); ++j) {
          const double half = BandHalfWidth(q, f.sd[j]);
          lo[j] = f.mean[j] - half, hi[j] = f.mean[j] + half;
        }
        double inside = Coverage(y, lo, hi) * static_cast<double>(y.size());
        (variant == 0 ? covered_a : covered_c)[l] += inside;
        if (levels[l] == widest) {
          double msis = Msis(y, lo, hi, 1 - widest, r.scale) / count;
          (variant == 0 ? score.msis_analytic : score.msis_calibrated) += msis;
        }
      }
    }
    points += static_cast<double>(y.size());
  }
  for (size_t l = 0; l < levels.size(); ++l) {
    score.intervals.push_back(
        {levels[l], covered_a[l] / points, covered_c[l] / points, q_analytic[l], q_calibrated[l]});
  }
  return score;
}

}  // namespace

Result<EvalReport> EvaluateBenchmarks(const std::vector<EvalSeries>& series, const EvalOptions& options) {
  if (series.empty()) return Status::InvalidArgument("no series to evaluate");
  if (options.levels.empty()) return Status::InvalidArgument("no interval levels");
  for (double l : options.levels) {
    if (!(l > 0 && l < 1)) return Status::InvalidArgument("interval levels must be in (0, 1)");
  }
  const auto wall0 = Clock::now();
  const std::vector<PerSeries> results = FitAll(series, options.period, options.threads);

  // Calibration pools every fitted series' backtest scores, per row.
  EvalReport report;
  std::array<ConformalCalibrator, kRows> calibrators;
  for (const PerSeries& r : results) {
    if (!r.ok) {
      ++report.skipped;
      if (report.problems.size() < 20) report.problems.push_back(r.problem);
      continue;
    }
    ++report.series;
    report.fit_cpu_seconds += r.seconds;
    for (size_t k = 0; k < kRows; ++k) {
      for (double score : r.backtest[k]) calibrators[k].Add(score);
    }
  }
  if (report.series == 0) return Status::InvalidArgument("no series could be evaluated: " + report.problems.front());
  report.calibration_scores = calibrators[0].size();

  const double count = static_cast<double>(report.series);
  for (size_t k = 0; k < kRows; ++k) {
    report.scores.push_back(ScoreRow(k, series, results, calibrators[k], options.levels, count));
  }
  const auto& naive2 = report.scores[static_cast<size_t>(Method::kNaive2)];
  const double smape2 = naive2.smape, mase2 = naive2.mase;
  for (auto& s : report.scores) s.owa = Owa(s.smape, s.mase, smape2, mase2);
  report.wall_seconds = std::chrono::duration<double>(Clock::now() - wall0).count();
  return report;
}

}  // namespace pulse::forecast
