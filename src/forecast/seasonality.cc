#include "forecast/seasonality.h"

#include <cmath>

namespace pulse::forecast {

std::vector<double> Autocorrelations(std::span<const double> y, int max_lag) {
  const size_t n = y.size();
  double mean = 0;
  for (double v : y) mean += v;
  mean /= static_cast<double>(n);
  double denom = 0;
  for (double v : y) denom += (v - mean) * (v - mean);
  std::vector<double> acf(static_cast<size_t>(std::max(0, max_lag)), 0.0);
  if (denom == 0) return acf;
  for (size_t k = 1; k <= acf.size() && k < n; ++k) {
    double num = 0;
    for (size_t t = 0; t + k < n; ++t) num += (y[t] - mean) * (y[t + k] - mean);
    acf[k - 1] = num / denom;
  }
  return acf;
}

bool IsSeasonal(std::span<const double> y, int m) {
  if (m <= 1) return false;
  const size_t n = y.size();
  if (n < 3 * static_cast<size_t>(m)) return false;
  int lag_max = static_cast<int>(std::floor(10 * std::log10(static_cast<double>(n))));
  if (lag_max < m) return false;  // R's acf stops before lag m: the test sees NA
  auto acf = Autocorrelations(y, m);
  double sum = 1;
  for (int k = 0; k < m - 1; ++k) sum += 2 * acf[static_cast<size_t>(k)] * acf[static_cast<size_t>(k)];
  double limit = 1.645 / std::sqrt(static_cast<double>(n)) * std::sqrt(sum);
  return std::abs(acf[static_cast<size_t>(m - 1)]) > limit;
}

Result<std::vector<double>> SeasonalIndices(std::span<const double> y, int m, bool multiplicative) {
  const size_t n = y.size(), f = static_cast<size_t>(m);
  if (m < 2 || n < 2 * f) return Status::InvalidArgument("decomposition needs at least two full cycles");
  // Centred moving average: weights 1/m (odd m) or (0.5, 1, ..., 1, 0.5)/m (even m).
  std::vector<double> w(f % 2 ? f : f + 1, 1.0 / static_cast<double>(f));
  if (f % 2 == 0) w.front() = w.back() = 0.5 / static_cast<double>(f);
  const size_t half = w.size() / 2;
  std::vector<double> sum(f, 0.0);
  std::vector<int> count(f, 0);
  for (size_t t = half; t + half < n; ++t) {
    double trend = 0;
    for (size_t k = 0; k < w.size(); ++k) trend += w[k] * y[t - half + k];
    if (multiplicative && trend == 0) return Status::InvalidArgument("decomposition: zero trend");
    sum[t % f] += multiplicative ? y[t] / trend : y[t] - trend;
    ++count[t % f];
  }
  std::vector<double> figure(f);
  double mean = 0;
  for (size_t i = 0; i < f; ++i) {
    if (count[i] == 0) return Status::InvalidArgument("decomposition: empty cycle position");
    figure[i] = sum[i] / count[i];
    mean += figure[i];
  }
  mean /= static_cast<double>(f);
  for (double& v : figure) v = multiplicative ? v / mean : v - mean;
  return figure;
}

Result<std::vector<double>> MultiplicativeIndices(std::span<const double> y, int m) {
  return SeasonalIndices(y, m, /*multiplicative=*/true);
}

Deseasonalized Deseasonalize(std::span<const double> y, int m) {
  Deseasonalized out;
  out.values.assign(y.begin(), y.end());
  // Multiplicative decomposition needs positive data (M4's series all are); a series at or below
  // zero is modelled without seasonal adjustment rather than with exploding ratios.
  for (double v : y)
    if (!(v > 0)) return out;
  if (!IsSeasonal(y, m)) return out;
  auto indices = MultiplicativeIndices(y, m);
  if (!indices.ok()) return out;
  for (double v : *indices)
    if (!(v > 0) || !std::isfinite(v)) return out;  // data not positive: multiplicative makes no sense
  out.indices = std::move(*indices);
  for (size_t t = 0; t < y.size(); ++t) out.values[t] = y[t] / out.indices[t % out.indices.size()];
  return out;
}

}  // namespace pulse::forecast
