// Accuracy-weighted ensemble of the benchmark methods, per series.
//
// Weights come from a backtest window that ends before the forecast origin: the k methods with
// the lowest backtest MASE get weights proportional to 1 / MASE^2 (the others 0; Naive1 and
// sNaive are candidates like any other, so a strongly seasonal series can lean on sNaive). The
// ensemble's mean is the weighted mean of the members' means; its model sd the weighted mean of
// their sds (a conservative choice that calibration then corrects).
#pragma once

#include <span>

#include "forecast/benchmarks.h"

namespace pulse::forecast {

struct EnsembleWeights {
  std::array<double, kAllMethods.size()> weight{};
};

// `backtest` forecasts the `actual` window; `scale` is the series' MASE scale.
EnsembleWeights WeighByBacktest(const AllForecasts& backtest, std::span<const double> actual, double scale,
                                size_t top_k = 3);

MethodForecast Combine(const AllForecasts& forecasts, const EnsembleWeights& weights);

// Every method's forecast plus the ensemble's, with normalised backtest scores |y - mean| / sd
// for calibration. Backtest window B is the last h values, forecast from the data before them;
// it gives the members' scores and the ensemble weights used for the forecast. The ensemble's
// own scores on B use weights from the window A before it, so they are out of sample too.
// A series shorter than h + 4 gets no scores and the Comb weights.
struct BacktestedForecast {
  AllForecasts members;
  MethodForecast ensemble;
  EnsembleWeights weights;
  std::array<std::vector<double>, kAllMethods.size() + 1> scores;  // members, then the ensemble
  // MASE on window B (members, then the ensemble), out of sample; NaN without a backtest.
  std::array<double, kAllMethods.size() + 1> backtest_mase{};
  // Rolling-origin selection (only with `select`, which costs one more backtest fit): the candidate
  // (a member index, or kAllMethods.size() for the ensemble) with the lowest mean MASE over windows
  // A and B (B alone when the series is too short for A and the window before it; the ensemble
  // when there is no backtest). The ensemble's window-A forecast uses weights from the window
  // before A, so every candidate is scored out of sample on both windows. Measured on the M4
  // subsets (`pulse forecast eval`, row "Selected"): no better than the ensemble on Weekly, better
  // on Hourly, and its calibration (on window B, which the selection saw) under-covers - so the
  // pipeline forecasts with the ensemble (BENCHMARKS.md).
  size_t selected = kAllMethods.size();
  std::array<double, kAllMethods.size() + 1> selection_mase{};  // the criterion per candidate (NaN: none)
};
Result<BacktestedForecast> ForecastWithBacktest(std::span<const double> y, int m, int h, double scale,
                                                bool select = false);

}  // namespace pulse::forecast
