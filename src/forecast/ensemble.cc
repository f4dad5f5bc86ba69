#include "forecast/ensemble.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "forecast/metrics.h"

namespace pulse::forecast {

EnsembleWeights WeighByBacktest(const AllForecasts& backtest, std::span<const double> actual, double scale,
                                size_t top_k) {
  constexpr size_t kMethods = kAllMethods.size();
  std::array<double, kMethods> error{};
  for (size_t k = 0; k < kMethods; ++k) error[k] = std::max(Mase(actual, backtest[k].mean, scale), 1e-6);
  std::array<size_t, kMethods> order{};
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return error[a] < error[b]; });
  EnsembleWeights w;
  double total = 0;
  for (size_t i = 0; i < std::min(top_k, kMethods); ++i) {
    size_t k = order[i];
    w.weight[k] = 1.0 / (error[k] * error[k]);
    total += w.weight[k];
  }
  for (double& v : w.weight) v /= total;
  return w;
}

MethodForecast Combine(const AllForecasts& forecasts, const EnsembleWeights& weights) {
  MethodForecast out;
  const size_t h = forecasts[0].mean.size();
  out.mean.assign(h, 0.0);
  out.sd.assign(h, 0.0);
  for (size_t k = 0; k < forecasts.size(); ++k) {
    if (weights.weight[k] == 0) continue;
    for (size_t j = 0; j < h; ++j) {
      out.mean[j] += weights.weight[k] * forecasts[k].mean[j];
      out.sd[j] += weights.weight[k] * forecasts[k].sd[j];
    }
  }
  return out;
}

Result<BacktestedForecast> ForecastWithBacktest(std::span<const double> y, int m, int h, double scale, bool select) {
  constexpr size_t kMethods = kAllMethods.size();
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  BacktestedForecast out;
  out.backtest_mase.fill(kNaN);
  out.selection_mase.fill(kNaN);
  PULSE_ASSIGN_OR_RETURN(out.members, M4Benchmarks(y, m, h));
  out.weights.weight[static_cast<size_t>(Method::kComb)] = 1;
  const size_t n = y.size(), hh = static_cast<size_t>(h);
  if (n >= hh + 4) {
    std::span<const double> window_b = y.subspan(n - hh, hh);
    auto back_b = M4Benchmarks(y.first(n - hh), m, h);
    if (back_b.ok()) {
      out.weights = WeighByBacktest(*back_b, window_b, scale);
      EnsembleWeights weights_a = out.weights;
      std::array<double, kMethods + 1> mase_a{};
      mase_a.fill(kNaN);
      if (n >= 2 * hh + 4) {
        std::span<const double> window_a = y.subspan(n - 2 * hh, hh);
        auto back_a = M4Benchmarks(y.first(n - 2 * hh), m, h);
        if (back_a.ok()) {
          weights_a = WeighByBacktest(*back_a, window_a, scale);
          for (size_t k = 0; k < kMethods; ++k) mase_a[k] = Mase(window_a, (*back_a)[k].mean, scale);
          if (select && n >= 3 * hh + 4) {  // the ensemble on window A, weighted by the window before it
            auto back_c = M4Benchmarks(y.first(n - 3 * hh), m, h);
            if (back_c.ok()) {
              mase_a[kMethods] = Mase(
                  window_a, Combine(*back_a, WeighByBacktest(*back_c, y.subspan(n - 3 * hh, hh), scale)).mean, scale);
            }
          }
        }
      }
      auto score = [&](size_t row, const MethodForecast& f) {
        for (size_t j = 0; j < hh; ++j) {
          double err = std::abs(window_b[j] - f.mean[j]);
          out.scores[row].push_back(f.sd[j] > 0 ? err / f.sd[j] : (err > 0 ? INFINITY : 0.0));
        }
        out.backtest_mase[row] = Mase(window_b, f.mean, scale);
      };
      for (size_t k = 0; k < kMethods; ++k) score(k, (*back_b)[k]);
      score(kMethods, Combine(*back_b, weights_a));
      for (size_t k = 0; k <= kMethods && select; ++k) {
        out.selection_mase[k] =
            std::isfinite(mase_a[k]) ? (mase_a[k] + out.backtest_mase[k]) / 2 : out.backtest_mase[k];
      }
      // Ties go to the ensemble (checked first), then to the earlier member in kAllMethods order.
      double best = INFINITY;
      for (size_t i = 0; i <= kMethods && select; ++i) {
        const size_t candidate = i == 0 ? kMethods : i - 1;
        const double v = out.selection_mase[candidate];
        if (std::isfinite(v) && v < best) best = v, out.selected = candidate;
      }
    }
  }
  out.ensemble = Combine(out.members, out.weights);
  return out;
}

}  // namespace pulse::forecast
