// Accuracy evaluation of the benchmark methods and the accuracy-weighted ensemble
// (forecast/ensemble.h) on series with known futures (M4 style): per
// method the set-level mean sMAPE and MASE, OWA relative to Naive2, and the quality of its
// prediction intervals, both as the model states them (Gaussian, "analytic") and after
// split-conformal calibration on a rolling-origin backtest window that ends before the test
// period ("calibrated"): coverage at each level and MSIS at the widest level.
// Series are fitted in parallel on the shared thread pool; results do not depend on thread count.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "forecast/benchmarks.h"

namespace pulse::forecast {

struct EvalSeries {
  std::string id;
  std::vector<double> train;
  std::vector<double> test;  // its size is the horizon
};

struct IntervalScore {
  double level = 0;
  double coverage_analytic = 0, coverage_calibrated = 0;
  double multiplier_analytic = 0, multiplier_calibrated = 0;
};

struct MethodScore {
  Method method{};
  double smape = 0;  // mean over series of the per-series sMAPE
  double mase = 0;
  double owa = 0;                                 // vs Naive2 on the same series
  double msis_analytic = 0, msis_calibrated = 0;  // at the widest level
  double fit_seconds = 0;                // fitting + forecasting the test period, summed over series (Ensemble:
                                         // all members and both backtest windows, which it needs)
  std::vector<IntervalScore> intervals;  // one per requested level
};

struct EvalOptions {
  int period = 1;  // seasonal period (seasonality test and MASE)
  std::vector<double> levels = {0.5, 0.8, 0.95};
  int threads = 0;
};

struct EvalReport {
  size_t series = 0;
  size_t skipped = 0;                 // series that could not be scored (reason in `problems`)
  std::vector<std::string> problems;  // "<id>: <reason>", at most 20
  size_t calibration_scores = 0;      // backtest scores per method used for calibration
  std::vector<MethodScore> scores;    // kAllMethods order, then Method::kEnsemble, Method::kSelected
  double fit_cpu_seconds = 0;         // fitting all methods: test forecast and backtests
  double wall_seconds = 0;
};

Result<EvalReport> EvaluateBenchmarks(const std::vector<EvalSeries>& series, const EvalOptions& options);

}  // namespace pulse::forecast
