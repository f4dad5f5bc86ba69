#include "forecast/ensemble.h"

#include <algorithm>
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

}  // namespace pulse::forecast
